//! Request parameters as Binance reads them: from the query string, the form body, or both;
//! checked with Binance's own rules and messages; and the signature check of signed endpoints.

use crate::engine::ApiErr;
use aurum_core::Decimal;
use aurum_exchange::sign::verify_hex;
use std::str::FromStr;

/// Decoded parameters of one request, in the order they came (query first, then body).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Largest `recvWindow` Binance accepts, ms.
pub const MAX_RECV_WINDOW_MS: i64 = 60_000;
/// `recvWindow` when none is sent, ms.
pub const DEFAULT_RECV_WINDOW_MS: i64 = 5_000;

const DECIMAL_RANGE: &str = r"^([0-9]{1,20})(\.[0-9]{1,20})?$";
const INTEGER_RANGE: &str = "^[0-9]{1,20}$";
const CLIENT_ID_RANGE: &str = r"^[\.A-Z\:/a-z0-9_-]{1,36}$";
const SYMBOL_RANGE: &str = "^[A-Z0-9-_.]{1,20}$";

fn illegal(name: &str, range: &str) -> ApiErr {
    ApiErr::bad(
        -1100,
        format!("Illegal characters found in parameter '{name}'; legal range is '{range}'."),
    )
}

impl Params {
    /// Reads the query string and the form body. A parameter sent twice (in either place, or
    /// in both) is -1101, as on Binance.
    pub fn collect(raw_query: &str, body: &[u8]) -> Result<Params, ApiErr> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let parts =
            form_urlencoded::parse(raw_query.as_bytes()).chain(form_urlencoded::parse(body));
        for (k, v) in parts {
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(ApiErr::bad(
                    -1101,
                    "Duplicate values for a parameter detected.",
                ));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Params { pairs })
    }

    /// A parameter's value; empty values count as absent (Binance: "empty/null").
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A mandatory parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiErr> {
        self.get(name).ok_or_else(|| ApiErr::mandatory(name))
    }

    /// A decimal in Binance's format, with at most 8 decimals (else -1111).
    pub fn decimal(&self, name: &str) -> Result<Option<Decimal>, ApiErr> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let (int, frac) = v.split_once('.').unwrap_or((v, ""));
        let digits = |s: &str, min: usize| {
            s.len() >= min && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(int, 1) || (v.contains('.') && !digits(frac, 1)) {
            return Err(illegal(name, DECIMAL_RANGE));
        }
        if frac.trim_end_matches('0').len() > 8 {
            return Err(ApiErr::bad(
                -1111,
                "Precision is over the maximum defined for this asset.",
            ));
        }
        Decimal::from_str(v)
            .map(Some)
            .map_err(|_| illegal(name, DECIMAL_RANGE))
    }

    /// A non-negative integer.
    pub fn integer(&self, name: &str) -> Result<Option<u64>, ApiErr> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(illegal(name, INTEGER_RANGE));
        }
        v.parse::<u64>()
            .map(Some)
            .map_err(|_| illegal(name, INTEGER_RANGE))
    }

    /// An `i64` time in ms (or another signed quantity sent as digits).
    pub fn time(&self, name: &str) -> Result<Option<i64>, ApiErr> {
        self.integer(name)?
            .map(|v| i64::try_from(v).map_err(|_| illegal(name, INTEGER_RANGE)))
            .transpose()
    }

    /// `limit` with a default and a maximum (-1100 above it, as Binance answers).
    pub fn limit(&self, default: u64, max: u64) -> Result<usize, ApiErr> {
        let v = self.integer("limit")?.unwrap_or(default);
        if v == 0 || v > max {
            return Err(illegal("limit", &max.to_string()));
        }
        Ok(usize::try_from(v).unwrap_or(usize::MAX))
    }

    /// The `symbol` parameter, checked for Binance's characters.
    pub fn symbol(&self) -> Result<Option<&str>, ApiErr> {
        match self.get("symbol") {
            None => Ok(None),
            Some(s)
                if s.len() <= 20
                    && s.bytes().all(|b| {
                        b.is_ascii_uppercase() || b.is_ascii_digit() || b"-_.".contains(&b)
                    }) =>
            {
                Ok(Some(s))
            }
            Some(_) => Err(illegal("symbol", SYMBOL_RANGE)),
        }
    }

    /// A client order id parameter (`newClientOrderId`, `origClientOrderId`).
    pub fn client_id(&self, name: &str) -> Result<Option<&str>, ApiErr> {
        match self.get(name) {
            None => Ok(None),
            Some(s)
                if s.len() <= 36
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".:/_-".contains(&b)) =>
            {
                Ok(Some(s))
            }
            Some(_) => Err(illegal(name, CLIENT_ID_RANGE)),
        }
    }
}

