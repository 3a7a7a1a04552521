//! Server-rendered SVG charts (ADR 0008): bars, stacked bars, horizontal bars and lines, with
//! labelled axes, a legend, a `<title>` per mark and the Okabe–Ito colour-blind-safe palette.
//! Hand-written rather than plotters: four chart shapes in a few hundred lines, deterministic
//! output for snapshot tests, text as real `<text>` (no font files), and no JavaScript.

use std::fmt::Write;

/// Okabe–Ito colours.
pub const BLUE: &str = "#0072B2";
pub const ORANGE: &str = "#E69F00";
pub const GREEN: &str = "#009E73";
pub const VERMILLION: &str = "#D55E00";
pub const SKY: &str = "#56B4E9";
pub const PURPLE: &str = "#CC79A7";
pub const GREY: &str = "#6E7781";

const WIDTH: f64 = 400.0;
const HEIGHT: f64 = 230.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 44.0;

pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub values: Vec<f64>,
}

/// XML text escaping for labels.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A round axis maximum at or above `max` and its tick step (1, 2 or 5 × 10ⁿ, ~4 ticks).
pub fn nice_axis(max: f64) -> (f64, f64) {
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return (1.0, 0.25);
    }
    nice_step(max)
}

/// Like [`nice_axis`] for counts: whole-number ticks.
pub fn count_axis(max: f64) -> (f64, f64) {
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return (1.0, 1.0);
    }
    let (top, step) = nice_step(max);
    if step >= 1.0 {
        (top, step)
    } else {
        (max.ceil(), 1.0)
    }
}

fn nice_step(max: f64) -> (f64, f64) {
    let rough = max / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| step * 4.0 >= max)
        .unwrap_or(10.0 * magnitude);
    ((max / step).ceil() * step, step)
}

fn number(value: f64) -> String {
    if value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn open(out: &mut String, id: &str, title: &str, description: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc><text x="4" y="15" class="chart-title">{}</text>"#,
        esc(title),
        esc(description),
        esc(title)
    );
}

fn legend(out: &mut String, series: &[(&str, &str)]) {
    let mut x = LEFT;
    for (name, colour) in series {
        let _ = write!(
            out,
            r#"<rect x="{x}" y="22" width="10" height="10" fill="{colour}"/><text x="{}" y="31" class="legend">{}</text>"#,
            x + 14.0,
            esc(name)
        );
        x += 24.0 + name.chars().count() as f64 * 7.0;
    }
}

/// Y axis from `min` to `max` with gridlines, and the axis titles.
fn axes(out: &mut String, min: f64, max: f64, step: f64, x_label: &str, y_label: &str) {
    let plot_h = HEIGHT - TOP - BOTTOM;
    let mut tick = min;
    while tick <= max + step * 1e-6 {
        let y = TOP + plot_h - (tick - min) / (max - min) * plot_h;
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            number(tick)
        );
        tick += step;
    }
    let _ = write!(
        out,
        r#"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{}" class="axis"/><line x1="{LEFT}" x2="{}" y1="{}" y2="{}" class="axis"/><text x="{}" y="{}" class="axis-title" text-anchor="middle">{}</text><text transform="translate(12 {}) rotate(-90)" class="axis-title" text-anchor="middle">{}</text>"#,
        HEIGHT - BOTTOM,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM,
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        HEIGHT - 6.0,
        esc(x_label),
        TOP + plot_h / 2.0,
        esc(y_label)
    );
}

/// Category labels under the x axis, thinned to at most ~8 so they stay readable.
fn x_labels(out: &mut String, labels: &[String], slot: f64) {
    let every = labels.len().div_ceil(8).max(1);
    for (i, label) in labels.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let x = LEFT + slot * (i as f64 + 0.5);
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{}" class="tick" text-anchor="middle">{}</text>"#,
            HEIGHT - BOTTOM + 14.0,
            esc(label)
        );
    }
}

fn empty(out: &mut String) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" class="empty" text-anchor="middle">No calls in this range</text>"#,
        WIDTH / 2.0,
        HEIGHT / 2.0
    );
}

/// Vertical bars, stacked when there are several series (e.g. QA passed / failed per day).
pub fn bars(
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    labels: &[String],
    series: &[Series],
) -> String {
    let mut out = String::new();
    let totals: Vec<f64> = (0..labels.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let (max, step) = count_axis(totals.iter().copied().fold(0.0, f64::max));
    open(
        &mut out,
        id,
        title,
        &format!("{y_label} per {x_label}, {} bars", labels.len()),
    );
    if series.len() > 1 {
        legend(
            &mut out,
            &series
                .iter()
                .map(|s| (s.name, s.colour))
                .collect::<Vec<_>>(),
        );
    }
    axes(&mut out, 0.0, max, step, x_label, y_label);
    if labels.is_empty() {
        empty(&mut out);
    }
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    let bar_w = (slot * 0.7).clamp(1.0, 48.0);
    for (i, label) in labels.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut base = 0.0;
        for s in series {
            let value = s.values.get(i).copied().unwrap_or(0.0);
            if value <= 0.0 {
                continue;
            }
            let y = TOP + plot_h - (base + value) / max * plot_h;
            let h = value / max * plot_h;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{}"><title>{}: {} {}</title></rect>"#,
                s.colour,
                esc(label),
                number(value),
                esc(&s.name.to_lowercase())
            );
            base += value;
        }
    }
    x_labels(&mut out, labels, slot);
    out.push_str("</svg>");
    out
}

