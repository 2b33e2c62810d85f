//! Evals are numbered in creation order (Nomad's `CreateIndex`), which orders the broker among
//! equal priorities and gives each eval its own ID.

use std::collections::BTreeSet;

use nomad_sim_core::config::{Arrivals, DurationDist};
use nomad_sim_core::model::Trigger;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::{Resources, Simulation};

#[test]
fn evals_are_numbered_in_creation_order_and_ids_differ() {
    // Three jobs at 0, 1m and 2m; the third does not fit until the first ends at 10m, so it
    // gets a blocked eval too: four evals, numbered 0..4 in the order they were made.
    let w = batch_workload(
        "j",
        Arrivals::At(vec![0, MINUTE_MS, 2 * MINUTE_MS]),
        Resources::new(2_000, 2_000, 0),
        DurationDist::Constant(10 * MINUTE_MS),
    );
    let c = config(1, HOUR_MS, vec![pool("a", 1, 4_000, 4_000)], vec![w]);
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run_until(3 * MINUTE_MS);
    let evals: Vec<(u64, Trigger, u64)> = sim
        .evals()
        .iter()
        .map(|(_, e)| (e.seq, e.trigger, e.created_ms))
        .collect();
    assert_eq!(
        evals,
        vec![
            (0, Trigger::JobRegister, 0),
            (1, Trigger::JobRegister, MINUTE_MS),
            (2, Trigger::JobRegister, 2 * MINUTE_MS),
            (3, Trigger::QueuedAllocs, 2 * MINUTE_MS),
        ]
    );
    let ids: BTreeSet<String> = sim
        .evals()
        .iter()
        .map(|(id, _)| sim.eval_uuid(*id))
        .collect();
    assert_eq!(ids.len(), 4, "every eval has its own ID");
}
