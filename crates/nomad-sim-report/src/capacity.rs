//! Capacity search: the cheapest setting of one or two knobs (a pool's size, a scale-down's
//! count, a drain deadline, the autoscaler's bounds, a resource class mix) that keeps every
//! target on every seed, with the curve or the grid of what was tried.

use std::collections::BTreeMap;
use std::fmt::Write;

use nomad_sim_core::config::SimConfig;
use nomad_sim_core::Resources;

use crate::knob::{Values, Vary};
use crate::svg::{heat_map, line_chart_with, ChartOptions, HeatCell, Series};
use crate::sweep::{run_all_with, RunOptions, RunSpec};
use crate::target::Target;

/// Points a range without a step is sampled at (per dimension).
pub const GRID_POINTS: usize = 9;

/// The most settings a search may try.
pub const MAX_CELLS: usize = 400;

/// The most runs (settings × seeds) a search may make.
pub const MAX_RUNS: u64 = 100_000;

/// The most settings a search over `dims` can try: a list or stepped range as given, a range
/// at nine points (plus its two ends and about 34 bisection steps for one whole-number knob).
pub fn max_settings(dims: &[Vary]) -> u64 {
    let per = |d: &Vary| -> u64 {
        match &d.values {
            Values::List(v) => v.len() as u64,
            Values::Range(..) if dims.len() == 1 && d.is_count() => GRID_POINTS as u64 + 36,
            Values::Range(..) => GRID_POINTS as u64,
        }
    };
    dims.iter().map(per).product()
}

/// What to search for.
#[derive(Clone, Debug)]
pub struct Query {
    /// The scenario.
    pub config: SimConfig,
    /// The resource classes the scenario knows (built-in and its own).
    pub classes: Vec<(String, Resources)>,
    /// One or two dimensions.
    pub dims: Vec<Vary>,
    /// Every seed must meet every target.
    pub targets: Vec<Target>,
    /// Seeds per setting.
    pub seeds: u32,
    /// Algorithm.
    pub algorithm: String,
    /// Worker threads.
    pub threads: usize,
    /// The pool of `--pool NAME` (the answer is then worded as a pool size).
    pub pool: Option<String>,
}

/// One target at one setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Mean across seeds.
    pub mean: f64,
    /// The worst seed.
    pub worst: f64,
    /// True when every seed met it.
    pub ok: bool,
}

/// The figures at one setting, across seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// One value per dimension.
    pub values: Vec<f64>,
    /// One outcome per target.
    pub outcomes: Vec<Outcome>,
    /// True when every target was met on every seed, and no seed left work never placed.
    pub ok: bool,
    /// Allocations never placed, on the worst seed: work that never ran is not fast work, so
    /// a setting with any fails whatever its pending times say.
    pub never_placed: f64,
    /// Means of the whole run's p50, p95, p99 pending.
    pub pending_means: [f64; 3],
    /// Mean node-hours.
    pub node_hours: f64,
    /// Mean cost (the pools' `cost_per_hour` times their node-hours; 0 without prices).
    pub cost: f64,
}

impl Point {
    /// What the search minimises: cost when the scenario prices its nodes, else node-hours.
    pub fn price(&self, priced: bool) -> f64 {
        if priced {
            self.cost
        } else {
            self.node_hours
        }
    }
}

/// The answer and everything tried.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The cheapest setting that met every target, as an index into `points`.
    pub best: Option<usize>,
    /// Every setting tried, sorted by value.
    pub points: Vec<Point>,
    /// True when the scenario prices its nodes (then "cheapest" is by cost).
    pub priced: bool,
}

impl Answer {
    /// The answer's point.
    pub fn best_point(&self) -> Option<&Point> {
        self.best.map(|i| &self.points[i])
    }
}

impl Query {
    /// The configuration at a setting.
    fn config_at(&self, values: &[f64]) -> Result<SimConfig, String> {
        let mut c = self.config.clone();
        for (dim, v) in self.dims.iter().zip(values) {
            for k in &dim.knobs {
                k.apply(&mut c, *v, &self.classes)
                    .map_err(|e| format!("{} = {}: {e}", dim.text, dim.show(*v)))?;
            }
        }
        Ok(c)
    }

