//! Scenario settings that are valid but almost surely not what was meant, found before a
//! run: the front ends print them as warnings.
//!
//! - A workload whose constraints no node of its pools satisfies: Nomad accepts such a job
//!   and its allocations wait for ever in a blocked eval, and the run's pending-time figures,
//!   which count placed allocations only, would hide it. Nodes of a pool share every
//!   property a class-cached constraint reads, so one node per pool answers for all of them;
//!   constraints on a node's unique name or ID are left out of the check.
//! - Listed arrivals (`at` times, trace rows) at or after the horizon: they never arrive.
//! - A scale-down whose drain deadline is longer than its lifecycle hook's heartbeat timeout:
//!   the hook terminates the node first, so the deadline never applies.

use std::fmt;

use crate::config::{Action, DrainDeadline, SimConfig};
use crate::constraint::NodeProperties;
use crate::server::cluster::{CandidateKey, CandidateSet};
use crate::time::{format_duration_ms, SimTime};

/// One piece of advice about a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Advice {
    /// A workload whose allocations no node can take.
    Unsatisfiable {
        /// The workload's name.
        workload: String,
        /// For each pool the workload may use, in the configuration's order: the pool's name
        /// and the first of the workload's constraints its nodes fail, as the job wrote it.
        rejections: Vec<(String, String)>,
    },
    /// Listed arrivals that come at or after the horizon.
    ArrivalsPastHorizon {
        /// The workload's name.
        workload: String,
        /// Arrivals at or after the horizon.
        past: usize,
        /// Arrivals listed in all.
        listed: usize,
        /// The horizon.
        horizon_ms: SimTime,
    },
    /// A scale-down whose drain deadline outlasts its lifecycle hook.
    DeadlinePastHookTimeout {
        /// When the scale-down happens.
        at_ms: SimTime,
        /// The pool it scales down.
        pool: String,
        /// The drain deadline.
        deadline_ms: SimTime,
        /// The hook's heartbeat timeout.
        timeout_ms: SimTime,
    },
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Advice::Unsatisfiable {
                workload,
                rejections,
            } => {
                let why: Vec<String> = rejections
                    .iter()
                    .map(|(pool, constraint)| format!("pool {pool} fails {constraint:?}"))
                    .collect();
                write!(
                    f,
                    "workload {workload:?}: no node satisfies its constraints ({}), so its allocations will never be placed",
                    why.join("; ")
                )
            }
            Advice::ArrivalsPastHorizon {
                workload,
                past,
                listed,
                horizon_ms,
            } => write!(
                f,
                "workload {workload:?}: {past} of its {listed} listed arrivals come at or after the horizon ({}) and are never submitted; raise `horizon` to include them",
                format_duration_ms(*horizon_ms)
            ),
            Advice::DeadlinePastHookTimeout {
                at_ms,
                pool,
                deadline_ms,
                timeout_ms,
            } => write!(
                f,
                "the scale-down of pool {pool} at {}: its drain deadline ({}) is longer than its lifecycle hook's heartbeat timeout ({}), which terminates each node first, so the deadline never applies; raise `heartbeat_timeout` (AWS allows up to 2h) or shorten the deadline",
                format_duration_ms(*at_ms),
                format_duration_ms(*deadline_ms),
                format_duration_ms(*timeout_ms)
            ),
        }
    }
}

impl SimConfig {
    /// Everything [`Advice`] finds in this configuration: unsatisfiable workloads, then
    /// arrivals past the horizon (both in workload order), then scale-downs in timeline order.
    pub fn advice(&self) -> Vec<Advice> {
        let mut found = self.unsatisfiable_workloads();
        for w in &self.workloads {
            let (past, listed) = w.arrivals.listed_past(self.horizon_ms);
            if past > 0 {
                found.push(Advice::ArrivalsPastHorizon {
                    workload: w.name.clone(),
                    past,
                    listed,
                    horizon_ms: self.horizon_ms,
                });
            }
        }
        for op in &self.operations {
            if let Action::ScaleDown {
                pool,
                drain_deadline: DrainDeadline::After(deadline_ms),
                heartbeat_timeout_ms: Some(timeout_ms),
                ..
            } = &op.action
            {
                if deadline_ms > timeout_ms {
                    found.push(Advice::DeadlinePastHookTimeout {
                        at_ms: op.at_ms,
                        pool: pool.clone(),
                        deadline_ms: *deadline_ms,
                        timeout_ms: *timeout_ms,
                    });
                }
            }
        }
        found
    }

