//! The example of docs/property-testing.md, kept compiling and passing: a user's own drain
//! procedure checked with the exported strategies and invariants.

use nomad_sim_core::config::{Action, DrainDeadline, DrainSpec, NodeTarget, Operation};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::testing::{arb_pools, arb_workloads, config};
use nomad_sim_core::time::HOUR_MS;
use nomad_sim_core::trace::SharedSink;
use nomad_sim_core::Simulation;
use proptest::prelude::*;

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(64))]

    /// Our nightly procedure: drain the first node of each pool with a 30-minute deadline.
    #[test]
    fn nightly_drain_loses_nothing(pools in arb_pools(), workloads in arb_workloads(), seed: u64) {
        let mut c = config(seed, 4 * HOUR_MS, pools.clone(), workloads);
        for p in &pools {
            c.operations.push(Operation {
                at_ms: 2 * HOUR_MS,
                action: Action::NodeDrain {
                    target: NodeTarget::Names(vec![format!("{}-0", p.name)]),
                    spec: DrainSpec { deadline: DrainDeadline::After(HOUR_MS / 2), ignore_system: false },
                },
            });
        }
        let sink = SharedSink::new();
        let mut sim = Simulation::new(c);
        sim.set_trace_sink(Box::new(sink.clone()));
        sim.run();
        prop_assert!(state_violations(&sim).is_empty());
        prop_assert!(trace_violations(&sim, &sink.events()).is_empty());
        // Our own rule: no allocation is lost.
        prop_assert_eq!(sim.report().allocations.lost, 0);
    }
}
