//! `GET /api/v3/klines` answers: any bytes give candles or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aurum_exchange::parse::klines(data);
    let _ = aurum_exchange::parse::server_time(data);
    let _ = aurum_exchange::parse::ticker_price(data);
});
