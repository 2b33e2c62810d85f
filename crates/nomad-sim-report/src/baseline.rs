//! CI regression mode: save a baseline of key figures, compare a sweep against it.
//!
//! A baseline carries the fingerprint of the sweep that made it. A comparison refuses
//! (rather than passing or failing) when the two sweeps measured different things: another
//! binary version, other seeds, a scenario whose content changed, or nothing in common.
//! Wall-clock figures are compared only when asked, since they vary between machines and runs.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::fingerprint::{locate_key, Fingerprint};
use crate::summary::Row;

/// The baseline file format's version.
pub const SCHEMA_VERSION: u32 = 2;

/// The largest baseline file read.
pub const MAX_BASELINE_BYTES: u64 = 64 * 1024 * 1024;

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
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// What the sweep that made it measured.
    pub fingerprint: Fingerprint,
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
    /// Whether placements per second are compared at all (wall-clock figures vary).
    pub compare_timing: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            p95_relative: 0.10,
            p95_absolute_s: 1.0,
            utilization_drop: 0.02,
            speed_relative: 0.25,
            compare_timing: false,
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
pub fn from_rows(fingerprint: &Fingerprint, rows: &[Row]) -> Baseline {
    Baseline {
        schema_version: SCHEMA_VERSION,
        fingerprint: fingerprint.clone(),
        entries: entries(rows),
    }
}

fn entries(rows: &[Row]) -> Vec<Entry> {
    rows.iter()
        .map(|r| Entry {
            scenario: r.scenario.clone(),
            algorithm: r.algorithm.clone(),
            p95_pending_s: r.metrics.get("p95_pending_s").map_or(f64::NAN, |e| e.mean),
            cpu_utilization: r
                .metrics
                .get("cpu_utilization")
                .map_or(f64::NAN, |e| e.mean),
            placements_per_s: r.metrics.get("placements_per_s").map(|e| e.mean),
        })
        .collect()
}

/// Reads a baseline file; errors name the file, line and column.
pub fn read(path: &Path) -> Result<Baseline, String> {
    let text = nomad_sim_scenario::read_text(path, MAX_BASELINE_BYTES, "baseline")
        .map_err(|p| p.to_string())?;
    parse(&text, &path.display().to_string())
}

/// Parses baseline text; `label` names it in messages.
pub fn parse(text: &str, label: &str) -> Result<Baseline, String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{label}:{}:{}: not a baseline: {e}", e.line(), e.column()))?;
    if value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        != Some(u64::from(SCHEMA_VERSION))
    {
        let (line, column) = locate_key(text, "schema_version");
        return Err(format!(
            "{label}:{line}:{column}: not a baseline of this nomad-sim-report (schema_version {SCHEMA_VERSION}, with a fingerprint): save it again with --save-baseline"
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("{label}:1:1: not a baseline: {e}"))
}

/// Compares rows with a baseline. An error (exit 2) says why the two cannot be compared;
/// otherwise the regressions come with a note of what was not compared (if anything).
pub fn check(
    baseline: &Baseline,
    fingerprint: &Fingerprint,
    rows: &[Row],
    t: Thresholds,
) -> Result<(Vec<Regression>, Option<String>), String> {
    let b = &baseline.fingerprint;
    if b.version != fingerprint.version {
        return Err(format!(
            "saved by nomad-sim-report {}, this is {}: save a new baseline with this version",
            b.version, fingerprint.version
        ));
    }
    if b.seeds != fingerprint.seeds {
        return Err(format!(
            "saved with --seeds {}, this sweep has {}: compare with the same seeds",
            b.seeds, fingerprint.seeds
        ));
    }
    for now in &fingerprint.scenarios {
        if let Some(then) = b.scenarios.iter().find(|s| s.name == now.name) {
            if let Some(d) = then.difference(now) {
                return Err(format!(
                    "{d}: the baseline measured something else; save a new baseline"
                ));
            }
        }
    }
    if t.compare_timing && !b.timing {
        return Err(
            "--compare-timing, but the baseline was saved without timing (--no-timing)".to_string(),
        );
    }
    if t.compare_timing && !fingerprint.timing {
        return Err("--compare-timing and --no-timing contradict each other".to_string());
    }
    let current = entries(rows);
    let in_baseline = |e: &Entry| {
        baseline
            .entries
            .iter()
            .any(|b| b.scenario == e.scenario && b.algorithm == e.algorithm)
    };
    let (compared, skipped): (Vec<&Entry>, Vec<&Entry>) =
        current.iter().partition(|e| in_baseline(e));
    if compared.is_empty() {
        let have: Vec<String> = baseline
            .entries
            .iter()
            .map(|e| format!("{}/{}", e.scenario, e.algorithm))
            .collect();
        return Err(format!(
            "nothing to compare: the baseline holds {} and this sweep none of them",
            if have.is_empty() {
                "no entries".to_string()
            } else {
                have.join(", ")
            }
        ));
    }
    let note = (!skipped.is_empty()).then(|| {
        format!(
            "not in the baseline, so not compared: {}",
            skipped
                .iter()
                .map(|e| format!("{}/{}", e.scenario, e.algorithm))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    Ok((compare_entries(&baseline.entries, &current, t), note))
}

/// Compares rows with a baseline's entries; entries missing on either side are not compared.
pub fn compare(baseline: &Baseline, rows: &[Row], t: Thresholds) -> Vec<Regression> {
    compare_entries(&baseline.entries, &entries(rows), t)
}

fn compare_entries(baseline: &[Entry], current: &[Entry], t: Thresholds) -> Vec<Regression> {
    let mut out = Vec::new();
    for now in current {
        let Some(old) = baseline
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
        if let (true, Some(old_speed), Some(new_speed)) =
            (t.compare_timing, old.placements_per_s, now.placements_per_s)
        {
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
