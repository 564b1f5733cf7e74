//! Error answers: any status, any `Retry-After` text, any body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = u16::from_le_bytes([data[0], data[1]]);
    let split = usize::from(data[2]).min(data.len() - 3);
    let (header, body) = data[3..].split_at(split);
    let header = std::str::from_utf8(header).ok();
    let e = aurum_exchange::parse::error_response("POST /api/v3/order", status, header, body);
    let _ = (e.is_retryable(), e.is_unknown_outcome(), e.retry_after(), e.to_string());
});