    fn label(&self, values: &[f64]) -> String {
        self.dims
            .iter()
            .zip(values)
            .map(|(d, v)| format!("{}={}", d.text, d.show(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs every seed of every setting in one parallel batch.
    fn evaluate(&self, settings: &[Vec<f64>]) -> Result<Vec<Point>, String> {
        let configs: Vec<SimConfig> = settings
            .iter()
            .map(|v| self.config_at(v))
            .collect::<Result<_, _>>()?;
        let mut specs = Vec::new();
        for (i, _) in settings.iter().enumerate() {
            for k in 0..self.seeds {
                specs.push(RunSpec {
                    index: specs.len(),
                    scenario: i,
                    algorithm: self.algorithm.clone(),
                    seed: self.config.seed.wrapping_add(u64::from(k)),
                });
            }
        }
        let options = RunOptions {
            timing: false,
            breakdown: self.targets.iter().any(Target::needs_breakdown),
            aliases: self
                .dims
                .iter()
                .flat_map(|d| d.knobs.iter().flat_map(|k| k.aliases()))
                .collect(),
            labels: settings.iter().map(|v| self.label(v)).collect(),
        };
        let runs = run_all_with(&specs, &configs, self.threads, &options)?;
        let n = self.seeds as usize;
        Ok(settings
            .iter()
            .enumerate()
            .map(|(i, values)| {
                let mine = &runs[i * n..(i + 1) * n];
                let mean = |name: &str| mine.iter().map(|r| r.metric(name)).sum::<f64>() / n as f64;
                let outcomes: Vec<Outcome> = self
                    .targets
                    .iter()
                    .map(|t| {
                        let key = t.key();
                        let vals: Vec<f64> = mine.iter().map(|r| r.metric(&key)).collect();
                        Outcome {
                            mean: vals.iter().sum::<f64>() / n as f64,
                            worst: t.worst(&vals),
                            ok: vals.iter().all(|v| t.meets(*v)),
                        }
                    })
                    .collect();
                let never_placed = mine
                    .iter()
                    .map(|r| r.metric("never_placed"))
                    .fold(0.0f64, f64::max);
                Point {
                    values: values.clone(),
                    ok: outcomes.iter().all(|o| o.ok) && never_placed == 0.0,
                    never_placed,
                    outcomes,
                    pending_means: [
                        mean("p50_pending_s"),
                        mean("p95_pending_s"),
                        mean("p99_pending_s"),
                    ],
                    node_hours: mean("node_hours"),
                    cost: mean("cost"),
                }
            })
            .collect())
    }
}

/// Keys settings for the map of what was tried (values are finite, so their bits order well
/// enough to find them again).
fn key(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// Searches: one dimension is bisected (whole-number ranges: the boundary between settings
/// that meet the targets and those that do not, assuming it is crossed once) and sampled at
/// nine points; two dimensions are tried on their grid. The answer is the cheapest setting
/// tried that meets every target on every seed.
pub fn search(q: &Query) -> Result<Answer, String> {
    let mut seen: BTreeMap<Vec<u64>, Point> = BTreeMap::new();
    let eval =
        |settings: Vec<Vec<f64>>, seen: &mut BTreeMap<Vec<u64>, Point>| -> Result<(), String> {
            let fresh: Vec<Vec<f64>> = settings
                .into_iter()
                .filter(|s| !seen.contains_key(&key(s)))
                .collect();
            let mut unique: Vec<Vec<f64>> = Vec::new();
            for s in fresh {
                if !unique.contains(&s) {
                    unique.push(s);
                }
            }
            for p in q.evaluate(&unique)? {
                seen.insert(key(&p.values), p);
            }
            Ok(())
        };
    match q.dims.as_slice() {
        [d] => {
            if let (Values::Range(lo, hi), true) = (&d.values, d.is_count()) {
                let (lo, hi) = (*lo, *hi);
                eval(vec![vec![lo], vec![hi]], &mut seen)?;
                let ok = |v: f64, seen: &BTreeMap<Vec<u64>, Point>| seen[&key(&[v])].ok;
                let (ok_lo, ok_hi) = (ok(lo, &seen), ok(hi, &seen));
                if ok_lo != ok_hi {
                    // The boundary: (bad, good) narrowed to neighbours.
                    let (mut bad, mut good) = if ok_hi { (lo, hi) } else { (hi, lo) };
                    while (good - bad).abs() > 1.0 {
                        let mid = ((bad + good) / 2.0).floor();
                        let mid = if mid == bad || mid == good {
                            (bad + good) / 2.0
                        } else {
                            mid
                        };
                        let mid = mid.round();
                        eval(vec![vec![mid]], &mut seen)?;
                        if ok(mid, &seen) {
                            good = mid;
                        } else {
                            bad = mid;
                        }
                    }
                }
            }
            eval(
                d.grid(GRID_POINTS).into_iter().map(|v| vec![v]).collect(),
                &mut seen,
            )?;
        }
        [a, b] => {
            let (xs, ys) = (a.grid(GRID_POINTS), b.grid(GRID_POINTS));
            if xs.len() * ys.len() > MAX_CELLS {
                return Err(format!(
                    "{} × {} = {} settings; at most {MAX_CELLS}: use coarser steps",
                    xs.len(),
                    ys.len(),
                    xs.len() * ys.len()
                ));
            }
            let mut settings = Vec::new();
            for x in &xs {
                for y in &ys {
                    settings.push(vec![*x, *y]);
                }
            }
            eval(settings, &mut seen)?;
        }
        _ => return Err("give one or two --vary (or --pool)".to_string()),
    }
    let mut points: Vec<Point> = seen.into_values().collect();
    points.sort_by(|a, b| {
        a.values
            .iter()
            .zip(&b.values)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let priced = points.iter().any(|p| p.cost > 0.0);
    let best = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.ok)
        .min_by(|(_, a), (_, b)| {
            a.price(priced)
                .total_cmp(&b.price(priced))
                .then(a.node_hours.total_cmp(&b.node_hours))
        })
        .map(|(i, _)| i);
    Ok(Answer {
        best,
        points,
        priced,
    })
}

fn targets_text(q: &Query) -> String {
    q.targets
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn price_text(a: &Answer, p: &Point) -> String {
    if a.priced {
        format!("cost {:.2}, {:.1} node-hours", p.cost, p.node_hours)
    } else {
        format!("{:.1} node-hours", p.node_hours)
    }
}

/// A setting as `knob = value, knob = value`.
pub fn setting_text(q: &Query, values: &[f64]) -> String {
    q.dims
        .iter()
        .zip(values)
        .map(|(d, v)| format!("{} = {}", d.text, d.show(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The answer in one sentence (Markdown).
pub fn headline(q: &Query, a: &Answer) -> String {
    let seeds = q.seeds;
    match (&q.pool, a.best_point()) {
        (Some(pool), Some(p)) if q.targets.len() == 1 => {
            let t = &q.targets[0];
            format!(
                "Smallest `{pool}` pool meeting {} {} {} on all {seeds} seeds: **{} nodes** ({}; {}).",
                t.key(),
                match t.cmp {
                    crate::target::Cmp::Le => "<=",
                    crate::target::Cmp::Lt => "<",
                    crate::target::Cmp::Ge => ">=",
                    crate::target::Cmp::Gt => ">",
                },
                t.value,
                p.values[0],
                q.algorithm,
                price_text(a, p)
            )
        }
        (Some(pool), Some(p)) => format!(
            "Smallest `{pool}` pool meeting every target ({}) on all {seeds} seeds: **{} nodes** ({}; {}).",
            targets_text(q),
            p.values[0],
            q.algorithm,
            price_text(a, p)
        ),
        (Some(pool), None) => format!(
            "No `{pool}` pool size tried (up to {}) meets {} on all {seeds} seeds.",
            a.points.last().map_or(0.0, |p| p.values[0]),
            targets_text(q)
        ),
        (None, Some(p)) => format!(
            "Cheapest setting meeting {} on all {seeds} seeds: **{}** ({}; {}).",
            targets_text(q),
            setting_text(q, &p.values),
            q.algorithm,
            price_text(a, p)
        ),
        (None, None) => format!(
            "No setting tried meets {} on all {seeds} seeds.",
            targets_text(q)
        ),
    }
}

/// The answer and a table of every setting tried, in Markdown.
pub fn markdown(q: &Query, a: &Answer) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}\n", headline(q, a));
    let mut head: Vec<String> = q
        .dims
        .iter()
        .map(|d| {
            if q.pool.is_some() {
                "nodes".to_string()
            } else {
                d.text.clone()
            }
        })
        .collect();
    head.extend(["p50 pending s", "p95 pending s", "p99 pending s"].map(String::from));
    for t in &q.targets {
        head.push(format!("worst {}", t.key()));
    }
    if a.priced {
        head.push("cost".to_string());
    }
    head.push("node-hours".to_string());
    head.push("meets target".to_string());
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}:---:|", "---:|".repeat(head.len() - 1));
    for (i, p) in a.points.iter().enumerate() {
        let mut cells: Vec<String> = q
            .dims
            .iter()
            .zip(&p.values)
            .map(|(d, v)| d.show(*v))
            .collect();
        cells.extend(p.pending_means.iter().map(|v| format!("{v:.1}")));
        for (t, o) in q.targets.iter().zip(&p.outcomes) {
            cells.push(figure(&t.metric, o.worst));
        }
        if a.priced {
            cells.push(format!("{:.2}", p.cost));
        }
        cells.push(format!("{:.1}", p.node_hours));
        cells.push(match (p.ok, a.best == Some(i)) {
            (true, true) => "yes (cheapest)".to_string(),
            (true, false) => "yes".to_string(),
            _ if p.never_placed > 0.0 => format!("no ({} never placed)", p.never_placed),
            _ => "no".to_string(),
        });
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    if q.dims.len() == 2 {
        let _ = writeln!(s, "\n{}", grid_markdown(q, a));
    }
    s
}

/// A two-dimensional search as a grid: rows the first knob, columns the second; each cell its
/// price when it meets every target, `✗` when not, `★` on the answer.
fn grid_markdown(q: &Query, a: &Answer) -> String {
    let (xs, ys) = axes(a);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| {} ↓ {} → | {} |",
        q.dims[0].text,
        q.dims[1].text,
        ys.iter()
            .map(|y| q.dims[1].show(*y))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(s, "|---|{}", "---:|".repeat(ys.len()));
    for x in &xs {
        let cells: Vec<String> = ys
            .iter()
            .map(|y| {
                match a
                    .points
                    .iter()
                    .position(|p| p.values[0] == *x && p.values[1] == *y)
                {
                    Some(i) if a.points[i].ok => format!(
                        "{}{:.1}",
                        if a.best == Some(i) { "★ " } else { "" },
                        a.points[i].price(a.priced)
                    ),
                    Some(_) => "✗".to_string(),
                    None => "".to_string(),
                }
            })
            .collect();
        let _ = writeln!(s, "| {} | {} |", q.dims[0].show(*x), cells.join(" | "));
    }
    s
}

/// A figure with the decimals it needs: shares and utilisation to three places.
fn figure(metric: &str, v: f64) -> String {
    if metric.contains("fraction") || metric.contains("utilization") {
        format!("{v:.3}")
    } else {
        format!("{v:.1}")
    }
}

fn axes(a: &Answer) -> (Vec<f64>, Vec<f64>) {
    let mut xs: Vec<f64> = a.points.iter().map(|p| p.values[0]).collect();
    let mut ys: Vec<f64> = a
        .points
        .iter()
        .filter_map(|p| p.values.get(1).copied())
        .collect();
    for v in [&mut xs, &mut ys] {
        v.sort_by(f64::total_cmp);
        v.dedup();
    }
    (xs, ys)
}

/// The chart: a line per target's worst seed against the knob (one dimension), with the
/// target and the answer marked; or a heat map (two dimensions) with the answer outlined.
pub fn charts(q: &Query, a: &Answer) -> Vec<String> {
    if q.dims.len() == 2 {
        return vec![heat(q, a)];
    }
    let d = &q.dims[0];
    let mut out = Vec::new();
    for (ti, t) in q.targets.iter().enumerate() {
        let series = vec![
            Series {
                name: "worst seed".to_string(),
                points: a
                    .points
                    .iter()
                    .map(|p| (p.values[0], p.outcomes[ti].worst))
                    .collect(),
            },
            Series {
                name: format!("mean of {} seeds", q.seeds),
                points: a
                    .points
                    .iter()
                    .map(|p| (p.values[0], p.outcomes[ti].mean))
                    .collect(),
            },
        ];
        let all: Vec<f64> = a.points.iter().map(|p| p.outcomes[ti].worst).collect();
        let observed_max = all.iter().copied().fold(0.0f64, f64::max);
        // The interesting range: up to a few times the target, not to the worst setting.
        let cap =
            (t.value.abs() * 4.0).max(crate::svg::interesting_max(&all).unwrap_or(observed_max));
        let cap = if t.value > 0.0 {
            cap.min((t.value * 4.0).max(t.value * 1.5))
        } else {
            cap
        };
        let mut options = ChartOptions {
            y_max: (cap > 0.0 && observed_max > cap).then_some(cap),
            hlines: vec![(t.value, format!("target {}", t.value))],
            ..ChartOptions::default()
        };
        if let Some(p) = a.best_point() {
            options
                .vlines
                .push((p.values[0], format!("answer {}", d.show(p.values[0]))));
        }
        let x_label = if q.pool.is_some() {
            format!("{} nodes", q.pool.as_deref().unwrap_or(""))
        } else {
            d.text.clone()
        };
        out.push(line_chart_with(
            &t.key(),
            &x_label,
            &t.metric,
            &series,
            &options,
        ));
    }
    out
}

fn heat(q: &Query, a: &Answer) -> String {
    let (xs, ys) = axes(a);
    let prices: Vec<f64> = a
        .points
        .iter()
        .filter(|p| p.ok)
        .map(|p| p.price(a.priced))
        .collect();
    let (pmin, pmax) = prices
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let cells: Vec<HeatCell> = a
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let x = xs.iter().position(|v| *v == p.values[0])?;
            let y = ys.iter().position(|v| *v == p.values[1])?;
            let (shade, text) = if p.ok {
                let t = if pmax > pmin {
                    1.0 - (p.price(a.priced) - pmin) / (pmax - pmin)
                } else {
                    1.0
                };
                (0.25 + 0.75 * t, format!("{:.1}", p.price(a.priced)))
            } else {
                // How far the worst target is from its bound, on a log scale.
                let off = q
                    .targets
                    .iter()
                    .zip(&p.outcomes)
                    .filter(|(_, o)| !o.ok)
                    .map(|(t, o)| {
                        let bound = t.value.abs().max(1e-9);
                        ((o.worst - t.value).abs() / bound + 1.0).log10()
                    })
                    .fold(0.0f64, f64::max);
                (0.2 + 0.8 * (off / 1.5).min(1.0), "✗".to_string())
            };
            Some(HeatCell {
                x: y,
                y: x,
                ok: p.ok,
                shade,
                text,
                best: a.best == Some(i),
            })
        })
        .collect();
    heat_map(
        &format!(
            "Green: meets every target ({} shown); red: misses one",
            if a.priced { "cost" } else { "node-hours" }
        ),
        &q.dims[1].text,
        &q.dims[0].text,
        &ys.iter().map(|v| q.dims[1].show(*v)).collect::<Vec<_>>(),
        &xs.iter().map(|v| q.dims[0].show(*v)).collect::<Vec<_>>(),
        &cells,
        &format!(
            "★ the cheapest setting meeting every target on all {} seeds; ✗ misses a target (darker: further off)",
            q.seeds
        ),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Markdown inline text as HTML: `code` and **strong**, everything else escaped.
pub fn inline_html(md: &str) -> String {
    let mut out = String::new();
    let mut code = false;
    let mut strong = false;
    let mut chars = md.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                out.push_str(if code { "</code>" } else { "<code>" });
                code = !code;
            }
            '*' if !code && chars.peek() == Some(&'*') => {
                chars.next();
                out.push_str(if strong { "</strong>" } else { "<strong>" });
                strong = !strong;
            }
            other => out.push_str(&escape(&other.to_string())),
        }
    }
    if code {
        out.push_str("</code>");
    }
    if strong {
        out.push_str("</strong>");
    }
    out
}

/// A Markdown table as an HTML table (cells as inline Markdown).
pub fn table_html(md: &str) -> String {
    let mut out = String::from("<table>\n");
    let mut first = true;
    for line in md.lines().filter(|l| l.starts_with('|')) {
        if line.starts_with("|---") || line.starts_with("|:--") {
            continue;
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split(" | ")
            .map(str::trim)
            .collect();
        let tag = if first { "th" } else { "td" };
        first = false;
        let row: String = cells
            .iter()
            .map(|c| format!("<{tag}>{}</{tag}>", inline_html(c)))
            .collect();
        let _ = writeln!(out, "<tr>{row}</tr>");
    }
    out.push_str("</table>\n");
    out
}

/// The page: the answer, the chart, the table. Self-contained, no scripts.
pub fn html(q: &Query, a: &Answer) -> String {
    html_with(q, a, "")
}

/// Markdown sections added after the answer (a `## ` heading, paragraphs and one table) as HTML.
fn sections_html(md: &str) -> String {
    let mut out = String::new();
    let mut table = String::new();
    for line in md.lines() {
        if line.starts_with('|') {
            table.push_str(line);
            table.push('\n');
            continue;
        }
        if !table.is_empty() {
            out.push_str(&table_html(&table));
            table.clear();
        }
        if let Some(h) = line.strip_prefix("## ") {
            out.push_str(&format!("<h2>{}</h2>\n", inline_html(h)));
        } else if !line.trim().is_empty() {
            out.push_str(&format!("<p>{}</p>\n", inline_html(line)));
        }
    }
    if !table.is_empty() {
        out.push_str(&table_html(&table));
    }
    out
}

/// The page, with `extra` (Markdown sections such as `capacity --features`'s) at its end.
pub fn html_with(q: &Query, a: &Answer, extra: &str) -> String {
    let md = markdown(q, a);
    let (table, grid) = match md.split_once("\n\n| ") {
        Some((_, rest)) => {
            let rest = format!("| {rest}");
            match rest.split_once("\n\n") {
                Some((t, g)) => (t.to_string(), g.to_string()),
                None => (rest, String::new()),
            }
        }
        None => (String::new(), String::new()),
    };
    let title = match &q.pool {
        Some(p) => format!("Capacity search: {p}"),
        None => format!(
            "Capacity search: {}",
            q.dims
                .iter()
                .map(|d| d.text.as_str())
                .collect::<Vec<_>>()
                .join(" × ")
        ),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }} \
         td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }} table {{ border-collapse: collapse; margin: 1em 0; }} \
         code {{ background: #f3f3f3; padding: 0 3px; }}</style>\
         </head><body><h1>{t}</h1>\n<p>{headline}</p>\n<p>Targets: {targets}; {seeds} seeds per setting, algorithm {alg}.</p>\n{chart}\n{grid}{table}{extra}</body></html>\n",
        t = escape(&title),
        headline = inline_html(&headline(q, a)),
        targets = inline_html(&targets_text(q)),
        seeds = q.seeds,
        alg = escape(&q.algorithm),
        chart = charts(q, a).concat(),
        grid = if grid.is_empty() { String::new() } else { table_html(&grid) },
        table = table_html(&table),
        extra = sections_html(extra),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markdown_becomes_html() {
        assert_eq!(
            inline_html("Smallest `linux` pool: **18 nodes** <x>"),
            "Smallest <code>linux</code> pool: <strong>18 nodes</strong> &lt;x&gt;"
        );
        let t = table_html("| a | b |\n|---:|---:|\n| `x` | 2 |\n");
        assert!(
            t.contains("<th>a</th>") && t.contains("<td><code>x</code></td>"),
            "{t}"
        );
        assert!(!t.contains("---"));
    }
}
