//! Charts drawn on the server as inline SVG, for the editors' dashboard and
//! the public transparency page. No script, no style attribute (the pages'
//! Content-Security-Policy allows neither): shapes carry classes the pages'
//! stylesheets colour with their theme variables, so a chart follows the
//! light and dark themes and prints in black on white.
//!
//! Each chart is an `<svg role="img">` labelled by its `<title>` and
//! `<desc>`; every bar has a `<title>` tooltip and a `data-value`, and the
//! page puts the same figures in a table beside it. Text is escaped here
//! (the result is marked safe for the templates).

use std::fmt::Write;

/// Escape text for SVG (XML) content and attribute values: the same five
/// characters as HTML.
pub fn esc(s: &str) -> String {
    crate::locales::escape_html(s)
}

/// `3 d 4 h`, `5 h 20 min`, `12 min`, `40 s` (`j` for days in French):
/// a duration as people read it; `–` for none.
pub fn duration(fr: bool, seconds: Option<i64>) -> String {
    let Some(s) = seconds else {
        return "–".to_string();
    };
    let day = if fr { "j" } else { "d" };
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60);
    if d > 0 {
        format!("{d} {day} {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        format!("{m} min")
    } else {
        format!("{s} s")
    }
}

/// A round step for the value axis (1, 2 or 5 × 10ⁿ) giving at most 5 ticks.
fn step(max: i64) -> i64 {
    let mut s = 1;
    loop {
        for m in [1, 2, 5] {
            if max <= s * m * 5 {
                return s * m;
            }
        }
        s *= 10;
    }
}

/// One series of a column chart.
pub struct Series<'a> {
    pub name: &'a str,
    /// `a` or `b`: which colour (`.s-a`, `.s-b`).
    pub class: &'a str,
    pub values: Vec<i64>,
}

/// Grouped columns over `labels` (days, months), a value axis with round
/// ticks, a legend; every `label_every`-th label is written under its column.
pub fn columns(
    id: &str,
    title: &str,
    desc: &str,
    labels: &[String],
    series: &[Series<'_>],
    label_every: usize,
) -> String {
    let (w, h, left, top, bottom) = (720.0_f64, 260.0_f64, 44.0_f64, 28.0_f64, 40.0_f64);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let st = step(max);
    let top_value = (max + st - 1) / st * st;
    let plot_h = h - top - bottom;
    let plot_w = w - left - 8.0;
    let n = labels.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.8 / series.len().max(1) as f64).max(1.0);
    let y = |v: i64| top + plot_h - plot_h * v as f64 / top_value as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" id="{id}" role="img" aria-labelledby="{id}-t {id}-d" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    let mut v = 0;
    while v <= top_value {
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{v}</text>"#,
            w - 8.0,
            left - 6.0,
            yy + 4.0
        );
        v += st;
    }
    for (i, label) in labels.iter().enumerate() {
        let x0 = left + slot * i as f64 + slot * 0.1;
        for (k, ser) in series.iter().enumerate() {
            let value = ser.values.get(i).copied().unwrap_or(0);
            let yy = y(value);
            let _ = write!(
                s,
                r#"<rect class="bar s-{}" data-series="{}" data-label="{}" data-value="{value}" x="{:.1}" y="{yy:.1}" width="{:.1}" height="{:.1}"><title>{}: {} {value}</title></rect>"#,
                esc(ser.class),
                esc(ser.name),
                esc(label),
                x0 + bar * k as f64,
                bar.max(0.5) - if bar > 3.0 { 1.0 } else { 0.0 },
                (top + plot_h - yy).max(0.0),
                esc(label),
                esc(ser.name),
            );
        }
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                s,
                r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                left + slot * (i as f64 + 0.5),
                h - bottom + 16.0,
                esc(label)
            );
        }
    }
    let _ = write!(
        s,
        r#"<line class="axis" x1="{left}" x2="{}" y1="{:.1}" y2="{:.1}"/>"#,
        w - 8.0,
        top + plot_h,
        top + plot_h
    );
    // Legend, top left.
    let mut lx = left;
    for ser in series {
        let _ = write!(
            s,
            r#"<rect class="s-{}" x="{lx}" y="6" width="12" height="12"/><text class="legend" x="{}" y="16">{}</text>"#,
            esc(ser.class),
            lx + 16.0,
            esc(ser.name)
        );
        lx += 24.0 + 8.0 * ser.name.chars().count() as f64;
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars, one per row, the value written at the end of each.
pub fn bars(id: &str, title: &str, desc: &str, rows: &[(String, i64)]) -> String {
    let row_h = 26.0_f64;
    let (w, label_w) = (720.0_f64, 220.0_f64);
    let h = 8.0 + row_h * rows.len().max(1) as f64;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let plot_w = w - label_w - 60.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" id="{id}" role="img" aria-labelledby="{id}-t {id}-d" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 4.0 + row_h * i as f64;
        let bw = plot_w * (*value).max(0) as f64 / max as f64;
        let shown: String = if label.chars().count() > 32 {
            format!("{}…", label.chars().take(31).collect::<String>())
        } else {
            label.clone()
        };
        let _ = write!(
            s,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="bar s-a" data-label="{}" data-value="{value}" x="{label_w}" y="{:.1}" width="{bw:.1}" height="{:.1}"><title>{}: {value}</title></rect><text class="value" data-label="{}" x="{:.1}" y="{:.1}">{value}</text>"#,
            label_w - 8.0,
            y + row_h * 0.62,
            esc(&shown),
            esc(label),
            y + 3.0,
            row_h - 8.0,
            esc(label),
            esc(label),
            label_w + bw + 6.0,
            y + row_h * 0.62,
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_and_cover_the_maximum() {
        for max in [1, 4, 5, 6, 11, 99, 101, 1234] {
            let s = step(max);
            assert!(max <= s * 5, "{max} {s}");
            assert!([1, 2, 5].contains(&(s / 10_i64.pow(s.ilog10()))));
        }
    }

    #[test]
    fn text_is_escaped() {
        let svg = bars("x", "<b>", "\"d\"", &[("<script>".into(), 3)]);
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains(r#"data-value="3""#));
    }
}
