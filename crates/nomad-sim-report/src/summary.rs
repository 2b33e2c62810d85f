//! Aggregation across seeds (mean and 95 % interval) and the outputs: Markdown, JSON, HTML with SVG.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use nomad_sim_core::metrics::round_to;

use crate::svg::Series;
use crate::sweep::{RunResult, METRICS};

/// Mean and the half-width of a 95 % confidence interval (Student's t) across seeds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean across seeds.
    pub mean: f64,
    /// Half-width of the 95 % interval (0 with one seed).
    pub ci95: f64,
}

/// Two-sided 97.5 % quantiles of Student's t for 1..=30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// Mean and 95 % interval of a sample.
pub fn estimate(values: &[f64]) -> Estimate {
    let n = values.len();
    if n == 0 {
        return Estimate {
            mean: f64::NAN,
            ci95: f64::NAN,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate {
            mean: round_to(mean, 6),
            ci95: 0.0,
        };
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = T975.get(n - 2).copied().unwrap_or(1.96);
    Estimate {
        mean: round_to(mean, 6),
        ci95: round_to(t * (var / n as f64).sqrt(), 6),
    }
}

/// One scenario × algorithm, across seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Scenario name.
    pub scenario: String,
    /// Algorithm name.
    pub algorithm: String,
    /// Seeds run.
    pub seeds: usize,
    /// Figures by key (see `sweep::METRICS`), plus `wall_s` and `placements_per_s` when timed.
    pub metrics: BTreeMap<String, Estimate>,
}

/// Groups results by scenario and algorithm, in sweep order.
pub fn rows(results: &[RunResult]) -> Vec<Row> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&RunResult>> = BTreeMap::new();
    for r in results {
        let key = (r.scenario.clone(), r.spec.algorithm.clone());
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(r);
    }
    order
        .into_iter()
        .map(|key| {
            let runs = &groups[&key];
            let mut metrics = BTreeMap::new();
            for (name, _, _) in METRICS {
                let values: Vec<f64> = runs.iter().map(|r| r.metric(name)).collect();
                metrics.insert(name.to_string(), estimate(&values));
            }
            let timed: Vec<(f64, f64)> = runs.iter().filter_map(|r| r.timing).collect();
            if timed.len() == runs.len() {
                metrics.insert(
                    "wall_s".to_string(),
                    estimate(&timed.iter().map(|t| t.0).collect::<Vec<_>>()),
                );
                metrics.insert(
                    "placements_per_s".to_string(),
                    estimate(&timed.iter().map(|t| t.1).collect::<Vec<_>>()),
                );
            }
            Row {
                scenario: key.0,
                algorithm: key.1,
                seeds: runs.len(),
                metrics,
            }
        })
        .collect()
}

fn cell(e: Option<&Estimate>, digits: usize) -> String {
    match e {
        None => "–".to_string(),
        Some(e) if e.ci95 > 0.0 => format!("{:.digits$} ± {:.digits$}", e.mean, e.ci95),
        Some(e) => format!("{:.digits$}", e.mean),
    }
}

/// Columns of the table: (key, title, decimals).
fn columns(timed: bool) -> Vec<(&'static str, &'static str, usize)> {
    let mut c = vec![
        ("p50_pending_s", "p50 pending s", 1),
        ("p95_pending_s", "p95 pending s", 1),
        ("p99_pending_s", "p99 pending s", 1),
        ("waited_fraction", "waited", 3),
        ("cpu_utilization", "CPU util", 3),
        ("memory_utilization", "mem util", 3),
        ("fragmentation", "fragmentation", 3),
        ("node_hours", "node-hours", 1),
        ("stopped_or_lost", "stopped+lost", 1),
    ];
    if timed {
        c.push(("placements_per_s", "placements/s", 0));
        c.push(("wall_s", "wall s", 3));
    }
    c
}

