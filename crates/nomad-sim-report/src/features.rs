//! What each modelled Nomad feature changes in a capacity answer: the same search again on the
//! scenario with one feature taken out (`capacity --features`).

use std::fmt::Write;

use nomad_sim_core::config::{Arrivals, SimConfig};

use crate::capacity::{self, Answer, Query};
use crate::target::Scope;

/// A scheduling feature a scenario can use, which a simpler model would leave out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// `spread` blocks.
    Spread,
    /// `affinity` blocks.
    Affinity,
    /// Preemption by higher-priority jobs.
    Preemption,
    /// Static and dynamic ports.
    Ports,
    /// Device asks (GPUs and the like).
    Devices,
    /// Per-node daemons: system and sysbatch jobs.
    PerNodeJobs,
    /// Periodic jobs.
    Periodic,
}

impl Feature {
    /// Every feature, in the order the table lists them.
    pub const ALL: [Feature; 7] = [
        Feature::Spread,
        Feature::Affinity,
        Feature::Preemption,
        Feature::Ports,
        Feature::Devices,
        Feature::PerNodeJobs,
        Feature::Periodic,
    ];

    /// The feature's name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Spread => "spread",
            Feature::Affinity => "affinity",
            Feature::Preemption => "preemption",
            Feature::Ports => "ports",
            Feature::Devices => "devices",
            Feature::PerNodeJobs => "system and sysbatch jobs",
            Feature::Periodic => "periodic jobs",
        }
    }

    /// What the model without the feature does instead.
    pub fn without(self) -> &'static str {
        match self {
            Feature::Spread => "spread blocks dropped",
            Feature::Affinity => "affinity blocks dropped",
            Feature::Preemption => "preemption off for every job type",
            Feature::Ports => "port asks dropped",
            Feature::Devices => "device asks dropped, so the job fits any node with room",
            Feature::PerNodeJobs => "system and sysbatch workloads submit nothing",
            Feature::Periodic => "periodic workloads launch nothing",
        }
    }

    /// True when the scenario uses the feature, so that taking it out can change the answer.
    pub fn used_by(self, c: &SimConfig) -> bool {
        let w = &c.workloads;
        match self {
            Feature::Spread => w.iter().any(|w| !w.spreads.is_empty()),
            Feature::Affinity => w.iter().any(|w| !w.affinities.is_empty()),
            Feature::Preemption => {
                // Some enabled job type must outrank another workload by Nomad's delta.
                w.iter().any(|hi| {
                    c.scheduler.preemption.enabled_for(hi.job_type)
                        && w.iter().any(|lo| lo.priority + 10 <= hi.priority)
                })
            }
            Feature::Ports => w
                .iter()
                .any(|w| !w.asks.static_ports.is_empty() || !w.asks.dynamic_ports.is_empty()),
            Feature::Devices => w.iter().any(|w| !w.asks.devices.is_empty()),
            Feature::PerNodeJobs => w.iter().any(|w| w.job_type.is_per_node()),
            Feature::Periodic => w
                .iter()
                .any(|w| matches!(w.arrivals, Arrivals::Periodic(_))),
        }
    }

    /// The names of the workloads the model without the feature empties.
    fn emptied(self, c: &SimConfig) -> Vec<&str> {
        c.workloads
            .iter()
            .filter(|w| match self {
                Feature::PerNodeJobs => w.job_type.is_per_node(),
                Feature::Periodic => matches!(w.arrivals, Arrivals::Periodic(_)),
                _ => false,
            })
            .map(|w| w.name.as_str())
            .collect()
    }

    /// Takes the feature out of a scenario. Workloads are emptied rather than removed, so
    /// names, indices and operations that refer to them stay valid.
    pub fn remove(self, c: &mut SimConfig) {
        for w in &mut c.workloads {
            match self {
                Feature::Spread => w.spreads.clear(),
                Feature::Affinity => w.affinities.clear(),
                Feature::Preemption => {}
                Feature::Ports => {
                    w.asks.static_ports.clear();
                    w.asks.dynamic_ports.clear();
                }
                Feature::Devices => w.asks.devices.clear(),
                Feature::PerNodeJobs => {
                    if w.job_type.is_per_node() {
                        w.arrivals = Arrivals::At(Vec::new());
                    }
                }
                Feature::Periodic => {
                    if matches!(w.arrivals, Arrivals::Periodic(_)) {
                        w.arrivals = Arrivals::At(Vec::new());
                    }
                }
            }
        }
        if self == Feature::Preemption {
            let p = &mut c.scheduler.preemption;
            p.system = false;
            p.batch = false;
            p.service = false;
            p.sysbatch = false;
        }
    }
}

