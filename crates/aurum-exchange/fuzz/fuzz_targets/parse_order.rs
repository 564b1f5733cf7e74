//! Order answers: `POST /api/v3/order` (ACK/RESULT/FULL with fills), `GET`/`DELETE` order,
//! `openOrders`/`allOrders` lists.
#![no_main]

use aurum_core::Symbol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(btc) = Symbol::new("BTC", "USDT") else {
        return;
    };
    let _ = aurum_exchange::parse::order_response(data, &btc);
    let _ = aurum_exchange::parse::order(data, &btc);
    let _ = aurum_exchange::parse::orders(data, &|_| None);
});