/// Splits the `signature` parameter off an encoded query or body, keeping the rest byte for
/// byte: what the client signed.
fn split_signature(raw: &str) -> (String, Option<&str>) {
    let mut kept: Vec<&str> = Vec::new();
    let mut sig = None;
    for part in raw.split('&') {
        match part.strip_prefix("signature=") {
            Some(s) => sig = Some(s),
            None if !part.is_empty() => kept.push(part),
            None => {}
        }
    }
    (kept.join("&"), sig)
}

/// What a signed request must satisfy.
pub struct Credentials<'a> {
    /// The account's key.
    pub api_key: &'a str,
    /// The account's secret.
    pub api_secret: &'a str,
}

/// Checks a signed request the way Binance does: the API key (-2014 badly formed, -2015
/// unknown), `timestamp` and `signature` present (-1102), `recvWindow` ≤ 60000 (-1131), the
/// HMAC-SHA256 of `query + body` without the signature (-1022), and the timestamp inside the
/// window: `timestamp < server + 1000` and `server - timestamp ≤ recvWindow` (-1021).
/// Timestamps in µs are accepted.
pub fn verify_signed(
    creds: &Credentials<'_>,
    api_key_header: Option<&str>,
    raw_query: &str,
    body: &[u8],
    params: &Params,
    server_ms: i64,
) -> Result<(), ApiErr> {
    let unauthorized = |code: i64, msg: &str| ApiErr {
        status: 401,
        code,
        msg: msg.to_string(),
    };
    let key = api_key_header.map(str::trim).unwrap_or("");
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(unauthorized(-2014, "API-key format invalid."));
    }
    if key != creds.api_key {
        return Err(unauthorized(
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        ));
    }
    let ts = params
        .time("timestamp")?
        .ok_or_else(|| ApiErr::mandatory("timestamp"))?;
    params.required("signature")?;
    let recv_window = match params.decimal("recvWindow") {
        Ok(Some(w)) => w,
        Ok(None) => Decimal::from(DEFAULT_RECV_WINDOW_MS),
        Err(_) => return Err(illegal("recvWindow", DECIMAL_RANGE)),
    };
    if recv_window > Decimal::from(MAX_RECV_WINDOW_MS) {
        return Err(ApiErr::bad(-1131, "recvWindow must be less than 60000"));
    }
    let body_text = std::str::from_utf8(body).map_err(|_| illegal("body", "UTF-8"))?;
    let (query_part, query_sig) = split_signature(raw_query);
    let (body_part, body_sig) = split_signature(body_text);
    let sig = query_sig.or(body_sig).unwrap_or("");
    let mut signed = query_part;
    signed.push_str(&body_part);
    if !verify_hex(creds.api_secret, signed.as_bytes(), sig) {
        return Err(ApiErr::bad(
            -1022,
            "Signature for this request is not valid.",
        ));
    }
    // Microsecond timestamps have 16 digits.
    let ts_ms = if ts >= 10_000_000_000_000 {
        ts / 1000
    } else {
        ts
    };
    if ts_ms >= server_ms + 1000 {
        return Err(ApiErr::bad(
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if Decimal::from(server_ms - ts_ms) > recv_window {
        return Err(ApiErr::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_come_from_query_and_body() {
        let p = Params::collect("symbol=BTCUSDT&side=BUY", b"quantity=1.5&price=").unwrap();
        assert_eq!(p.get("symbol"), Some("BTCUSDT"));
        assert_eq!(p.get("quantity"), Some("1.5"));
        assert_eq!(p.get("price"), None);
        let dup = Params::collect("symbol=BTCUSDT", b"symbol=ETHUSDT").unwrap_err();
        assert_eq!(dup.code, -1101);
    }

    #[test]
    fn numbers_follow_binance_rules() {
        let p = Params::collect(
            "a=1.00000000&b=0.000000001&c=1e5&d=-1&e=12&f=1.5&g=1.234567891",
            b"",
        )
        .unwrap();
        assert_eq!(p.decimal("a").unwrap(), Some(Decimal::ONE));
        assert_eq!(p.decimal("b").unwrap_err().code, -1111);
        let e = p.decimal("c").unwrap_err();
        assert_eq!(
            (e.code, e.msg.as_str()),
            (
                -1100,
                "Illegal characters found in parameter 'c'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."
            )
        );
        assert_eq!(p.decimal("d").unwrap_err().code, -1100);
        assert_eq!(p.integer("e").unwrap(), Some(12));
        assert_eq!(p.integer("f").unwrap_err().code, -1100);
        // Trailing zeros do not count as precision.
        let q = Params::collect("x=1.1234567800", b"").unwrap();
        assert!(q.decimal("x").is_ok());
        assert_eq!(p.decimal("g").unwrap_err().code, -1111);
    }

    #[test]
    fn signature_is_split_off_byte_for_byte() {
        assert_eq!(
            split_signature("a=1&b=%20x&signature=ab12"),
            ("a=1&b=%20x".to_string(), Some("ab12"))
        );
        assert_eq!(split_signature("signature=ff"), (String::new(), Some("ff")));
        assert_eq!(split_signature("a=1"), ("a=1".to_string(), None));
    }
}
