//! Aggregation across seeds (mean and 95 % interval) and the outputs: Markdown, JSON, HTML with SVG.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use nomad_sim_core::metrics::round_to;

use crate::svg::{line_chart, Series};
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

/// A self-contained HTML report: tables and SVG charts, no scripts, no network.
pub fn html(results: &Results, title: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; font-size: 13px; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}\n\
         th:first-child, td:first-child {{ text-align: left; }}\n\
         .charts {{ display: flex; flex-wrap: wrap; gap: 12px; }}\n</style></head><body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    let timed = results
        .rows
        .iter()
        .all(|r| r.metrics.contains_key("wall_s"));
    let mut scenarios: Vec<&str> = Vec::new();
    for r in &results.rows {
        if !scenarios.contains(&r.scenario.as_str()) {
            scenarios.push(&r.scenario);
        }
    }
    for scenario in scenarios {
        let rows: Vec<&Row> = results
            .rows
            .iter()
            .filter(|r| r.scenario == scenario)
            .collect();
        let _ = writeln!(out, "<h2>{}</h2>\n<p>{} seeds per algorithm; mean ± 95 % interval.</p>\n<table><tr><th>algorithm</th>", escape(scenario), rows[0].seeds);
        for (_, title, _) in columns(timed) {
            let _ = write!(out, "<th>{}</th>", escape(title));
        }
        let _ = writeln!(out, "</tr>");
        for r in &rows {
            let _ = write!(out, "<tr><td>{}</td>", escape(&r.algorithm));
            for (k, _, d) in columns(timed) {
                let _ = write!(out, "<td>{}</td>", escape(&cell(r.metrics.get(k), d)));
            }
            let _ = writeln!(out, "</tr>");
        }
        let _ = writeln!(out, "</table>\n<div class=\"charts\">");
        // First seed of each algorithm, for the distribution and the time series.
        let firsts: Vec<&RunResult> = rows
            .iter()
            .filter_map(|row| {
                results
                    .runs
                    .iter()
                    .find(|r| r.scenario == scenario && r.spec.algorithm == row.algorithm)
            })
            .collect();
        let dist: Vec<Series> = firsts
            .iter()
            .map(|r| Series {
                name: r.spec.algorithm.clone(),
                // The upper half, where algorithms differ.
                points: r
                    .pending_percentiles
                    .iter()
                    .enumerate()
                    .skip(50)
                    .map(|(p, v)| (p as f64, *v))
                    .collect(),
            })
            .collect();
        out.push_str(&line_chart(
            "Pending time, 50th to 100th percentile (first seed)",
            "percentile of allocations",
            "pending (s)",
            &dist,
        ));
        let queue: Vec<Series> = firsts
            .iter()
            .map(|r| Series {
                name: r.spec.algorithm.clone(),
                points: r.series.iter().map(|s| (s.0, s.1)).collect(),
            })
            .collect();
        out.push_str(&line_chart(
            "Pending allocations over time (first seed)",
            "hours",
            "queued allocations",
            &queue,
        ));
        let util: Vec<Series> = firsts
            .iter()
            .map(|r| Series {
                name: r.spec.algorithm.clone(),
                points: r.series.iter().map(|s| (s.0, s.2 * 100.0)).collect(),
            })
            .collect();
        out.push_str(&line_chart(
            "CPU allocated over time (first seed)",
            "hours",
            "CPU allocated (%)",
            &util,
        ));
        let _ = writeln!(out, "</div>");
    }
    out.push_str("</body></html>\n");
    out
}
