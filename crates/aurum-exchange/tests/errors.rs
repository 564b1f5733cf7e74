//! Typed errors: every Binance code of the README, 429/418 with Retry-After, HTML pages,
//! truncated and malformed bodies, unknown enum values; and what each means for a retry.

use aurum_core::Symbol;
use aurum_exchange::{ApiError, ExchangeError, RejectReason, parse};
use std::time::Duration;

fn api(status: u16, code: i64, msg: &str) -> ExchangeError {
    let body = format!("{{\"code\":{code},\"msg\":\"{msg}\"}}");
    parse::error_response("POST /api/v3/order", status, None, body.as_bytes())
}

fn kind(e: &ExchangeError) -> ApiError {
    e.api_error()
        .cloned()
        .unwrap_or_else(|| panic!("not an API error: {e}"))
}

#[test]
fn every_documented_code_is_typed() {
    let cases = [
        (
            -1013,
            "Filter failure: LOT_SIZE",
            ApiError::FilterFailure {
                filter: "LOT_SIZE".into(),
            },
        ),
        (
            -1013,
            "Filter failure: PRICE_FILTER",
            ApiError::FilterFailure {
                filter: "PRICE_FILTER".into(),
            },
        ),
        (
            -1013,
            "Filter failure: MIN_NOTIONAL",
            ApiError::FilterFailure {
                filter: "MIN_NOTIONAL".into(),
            },
        ),
        (
            -1013,
            "Filter failure: NOTIONAL",
            ApiError::FilterFailure {
                filter: "NOTIONAL".into(),
            },
        ),
        (
            -1013,
            "Filter failure: MARKET_LOT_SIZE",
            ApiError::FilterFailure {
                filter: "MARKET_LOT_SIZE".into(),
            },
        ),
        (
            -1013,
            "Filter failure: PERCENT_PRICE_BY_SIDE",
            ApiError::FilterFailure {
                filter: "PERCENT_PRICE_BY_SIDE".into(),
            },
        ),
        (
            -1013,
            "Filter failure: MAX_NUM_ORDERS",
            ApiError::FilterFailure {
                filter: "MAX_NUM_ORDERS".into(),
            },
        ),
        (
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
            ApiError::TimestampOutsideRecvWindow,
        ),
        (
            -1022,
            "Signature for this request is not valid.",
            ApiError::InvalidSignature,
        ),
        (
            -1100,
            "Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\\\\.[0-9]{1,20})?$'.",
            ApiError::IllegalCharacters,
        ),
        (
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
            ApiError::MandatoryParameter,
        ),
        (
            -1111,
            "Precision is over the maximum defined for this asset.",
            ApiError::TooMuchPrecision,
        ),
        (-1121, "Invalid symbol.", ApiError::InvalidSymbol),
        (
            -2010,
            "Account has insufficient balance for requested action.",
            ApiError::NewOrderRejected(RejectReason::InsufficientBalance),
        ),
        (
            -2010,
            "Duplicate order sent.",
            ApiError::NewOrderRejected(RejectReason::DuplicateOrder),
        ),
        (
            -2010,
            "Order would immediately match and take.",
            ApiError::NewOrderRejected(RejectReason::WouldMatchImmediately),
        ),
        (
            -2010,
            "Order would trigger immediately.",
            ApiError::NewOrderRejected(RejectReason::WouldTriggerImmediately),
        ),
        (
            -2010,
            "Market is closed.",
            ApiError::NewOrderRejected(RejectReason::MarketClosed),
        ),
        (
            -2011,
            "Unknown order sent.",
            ApiError::CancelRejected(RejectReason::UnknownOrder),
        ),
        (-2013, "Order does not exist.", ApiError::NoSuchOrder),
        (-2014, "API-key format invalid.", ApiError::BadApiKeyFormat),
        (
            -2015,
            "Invalid API-key, IP, or permissions for action.",
            ApiError::InvalidApiKey,
        ),
        (-1003, "Too many requests.", ApiError::TooManyRequests),
        (-9999, "Something new.", ApiError::Other),
    ];
    for (code, msg, want) in cases {
        let status = if matches!(code, -2014 | -2015) {
            401
        } else {
            400
        };
        let e = api(status, code, msg);
        assert_eq!(kind(&e), want, "{code} {msg}");
        assert_eq!(e.code(), Some(code));
        // A definite refusal: the order was not placed.
        assert!(!e.is_unknown_outcome(), "{e}");
        let retry = matches!(code, -1003 | -1021);
        assert_eq!(e.is_retryable(), retry, "{e}");
        assert!(
            e.to_string()
                .contains(&format!("exchange error {code} (HTTP {status})")),
            "{e}"
        );
    }
}

