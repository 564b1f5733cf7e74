//! Inline SVG line charts (equity, drawdown), drawn in Rust: no script, no external file.
//!
//! Colours come from CSS classes so the page's stylesheet (light or dark) styles them.

use crate::downsample::{MAX_CHART_POINTS, min_max_indices};
use crate::format::{date, short_time};
use std::fmt::Write as _;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// What to draw.
pub(crate) struct Chart<'a> {
    /// CSS class of the chart (`equity`, `drawdown`), also its accessible name.
    pub class: &'a str,
    /// Accessible title.
    pub title: &'a str,
    /// Unit suffix of the y labels (`""`, `"%"`).
    pub unit: &'a str,
    /// Fill the area up to y = 0 (drawdown) instead of down to the bottom (equity).
    pub fill_to_zero: bool,
}

/// Renders `(time ms, value)` points as one `<svg>` element, thinned to at most
/// [`MAX_CHART_POINTS`] with their extremes kept.
pub(crate) fn svg(chart: &Chart<'_>, xs: &[i64], ys: &[f64]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart {c}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}"><title>{t}</title>"#,
        c = chart.class,
        t = chart.title
    );
    let n = xs.len().min(ys.len());
    if n == 0 {
        let _ = write!(
            out,
            r#"<text class="empty" x="{}" y="{}" text-anchor="middle">no data</text></svg>"#,
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return out;
    }
    let keep = min_max_indices(&ys[..n], MAX_CHART_POINTS);
    let (mut lo, mut hi) = keep
        .iter()
        .map(|i| ys[*i])
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 0.0);
    }
    if chart.fill_to_zero {
        hi = hi.max(0.0);
        lo = lo.min(0.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        // A flat line: give it some room around its value.
        let pad = (hi.abs() * 0.01).max(1.0);
        (lo, hi) = (lo - pad, hi + pad);
    } else if !chart.fill_to_zero {
        let pad = (hi - lo) * 0.05;
        (lo, hi) = (lo - pad, hi + pad);
    }
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let (x0, x1) = (xs[0], xs[n - 1]);
    let span = (x1 - x0) as f64;
    let px = |ts: i64| {
        if span > 0.0 {
            LEFT + (ts - x0) as f64 / span * plot_w
        } else {
            LEFT + plot_w / 2.0
        }
    };
    let py = |v: f64| TOP + (hi - v) / (hi - lo) * plot_h;

    // Horizontal grid with labels at "nice" steps.
    let step = nice_step((hi - lo) / 4.0);
    let decimals = label_decimals(step);
    out.push_str(r#"<g class="grid">"#);
    let mut v = (lo / step).ceil() * step;
    while v <= hi + step * 1e-9 {
        let y = py(v);
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            group(&format!(
                "{:.*}",
                decimals,
                if v.abs() < step * 1e-9 { 0.0 } else { v }
            )),
            chart.unit
        );
        v += step;
    }
    out.push_str("</g>");

    // Time labels: five evenly spaced, dates, or date and time for runs under three days.
    out.push_str(r#"<g class="axis">"#);
    let short = span < 3.0 * 86_400_000.0;
    let ticks = if span > 0.0 { 5 } else { 1 };
    for k in 0..ticks {
        let ts = if ticks == 1 {
            x0
        } else {
            x0 + ((x1 - x0) as f64 * k as f64 / (ticks - 1) as f64) as i64
        };
        let anchor = match k {
            0 if ticks > 1 => "start",
            k if k == ticks - 1 && ticks > 1 => "end",
            _ => "middle",
        };
        let label = if short { short_time(ts) } else { date(ts) };
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}">{label}</text>"#,
            px(ts),
            HEIGHT - 8.0
        );
    }
    out.push_str("</g>");

    let mut line = String::with_capacity(keep.len() * 16);
    for (j, i) in keep.iter().enumerate() {
        let y = if ys[*i].is_finite() { ys[*i] } else { lo };
        let _ = write!(
            line,
            "{}{:.1} {:.1}",
            if j == 0 { "M" } else { " L" },
            px(xs[*i]),
            py(y)
        );
    }
    let base = if chart.fill_to_zero { py(0.0) } else { py(lo) };
    let _ = write!(
        out,
        r#"<path class="area" d="{line} L{:.1} {base:.1} L{:.1} {base:.1} Z"/><path class="line" d="{line}"/></svg>"#,
        px(xs[*keep.last().unwrap_or(&0)]),
        px(xs[keep[0]]),
    );
    out
}

/// 1, 2, 2.5 or 5 × a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Decimals needed to tell grid labels `step` apart (0 to 8).
fn label_decimals(step: f64) -> usize {
    let mut d = 0usize;
    while d < 8
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-6
    {
        d += 1;
    }
    d
}

/// Thousands separators on a formatted number.
fn group(text: &str) -> String {
    let (sign, rest) = text
        .strip_prefix('-')
        .map_or(("", text), |rest| ("-", rest));
    let (int, frac) = rest.split_once('.').map_or((rest, ""), |(i, f)| (i, f));
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_and_labels() {
        assert_eq!(nice_step(23.0), 25.0);
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(140.0), 200.0);
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(label_decimals(25.0), 0);
        assert_eq!(label_decimals(0.25), 2);
        assert_eq!(label_decimals(0.5), 1);
        assert_eq!(group("-1234567.50"), "-1,234,567.50");
    }

    #[test]
    fn a_chart_is_one_svg_with_its_extremes() {
        let xs: Vec<i64> = (0..100_000).map(|i| i * 60_000).collect();
        let mut ys: Vec<f64> = (0..100_000)
            .map(|i| 100.0 + (i % 50) as f64 / 10.0)
            .collect();
        ys[77_777] = 500.0;
        let c = Chart {
            class: "equity",
            title: "Equity",
            unit: "",
            fill_to_zero: false,
        };
        let s = svg(&c, &xs, &ys);
        assert_eq!(s.matches("<svg").count(), 1);
        assert!(s.ends_with("</svg>"));
        // The spike is the top of the plot: y = TOP + 5 % padding of the range.
        let top = TOP + 0.05 / 1.1 * (HEIGHT - TOP - BOTTOM);
        assert!(
            s.contains(&format!(" {top:.1} L")),
            "spike drawn at the top"
        );
        // At most 2,000 points on the line.
        let line = s.split(r#"class="line" d=""#).nth(1).unwrap();
        assert!(line.matches('L').count() < MAX_CHART_POINTS);
        let empty = svg(&c, &[], &[]);
        assert!(empty.contains("no data") && empty.matches("<svg").count() == 1);
    }
}
