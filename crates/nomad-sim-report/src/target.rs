//! Targets of a capacity search: `p95_pending_s<=60` for the whole cluster, or
//! `pool=linux:p95_pending_s<=60` and `workload=pr-medium:p99_pending_s<=300` for one pool or
//! one workload. Every seed must meet every target.

use nomad_sim_core::config::SimConfig;

use crate::breakdown::GROUP_METRICS;
use crate::sweep::METRICS;

/// What a target measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole run.
    All,
    /// Allocations placed on one pool's nodes.
    Pool(String),
    /// One workload's allocations.
    Workload(String),
}

/// The comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `<=`.
    Le,
    /// `<`.
    Lt,
    /// `>=`.
    Ge,
    /// `>`.
    Gt,
}

impl Cmp {
    fn text(self) -> &'static str {
        match self {
            Cmp::Le => "<=",
            Cmp::Lt => "<",
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
        }
    }
}

/// One target.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Where it applies.
    pub scope: Scope,
    /// The figure (`p95_pending_s`, ...).
    pub metric: String,
    /// The comparison.
    pub cmp: Cmp,
    /// The bound.
    pub value: f64,
}

/// Figures a whole-run target may name, besides the report's (`sweep::METRICS`).
const EXTRA: [&str; 1] = ["cost"];

impl Target {
    /// Parses `[pool=NAME:|workload=NAME:]METRIC<=VALUE` (also `<`, `>=`, `>`).
    pub fn parse(text: &str) -> Result<Target, String> {
        let t = text.trim();
        let (scope, rest) = if let Some(r) = t.strip_prefix("pool=") {
            let (name, rest) = r
                .split_once(':')
                .ok_or_else(|| format!("--target {text:?}: expected pool=NAME:METRIC<=VALUE"))?;
            (Scope::Pool(name.to_string()), rest)
        } else if let Some(r) = t.strip_prefix("workload=") {
            let (name, rest) = r.split_once(':').ok_or_else(|| {
                format!("--target {text:?}: expected workload=NAME:METRIC<=VALUE")
            })?;
            (Scope::Workload(name.to_string()), rest)
        } else {
            (Scope::All, t)
        };
        let (metric, cmp, value) = [
            ("<=", Cmp::Le),
            (">=", Cmp::Ge),
            ("<", Cmp::Lt),
            (">", Cmp::Gt),
        ]
        .iter()
        .find_map(|(op, cmp)| {
            rest.split_once(op)
                .map(|(m, v)| (m.trim().to_string(), *cmp, v.trim()))
        })
        .ok_or_else(|| {
            format!("--target {text:?}: expected METRIC<=VALUE, e.g. p95_pending_s<=60")
        })?;
        let value: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("--target {text:?}: {value:?} is not a number"))?;
        let known: Vec<&str> = match scope {
            Scope::All => METRICS.iter().map(|m| m.0).chain(EXTRA).collect(),
            _ => GROUP_METRICS.to_vec(),
        };
        if !known.contains(&metric.as_str()) {
            return Err(format!(
                "--target {text:?}: unknown metric {metric:?} (known{}: {})",
                if scope == Scope::All {
                    ""
                } else {
                    " for a pool or workload"
                },
                known.join(", ")
            ));
        }
        Ok(Target {
            scope,
            metric,
            cmp,
            value,
        })
    }

    /// Checks that the pool or workload exists in the scenario.
    pub fn check(&self, config: &SimConfig) -> Result<(), String> {
        match &self.scope {
            Scope::All => Ok(()),
            Scope::Pool(p) => {
                if config.pools.iter().any(|q| &q.name == p) {
                    Ok(())
                } else {
                    Err(format!(
                        "--target {}: no pool {p:?} in the scenario (pools: {})",
                        self,
                        config
                            .pools
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
            Scope::Workload(w) => {
                if config.workloads.iter().any(|q| &q.name == w) {
                    Ok(())
                } else {
                    Err(format!(
                        "--target {}: no workload {w:?} in the scenario (workloads: {})",
                        self,
                        config
                            .workloads
                            .iter()
                            .map(|w| w.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
        }
    }

    /// The key of the figure in a run's metrics.
    pub fn key(&self) -> String {
        match &self.scope {
            Scope::All => self.metric.clone(),
            Scope::Pool(p) => group_key("pool", p, &self.metric),
            Scope::Workload(w) => group_key("workload", w, &self.metric),
        }
    }

    /// True when the target needs per-pool or per-workload figures.
    pub fn needs_breakdown(&self) -> bool {
        self.scope != Scope::All
    }

    /// True when a value meets the target.
    pub fn meets(&self, v: f64) -> bool {
        match self.cmp {
            Cmp::Le => v <= self.value,
            Cmp::Lt => v < self.value,
            Cmp::Ge => v >= self.value,
            Cmp::Gt => v > self.value,
        }
    }

    /// The worst of the seeds' values: the highest for an upper bound, the lowest for a lower one.
    pub fn worst(&self, values: &[f64]) -> f64 {
        match self.cmp {
            Cmp::Le | Cmp::Lt => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Cmp::Ge | Cmp::Gt => values.iter().copied().fold(f64::INFINITY, f64::min),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.scope {
            Scope::All => {}
            Scope::Pool(p) => write!(f, "pool={p}:")?,
            Scope::Workload(w) => write!(f, "workload={w}:")?,
        }
        write!(f, "{}{}{}", self.metric, self.cmp.text(), self.value)
    }
}

/// The key of a per-pool or per-workload figure in a run's metrics: `pool=linux:p95_pending_s`.
pub fn group_key(kind: &str, name: &str, metric: &str) -> String {
    format!("{kind}={name}:{metric}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_their_scope() {
        let t = Target::parse("pool=linux:p95_pending_s<=60").unwrap();
        assert_eq!(t.scope, Scope::Pool("linux".into()));
        assert_eq!(t.key(), "pool=linux:p95_pending_s");
        assert!(t.meets(60.0) && !t.meets(60.1));
        let t = Target::parse("workload=pr-medium:p99_pending_s<=300").unwrap();
        assert_eq!(t.to_string(), "workload=pr-medium:p99_pending_s<=300");
        let t = Target::parse("cpu_utilization>=0.5").unwrap();
        assert_eq!(t.worst(&[0.7, 0.4]), 0.4);
        assert!(Target::parse("p95<=60").is_err());
        assert!(Target::parse("pool=linux:cpu_utilization<=1").is_err());
        assert!(Target::parse("p95_pending_s<=x").is_err());
        assert!(Target::parse("pool=linux").is_err());
        assert!(Target::parse("p95_pending_s<=inf").is_err());
    }
}
