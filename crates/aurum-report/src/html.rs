//! The report as one self-contained HTML page: inline CSS and SVG, no script, no network.

use crate::chart::{Chart, svg};
use crate::format::{
    count, date, duration, iso_time, money, pct, price, profit_factor, quantity, ratio, short_time,
    signed_money, signed_pct,
};
use crate::terminal::scalar;
use crate::{BacktestReport, ReportError};
use aurum_core::Decimal;
use aurum_core::performance::DrawdownTracker;
use html_escape::encode_safe;
use rust_decimal::prelude::ToPrimitive;
use std::io::Write;

const STYLE: &str = r#"
:root { --bg:#f6f7f9; --card:#fff; --text:#1c2330; --muted:#667085; --line:#e4e7ec;
  --accent:#2563eb; --accent-fill:rgba(37,99,235,.12); --up:#15803d; --down:#c2410c;
  --down-fill:rgba(194,65,12,.16); }
@media (prefers-color-scheme: dark) {
  :root { --bg:#0f141b; --card:#171d26; --text:#e6e9ef; --muted:#98a2b3; --line:#2a3240;
    --accent:#60a5fa; --accent-fill:rgba(96,165,250,.15); --up:#4ade80; --down:#fb923c;
    --down-fill:rgba(251,146,60,.18); }
}
* { box-sizing:border-box; }
body { margin:0; background:var(--bg); color:var(--text);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width:1180px; margin:0 auto; padding:24px 20px 48px; }
header h1 { margin:0 0 4px; font-size:22px; font-weight:650; }
header p { margin:0; color:var(--muted); }
h2 { font-size:15px; font-weight:650; margin:0 0 10px; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:16px 18px; margin-top:16px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(150px,1fr)); gap:10px;
  background:none; border:0; padding:0; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:10px 12px; }
.card .k { color:var(--muted); font-size:12px; }
.card .v { font-size:19px; font-weight:600; font-variant-numeric:tabular-nums; }
.card .s { color:var(--muted); font-size:12px; }
.up { color:var(--up); } .down { color:var(--down); }
svg.chart { width:100%; height:auto; display:block; }
svg .grid line { stroke:var(--line); stroke-width:1; }
svg text { fill:var(--muted); font-size:11px; font-family:inherit; }
svg .line { fill:none; stroke-width:1.5; stroke-linejoin:round; }
svg.equity .line { stroke:var(--accent); } svg.equity .area { fill:var(--accent-fill); }
svg.drawdown .line { stroke:var(--down); } svg.drawdown .area { fill:var(--down-fill); }
.scroll { max-height:560px; overflow:auto; }
table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left; white-space:nowrap; }
th { position:sticky; top:0; background:var(--card); color:var(--muted); font-weight:600; font-size:12px; }
td.n, th.n { text-align:right; }
tbody tr:nth-child(even) { background:rgba(127,127,127,.05); }
dl { display:grid; grid-template-columns:max-content 1fr; gap:4px 16px; margin:0; }
dt { color:var(--muted); } dd { margin:0; word-break:break-word; }
pre { margin:0; white-space:pre-wrap; word-break:break-word; font-size:12px; }
.bar { height:10px; background:var(--line); border-radius:5px; overflow:hidden; margin:8px 0 12px; }
.bar > div { height:100%; background:var(--accent); }
details summary { cursor:pointer; font-weight:650; }
footer { color:var(--muted); font-size:12px; margin-top:20px; text-align:center; }
"#;

/// Escapes any text for HTML text and quoted attribute values (`& < > " ' /`).
fn esc(text: &str) -> String {
    encode_safe(text).into_owned()
}

/// A CSS class for the sign of a number.
fn tone(positive: bool, negative: bool) -> &'static str {
    if positive {
        "up"
    } else if negative {
        "down"
    } else {
        ""
    }
}

fn dec_tone(v: Decimal) -> &'static str {
    tone(v > Decimal::ZERO, v < Decimal::ZERO)
}

fn f_tone(v: f64) -> &'static str {
    tone(v > 0.0, v < 0.0)
}

