//! The migrate health of service allocs: `min_healthy_time`, `healthy_deadline`, and the order
//! of timers that fall at the same instant.

use nomad_sim_core::config::{Arrivals, DurationDist, JobType, SimConfig, WorkloadConfig};
use nomad_sim_core::invariants::state_violations;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS, SECOND_MS};
use nomad_sim_core::{Resources, Simulation};

/// A service job of one alloc submitted at 0 that runs 2 h, with the migrate block's times.
fn web(min_healthy_time_ms: u64, healthy_deadline_ms: u64) -> WorkloadConfig {
    let mut w = batch_workload(
        "web",
        Arrivals::At(vec![0]),
        Resources::new(1000, 1000, 0),
        DurationDist::Constant(2 * HOUR_MS),
    );
    w.job_type = JobType::Service;
    w.min_healthy_time_ms = min_healthy_time_ms;
    w.healthy_deadline_ms = healthy_deadline_ms;
    w
}

/// One node; every task takes `task_start_ms` to start.
fn cluster(w: WorkloadConfig, task_start_ms: u64) -> SimConfig {
    let mut c = config(1, HOUR_MS, vec![pool("a", 1, 4000, 4000)], vec![w]);
    c.client.task_start = DurationDist::Constant(task_start_ms);
    c
}

/// The only alloc's migrate health after running every event at or before `at_ms`.
fn health_at(c: SimConfig, at_ms: u64) -> Option<bool> {
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run_until(at_ms);
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    let allocs = sim.allocs();
    assert_eq!(allocs.len(), 1);
    sim.alloc_healthy(allocs[0].0)
}

#[test]
fn timers_due_at_the_same_instant_run_in_the_order_they_were_set() {
    // The alloc is placed at 0 and its client sets the healthy_deadline timer at once (5m).
    // The image pull takes 4m50s; when the task starts, the client sets the min_healthy_time
    // timer: 4m50s + 10s, the same 5m. The deadline timer was set first, so it runs first and
    // the alloc is unhealthy; the healthy timer then finds a health value already set. (In
    // Nomad both timers race in the client's health watcher; the simulator's rule is that
    // timers at the same instant run in the order they were set, as its timers module says.)
    let c = cluster(
        web(10 * SECOND_MS, 5 * MINUTE_MS),
        4 * MINUTE_MS + 50 * SECOND_MS,
    );
    assert_eq!(health_at(c.clone(), 5 * MINUTE_MS - 1), None);
    assert_eq!(health_at(c, 5 * MINUTE_MS), Some(false));
}

#[test]
fn a_task_that_runs_min_healthy_time_before_the_deadline_is_healthy() {
    // One millisecond earlier than the tie above: the pull takes 4m49.999s, so the task has
    // run its 10s at 4m59.999s, before the 5m deadline.
    let c = cluster(web(10 * SECOND_MS, 5 * MINUTE_MS), 4 * MINUTE_MS + 49_999);
    assert_eq!(health_at(c.clone(), 5 * MINUTE_MS - 2), None);
    assert_eq!(health_at(c, 5 * MINUTE_MS - 1), Some(true));
}
