//! Blocked evals as Nomad's leader keeps them: a failed eval completes and creates a blocked
//! eval, one blocked eval per job (a newer one cancels the older), and blocked evals wait in the
//! order of their own creation (issue 12).

use nomad_sim_core::config::{
    Action, Arrivals, DrainDeadline, DrainSpec, DurationDist, NodeTarget, NomadVersion, Operation,
    SimConfig, WorkloadConfig,
};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::model::{EvalStatus, Trigger};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

fn job(name: &str, at_ms: u64, count: u32, minutes: u64) -> WorkloadConfig {
    let mut w = batch_workload(
        name,
        Arrivals::At(vec![at_ms]),
        Resources::new(3000, 3000, 0),
        DurationDist::Constant(minutes * MINUTE_MS),
    );
    w.count = count;
    w
}

/// a-0 (4000 MHz) holds one 3000 MHz alloc. `wide` (count 2) places one and blocks at 0;
/// `late` (count 1) blocks at 5m; a-0 is drained with a deadline of 0 at 10m, so wide's alloc
/// is stopped and its replacement eval blocks again (a newer blocked eval, created at 10m);
/// b-0 joins at 20m with room for one 3000 MHz alloc. Nomad 1.10.5 still replaces drained
/// batch allocs.
fn cluster() -> SimConfig {
    let mut c = config(
        7,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000), pool("b", 0, 4000, 4000)],
        vec![job("wide", 0, 2, 120), job("late", 5 * MINUTE_MS, 1, 30)],
    );
    c.nomad_version = NomadVersion::parse("1.10.5").expect("a version");
    c.operations = vec![
        Operation {
            at_ms: 10 * MINUTE_MS,
            action: Action::NodeDrain {
                target: NodeTarget::Names(vec!["a-0".to_string()]),
                spec: DrainSpec {
                    deadline: DrainDeadline::Force,
                    ignore_system: false,
                },
            },
        },
        Operation {
            at_ms: 20 * MINUTE_MS,
            action: Action::ScaleUp {
                pool: "b".to_string(),
                count: 1,
            },
        },
    ];
    c
}

fn start(c: SimConfig) -> (Simulation, SharedSink) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    (sim, sink)
}

/// An eval as these tests see it: trigger, status, previous and blocked (as serials), serial.
type EvalRow = (Trigger, EvalStatus, Option<u64>, Option<u64>, u64);

/// The evals of the job named `name`, oldest first.
fn evals_of(sim: &Simulation, name: &str) -> Vec<EvalRow> {
    sim.evals()
        .into_iter()
        .filter(|(_, e)| sim.job_name(e.job) == name)
        .map(|(_, e)| (e.trigger, e.status, e.previous, e.blocked, e.seq))
        .collect()
}

#[test]
fn a_failed_eval_completes_and_creates_a_linked_blocked_eval() {
    let (mut sim, _) = start(cluster());
    sim.run_until(MINUTE_MS);
    let evals = evals_of(&sim, "wide-0");
    assert_eq!(evals.len(), 2, "{evals:?}");
    let (register, blocked) = (evals[0], evals[1]);
    assert_eq!(register.0, Trigger::JobRegister);
    assert_eq!(register.1, EvalStatus::Complete);
    assert_eq!(
        register.3,
        Some(blocked.4),
        "the register eval names its blocked eval"
    );
    assert_eq!(blocked.0, Trigger::QueuedAllocs);
    assert_eq!(blocked.1, EvalStatus::Blocked);
    assert_eq!(
        blocked.2,
        Some(register.4),
        "the blocked eval names its predecessor"
    );
}