/// Writes the report as one HTML page: heading, metric cards, the strategy status, equity and
/// drawdown charts (inline SVG, thinned to 2,000 points with extremes kept), every trade, the
/// daily rows and the run's settings. Every text from the report is escaped; the page loads
/// nothing (no script, no stylesheet, no font, no image from elsewhere).
///
/// The strategy status, when it is an object, is shown as its entries; a `phase` entry is the
/// headline and a numeric `progress_pct` (0–100) or `progress` (0–1) draws a progress bar.
pub fn write_html(report: &BacktestReport, mut out: impl Write) -> Result<(), ReportError> {
    let page = render(report);
    out.write_all(page.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn render(r: &BacktestReport) -> String {
    let m = &r.metrics;
    let mut h = String::with_capacity(64 * 1024 + r.trades.len() * 400);
    let title = format!("{} · backtest {}", r.strategy, r.run_id);
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str(&format!("<title>{}</title>", esc(&title)));
    h.push_str(&format!("<style>{STYLE}</style></head><body><main>\n"));

    // Heading.
    let period = match (r.equity.first(), r.equity.last()) {
        (Some(a), Some(b)) => format!("{} → {} · {} days", date(a.ts_ms), date(b.ts_ms), m.days),
        _ => "no candles".into(),
    };
    h.push_str(&format!(
        "<header><h1>{}</h1><p>{} · {} · {} · run {}</p></header>\n",
        esc(&r.strategy),
        esc(&r.pairs.join(", ")),
        esc(&r.timeframe),
        esc(&period),
        esc(&r.run_id)
    ));

    // Metric cards.
    let card = |k: &str, v: String, cls: &str, sub: String| {
        format!(
            "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v {cls}\">{}</div><div class=\"s\">{}</div></div>",
            esc(k),
            esc(&v),
            esc(&sub)
        )
    };
    let mut cards = vec![
        card(
            "Return",
            signed_pct(m.return_pct),
            f_tone(m.return_pct),
            format!("buy & hold {}", signed_pct(m.buy_hold_return_pct)),
        ),
        card(
            "Final equity",
            money(m.final_equity),
            "",
            format!("from {}", money(m.start_cash)),
        ),
        card(
            "Net P&L",
            signed_money(m.net_pnl),
            dec_tone(m.net_pnl),
            format!("fees {}", money(m.fees)),
        ),
        card(
            "Max drawdown",
            pct(m.max_drawdown_pct),
            if m.max_drawdown_pct > 0.0 { "down" } else { "" },
            money(m.max_drawdown),
        ),
        card(
            "Sharpe",
            ratio(m.sharpe),
            f_tone(m.sharpe),
            "daily, ×√365".into(),
        ),
        card(
            "Sortino",
            ratio(m.sortino),
            f_tone(m.sortino),
            "daily, ×√365".into(),
        ),
        card(
            "Trades",
            m.trades.to_string(),
            "",
            format!("{} won · {} lost", m.wins, m.losses),
        ),
        card(
            "Win rate",
            pct(m.win_rate_pct),
            "",
            format!(
                "streaks {} W / {} L",
                m.longest_win_streak, m.longest_loss_streak
            ),
        ),
        card(
            "Profit factor",
            profit_factor(m.profit_factor, m.gross_profit),
            "",
            format!("{} / {}", money(m.gross_profit), money(m.gross_loss)),
        ),
        card(
            "Avg trade",
            m.avg_trade_pnl.map_or("-".into(), signed_money),
            m.avg_trade_pnl.map_or("", dec_tone),
            m.avg_trade_duration_ms
                .map_or(String::new(), |d| format!("held {}", duration(d))),
        ),
        card(
            "Best / worst",
            m.best_trade.map_or("-".into(), signed_money),
            m.best_trade.map_or("", dec_tone),
            m.worst_trade
                .map_or(String::new(), |w| format!("worst {}", signed_money(w))),
        ),
        card(
            "Exposure",
            pct(m.exposure_pct),
            "",
            format!("{} candles", count(m.candles)),
        ),
    ];
    h.push_str("<section class=\"cards\">");
    for c in cards.drain(..) {
        h.push_str(&c);
    }
    h.push_str("</section>\n");

    status_section(&mut h, &r.strategy_status);
    charts(&mut h, r);
    trades_section(&mut h, r);
    daily_section(&mut h, r);
    run_section(&mut h, r);

    h.push_str(&format!(
        "<footer>aurum · report generated for run {} · all times UTC</footer>\n</main></body></html>\n",
        esc(&r.run_id)
    ));
    h
}

fn status_section(h: &mut String, status: &serde_json::Value) {
    let entries: Vec<(String, &serde_json::Value)> = match status {
        serde_json::Value::Null => return,
        serde_json::Value::Object(o) if o.is_empty() => return,
        serde_json::Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), v)).collect(),
        other => vec![("status".into(), other)],
    };
    h.push_str("<section class=\"status\"><h2>Strategy status</h2>");
    if let Some((_, phase)) = entries.iter().find(|(k, _)| k == "phase") {
        h.push_str(&format!(
            "<p><strong>Phase {}</strong></p>",
            esc(&scalar(phase))
        ));
    }
    let progress = entries.iter().find_map(|(k, v)| match k.as_str() {
        "progress_pct" => v.as_f64(),
        "progress" => v.as_f64().map(|p| p * 100.0),
        _ => None,
    });
    if let Some(p) = progress.filter(|p| p.is_finite()) {
        let p = p.clamp(0.0, 100.0);
        h.push_str(&format!(
            "<div class=\"bar\" title=\"{}\"><div style=\"width:{p:.1}%\"></div></div>",
            esc(&pct(p))
        ));
    }
    h.push_str("<dl>");
    for (k, v) in &entries {
        h.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(&scalar(v))));
    }
    h.push_str("</dl></section>\n");
}

