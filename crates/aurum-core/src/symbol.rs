//! Assets and trading pairs, with their venue and human renderings.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A currency or token code such as `BTC` or `USDT`: upper-case ASCII letters and digits.
///
/// Stored inline (no allocation) for codes up to 24 bytes, so cloning one is cheap.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Asset(CompactString);

/// The quote asset aurum keeps its accounts in.
pub const USDT: &str = "USDT";

/// Quote assets recognised when splitting a venue symbol such as `ETHBTC`, longest first so
/// that `BTCFDUSD` splits as `BTC`/`FDUSD` and not `BTCFD`/`USD`.
pub const KNOWN_QUOTES: &[&str] = &[
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "EUR", "TRY", "BRL", "BTC", "ETH", "BNB", "DAI",
];

/// Why an asset code or symbol was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    /// The asset code is empty, too long, or has characters other than A-Z and 0-9.
    #[error("invalid asset code {0:?}: expected 1 to 20 characters A-Z or 0-9")]
    InvalidAsset(String),
    /// The text is neither `BASE/QUOTE` nor a venue symbol ending in a known quote asset.
    #[error(
        "cannot read pair {0:?}: write it as BASE/QUOTE (e.g. BTC/USDT) or as a venue symbol ending in one of {quotes}",
        quotes = KNOWN_QUOTES.join(", ")
    )]
    Unsplittable(String),
}

impl Asset {
    /// Makes an asset code, upper-casing it; refuses anything but 1-20 ASCII letters/digits.
    pub fn new(code: &str) -> Result<Self, SymbolError> {
        let code = code.trim();
        if code.is_empty() || code.len() > 20 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SymbolError::InvalidAsset(code.to_string()));
        }
        Ok(Asset(CompactString::from(code.to_ascii_uppercase())))
    }

    /// The asset code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Tether USD, aurum's accounting currency.
    pub fn usdt() -> Self {
        Asset(CompactString::const_new(USDT))
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Asset {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Asset::new(s)
    }
}

impl TryFrom<String> for Asset {
    type Error = SymbolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Asset::new(&s)
    }
}

impl From<Asset> for String {
    fn from(a: Asset) -> String {
        a.0.into()
    }
}

/// A spot trading pair: `base` is bought and sold, `quote` is what it is priced and paid in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol {
    /// The asset being traded (BTC in BTC/USDT).
    pub base: Asset,
    /// The asset prices and cash are in (USDT in BTC/USDT).
    pub quote: Asset,
}

impl Symbol {
    /// Makes a pair from two asset codes.
    pub fn new(base: &str, quote: &str) -> Result<Self, SymbolError> {
        Ok(Symbol {
            base: Asset::new(base)?,
            quote: Asset::new(quote)?,
        })
    }

    /// Reads `BTC/USDT`, `btc/usdt`, `BTC-USDT`, `BTC_USDT` or the venue form `BTCUSDT`
    /// (split on the longest known quote asset that leaves a non-empty base).
    pub fn parse(text: &str) -> Result<Self, SymbolError> {
        let t = text.trim();
        if let Some((base, quote)) = t.split_once(['/', '-', '_']) {
            return Symbol::new(base, quote)
                .map_err(|_| SymbolError::Unsplittable(text.to_string()));
        }
        let upper = t.to_ascii_uppercase();
        for quote in KNOWN_QUOTES {
            if let Some(base) = upper.strip_suffix(quote)
                && !base.is_empty()
            {
                return Symbol::new(base, quote)
                    .map_err(|_| SymbolError::Unsplittable(text.to_string()));
            }
        }
        Err(SymbolError::Unsplittable(text.to_string()))
    }

    /// The symbol as Binance and most venues write it: `BTCUSDT`.
    pub fn venue(&self) -> String {
        let mut s = String::with_capacity(self.base.as_str().len() + self.quote.as_str().len());
        s.push_str(self.base.as_str());
        s.push_str(self.quote.as_str());
        s
    }

    /// A form safe in file names: `BTC_USDT`.
    pub fn file_stem(&self) -> String {
        format!("{}_{}", self.base, self.quote)
    }
}

/// Renders the human form used in config and reports: `BTC/USDT`.
impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.quote)
    }
}

impl FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Symbol::parse(s)
    }
}

impl TryFrom<String> for Symbol {
    type Error = SymbolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Symbol::parse(&s)
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> String {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_and_venue_forms() {
        let btc = Symbol::new("BTC", "USDT").unwrap();
        for text in [
            "BTC/USDT",
            "btc/usdt",
            "BTCUSDT",
            "btcusdt",
            "BTC-USDT",
            " BTC_USDT ",
        ] {
            assert_eq!(Symbol::parse(text).unwrap(), btc, "{text}");
        }
        assert_eq!(btc.venue(), "BTCUSDT");
        assert_eq!(btc.to_string(), "BTC/USDT");
        assert_eq!(btc.file_stem(), "BTC_USDT");
        assert_eq!(
            Symbol::parse("ETHBTC").unwrap(),
            Symbol::new("ETH", "BTC").unwrap()
        );
        assert_eq!(
            Symbol::parse("BTCFDUSD").unwrap(),
            Symbol::new("BTC", "FDUSD").unwrap()
        );
        assert_eq!(
            Symbol::parse("1000SATSUSDT").unwrap(),
            Symbol::new("1000SATS", "USDT").unwrap()
        );
    }

    #[test]
    fn refuses_unreadable_pairs() {
        for bad in [
            "",
            "USDT",
            "BTC",
            "BTC/",
            "/USDT",
            "BTC/US DT",
            "BTC/USDT/X",
            "XYZABC",
        ] {
            let err = Symbol::parse(bad).unwrap_err();
            assert!(err.to_string().contains("cannot read pair"), "{bad}: {err}");
        }
        assert!(Asset::new("bt c").is_err());
    }

    #[test]
    fn serde_uses_the_human_form() {
        let s = Symbol::new("ETH", "USDT").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"ETH/USDT\"");
        let back: Symbol = serde_json::from_str("\"ETHUSDT\"").unwrap();
        assert_eq!(back, s);
    }
}
