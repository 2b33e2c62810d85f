//! Shards: the partial result of `--shard i/n`, and merging shards back into the whole.
//! Merging checks that every shard comes from the same sweep (the same fingerprint), that
//! each holds the runs it should, and that together they hold every run exactly once.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::fingerprint::{locate_key, Fingerprint};
use crate::sweep::RunResult;

/// The shard file format's version.
pub const SCHEMA_VERSION: u32 = 2;

/// The largest shard file `merge` reads.
pub const MAX_SHARD_BYTES: u64 = 1024 * 1024 * 1024;

/// What a shard writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// What the whole sweep measures.
    pub fingerprint: Fingerprint,
    /// This shard's number, from 0.
    pub shard: usize,
    /// How many shards the sweep was cut into.
    pub shards: usize,
    /// Runs in the whole sweep.
    pub total_runs: usize,
    /// This shard's runs: those whose index is `shard` modulo `shards`.
    pub runs: Vec<RunResult>,
}

/// Reads a shard file, checking it on its own; errors name the file and, where it applies,
/// the line and column.
pub fn read(path: &Path) -> Result<Partial, String> {
    let label = path.display().to_string();
    let text = nomad_sim_scenario::read_text(path, MAX_SHARD_BYTES, "shard result")
        .map_err(|p| p.to_string())?;
    parse(&text, &label)
}

/// Parses and checks shard text; `label` names it in messages.
pub fn parse(text: &str, label: &str) -> Result<Partial, String> {
    let at = |key: &str, message: String| {
        let (line, column) = locate_key(text, key);
        format!("{label}:{line}:{column}: {message}")
    };
    let version: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "{label}:{}:{}: not a shard result: {e}",
            e.line(),
            e.column()
        )
    })?;
    if version
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        != Some(u64::from(SCHEMA_VERSION))
    {
        return Err(at(
            "schema_version",
            format!(
                "not a shard result of this nomad-sim-report (schema_version {SCHEMA_VERSION} expected): run the shard again"
            ),
        ));
    }
    let p: Partial = serde_json::from_value(version)
        .map_err(|e| format!("{label}:1:1: not a shard result: {e}"))?;
    let total = p.fingerprint.total_runs().ok_or_else(|| {
        at(
            "fingerprint",
            "the fingerprint describes more runs than a sweep may have".to_string(),
        )
    })?;
    if p.total_runs != total {
        return Err(at(
            "total_runs",
            format!(
                "claims {} runs, but its fingerprint describes {total}",
                p.total_runs
            ),
        ));
    }
    if p.shards == 0 || p.shards > total || p.shard >= p.shards {
        return Err(at(
            "shard",
            format!(
                "shard {} of {} is impossible for a sweep of {total} runs",
                p.shard, p.shards
            ),
        ));
    }
    if p.runs.is_empty() {
        return Err(at("runs", "holds no runs".to_string()));
    }
    for r in &p.runs {
        let i = r.spec.index;
        let expected = p.fingerprint.run_at(i);
        let fits = i < total
            && i % p.shards == p.shard
            && expected.is_some_and(|(s, a, seed)| {
                r.spec.scenario == s
                    && r.spec.algorithm == a
                    && r.spec.seed == seed
                    && p.fingerprint.scenarios[s].name == r.scenario
            });
        if !fits {
            return Err(at(
                "runs",
                format!(
                    "run {i} ({} / {} / seed {}) is not a run of shard {} of {} of this sweep",
                    r.scenario, r.spec.algorithm, r.spec.seed, p.shard, p.shards
                ),
            ));
        }
    }
    Ok(p)
}

/// Merges checked shards (labelled for messages) into every run of the sweep, in order.
pub fn merge(shards: Vec<(String, Partial)>) -> Result<Vec<RunResult>, String> {
    let Some((first_label, first)) = shards.first() else {
        return Err("no shard files given".to_string());
    };
    let fingerprint = first.fingerprint.clone();
    let n = first.shards;
    let first_label = first_label.clone();
    let total = first.total_runs;
    let mut seen = vec![false; n];
    let mut runs = Vec::with_capacity(total);
    for (label, p) in shards {
        if let Some(d) = fingerprint.difference(&p.fingerprint) {
            return Err(format!(
                "{label}: from a different sweep than {first_label}: {d}"
            ));
        }
        if p.shards != n {
            return Err(format!(
                "{label}: one of {} shards, but {first_label} is one of {n}",
                p.shards
            ));
        }
        if std::mem::replace(&mut seen[p.shard], true) {
            return Err(format!("{label}: shard {} of {n} is given twice", p.shard));
        }
        runs.extend(p.runs);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "shards {} of {n} are missing: pass every shard once",
            missing.join(", ")
        ));
    }
    runs.sort_by_key(|r| r.spec.index);
    let complete = runs.len() == total && runs.iter().enumerate().all(|(i, r)| r.spec.index == i);
    if !complete {
        return Err(format!(
            "the shards hold {} runs, not the sweep's {total} (each exactly once)",
            runs.len()
        ));
    }
    Ok(runs)
}
