//! The migrate health of service allocs: `min_healthy_time`, `healthy_deadline`, and the order
//! of timers that fall at the same instant.

use nomad_sim_core::config::{
    Action, Arrivals, DurationDist, JobType, Operation, SimConfig, WorkloadConfig,
};
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

#[test]
fn a_batch_alloc_has_no_migrate_health() {
    // Only service groups have a migrate block (Nomad's `Job.Canonicalize` gives it to them
    // alone): a batch alloc whose task starts after a 30s pull and runs past its
    // min_healthy_time (10s) and healthy_deadline (5m) never gets a health value.
    let mut w = web(10 * SECOND_MS, 5 * MINUTE_MS);
    w.job_type = JobType::Batch;
    let c = cluster(w, 30 * SECOND_MS);
    assert_eq!(health_at(c, 10 * MINUTE_MS), None);
}

/// The cluster above with a-0's client stopping its heartbeats at `fail_ms`.
fn failing_at(w: WorkloadConfig, task_start_ms: u64, fail_ms: u64) -> SimConfig {
    let mut c = cluster(w, task_start_ms);
    c.operations = vec![Operation {
        at_ms: fail_ms,
        action: Action::NodeFail {
            nodes: vec!["a-0".to_string()],
        },
    }];
    c
}

#[test]
fn a_silent_client_reports_no_health() {
    // The task starts at 0 and would be healthy at 10s, but a-0's client stops heartbeating
    // at 5s (the server notices no sooner than 15s: a TTL of at least 10s, plus 10s grace).
    // A client that cannot report sets no health: at 12s there is none.
    let c = failing_at(web(10 * SECOND_MS, 5 * MINUTE_MS), 0, 5 * SECOND_MS);
    assert_eq!(health_at(c, 12 * SECOND_MS), None);
    // Likewise for the deadline: a 10m pull, the deadline at 5m, silent from 4m55s.
    let c = failing_at(
        web(10 * SECOND_MS, 5 * MINUTE_MS),
        10 * MINUTE_MS,
        4 * MINUTE_MS + 55 * SECOND_MS,
    );
    assert_eq!(health_at(c, 5 * MINUTE_MS + SECOND_MS), None);
}

#[test]
fn health_comes_from_the_current_run_only() {
    // 40 service allocs whose runs all fail within 2m (restart after 15s plus up to 25 %),
    // min_healthy_time 60s. A run that fails early is restarted before the first run's
    // healthy timer would fire; that timer belongs to the old run and sets nothing. Stepping
    // a second at a time for 10m: whenever an alloc turns healthy, its current run has been
    // running for min_healthy_time.
    let mut w = web(60 * SECOND_MS, 5 * MINUTE_MS);
    w.arrivals = Arrivals::At(vec![0; 40]);
    w.resources = Resources::new(50, 50, 0);
    w.duration = DurationDist::Constant(2 * MINUTE_MS);
    w.failure_rate = 1.0;
    let mut sim = Simulation::new(cluster(w, 0));
    sim.check_every_event(true);
    let mut healthy = std::collections::BTreeSet::new();
    let mut checked = 0;
    for t in (1..=600).map(|s| s * SECOND_MS) {
        sim.run_until(t);
        let turned: Vec<_> = sim
            .allocs()
            .iter()
            .filter(|(id, _)| sim.alloc_healthy(*id) == Some(true) && !healthy.contains(id))
            .map(|(id, _)| *id)
            .collect();
        for id in turned {
            healthy.insert(id);
            if let Some(since) = sim.alloc_running_since(id) {
                assert!(
                    t >= since + 60 * SECOND_MS,
                    "{id:?} at {t}: running since {since}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
}

#[test]
fn an_alloc_that_ended_gets_no_health() {
    // web's task fails within its 2m run and restarts (so its client keeps its record for
    // `Total Restarts`); min_healthy_time 10m, so it is not healthy yet when the job is
    // stopped at 3m. The 5m healthy_deadline then finds the alloc ended: no health is set.
    let mut w = web(10 * MINUTE_MS, 5 * MINUTE_MS);
    w.duration = DurationDist::Constant(2 * MINUTE_MS);
    w.failure_rate = 1.0;
    let mut c = cluster(w, 0);
    c.operations = vec![Operation {
        at_ms: 3 * MINUTE_MS,
        action: Action::JobStop {
            job: "web".to_string(),
            purge: false,
        },
    }];
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run_until(6 * MINUTE_MS);
    let allocs = sim.allocs();
    assert_eq!(allocs.len(), 1);
    let (id, a) = allocs[0];
    assert_eq!(a.ended_ms(), Some(3 * MINUTE_MS));
    assert!(sim.alloc_restarts(id) >= 1);
    assert_eq!(sim.alloc_healthy(id), None);
}
