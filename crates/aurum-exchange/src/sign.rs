//! Binance request signing: HMAC-SHA256 over the exact bytes sent, and the parameter encoding
//! that produces those bytes.
//!
//! Binance signs `totalParams`, the query string concatenated with the form body (no
//! separator), with the account's secret key; the signature is the lower-case hex digest, sent
//! as the last parameter `signature`. Parameters are percent-encoded *before* signing, so a
//! server verifies the bytes it received, not a decoded form.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `payload` with `secret`, as lower-case hex (Binance's `signature`).
///
/// ```
/// // The first test vector of Binance's documentation.
/// let sig = aurum_exchange::sign::hmac_sha256_hex(
///     "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
///     "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
/// );
/// assert_eq!(sig, "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
/// ```
pub fn hmac_sha256_hex(secret: &str, payload: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), payload.as_bytes()))
}

/// The raw HMAC-SHA256 of `payload` with `key`.
pub fn hmac_sha256(key: &[u8], payload: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length (long keys are hashed): `new_from_slice` cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_hmac() -> ! {
    // `Hmac::new_from_slice` only fails for fixed-size-key MACs, never for HMAC.
    unreachable!("HMAC accepts keys of every length")
}

/// Checks a hex signature against `payload` in constant time (the simulator's side).
pub fn verify_hex(secret: &str, payload: &[u8], signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(payload);
    mac.verify_slice(&given).is_ok()
}

/// Ordered request parameters, encoded exactly once, the way they will be sent and signed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Params::default()
    }

    /// Appends `key=value` (builder style).
    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.push(key, value);
        self
    }

    /// Appends `key=value`.
    pub fn push(&mut self, key: &str, value: impl ToString) {
        self.pairs.push((key.to_string(), value.to_string()));
    }

    /// Appends `key=value` when the value is present.
    pub fn push_opt(&mut self, key: &str, value: Option<impl ToString>) {
        if let Some(v) = value {
            self.push(key, v);
        }
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The value of the first parameter named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `application/x-www-form-urlencoded` text: `k=v&k2=v2`, every byte outside
    /// `A-Z a-z 0-9 * - . _` percent-encoded with upper-case hex (a space becomes `+`).
    pub fn encode(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

/// Appends `&signature=<hex>` (or `signature=<hex>` to an empty string) to an encoded payload,
/// the signature being over `prefix + payload` (`prefix` is the query string when the payload
/// is a body, else empty).
pub fn append_signature(secret: &str, prefix: &str, payload: &str) -> String {
    let mut signed = String::with_capacity(prefix.len() + payload.len());
    signed.push_str(prefix);
    signed.push_str(payload);
    let sig = hmac_sha256_hex(secret, &signed);
    if payload.is_empty() {
        format!("signature={sig}")
    } else {
        format!("{payload}&signature={sig}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    /// Vector 1: everything in one query string.
    #[test]
    fn vector_1_query_string() {
        let p = Params::new()
            .with("symbol", "LTCBTC")
            .with("side", "BUY")
            .with("type", "LIMIT")
            .with("timeInForce", "GTC")
            .with("quantity", "1")
            .with("price", "0.1")
            .with("recvWindow", 5000)
            .with("timestamp", 1_499_827_319_559_i64);
        let payload = p.encode();
        assert_eq!(
            payload,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert_eq!(
            hmac_sha256_hex(SECRET, &payload),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        assert!(verify_hex(
            SECRET,
            payload.as_bytes(),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        ));
        assert!(!verify_hex(SECRET, b"symbol=LTCBTC", "c8db5682"));
    }

    /// Vector 2: a non-ASCII symbol is percent-encoded (upper-case hex) before signing.
    #[test]
    fn vector_2_non_ascii_symbol_is_encoded_before_signing() {
        let p = Params::new()
            .with("symbol", "１２３４５６")
            .with("side", "BUY")
            .with("type", "LIMIT")
            .with("timeInForce", "GTC")
            .with("quantity", "1")
            .with("price", "0.1")
            .with("recvWindow", 5000)
            .with("timestamp", 1_499_827_319_559_i64);
        let payload = p.encode();
        assert!(
            payload.starts_with(
                "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY"
            ),
            "{payload}"
        );
        assert_eq!(
            hmac_sha256_hex(SECRET, &payload),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
    }

    /// Vector 3: query and body signed as their concatenation with no separator.
    #[test]
    fn vector_3_query_plus_body() {
        let query = Params::new()
            .with("symbol", "LTCBTC")
            .with("side", "BUY")
            .with("type", "LIMIT")
            .with("timeInForce", "GTC")
            .encode();
        let body = Params::new()
            .with("quantity", "1")
            .with("price", "0.1")
            .with("recvWindow", 5000)
            .with("timestamp", 1_499_827_319_559_i64)
            .encode();
        let signed_body = append_signature(SECRET, &query, &body);
        assert_eq!(
            signed_body,
            "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559\
             &signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
        );
    }
}
