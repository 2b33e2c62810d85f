//! Jobs of several task groups in the engine: the later groups arrive with the first, and the
//! allocation limit admits a job whole or not at all.

use nomad_sim_core::config::{Arrivals, DurationDist, JobIdentity, WorkloadConfig};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::{Resources, Simulation};

const MINUTE_MS: u64 = 60_000;

/// Group `index` of job `etl` (of two groups), with `count` allocs at `arrivals`.
fn group(name: &str, index: u32, count: u32, arrivals: Arrivals) -> WorkloadConfig {
    let mut w = batch_workload(
        &format!("etl.{name}"),
        arrivals,
        Resources::new(100, 100, 0),
        DurationDist::Constant(MINUTE_MS),
    );
    w.count = count;
    w.identity = Some(Box::new(JobIdentity {
        job_id: "etl".into(),
        group: name.into(),
        registered_once: false,
        group_index: index,
        group_count: 2,
        tasks: vec![(name.into(), 100, 100)],
    }));
    w
}

/// (workload, arrival, submit time) of every job, in submission order.
fn jobs(sim: &Simulation) -> Vec<(u32, u64, u64)> {
    let mut v: Vec<(u64, (u32, u64, u64))> = sim
        .jobs()
        .into_iter()
        .map(|(_, j)| (j.serial, (j.workload, j.arrival, j.submit_ms)))
        .collect();
    v.sort_unstable();
    v.into_iter().map(|(_, j)| j).collect()
}

#[test]
fn later_groups_arrive_with_the_first_only() {
    // The second group's own arrival list is ignored: it follows the first's 0 and 10m.
    let c = config(
        1,
        30 * MINUTE_MS,
        vec![pool("n", 2, 8000, 8000)],
        vec![
            group("extract", 0, 1, Arrivals::At(vec![0, 10 * MINUTE_MS])),
            group("load", 1, 2, Arrivals::At(vec![5 * MINUTE_MS])),
        ],
    );
    let mut sim = Simulation::new(c);
    sim.run_until(20 * MINUTE_MS);
    assert_eq!(
        jobs(&sim),
        [
            (0, 0, 0),
            (1, 0, 0),
            (0, 1, 10 * MINUTE_MS),
            (1, 1, 10 * MINUTE_MS)
        ]
    );
}

#[test]
fn the_allocation_limit_admits_a_job_whole_or_not_at_all() {
    // Three allocs per job; a limit of 5 admits the first job and refuses the second whole
    // (its first group alone would fit).
    let mut c = config(
        1,
        30 * MINUTE_MS,
        vec![pool("n", 2, 8000, 8000)],
        vec![
            group("extract", 0, 1, Arrivals::At(vec![0, 10 * MINUTE_MS])),
            group("load", 1, 2, Arrivals::At(Vec::new())),
        ],
    );
    c.limits.max_allocations = 5;
    let mut sim = Simulation::new(c);
    sim.run();
    assert_eq!(jobs(&sim).len(), 2, "{:?}", jobs(&sim));
    assert_eq!(sim.report().allocations.placed, 3);
}

#[test]
fn a_job_of_several_groups_is_collected_whole() {
    // extract (1m) and load (6h) are one job etl, registered at 0. Nomad collects a job
    // whole, 4h (job_gc_threshold) after it is dead, which is when load ends: extract, dead
    // since 1m, is still shown at 5h and 9h59m, and both go at the collector's tick at 10h.
    let mut load = group("load", 1, 1, Arrivals::At(Vec::new()));
    load.duration = DurationDist::Constant(360 * MINUTE_MS);
    let c = config(
        1,
        12 * 60 * MINUTE_MS,
        vec![pool("n", 2, 8000, 8000)],
        vec![group("extract", 0, 1, Arrivals::At(vec![0])), load],
    );
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    for at in [5 * 60 * MINUTE_MS, 10 * 60 * MINUTE_MS - MINUTE_MS] {
        sim.run_until(at);
        assert_eq!(jobs(&sim), [(0, 0, 0), (1, 0, 0)], "at {at} ms");
        assert_eq!(sim.allocs().len(), 2, "at {at} ms");
    }
    sim.run_until(10 * 60 * MINUTE_MS);
    assert_eq!(jobs(&sim), [], "at 10h");
    assert_eq!(sim.held_objects(), (0, 0, 0, 0));
}
