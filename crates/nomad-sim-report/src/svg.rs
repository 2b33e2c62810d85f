//! Small hand-written SVG line charts: axes with round ticks, one coloured line per series, a legend.

use std::fmt::Write;

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points (x, y), x ascending.
    pub points: Vec<(f64, f64)>,
}

const COLOURS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// A "nice" step for about `target` ticks over `span`.
fn nice_step(span: f64, target: f64) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / target;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn label(v: f64) -> String {
    if v.abs() >= 1000.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG line chart, 520 × 320, self-contained.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    line_chart_with(title, x_label, y_label, series, &ChartOptions::default())
}

/// What a chart marks and how it is scaled, beyond its lines.
#[derive(Clone, Debug, Default)]
pub struct ChartOptions {
    /// The top of the y axis; points above it are drawn at the top with a ▲ (an outlier does
    /// not flatten everything else). `None`: the largest value.
    pub y_max: Option<f64>,
    /// Horizontal lines (a target), with a label.
    pub hlines: Vec<(f64, String)>,
    /// Vertical lines (an answer), with a label.
    pub vlines: Vec<(f64, String)>,
    /// Width and height (default 520 × 320).
    pub size: Option<(f64, f64)>,
    /// No legend (small multiples name their panel in the title).
    pub no_legend: bool,
    /// Colours per series, instead of the palette.
    pub colours: Vec<&'static str>,
    /// Use `y_max` as the top of the axis even when the data stay lower (shared scales).
    pub y_fixed: bool,
}

/// The top of an axis that shows the bulk of `values`: the largest value, unless it is more
/// than 1.5 times the 95th percentile, then 1.2 times that percentile.
pub fn interesting_max(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let max = v[v.len() - 1];
    let q = v[((v.len() - 1) as f64 * 0.95).round() as usize];
    if q > 0.0 && max > 1.5 * q {
        Some(q * 1.2)
    } else {
        None
    }
}