    /// The workloads with constraints that every node of every pool they may use fails.
    /// Workloads with a constraint on unique node properties, and workloads that may use no
    /// pool at all (an error the scenario loader reports), are not listed.
    fn unsatisfiable_workloads(&self) -> Vec<Advice> {
        let mut found = Vec::new();
        for w in &self.workloads {
            if w.constraints.is_empty() || w.constraints.iter().any(|c| c.escapes_class()) {
                continue;
            }
            let set = CandidateSet::new(CandidateKey {
                pool: w.node_pool.clone(),
                datacenters: w.datacenters.clone(),
            });
            // Each usable pool's first failing constraint; `None` once a pool meets them all.
            let rejections: Option<Vec<(String, String)>> = self
                .pools
                .iter()
                .filter(|p| set.matches(p))
                .map(|pool| {
                    let name = pool.node_name(0);
                    let props = NodeProperties::of_pool(pool, "", &name);
                    let failed = w.constraints.iter().find(|c| !c.check(&props))?;
                    Some((pool.name.clone(), failed.describe()))
                })
                .collect();
            if let Some(rejections) = rejections.filter(|r| !r.is_empty()) {
                found.push(Advice::Unsatisfiable {
                    workload: w.name.clone(),
                    rejections,
                });
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::Advice;
    use crate::config::{Action, Arrivals, DrainDeadline, DurationDist, NodeSelector, Operation};
    use crate::constraint::Constraint;
    use crate::testing::{batch_workload, config, pool};
    use crate::{Resources, SimConfig};

    /// Two pools, with `kernel.name` set to each of `kernels` (unset when empty), and one
    /// workload with `constraints`.
    fn config_with(constraints: Vec<Constraint>, kernels: [&str; 2]) -> SimConfig {
        let mut pools = Vec::new();
        for (i, kernel) in kernels.into_iter().enumerate() {
            let mut p = pool(&format!("p{i}"), 2, 4000, 8192);
            if !kernel.is_empty() {
                p.attributes
                    .insert("kernel.name".to_string(), kernel.to_string());
            }
            pools.push(p);
        }
        let mut w = batch_workload(
            "web",
            Arrivals::At(vec![0]),
            Resources::new(500, 256, 0),
            DurationDist::Constant(60_000),
        );
        w.constraints = constraints;
        config(1, 3_600_000, pools, vec![w])
    }

    fn kernel_is(value: &str) -> Constraint {
        Constraint::spelled("${attr.kernel.name}", "=", value).expect("a valid constraint")
    }

    #[test]
    fn a_constraint_no_pool_meets_is_named_with_each_pool() {
        let c = config_with(vec![kernel_is("linux")], ["", "windows"]);
        let expected = Advice::Unsatisfiable {
            workload: "web".to_string(),
            rejections: vec![
                ("p0".to_string(), "${attr.kernel.name} = linux".to_string()),
                ("p1".to_string(), "${attr.kernel.name} = linux".to_string()),
            ],
        };
        assert_eq!(c.advice(), std::slice::from_ref(&expected));
        assert_eq!(
            expected.to_string(),
            "workload \"web\": no node satisfies its constraints (pool p0 fails \"${attr.kernel.name} = linux\"; pool p1 fails \"${attr.kernel.name} = linux\"), so its allocations will never be placed"
        );
    }

    #[test]
    fn one_pool_meeting_every_constraint_is_enough() {
        let c = config_with(vec![kernel_is("linux")], ["windows", "linux"]);
        assert_eq!(c.advice(), []);
        let none = config_with(Vec::new(), ["", ""]);
        assert_eq!(none.advice(), []);
    }

    #[test]
    fn constraints_on_unique_node_names_are_not_judged_per_pool() {
        let unique = Constraint::spelled("${node.unique.name}", "=", "p1-1").expect("valid");
        let c = config_with(vec![unique], ["", ""]);
        assert_eq!(c.advice(), []);
    }

    #[test]
    fn a_drain_deadline_past_the_hook_timeout_is_named() {
        let mut c = config_with(Vec::new(), ["", ""]);
        let scale_down = |deadline: DrainDeadline, timeout_ms: Option<u64>| Operation {
            at_ms: 3_600_000,
            action: Action::ScaleDown {
                pool: "p0".to_string(),
                count: 1,
                selector: NodeSelector::OldestCreateIndex,
                drain_deadline: deadline,
                heartbeat_timeout_ms: timeout_ms,
            },
        };
        c.operations = vec![
            scale_down(DrainDeadline::After(3_600_000), Some(2_700_000)),
            scale_down(DrainDeadline::After(2_700_000), Some(2_700_000)),
            scale_down(DrainDeadline::After(3_600_000), None),
            scale_down(DrainDeadline::None, Some(2_700_000)),
        ];
        let found = c.advice();
        assert_eq!(
            found,
            [Advice::DeadlinePastHookTimeout {
                at_ms: 3_600_000,
                pool: "p0".to_string(),
                deadline_ms: 3_600_000,
                timeout_ms: 2_700_000,
            }]
        );
        assert!(found[0]
            .to_string()
            .contains("its drain deadline (1h0m0s) is longer than its lifecycle hook's heartbeat timeout (45m0s)"));
    }
}
