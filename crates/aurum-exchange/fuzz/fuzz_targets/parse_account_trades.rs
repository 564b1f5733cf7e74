//! `GET /api/v3/account` and `GET /api/v3/myTrades` answers.
#![no_main]

use aurum_core::Symbol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aurum_exchange::parse::account(data);
    if let Ok(btc) = Symbol::new("BTC", "USDT") {
        let _ = aurum_exchange::parse::trades(data, &btc);
    }
});