#[test]
fn a_newer_blocked_eval_cancels_the_older_one() {
    let (mut sim, _) = start(cluster());
    sim.run_until(15 * MINUTE_MS);
    let statuses: Vec<(Trigger, EvalStatus)> = evals_of(&sim, "wide-0")
        .into_iter()
        .map(|(t, s, ..)| (t, s))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (Trigger::JobRegister, EvalStatus::Complete),
            (Trigger::QueuedAllocs, EvalStatus::Canceled),
            (Trigger::NodeDrain, EvalStatus::Complete),
            (Trigger::QueuedAllocs, EvalStatus::Blocked),
        ]
    );
    let blocked_now = sim
        .evals()
        .into_iter()
        .filter(|(_, e)| e.status == EvalStatus::Blocked)
        .count();
    assert_eq!(
        blocked_now, 2,
        "one blocked eval each for wide-0 and late-0"
    );
    assert_eq!(state_violations(&sim), Vec::<String>::new());
}

#[test]
fn blocked_evals_wait_in_the_order_they_were_created() {
    // late-0 blocked at 5m, wide-0's current blocked eval at 10m: late-0 takes b-0 at 20m,
    // although wide-0 first blocked at 0. wide-0 gets b-0 when late-0 ends at 50m.
    let (mut sim, sink) = start(cluster());
    sim.run();
    let events = sink.events();
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    let placed: Vec<(u64, String, String)> = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { job, node, .. } if *t > 0 => {
                Some((*t, job.clone(), node.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        placed[..2],
        [
            (20 * MINUTE_MS, "late-0".to_string(), "b-0".to_string()),
            (50 * MINUTE_MS, "wide-0".to_string(), "b-0".to_string()),
        ]
    );
}

/// The times and jobs of every `alloc_placed` event.
fn placements(events: &[(u64, TraceEvent)]) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { job, .. } => Some((*t, job.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn trace_rows_of_one_workload_with_different_asks_wait_apart() {
    // One 4000 MHz node. Row 0 takes 3000 MHz for an hour; row 1 (3000 MHz) cannot fit and
    // blocks; row 2 asks 500 MHz and fits at once. Had it joined row 1's waiting evals (one
    // bucket per workload, whatever the ask), it would have blocked without a scan.
    let row = |submit_ms: u64, cpu_mhz: u64| nomad_sim_core::config::TraceArrival {
        submit_ms,
        parallelism: 1,
        cpu_mhz,
        memory_mb: 100,
        duration_ms: HOUR_MS,
    };
    let w = batch_workload(
        "rows",
        Arrivals::Trace(vec![
            row(0, 3000),
            row(MINUTE_MS, 3000),
            row(2 * MINUTE_MS, 500),
        ]),
        Resources::new(3000, 100, 0),
        DurationDist::Constant(HOUR_MS),
    );
    let (mut sim, sink) = start(config(
        3,
        3 * HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![w],
    ));
    sim.run();
    let placed = placements(&sink.events());
    assert_eq!(placed.len(), 3);
    assert_eq!(
        placed[..2].iter().map(|p| p.0).collect::<Vec<_>>(),
        [0, 2 * MINUTE_MS]
    );
    assert_eq!(placed[2].0, HOUR_MS);
}

#[test]
fn distinct_hosts_jobs_of_one_workload_wait_apart() {
    // Two nodes with room for four allocs each. Job 0 (count 3, distinct_hosts) places two
    // and blocks for its third; job 1 of the same workload arrives at 1m and places two at
    // once. Had it joined job 0's waiting eval (one bucket per workload), it would have
    // blocked without a scan.
    let mut w = batch_workload(
        "spread-out",
        Arrivals::At(vec![0, MINUTE_MS]),
        Resources::new(1000, 100, 0),
        DurationDist::Constant(10 * MINUTE_MS),
    );
    w.count = 3;
    w.distinct_hosts = true;
    let (mut sim, sink) = start(config(3, HOUR_MS, vec![pool("a", 2, 4000, 4000)], vec![w]));
    sim.run();
    let placed = placements(&sink.events());
    let at: Vec<(u64, &str)> = placed.iter().map(|(t, j)| (*t, j.as_str())).collect();
    assert_eq!(
        at,
        [
            (0, "spread-out-0"),
            (0, "spread-out-0"),
            (MINUTE_MS, "spread-out-1"),
            (MINUTE_MS, "spread-out-1"),
            (10 * MINUTE_MS, "spread-out-0"),
            (11 * MINUTE_MS, "spread-out-1"),
        ]
    );
}
