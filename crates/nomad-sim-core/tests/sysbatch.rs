//! Sysbatch jobs: one alloc per eligible node at each evaluation, run to completion, never
//! replaced; a node that joins later waits for the next evaluation (no node-join eval).

use nomad_sim_core::config::{Action, Arrivals, DurationDist, JobType, Operation, SimConfig};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::model::JobStatus;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

fn sysbatch(arrivals: Vec<u64>, failure_rate: f64) -> SimConfig {
    let mut w = batch_workload(
        "gc",
        Arrivals::At(arrivals),
        Resources::new(500, 500, 0),
        DurationDist::Constant(10 * MINUTE_MS),
    );
    w.job_type = JobType::Sysbatch;
    w.failure_rate = failure_rate;
    let mut c = config(1, 4 * HOUR_MS, vec![pool("a", 5, 4000, 4000)], vec![w]);
    // A sixth node joins at 30m.
    c.operations = vec![Operation {
        at_ms: 30 * MINUTE_MS,
        action: Action::ScaleUp {
            pool: "a".to_string(),
            count: 1,
        },
    }];
    c
}

fn run(c: SimConfig) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run();
    let events = sink.events();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    (sim, events)
}

#[test]
fn one_alloc_per_node_per_evaluation_and_none_on_a_later_node_until_the_next() {
    // Evaluations at 0 and 2h (two arrivals, two jobs gc-0 and gc-1). At 0 the five nodes get
    // one alloc each; a-5 joins at 30m and gets nothing from gc-0; at 2h all six nodes get gc-1.
    let (sim, events) = run(sysbatch(vec![0, 2 * HOUR_MS], 0.0));
    let placed: Vec<(u64, String, String)> = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { job, node, .. } => Some((*t, job.clone(), node.clone())),
            _ => None,
        })
        .collect();
    let first: Vec<&str> = placed
        .iter()
        .filter(|p| p.1 == "gc-0")
        .map(|p| p.2.as_str())
        .collect();
    assert_eq!(first, vec!["a-0", "a-1", "a-2", "a-3", "a-4"]);
    assert!(placed.iter().filter(|p| p.1 == "gc-0").all(|p| p.0 == 0));
    let second: Vec<&str> = placed
        .iter()
        .filter(|p| p.1 == "gc-1")
        .map(|p| p.2.as_str())
        .collect();
    assert_eq!(second.len(), 6);
    assert!(second.contains(&"a-5"));
    assert!(placed
        .iter()
        .filter(|p| p.1 == "gc-1")
        .all(|p| p.0 == 2 * HOUR_MS));
    // Each runs to completion once; nothing is replaced.
    let r = sim.report();
    assert_eq!(r.allocations.placed, 11);
    assert_eq!(r.allocations.completed, 11);
    for (id, _) in sim.jobs() {
        assert_eq!(sim.job_status(id), JobStatus::Dead);
    }
}

#[test]
fn a_failed_sysbatch_alloc_is_not_replaced() {
    // Every run fails; the batch restart policy (3 attempts in 24h, 15s delay) restarts it in
    // place, then the alloc fails and, as in Nomad's sysbatch scheduler, is not rescheduled.
    let (sim, _) = run(sysbatch(vec![0], 1.0));
    let r = sim.report();
    assert_eq!(r.allocations.placed, 5);
    assert_eq!(r.allocations.failed, 5);
}