/// One row of the comparison: the search without one feature.
#[derive(Clone, Debug)]
pub struct Row {
    /// The feature taken out.
    pub feature: Feature,
    /// The answer without it, or why it was not searched.
    pub answer: Result<Answer, String>,
}

/// Runs the query again without each feature the scenario uses.
pub fn compare(q: &Query) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for f in Feature::ALL {
        if !f.used_by(&q.config) {
            continue;
        }
        let emptied = f.emptied(&q.config);
        let named = q.targets.iter().find_map(|t| match &t.scope {
            Scope::Workload(w) if emptied.contains(&w.as_str()) => Some(w.clone()),
            _ => None,
        });
        if let Some(w) = named {
            rows.push(Row {
                feature: f,
                answer: Err(format!("a target names `{w}`, which this model empties")),
            });
            continue;
        }
        let mut without = q.clone();
        f.remove(&mut without.config);
        rows.push(Row {
            feature: f,
            answer: Ok(capacity::search(&without)?),
        });
    }
    Ok(rows)
}

/// The answer as the table shows it: the setting, or "none".
fn setting(q: &Query, a: &Answer) -> String {
    match a.best_point() {
        Some(p) => capacity::setting_text(q, &p.values),
        None => "none tried meets the targets".to_string(),
    }
}

/// The change from the full model's answer, per dimension.
fn change(q: &Query, full: &Answer, without: &Answer) -> String {
    match (full.best_point(), without.best_point()) {
        (Some(f), Some(w)) if f.values == w.values => "same".to_string(),
        (Some(f), Some(w)) => q
            .dims
            .iter()
            .zip(f.values.iter().zip(&w.values))
            .filter(|(_, (a, b))| a != b)
            .map(|(d, (a, b))| {
                let delta = b - a;
                let sign = if delta > 0.0 { "+" } else { "−" };
                format!("{} {sign}{}", d.text, d.show(delta.abs()))
            })
            .collect::<Vec<_>>()
            .join(", "),
        (None, None) => "same (none)".to_string(),
        (Some(_), None) => "no answer without it".to_string(),
        (None, Some(_)) => "an answer only without it".to_string(),
    }
}

/// The comparison as a Markdown section.
pub fn markdown(q: &Query, full: &Answer, rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## What each modelled feature changes\n");
    if rows.is_empty() {
        let _ = writeln!(
            s,
            "The scenario uses none of spread, affinity, preemption, ports, devices, system or \
             sysbatch jobs, periodic jobs: there is nothing to take out."
        );
        return s;
    }
    let _ = writeln!(
        s,
        "The same search on the scenario with one feature taken out: how wrong a model without \
         it would be.\n"
    );
    let _ = writeln!(
        s,
        "| Model | Cheapest setting | Change | p95 pending there (s) |"
    );
    let _ = writeln!(s, "|---|---|---|---:|");
    let p95 = |a: &Answer| {
        a.best_point()
            .map_or("—".to_string(), |p| format!("{:.1}", p.pending_means[1]))
    };
    let _ = writeln!(
        s,
        "| full model | {} | — | {} |",
        setting(q, full),
        p95(full)
    );
    for r in rows {
        let name = format!("without {}: {}", r.feature.name(), r.feature.without());
        match &r.answer {
            Ok(a) => {
                let _ = writeln!(
                    s,
                    "| {name} | {} | {} | {} |",
                    setting(q, a),
                    change(q, full, a),
                    p95(a)
                );
            }
            Err(why) => {
                let _ = writeln!(s, "| {name} | not searched: {why} | — | — |");
            }
        }
    }
    s
}