/// The Markdown table, one section per scenario.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let timed = rows.iter().all(|r| r.metrics.contains_key("wall_s"));
    let mut scenario = "";
    for r in rows {
        if r.scenario != scenario {
            scenario = &r.scenario;
            let _ = writeln!(
                out,
                "\n### {} ({} seeds, mean ± 95 % interval)\n",
                r.scenario, r.seeds
            );
            let cols = columns(timed);
            let _ = writeln!(
                out,
                "| algorithm | {} |",
                cols.iter().map(|c| c.1).collect::<Vec<_>>().join(" | ")
            );
            let _ = writeln!(out, "|---|{}", "---:|".repeat(cols.len()));
        }
        let cells: Vec<String> = columns(timed)
            .iter()
            .map(|(k, _, d)| cell(r.metrics.get(*k), *d))
            .collect();
        let _ = writeln!(out, "| {} | {} |", r.algorithm, cells.join(" | "));
    }
    out
}

/// Figures compared with Nomad's binpack in the ranked table: (key, title, decimals).
const COMPARED: [(&str, &str, usize); 5] = [
    ("p95_pending_s", "p95 pending s", 1),
    ("p99_pending_s", "p99 pending s", 1),
    ("waited_fraction", "waited", 3),
    ("cpu_utilization", "CPU util", 3),
    ("node_hours", "node-hours", 1),
];

/// The algorithm everything is compared with.
pub const REFERENCE: &str = "binpack";

/// The significance level of the comparisons.
pub const ALPHA: f64 = 0.05;

/// One algorithm of a scenario, ranked and compared with the reference.
#[derive(Clone, Debug)]
pub struct Ranked {
    /// Algorithm.
    pub algorithm: String,
    /// Per compared figure: the estimate, and the test against the reference (none for the
    /// reference itself or when the reference is not in the sweep).
    pub figures: Vec<(Estimate, Option<crate::stats::Welch>)>,
}

/// The values of a figure for one scenario and algorithm, each with its seed.
fn seeded_values(results: &Results, scenario: &str, algorithm: &str, key: &str) -> Vec<(u64, f64)> {
    results
        .runs
        .iter()
        .filter(|r| r.scenario == scenario && r.spec.algorithm == algorithm)
        .map(|r| (r.spec.seed, r.metric(key)))
        .collect()
}

/// The scenarios of the results, in sweep order.
fn scenarios(results: &Results) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &results.rows {
        if !out.contains(&r.scenario) {
            out.push(r.scenario.clone());
        }
    }
    out
}