/// An SVG line chart with options.
pub fn line_chart_with(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    options: &ChartOptions,
) -> String {
    let (w, h) = options.size.unwrap_or((520.0, 320.0));
    let right = if options.no_legend { 15.0 } else { 130.0 };
    let (left, top, bottom) = (60.0, 30.0, 45.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for &(x, y) in all {
        if x.is_finite() && y.is_finite() {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    for (y, _) in &options.hlines {
        y1 = y1.max(*y * 1.1);
    }
    if let Some(cap) = options.y_max.filter(|c| *c > 0.0) {
        y1 = if options.y_fixed { cap } else { y1.min(cap) };
    }
    // An all-zero chart still gets a 0..1 axis.
    let y1 = if y1 > 0.0 { y1 } else { 1.0 };
    let ystep = nice_step(y1, 5.0);
    let ymax = (y1 / ystep).ceil() * ystep;
    let xstep = nice_step(x1 - x0, 6.0);
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| top + ph - y.min(ymax) / ymax * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        left + pw / 2.0,
        escape(title)
    );
    // Grid and ticks.
    // Ticks: a handful by construction; the counters bound the loops whatever the data.
    let mut y = 0.0;
    let mut ticks = 0;
    while y <= ymax + 1e-9 && ticks < 50 {
        ticks += 1;
        let py = sy(y);
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left + pw,
            left - 5.0,
            py + 4.0,
            label(y)
        );
        y += ystep;
    }
    let mut x = (x0 / xstep).ceil() * xstep;
    let mut ticks = 0;
    while x <= x1 + 1e-9 && ticks < 50 {
        ticks += 1;
        let px = sx(x);
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{top}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#f0f0f0\"/>\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            top + ph,
            top + ph + 15.0,
            label(x)
        );
        x += xstep;
    }
    let _ = write!(
        s,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(14,{:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        left + pw / 2.0,
        h - 8.0,
        escape(x_label),
        top + ph / 2.0,
        escape(y_label)
    );
    for (y, text) in &options.hlines {
        let py = sy(*y);
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#222\" stroke-dasharray=\"5,4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#222\">{}</text>",
            left + pw,
            left + pw - 4.0,
            py - 4.0,
            escape(text)
        );
    }
    for (x, text) in &options.vlines {
        let px = sx(*x);
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{top}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#2ca02c\" stroke-width=\"2\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1a7f1a\" font-weight=\"bold\">{}</text>",
            top + ph,
            px + 4.0,
            top + 14.0,
            escape(text)
        );
    }
    let mut clipped = false;
    for (i, ser) in series.iter().enumerate() {
        let colour = options
            .colours
            .get(i)
            .copied()
            .unwrap_or(COLOURS[i % COLOURS.len()]);
        let finite: Vec<(f64, f64)> = ser
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let pts: Vec<String> = finite
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\" points=\"{}\"/>",
            pts.join(" ")
        );
        for &(x, y) in finite.iter().filter(|(_, y)| *y > ymax) {
            clipped = true;
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{colour}\" font-size=\"9\">▲</text>",
                sx(x),
                top + 8.0
            );
            let _ = y;
        }
        if !options.no_legend {
            let _ = write!(
                s,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"3\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                left + pw + 10.0,
                top + 10.0 + 16.0 * i as f64,
                left + pw + 24.0,
                top + 10.0 + 16.0 * i as f64,
                left + pw + 28.0,
                top + 14.0 + 16.0 * i as f64,
                escape(&ser.name)
            );
        }
    }
    if clipped {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#666\">▲ above {}</text>",
            left + 4.0,
            top + ph - 4.0,
            label(ymax)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// One cell of a heat map.
#[derive(Clone, Debug)]
pub struct HeatCell {
    /// Column.
    pub x: usize,
    /// Row (0 at the bottom).
    pub y: usize,
    /// True when the cell meets every target (green), else red.
    pub ok: bool,
    /// Shade between 0 (pale) and 1 (strong): cost for green cells, how far off for red ones.
    pub shade: f64,
    /// Text in the cell (its cost, say).
    pub text: String,
    /// The answer: outlined and starred.
    pub best: bool,
}

/// A heat map: one coloured cell per pair of knob values, the answer outlined.
pub fn heat_map(
    title: &str,
    x_label: &str,
    y_label: &str,
    xs: &[String],
    ys: &[String],
    cells: &[HeatCell],
    note: &str,
) -> String {
    let cw = (560.0 / xs.len().max(1) as f64).clamp(40.0, 140.0);
    let ch = (360.0 / ys.len().max(1) as f64).clamp(28.0, 80.0);
    let (left, top, bottom, right) = (90.0, 36.0, 70.0, 20.0);
    let pw = cw * xs.len() as f64;
    let ph = ch * ys.len() as f64;
    // Wide enough for the title and the note whatever the grid.
    let w = (left + pw + right).max(660.0);
    let h = top + ph + bottom;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"sans-serif\" font-size=\"11\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{:.1}\" y=\"20\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        w / 2.0,
        escape(title)
    );
    let shade = |ok: bool, t: f64| {
        let t = t.clamp(0.0, 1.0);
        // Green from pale (#d9f0d3) to strong (#1b7837); red from pale (#fddbc7) to strong (#b2182b).
        let (a, b) = if ok {
            ((0xd9, 0xf0, 0xd3), (0x1b, 0x78, 0x37))
        } else {
            ((0xfd, 0xdb, 0xc7), (0xb2, 0x18, 0x2b))
        };
        let mix =
            |x: i32, y: i32| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as i32;
        format!(
            "#{:02x}{:02x}{:02x}",
            mix(a.0, b.0),
            mix(a.1, b.1),
            mix(a.2, b.2)
        )
    };
    for c in cells {
        let x = left + cw * c.x as f64;
        let y = top + ph - ch * (c.y + 1) as f64;
        let fill = shade(c.ok, c.shade);
        let ink = if c.shade > 0.55 { "white" } else { "#222" };
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cw:.1}\" height=\"{ch:.1}\" fill=\"{fill}\" stroke=\"white\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{ink}\" font-size=\"10\">{}</text>",
            x + cw / 2.0,
            y + ch / 2.0 + 4.0,
            escape(&c.text)
        );
    }
    for c in cells.iter().filter(|c| c.best) {
        let x = left + cw * c.x as f64;
        let y = top + ph - ch * (c.y + 1) as f64;
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"black\" stroke-width=\"3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">★</text>",
            x + 1.5,
            y + 1.5,
            cw - 3.0,
            ch - 3.0,
            x + 3.0,
            y + 13.0
        );
    }
    for (i, t) in xs.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            left + cw * (i as f64 + 0.5),
            top + ph + 15.0,
            escape(t)
        );
    }
    for (i, t) in ys.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            top + ph - ch * (i as f64 + 0.5) + 4.0,
            escape(t)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(14,{:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>\
         <text x=\"{left}\" y=\"{:.1}\" fill=\"#444\">{}</text></svg>",
        left + pw / 2.0,
        top + ph + 34.0,
        escape(x_label),
        top + ph / 2.0,
        escape(y_label),
        top + ph + 56.0,
        escape(note)
    );
    s.push('\n');
    s
}