/// Horizontal bars with their labels and values written out (for few categories).
pub fn horizontal_bars(
    id: &str,
    title: &str,
    value_label: &str,
    rows: &[(String, f64, &str)],
) -> String {
    let mut out = String::new();
    let row_h = 28.0;
    let top = TOP + 4.0;
    let height = top + row_h * rows.len().max(1) as f64 + 8.0;
    let label_w = 130.0;
    let (max, _) = nice_axis(rows.iter().map(|r| r.1).fold(0.0, f64::max));
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{} per category</desc><text x="4" y="15" class="chart-title">{}</text><text x="{label_w}" y="33" class="axis-title">{}</text>"#,
        esc(title),
        esc(value_label),
        esc(title),
        esc(value_label)
    );
    if rows.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" class="empty" text-anchor="middle">Nothing in this range</text>"#,
            WIDTH / 2.0,
            TOP + 14.0
        );
    }
    let bar_space = WIDTH - label_w - 50.0;
    for (i, (label, value, colour)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = (value / max * bar_space).max(if *value > 0.0 { 1.0 } else { 0.0 });
        let short: String = if label.chars().count() > 18 {
            label.chars().take(17).chain(['…']).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.1}" class="tick" text-anchor="end">{}</text><rect x="{label_w}" y="{y:.1}" width="{w:.1}" height="{}" fill="{colour}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" class="value">{}</text>"#,
            label_w - 6.0,
            y + 15.0,
            esc(&short),
            row_h - 8.0,
            esc(label),
            number(*value),
            label_w + w + 4.0,
            y + 15.0,
            number(*value)
        );
    }
    out.push_str("</svg>");
    out
}

/// Lines over categories; `None` is a gap. The y axis spans `y_range`.
pub fn lines(
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    labels: &[String],
    series: &[(&str, &str, Vec<Option<f64>>)],
    y_range: (f64, f64),
) -> String {
    let mut out = String::new();
    let (min, max) = y_range;
    open(
        &mut out,
        id,
        title,
        &format!("{y_label} per {x_label}, {} points", labels.len()),
    );
    if series.len() > 1 {
        legend(
            &mut out,
            &series.iter().map(|(n, c, _)| (*n, *c)).collect::<Vec<_>>(),
        );
    }
    axes(&mut out, min, max, (max - min) / 4.0, x_label, y_label);
    if labels.is_empty() {
        empty(&mut out);
    }
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    for (name, colour, values) in series {
        let mut path = String::new();
        let mut pen_down = false;
        let mut dots = String::new();
        for (i, value) in values.iter().enumerate() {
            let Some(value) = value else {
                pen_down = false;
                continue;
            };
            let x = LEFT + slot * (i as f64 + 0.5);
            let y = TOP + plot_h - (value.clamp(min, max) - min) / (max - min) * plot_h;
            let _ = write!(path, "{}{x:.1} {y:.1} ", if pen_down { "L" } else { "M" });
            pen_down = true;
            let _ = write!(
                dots,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{colour}"><title>{} {}: {:.2}</title></circle>"#,
                esc(name),
                esc(labels.get(i).map(String::as_str).unwrap_or_default()),
                value
            );
        }
        let _ = write!(
            out,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>{dots}"#,
            path.trim_end()
        );
    }
    x_labels(&mut out, labels, slot);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_axis(7.0), (8.0, 2.0));
        assert_eq!(nice_axis(10.0), (10.0, 5.0));
        assert_eq!(nice_axis(93.0), (100.0, 50.0));
        assert_eq!(nice_axis(0.0), (1.0, 0.25));
        assert_eq!(nice_axis(1.0), (1.0, 0.5));
        assert_eq!(count_axis(2.0), (2.0, 1.0));
        assert_eq!(count_axis(7.0), (8.0, 2.0));
    }

    #[test]
    fn labels_are_escaped_and_every_bar_has_a_title() {
        let svg = bars(
            "v",
            "Calls <per> day",
            "day",
            "calls",
            &["a&b".into(), "c".into()],
            &[Series {
                name: "Calls",
                colour: BLUE,
                values: vec![2.0, 3.0],
            }],
        );
        assert!(svg.contains("Calls &lt;per&gt; day"));
        assert!(svg.contains("<title>a&amp;b: 2 calls</title>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn empty_charts_say_so() {
        assert!(bars("e", "t", "day", "calls", &[], &[]).contains("No calls in this range"));
        assert!(!lines("l", "t", "d", "s", &[], &[], (-1.0, 1.0)).contains("NaN"));
    }
}