/// A scenario's algorithms ranked by p95, then p99 pending, then the share that waited, then
/// node-hours (lower is better for each), each tested against binpack, paired over seeds.
pub fn ranked(results: &Results, scenario: &str) -> Vec<Ranked> {
    let rows: Vec<&Row> = results
        .rows
        .iter()
        .filter(|r| r.scenario == scenario)
        .collect();
    let has_reference = rows.iter().any(|r| r.algorithm == REFERENCE);
    let mut out: Vec<Ranked> = rows
        .iter()
        .map(|row| Ranked {
            algorithm: row.algorithm.clone(),
            figures: COMPARED
                .iter()
                .map(|(k, _, _)| {
                    let mine = seeded_values(results, scenario, &row.algorithm, k);
                    let test = (has_reference && row.algorithm != REFERENCE).then(|| {
                        crate::stats::paired(&mine, &seeded_values(results, scenario, REFERENCE, k))
                    });
                    let mine: Vec<f64> = mine.into_iter().map(|(_, v)| v).collect();
                    (estimate(&mine), test)
                })
                .collect(),
        })
        .collect();
    let order = [0usize, 1, 2, 4];
    out.sort_by(|a, b| {
        order
            .iter()
            .map(|&i| a.figures[i].0.mean.total_cmp(&b.figures[i].0.mean))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

fn delta_text(test: &crate::stats::Welch, digits: usize) -> String {
    let d = test.difference;
    let shown = format!("{:.digits$}", d.abs());
    let zero = shown.chars().all(|c| c == '0' || c == '.');
    let sign = if zero {
        "±"
    } else if d > 0.0 {
        "+"
    } else {
        "−"
    };
    format!(
        "{sign}{shown}{}",
        if test.significant(ALPHA) { "*" } else { "" }
    )
}

/// Plain sentences about the differences from binpack that are significant.
pub fn statements(scenario_rows: &[Ranked], seeds: usize) -> Vec<String> {
    let mut out = Vec::new();
    if !scenario_rows.iter().any(|r| r.algorithm == REFERENCE) {
        out.push(format!(
            "{REFERENCE} is not in this sweep, so nothing is compared with it."
        ));
        return out;
    }
    if seeds < 2 {
        out.push(
            "One seed per algorithm: no difference can be tested; run more seeds.".to_string(),
        );
        return out;
    }
    for r in scenario_rows {
        for ((_, title, digits), (_, test)) in COMPARED.iter().zip(&r.figures) {
            if let Some(t) = test.filter(|t| t.significant(ALPHA)) {
                out.push(format!(
                    "**{}**: {} {:.digits$} {} than {REFERENCE}'s (p {}).",
                    r.algorithm,
                    title,
                    t.difference.abs(),
                    if t.difference > 0.0 {
                        "higher"
                    } else {
                        "lower"
                    },
                    if t.p < 0.001 {
                        "< 0.001".to_string()
                    } else {
                        format!("= {:.3}", t.p)
                    }
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(format!(
            "No difference from {REFERENCE} is significant: every one is within what the seeds' scatter explains."
        ));
    } else {
        out.push("Every other difference is within what the seeds' scatter explains.".to_string());
    }
    out
}

fn method(seeds: usize) -> String {
    format!(
        "Mean ± 95 % interval (Student's t) over {seeds} seeds; Δ is the difference from {REFERENCE}, \
         `*` where a paired t-test over the seeds (two-sided: each seed gives every algorithm the same \
         arrivals and run times; Welch's where the seeds differ) finds it significant at p < {ALPHA} \
         (with many comparisons, about one in twenty differences that are not real is starred by chance)."
    )
}

/// The ranked comparison of one scenario, in Markdown.
pub fn comparison_markdown(results: &Results, scenario: &str) -> String {
    let ranked = ranked(results, scenario);
    let seeds = results
        .rows
        .iter()
        .find(|r| r.scenario == scenario)
        .map_or(0, |r| r.seeds);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### {scenario}: ranked against Nomad's {REFERENCE}\n\n{}\n",
        method(seeds)
    );
    let _ = writeln!(
        out,
        "| rank | algorithm | {} |",
        COMPARED.iter().map(|c| c.1).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(out, "|---:|---|{}", "---:|".repeat(COMPARED.len()));
    for (i, r) in ranked.iter().enumerate() {
        let cells: Vec<String> = COMPARED
            .iter()
            .zip(&r.figures)
            .map(|((_, _, d), (e, test))| {
                let base = cell(Some(e), *d);
                match test {
                    Some(t) => format!("{base} (Δ {})", delta_text(t, *d)),
                    None => base,
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            i + 1,
            r.algorithm,
            cells.join(" | ")
        );
    }
    let _ = writeln!(out);
    for line in statements(&ranked, seeds) {
        let _ = writeln!(out, "- {line}");
    }
    out
}

/// The whole sweep in Markdown: per scenario, the ranked comparison, then every figure.
pub fn report_markdown(results: &Results) -> String {
    let mut out = String::new();
    for scenario in scenarios(results) {
        out.push_str(&comparison_markdown(results, &scenario));
        let rows: Vec<Row> = results
            .rows
            .iter()
            .filter(|r| r.scenario == scenario)
            .cloned()
            .collect();
        out.push_str(&markdown(&rows).replacen("\n### ", "\n#### All figures: ", 1));
    }
    out
}

/// The machine-readable result: every run and every row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Bumped when keys change meaning.
    pub schema_version: u32,
    /// Every run, in sweep order.
    pub runs: Vec<RunResult>,
    /// Every scenario × algorithm.
    pub rows: Vec<Row>,
}

impl Results {
    /// Builds the results of a finished sweep.
    pub fn new(runs: Vec<RunResult>) -> Results {
        let rows = rows(&runs);
        Results {
            schema_version: 1,
            runs,
            rows,
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A self-contained HTML report: the ranked comparison, every figure, and small multiples
/// (one small chart per algorithm, on shared axes, with binpack in grey behind), no scripts,
/// no network.
pub fn html(results: &Results, title: &str) -> String {
    use crate::capacity::{inline_html, table_html};
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; font-size: 13px; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}\n\
         th:nth-child(2), td:nth-child(2) {{ text-align: left; }}\n\
         code {{ background: #f3f3f3; padding: 0 3px; }}\n\
         .panels {{ display: flex; flex-wrap: wrap; gap: 6px; }}\n\
         figure {{ margin: 1em 0; }} figcaption {{ font-weight: bold; margin-bottom: 4px; }}\n\
         </style></head><body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    for scenario in scenarios(results) {
        let rows: Vec<&Row> = results
            .rows
            .iter()
            .filter(|r| r.scenario == scenario)
            .collect();
        let seeds = rows.first().map_or(0, |r| r.seeds);
        let ranked = ranked(results, &scenario);
        let _ = writeln!(
            out,
            "<h2>{}</h2>\n<p>{}</p>\n<ul>",
            escape(&scenario),
            inline_html(&method(seeds))
        );
        for line in statements(&ranked, seeds) {
            let _ = writeln!(out, "<li>{}</li>", inline_html(&line));
        }
        let _ = writeln!(out, "</ul>");
        let comparison = comparison_markdown(results, &scenario);
        out.push_str(&table_html(&comparison));
        let _ = writeln!(out, "<details><summary>All figures</summary>");
        let all: Vec<Row> = rows.iter().map(|r| (*r).clone()).collect();
        out.push_str(&table_html(&markdown(&all)));
        let _ = writeln!(out, "</details>");
        // The distribution: the mean over seeds of each percentile, from a little before the
        // first one at which any run waited (at least the 50th) to the 99th.
        let first_waiting = results
            .runs
            .iter()
            .filter(|r| r.scenario == scenario)
            .filter_map(|r| {
                r.pending_percentiles
                    .iter()
                    .take(100)
                    .position(|v| *v > 0.0)
            })
            .min()
            .unwrap_or(50);
        let from = first_waiting.saturating_sub(5).clamp(50, 95);
        let dist = |algorithm: &str| -> Series {
            let runs: Vec<&RunResult> = results
                .runs
                .iter()
                .filter(|r| r.scenario == scenario && r.spec.algorithm == algorithm)
                .collect();
            Series {
                name: algorithm.to_string(),
                points: (from..=99)
                    .map(|p| {
                        let v: f64 = runs
                            .iter()
                            .map(|r| r.pending_percentiles.get(p).copied().unwrap_or(0.0))
                            .sum::<f64>()
                            / runs.len().max(1) as f64;
                        (p as f64, v)
                    })
                    .collect(),
            }
        };
        let first = |algorithm: &str| {
            results
                .runs
                .iter()
                .find(|r| r.scenario == scenario && r.spec.algorithm == algorithm)
        };
        let order: Vec<&str> = ranked.iter().map(|r| r.algorithm.as_str()).collect();
        let has_reference = order.contains(&REFERENCE);
        let panels = |make: &dyn Fn(&str) -> Option<Series>| -> Vec<(String, Vec<Series>)> {
            order
                .iter()
                .filter_map(|a| {
                    let mine = make(a)?;
                    let mut series = Vec::new();
                    if has_reference && *a != REFERENCE {
                        series.extend(make(REFERENCE));
                    }
                    series.push(mine);
                    Some((a.to_string(), series))
                })
                .collect()
        };
        out.push_str(&crate::svg::small_multiples(
            &format!(
                "Pending time by percentile, {from}th to 99th (mean over seeds; binpack in grey)"
            ),
            "percentile",
            "pending (s)",
            &panels(&|a| Some(dist(a))),
            None,
        ));
        out.push_str(&crate::svg::small_multiples(
            "Allocations waiting for placement over time (first seed; binpack in grey)",
            "hours",
            "queued",
            &panels(&|a| {
                first(a).map(|r| Series {
                    name: a.to_string(),
                    points: r.series.iter().map(|s| (s.0, s.1)).collect(),
                })
            }),
            None,
        ));
        out.push_str(&crate::svg::small_multiples(
            "CPU allocated over time (first seed; binpack in grey)",
            "hours",
            "CPU allocated (%)",
            &panels(&|a| {
                first(a).map(|r| Series {
                    name: a.to_string(),
                    points: r.series.iter().map(|s| (s.0, s.2 * 100.0)).collect(),
                })
            }),
            Some(100.0),
        ));
    }
    out.push_str("</body></html>\n");
    out
}