fn charts(h: &mut String, r: &BacktestReport) {
    let xs: Vec<i64> = r.equity.iter().map(|p| p.ts_ms).collect();
    // f64 only for drawing; the numbers in the tables stay exact.
    let eq: Vec<f64> = r
        .equity
        .iter()
        .map(|p| p.equity.to_f64().unwrap_or(f64::NAN))
        .collect();
    let mut tracker = DrawdownTracker::new();
    let dd: Vec<f64> = r
        .equity
        .iter()
        .map(|p| -tracker.update(p.equity).pct)
        .collect();
    let equity_chart = Chart {
        class: "equity",
        title: "Equity",
        unit: "",
        fill_to_zero: false,
    };
    let dd_chart = Chart {
        class: "drawdown",
        title: "Drawdown below the running peak",
        unit: "%",
        fill_to_zero: true,
    };
    h.push_str("<section><h2>Equity</h2>");
    h.push_str(&svg(&equity_chart, &xs, &eq));
    h.push_str("</section>\n<section><h2>Drawdown</h2>");
    h.push_str(&svg(&dd_chart, &xs, &dd));
    h.push_str("</section>\n");
}

fn trades_section(h: &mut String, r: &BacktestReport) {
    h.push_str(&format!(
        "<section><h2>Trades ({})</h2><div class=\"scroll\"><table class=\"trades\"><thead><tr>\
         <th class=\"n\">#</th><th>pair</th><th>entry</th><th>exit</th><th class=\"n\">held</th>\
         <th class=\"n\">entry price</th><th class=\"n\">exit price</th><th class=\"n\">qty</th>\
         <th class=\"n\">P&amp;L</th><th class=\"n\">fees</th><th>exit reason</th></tr></thead><tbody>",
        r.trades.len()
    ));
    for (i, t) in r.trades.iter().enumerate() {
        h.push_str(&format!(
            "<tr class=\"trade\"><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n {}\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            i + 1,
            esc(&t.pair.to_string()),
            esc(&short_time(t.entry_time_ms)),
            esc(&short_time(t.exit_time_ms)),
            esc(&duration(t.duration_ms())),
            esc(&price(t.entry_price)),
            esc(&price(t.exit_price)),
            esc(&quantity(t.quantity)),
            dec_tone(t.pnl),
            esc(&signed_money(t.pnl)),
            esc(&money(t.fees)),
            esc(&t.exit_reason),
        ));
    }
    h.push_str("</tbody></table></div></section>\n");
}

fn daily_section(h: &mut String, r: &BacktestReport) {
    if r.daily.is_empty() {
        return;
    }
    h.push_str(&format!(
        "<section><details><summary>Daily performance ({} days)</summary><div class=\"scroll\">\
         <table class=\"daily\"><thead><tr><th>day</th><th class=\"n\">start equity</th>\
         <th class=\"n\">end equity</th><th class=\"n\">realised P&amp;L</th><th class=\"n\">fees</th>\
         <th class=\"n\">trades</th><th class=\"n\">won</th><th class=\"n\">lost</th></tr></thead><tbody>",
        r.daily.len()
    ));
    for d in &r.daily {
        h.push_str(&format!(
            "<tr class=\"day\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n {}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&d.day),
            esc(&money(d.start_equity)),
            esc(&money(d.end_equity)),
            dec_tone(d.realised_pnl),
            esc(&signed_money(d.realised_pnl)),
            esc(&money(d.fees)),
            d.trades,
            d.wins,
            d.losses
        ));
    }
    h.push_str("</tbody></table></div></details></section>\n");
}

fn run_section(h: &mut String, r: &BacktestReport) {
    let params = serde_json::to_string_pretty(&r.params).unwrap_or_else(|_| r.params.to_string());
    let when = |ms: i64| iso_time(ms).unwrap_or_else(|| format!("{ms} ms"));
    let rows = [
        ("run id", r.run_id.clone()),
        ("strategy", r.strategy.clone()),
        ("pairs", r.pairs.join(", ")),
        ("timeframe", r.timeframe.clone()),
        (
            "fee rate",
            format!(
                "{} ({}% per side)",
                r.fee_rate,
                (r.fee_rate * Decimal::ONE_HUNDRED).normalize()
            ),
        ),
        ("slippage", format!("{} bps", r.slippage_bps)),
        ("data", r.data_sources.join(", ")),
        ("started", when(r.started_at_ms)),
        ("finished", when(r.finished_at_ms)),
        (
            "wall time",
            duration(r.finished_at_ms.saturating_sub(r.started_at_ms)),
        ),
    ];
    h.push_str("<section><h2>Run</h2><dl>");
    for (k, v) in rows {
        h.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v)));
    }
    h.push_str(&format!(
        "<dt>params</dt><dd><pre>{}</pre></dd></dl></section>\n",
        esc(&params)
    ));
}
