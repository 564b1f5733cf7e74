//! Random and mutated bytes through every response parser: an error or a value, never a panic.
//! (The same targets run under libFuzzer in `fuzz/`; this runs in every `cargo test`.)

use aurum_core::Symbol;
use aurum_exchange::parse;
use proptest::prelude::*;

fn real(name: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/real_cases/binance/"
    );
    std::fs::read(format!("{path}{name}")).unwrap_or_default()
}

const ORDER: &str = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"x1","transactTime":1,"price":"0.0","origQty":"10","executedQty":"10","cummulativeQuoteQty":"39983","status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"SELL","fills":[{"price":"4000","qty":"1","commission":"4","commissionAsset":"USDT","tradeId":56}]}"#;
const TRADES: &str = r#"[{"symbol":"BTCUSDT","id":1,"orderId":2,"price":"1","qty":"1","quoteQty":"1","commission":"0.001","commissionAsset":"BTC","time":1,"isBuyer":true,"isMaker":false}]"#;
const ACCOUNT: &str = r#"{"balances":[{"asset":"BTC","free":"1.0","locked":"0.5"}]}"#;

/// Runs every parser on `bytes`.
fn all_parsers(bytes: &[u8]) {
    let btc = Symbol::new("BTC", "USDT").unwrap();
    let _ = parse::server_time(bytes);
    let _ = parse::exchange_info(bytes);
    let _ = parse::symbol_info(bytes);
    let _ = parse::klines(bytes);
    let _ = parse::ticker_price(bytes);
    let _ = parse::order_response(bytes, &btc);
    let _ = parse::order(bytes, &btc);
    let _ = parse::orders(bytes, &|_| None);
    let _ = parse::trades(bytes, &btc);
    let _ = parse::account(bytes);
    let _ = parse::error_response("GET /x", 400, Some("1"), bytes);
    let _ = parse::error_response("GET /x", 429, std::str::from_utf8(bytes).ok(), bytes);
}

fn seeds() -> Vec<Vec<u8>> {
    vec![
        real("exchange_info_spot_btcusdt_ethusdt_2021-10.json"),
        real("klines_btcusdt_1m_2021-10-22.json"),
        real("symbol_info_btcusdt_testnet_notional.json"),
        ORDER.as_bytes().to_vec(),
        TRADES.as_bytes().to_vec(),
        ACCOUNT.as_bytes().to_vec(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&bytes);
    }

    #[test]
    fn mutated_real_payloads(
        which in 0usize..6,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = seeds()[which].clone();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        all_parsers(&bytes);
        let n = cut.index(bytes.len() + 1);
        all_parsers(&bytes[..n]);
    }

    /// Numbers of every size where decimals and ids are expected.
    #[test]
    fn extreme_numbers(a in any::<i64>(), f in any::<f64>(), s in "[0-9eE.+-]{0,40}") {
        let text = format!(
            r#"[[{a},"{s}","{f}","{s}",{f},"1",{a},"{s}",{a}]]"#
        );
        all_parsers(text.as_bytes());
        let order = ORDER.replace("\"10\"", &format!("\"{s}\"")).replace("28", &a.to_string());
        all_parsers(order.as_bytes());
    }
}