/// Small multiples: one small chart per panel, all on the same axes, in rows of `per_row`.
pub fn small_multiples(
    title: &str,
    x_label: &str,
    y_label: &str,
    panels: &[(String, Vec<Series>)],
    y_max: Option<f64>,
) -> String {
    let mut ymax = 0.0f64;
    let mut all = Vec::new();
    for (_, series) in panels {
        for ser in series {
            for &(_, y) in &ser.points {
                if y.is_finite() {
                    ymax = ymax.max(y);
                    all.push(y);
                }
            }
        }
    }
    let cap = y_max.or_else(|| interesting_max(&all)).unwrap_or(ymax);
    // All zero: a 0..1 axis rather than one squeezed to nothing.
    let cap = if cap > 0.0 { cap } else { 1.0 };
    let mut s = format!(
        "<figure class=\"multiples\"><figcaption>{}</figcaption><div class=\"panels\">\n",
        escape(title)
    );
    for (name, series) in panels {
        // The panel's own line in blue over the reference in grey.
        let colours = if series.len() > 1 {
            vec!["#bbbbbb", "#1f77b4"]
        } else {
            vec!["#1f77b4"]
        };
        s.push_str(&line_chart_with(
            name,
            x_label,
            y_label,
            series,
            &ChartOptions {
                y_max: Some(cap),
                y_fixed: true,
                size: Some((270.0, 190.0)),
                no_legend: true,
                colours,
                ..ChartOptions::default()
            },
        ));
    }
    s.push_str("</div></figure>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_all_zero_chart_is_small() {
        let s = line_chart(
            "zeros",
            "x",
            "y",
            &[Series {
                name: "z".into(),
                points: vec![(0.0, 0.0), (100.0, 0.0)],
            }],
        );
        assert!(s.len() < 10_000, "{}", s.len());
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 5.0), 1.0);
        assert_eq!(nice_step(12.0, 5.0), 2.0);
        assert!((nice_step(0.9, 5.0) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn chart_has_a_line_per_series_and_escapes_labels() {
        let s = line_chart(
            "a <b>",
            "x",
            "y",
            &[
                Series {
                    name: "one".into(),
                    points: vec![(0.0, 1.0), (1.0, 2.0)],
                },
                Series {
                    name: "two".into(),
                    points: vec![(0.0, 0.0), (1.0, 3.0)],
                },
            ],
        );
        assert_eq!(s.matches("<polyline").count(), 2);
        assert!(s.contains("a &lt;b&gt;"));
        assert!(s.starts_with("<svg"));
    }
}
