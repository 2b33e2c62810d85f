//! CI regression mode: save a baseline of key figures, compare a sweep against it.

use serde::{Deserialize, Serialize};

use crate::summary::Row;

/// The figures a baseline keeps per scenario × algorithm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Scenario name.
    pub scenario: String,
    /// Algorithm name.
    pub algorithm: String,
    /// Mean p95 pending time across seeds.
    pub p95_pending_s: f64,
    /// Mean CPU utilisation across seeds.
    pub cpu_utilization: f64,
    /// Mean placements per second, when timed.
    pub placements_per_s: Option<f64>,
}

/// A baseline file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Bumped when keys change meaning.
    pub schema_version: u32,
    /// One entry per scenario × algorithm.
    pub entries: Vec<Entry>,
}

/// How much worse counts as a regression.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Relative increase of p95 pending allowed (0.10 = 10 %).
    pub p95_relative: f64,
    /// Absolute increase of p95 pending always allowed, in seconds (noise floor).
    pub p95_absolute_s: f64,
    /// Drop of CPU utilisation allowed (0.02 = two points).
    pub utilization_drop: f64,
    /// Relative drop of placements per second allowed (0.25 = 25 %).
    pub speed_relative: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            p95_relative: 0.10,
            p95_absolute_s: 1.0,
            utilization_drop: 0.02,
            speed_relative: 0.25,
        }
    }
}

/// Something that got worse.
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    /// Scenario name.
    pub scenario: String,
    /// Algorithm name.
    pub algorithm: String,
    /// Which figure.
    pub metric: &'static str,
    /// Its baseline value.
    pub baseline: f64,
    /// Its value now.
    pub current: f64,
    /// The worst value allowed.
    pub limit: f64,
}

/// The baseline of a sweep's rows.
pub fn from_rows(rows: &[Row]) -> Baseline {
    Baseline {
        schema_version: 1,
        entries: rows
            .iter()
            .map(|r| Entry {
                scenario: r.scenario.clone(),
                algorithm: r.algorithm.clone(),
                p95_pending_s: r.metrics["p95_pending_s"].mean,
                cpu_utilization: r.metrics["cpu_utilization"].mean,
                placements_per_s: r.metrics.get("placements_per_s").map(|e| e.mean),
            })
            .collect(),
    }
}

/// Compares rows with a baseline; entries missing on either side are not compared.
pub fn compare(baseline: &Baseline, rows: &[Row], t: Thresholds) -> Vec<Regression> {
    let mut out = Vec::new();
    for now in from_rows(rows).entries {
        let Some(old) = baseline
            .entries
            .iter()
            .find(|e| e.scenario == now.scenario && e.algorithm == now.algorithm)
        else {
            continue;
        };
        let mut push = |metric, baseline: f64, current: f64, limit: f64| {
            out.push(Regression {
                scenario: now.scenario.clone(),
                algorithm: now.algorithm.clone(),
                metric,
                baseline,
                current,
                limit,
            })
        };
        let limit =
            (old.p95_pending_s * (1.0 + t.p95_relative)).max(old.p95_pending_s + t.p95_absolute_s);
        if now.p95_pending_s > limit {
            push("p95_pending_s", old.p95_pending_s, now.p95_pending_s, limit);
        }
        let limit = old.cpu_utilization - t.utilization_drop;
        if now.cpu_utilization < limit {
            push(
                "cpu_utilization",
                old.cpu_utilization,
                now.cpu_utilization,
                limit,
            );
        }
        if let (Some(old_speed), Some(new_speed)) = (old.placements_per_s, now.placements_per_s) {
            let limit = old_speed * (1.0 - t.speed_relative);
            if new_speed < limit {
                push("placements_per_s", old_speed, new_speed, limit);
            }
        }
    }
    out
}

/// The table printed when something regressed.
pub fn table(regressions: &[Regression]) -> String {
    let mut s = String::from("| scenario | algorithm | metric | baseline | now | limit |\n|---|---|---|---:|---:|---:|\n");
    for r in regressions {
        s.push_str(&format!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} |\n",
            r.scenario, r.algorithm, r.metric, r.baseline, r.current, r.limit
        ));
    }
    s
}
