//! What the trading tests share: the configuration of a rehearsal bot (the churn strategy on
//! BTC/USDT and ETH/USDT, limits that never bind) for `aurum live` / `aurum paper` against the
//! simulator.

/// `aurum.toml` of a rehearsal bot: `store_url` for `[store] url`, then extra TOML (sections
/// or keys) appended as given. Keys of `[bot]` and `[bot.params]` come from `bot` and
/// `params` (`key = value` lines).
pub fn rehearsal_toml(store_url: &str, bot: &str, params: &str, extra: &str) -> String {
    format!(
        r#"[store]
url = "{store_url}"

[bot]
strategy = "churn"
pairs = ["BTC/USDT", "ETH/USDT"]
timeframe = "1m"
warmup_candles = 30
{bot}

[bot.params]
quote = "12"
{params}

[risk]
max_open_positions = 10
max_trades_per_day = 1000000
min_trade = "0"
max_risk_per_trade = "1"
daily_loss_limit_pct = "1"
drawdown_limit_pct = "1"
max_consecutive_losses = 1000000

{extra}
"#
    )
}
