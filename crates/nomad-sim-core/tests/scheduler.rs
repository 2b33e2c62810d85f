//! Scheduler latency and throughput: workers, eval time, the plan queue (issue 12).

use nomad_sim_core::config::{Arrivals, DurationDist, SimConfig};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

fn ten_jobs_at_zero() -> SimConfig {
    let w = batch_workload(
        "j",
        Arrivals::At(vec![0; 10]),
        Resources::new(100, 100, 0),
        DurationDist::Constant(10 * MINUTE_MS),
    );
    config(1, HOUR_MS, vec![pool("a", 2, 4000, 4000)], vec![w])
}

fn placements(c: SimConfig) -> (Simulation, Vec<u64>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run();
    let events = sink.events();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    let times = events
        .iter()
        .filter_map(|(t, e)| matches!(e, TraceEvent::AllocPlaced { .. }).then_some(*t))
        .collect();
    (sim, times)
}

#[test]
fn by_default_evals_take_no_time() {
    let (_, times) = placements(ten_jobs_at_zero());
    assert_eq!(times, vec![0; 10]);
}

#[test]
fn one_worker_processes_one_eval_at_a_time() {
    let mut c = ten_jobs_at_zero();
    c.scheduler.num_schedulers = 1;
    c.scheduler.eval_time = DurationDist::Constant(100);
    let (sim, times) = placements(c);
    assert_eq!(times, (1..=10).map(|k| 100 * k).collect::<Vec<u64>>());
    // Pending time includes the wait for a worker.
    assert_eq!(sim.report().pending_s.max, 1.0);
}

#[test]
fn four_workers_process_four_at_a_time() {
    let mut c = ten_jobs_at_zero();
    c.scheduler.num_schedulers = 4;
    c.scheduler.eval_time = DurationDist::Constant(100);
    let (_, times) = placements(c);
    assert_eq!(
        times,
        vec![100, 100, 100, 100, 200, 200, 200, 200, 300, 300]
    );
}

#[test]
fn the_plan_queue_applies_one_plan_at_a_time() {
    // Four workers take 100ms per eval, then wait for the plan applier (50ms per plan, one
    // at a time); a worker takes its next eval once its plan is applied.
    let mut c = ten_jobs_at_zero();
    c.scheduler.num_schedulers = 4;
    c.scheduler.eval_time = DurationDist::Constant(100);
    c.scheduler.plan_apply_time = DurationDist::Constant(50);
    let (_, times) = placements(c);
    assert_eq!(
        times,
        vec![150, 200, 250, 300, 350, 400, 450, 500, 550, 600]
    );
}