#[test]
fn rate_limits_and_bans_carry_retry_after() {
    let body = br#"{"code":-1003,"msg":"Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute."}"#;
    let e = parse::error_response("GET /api/v3/klines", 429, Some("7"), body);
    assert!(matches!(e, ExchangeError::RateLimited { .. }), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.is_retryable());
    assert!(!e.is_unknown_outcome());
    assert!(e.to_string().contains("Too many requests"), "{e}");

    let e = parse::error_response(
        "GET /api/v3/klines",
        418,
        Some("120"),
        br#"{"code":-1003,"msg":"Way too many requests; IP(127.0.0.1) banned until 1700000000000."}"#,
    );
    assert!(matches!(e, ExchangeError::IpBanned { .. }), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert!(!e.is_retryable(), "a ban is not retried by the client");
    // 429 without a header, and with a body that is not JSON.
    let e = parse::error_response("GET /x", 429, None, b"slow down");
    assert_eq!((e.retry_after(), e.is_retryable()), (None, true));
}

#[test]
fn html_pages_are_typed_not_parsed() {
    let page =
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>cloudfront</body></html>";
    let e = parse::error_response("GET /api/v3/account", 502, None, page);
    match &e {
        ExchangeError::HtmlPage { status, title, .. } => {
            assert_eq!((*status, title.as_str()), (502, "502 Bad Gateway"));
        }
        other => panic!("{other}"),
    }
    assert!(e.is_retryable() && e.is_unknown_outcome());
    // A WAF page with 403: definite, not retryable.
    let e = parse::error_response(
        "GET /api/v3/account",
        403,
        None,
        b"  <!DOCTYPE html><html><title>Forbidden</title>",
    );
    assert!(
        matches!(e, ExchangeError::HtmlPage { status: 403, .. }),
        "{e}"
    );
    assert!(!e.is_retryable() && !e.is_unknown_outcome());
    // An HTML page in a 200 answer (a captive portal, a maintenance page).
    let e = parse::klines(b"<html><title>Maintenance</title></html>").unwrap_err();
    assert!(
        matches!(e, ExchangeError::HtmlPage { status: 200, ref title, .. } if title == "Maintenance"),
        "{e}"
    );
}

#[test]
fn server_errors_keep_the_binance_code() {
    let e = parse::error_response(
        "POST /api/v3/order",
        503,
        None,
        br#"{"code":-1001,"msg":"Internal error; unable to process your request. Please try again."}"#,
    );
    assert!(
        matches!(
            e,
            ExchangeError::Server {
                status: 503,
                code: Some(-1001),
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.is_unknown_outcome(),
        "Binance: a 5xx's execution status is UNKNOWN"
    );
    let e = parse::error_response("GET /x", 404, None, b"not found");
    assert!(matches!(e, ExchangeError::Http { status: 404, .. }), "{e}");
}

#[test]
fn truncated_bodies_are_typed() {
    let full = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/real_cases/binance/klines_btcusdt_1m_2021-10-22.json"
    ))
    .unwrap();
    for cut in [1, 10, full.len() / 2, full.len() - 2] {
        let e = parse::klines(&full[..cut]).unwrap_err();
        match &e {
            ExchangeError::Truncated { len, .. } => assert_eq!(*len, cut),
            other => panic!("cut at {cut}: {other}"),
        }
        assert!(e.is_retryable() && e.is_unknown_outcome());
    }
    assert!(matches!(
        parse::server_time(b""),
        Err(ExchangeError::Truncated { len: 0, .. })
    ));
}

#[test]
fn malformed_bodies_name_the_field() {
    let e = parse::klines(
        br#"[[1634943780000,"60685.22","x","60670.90","60719.27","21.6",1634943839999,"1",617]]"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("`[0][2]`"), "{e}");
    let e = parse::klines(br#"[[1,"2","1","3","2","1",2,"1",1]]"#).unwrap_err();
    assert!(e.to_string().contains("high 1 < low 3"), "{e}");
    let e = parse::account(br#"{"balances":[{"asset":"BTC","free":"1.0","locked":null}]}"#)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("`balances[0].locked` is not a decimal"),
        "{e}"
    );
    let e = parse::server_time(br#"{"serverTime":"soon"}"#).unwrap_err();
    assert!(
        e.to_string().contains("`serverTime` is not an integer"),
        "{e}"
    );
    let e = parse::server_time(b"{\"serverTime\": 1,}").unwrap_err();
    assert!(matches!(e, ExchangeError::Malformed { .. }), "{e}");
    let e =
        parse::account(br#"{"balances":[{"asset":"B TC","free":"1","locked":"0"}]}"#).unwrap_err();
    assert!(e.to_string().contains("balances[0].asset"), "{e}");
}

fn order_json(status: &str, side: &str, typ: &str) -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","orderId":7,"orderListId":-1,"clientOrderId":"au-x-1","price":"30000.00000000",
        "origQty":"0.00100000","executedQty":"0.00000000","cummulativeQuoteQty":"0.00000000","status":"{status}",
        "timeInForce":"GTC","type":"{typ}","side":"{side}","stopPrice":"0.00000000","time":1,"updateTime":2,
        "isWorking":true,"workingTime":1}}"#
    )
}

#[test]
fn unknown_enum_values_are_typed() {
    let btc = Symbol::new("BTC", "USDT").unwrap();
    assert!(parse::order(order_json("NEW", "BUY", "LIMIT").as_bytes(), &btc).is_ok());
    for (status, side, typ, field, value) in [
        (
            "NEW_AND_IMPROVED",
            "BUY",
            "LIMIT",
            "status",
            "NEW_AND_IMPROVED",
        ),
        ("NEW", "HOLD", "LIMIT", "side", "HOLD"),
        ("NEW", "BUY", "ICEBERG_DELUXE", "type", "ICEBERG_DELUXE"),
    ] {
        let e = parse::order(order_json(status, side, typ).as_bytes(), &btc).unwrap_err();
        match &e {
            ExchangeError::UnknownEnum {
                field: f, value: v, ..
            } => assert_eq!((*f, v.as_str()), (field, value)),
            other => panic!("{other}"),
        }
        assert!(e.is_unknown_outcome() && !e.is_retryable());
    }
    let e = parse::order(
        order_json("NEW", "BUY", "LIMIT")
            .replace("\"GTC\"", "\"GTX\"")
            .as_bytes(),
        &btc,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ExchangeError::UnknownEnum {
                field: "timeInForce",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn cancel_answers_report_the_original_client_id() {
    let btc = Symbol::new("BTC", "USDT").unwrap();
    let text = order_json("CANCELED", "SELL", "LIMIT").replace(
        "\"clientOrderId\":\"au-x-1\"",
        "\"origClientOrderId\":\"au-x-1\",\"clientOrderId\":\"cancel-9\"",
    );
    let r = parse::order(text.as_bytes(), &btc).unwrap();
    assert_eq!(r.client_order_id.as_str(), "au-x-1");
    assert_eq!(r.status, aurum_core::OrderStatus::Cancelled);
    assert_eq!((r.time_ms, r.update_time_ms), (1, 2));
}
