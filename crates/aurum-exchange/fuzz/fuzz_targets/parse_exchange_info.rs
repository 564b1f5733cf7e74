//! `GET /api/v3/exchangeInfo` answers (both filter generations) and single symbol objects.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aurum_exchange::parse::exchange_info(data);
    let _ = aurum_exchange::parse::symbol_info(data);
});
