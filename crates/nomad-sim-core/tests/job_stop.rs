//! Job stop (`nomad job stop [-purge]`) as a scenario operation, worked by hand: allocs are
//! stopped with desired status `stop`, their nodes are freed at the stop time, blocked evals
//! are cancelled, the job is dead, and a purged job leaves the read model at once.

use nomad_sim_core::config::{
    Action, Arrivals, CountDist, DurationDist, JobType, Operation, SimConfig, WorkloadConfig,
};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::model::{DesiredStatus, EvalStatus, JobStatus, Trigger};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

fn job(name: &str, job_type: JobType, arrivals: Arrivals, cpu: u64, count: u32) -> WorkloadConfig {
    let mut w = batch_workload(
        name,
        arrivals,
        Resources::new(cpu, cpu, 0),
        DurationDist::Constant(10 * HOUR_MS),
    );
    w.job_type = job_type;
    w.count = count;
    w
}

fn stop(at_ms: u64, job: &str, purge: bool) -> Operation {
    Operation {
        at_ms,
        action: Action::JobStop {
            job: job.to_string(),
            purge,
        },
    }
}

fn run_until(c: SimConfig, until: u64) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run_until(until);
    let events = sink.events();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    (sim, events)
}

#[test]
fn stopping_a_service_frees_its_nodes_at_the_stop_time() {
    // web (count 2, 4000 MHz each) fills both nodes; batch job wait (3000 MHz) arrives at 10m
    // and blocks. web is stopped at 1h: both allocs stop then, and wait is placed at 1h.
    let mut c = config(
        1,
        4 * HOUR_MS,
        vec![pool("a", 2, 4000, 4000)],
        vec![
            job("web", JobType::Service, Arrivals::At(vec![0]), 4000, 2),
            job(
                "wait",
                JobType::Batch,
                Arrivals::At(vec![10 * MINUTE_MS]),
                3000,
                1,
            ),
        ],
    );
    c.operations = vec![stop(HOUR_MS, "web", false)];
    let (sim, events) = run_until(c, 2 * HOUR_MS);
    let stopped: Vec<(u64, String)> = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocStopped { job, reason, .. } if reason == "job_stopped" => {
                Some((*t, job.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        stopped,
        vec![
            (HOUR_MS, "web-0".to_string()),
            (HOUR_MS, "web-0".to_string())
        ]
    );
    assert!(events.iter().any(|(t, e)| *t == HOUR_MS
        && matches!(e, TraceEvent::JobStopped { job, purge: false, allocs_stopped: 2 } if job == "web-0")));
    let wait_placed = events.iter().find_map(|(t, e)| match e {
        TraceEvent::AllocPlaced { job, .. } if job == "wait-0" => Some(*t),
        _ => None,
    });
    assert_eq!(wait_placed, Some(HOUR_MS));
    let (web, _) = sim
        .jobs()
        .into_iter()
        .find(|(_, j)| j.workload == 0)
        .unwrap();
    assert_eq!(sim.job_status(web), JobStatus::Dead);
    assert!(sim.job(web).unwrap().stopped);
    for (_, a) in sim.allocs().into_iter().filter(|(_, a)| a.job == web) {
        assert_eq!(a.desired, DesiredStatus::Stop);
        assert_eq!(a.ended_ms(), Some(HOUR_MS));
    }
    assert_eq!(sim.report().allocations.stopped, 2);
}

#[test]
fn stopping_a_blocked_job_cancels_its_eval() {
    // fill takes the node's 4000 MHz until 10h; big (3000 MHz) blocks at 0 and is stopped at
    // 30m: its blocked eval is cancelled, nothing of it is queued, and it is never placed.
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![
            job("fill", JobType::Batch, Arrivals::At(vec![0]), 4000, 1),
            job("big", JobType::Batch, Arrivals::At(vec![0]), 3000, 1),
        ],
    );
    c.operations = vec![stop(30 * MINUTE_MS, "big-0", false)];
    let (mut sim, events) = run_until(c, HOUR_MS);
    let (big, _) = sim
        .jobs()
        .into_iter()
        .find(|(_, j)| j.workload == 1)
        .unwrap();
    let evals: Vec<EvalStatus> = sim
        .evals()
        .into_iter()
        .filter(|(_, e)| e.job == big)
        .map(|(_, e)| e.status)
        .collect();
    // The register eval completed and created the blocked eval, which the stop cancels; the
    // stop's job-deregister eval is complete.
    assert_eq!(
        evals,
        vec![
            EvalStatus::Complete,
            EvalStatus::Canceled,
            EvalStatus::Complete
        ]
    );
    assert_eq!(sim.job_status(big), JobStatus::Dead);
    assert_eq!(sim.queued_allocs_total(), 0);
    sim.run();
    assert!(!events
        .iter()
        .any(|(_, e)| matches!(e, TraceEvent::AllocPlaced { job, .. } if job == "big-0")));
    assert_eq!(sim.report().allocations.never_placed, 0);
    assert_eq!(sim.report().allocations.placed, 1);
}

#[test]
fn purge_removes_the_job_at_once_and_a_stopped_workload_submits_no_more() {
    // ci submits every 10m (at 0, 10m, ..., 50m); stopping the workload by name at 25m stops
    // ci-0, ci-1 and ci-2 and ends its arrivals, and purge takes them out of the read model.
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 16_000, 16_000)],
        vec![job(
            "ci",
            JobType::Batch,
            Arrivals::Every {
                interval_ms: 10 * MINUTE_MS,
                start_ms: 0,
            },
            1000,
            1,
        )],
    );
    c.operations = vec![stop(25 * MINUTE_MS, "ci", true)];
    let (sim, events) = run_until(c, HOUR_MS);
    let submitted = events
        .iter()
        .filter(|(_, e)| matches!(e, TraceEvent::JobSubmitted { .. }))
        .count();
    assert_eq!(submitted, 3);
    assert!(sim.jobs().is_empty());
    assert!(sim.allocs().is_empty());
    assert!(sim.evals().is_empty());
    assert_eq!(sim.report().allocations.stopped, 3);
    assert_eq!(sim.report().allocations.never_placed, 0);
}

#[test]
fn a_stopped_system_job_does_not_come_to_new_nodes() {
    let mut c = config(
        1,
        2 * HOUR_MS,
        vec![pool("a", 2, 4000, 4000)],
        vec![job("agent", JobType::System, Arrivals::At(vec![0]), 500, 1)],
    );
    c.operations = vec![
        stop(10 * MINUTE_MS, "agent", false),
        Operation {
            at_ms: 20 * MINUTE_MS,
            action: Action::ScaleUp {
                pool: "a".to_string(),
                count: 1,
            },
        },
    ];
    let (sim, events) = run_until(c, HOUR_MS);
    let placed = events
        .iter()
        .filter(|(_, e)| matches!(e, TraceEvent::AllocPlaced { .. }))
        .count();
    assert_eq!(placed, 2);
    let (agent, _) = sim.jobs().into_iter().next().unwrap();
    assert_eq!(sim.job_status(agent), JobStatus::Dead);
    assert_eq!(sim.report().allocations.stopped, 2);
}

/// The (time, job, purge, allocs stopped) of each `job_stopped` event.
fn stops(events: &[(u64, TraceEvent)]) -> Vec<(u64, String, bool, u32)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::JobStopped {
                job,
                purge,
                allocs_stopped,
            } => Some((*t, job.clone(), *purge, *allocs_stopped)),
            _ => None,
        })
        .collect()
}

#[test]
fn stopping_from_outside_frees_the_node_at_once_and_a_second_stop_only_purges() {
    // As `DELETE /v1/job/web` does: web (4000 MHz) fills a-0 and `wait` (3000 MHz, at 10m)
    // blocks. Stopping web at 1h from outside stops its alloc and places wait at once. The
    // same stop again changes nothing (the job is already stopped, its allocs already
    // stopped); then a stop with purge only purges: the job leaves the read model. Neither
    // later stop writes a trace event: the job is dead, and whether a dead job is still held
    // depends on garbage collection, which never changes the trace.
    let c = config(
        1,
        4 * HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![
            job("web", JobType::Service, Arrivals::At(vec![0]), 4000, 1),
            job(
                "wait",
                JobType::Batch,
                Arrivals::At(vec![10 * MINUTE_MS]),
                3000,
                1,
            ),
        ],
    );
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run_until(HOUR_MS);
    let web = sim.jobs()[0].0;
    assert_eq!(sim.job_name(web), "web-0");
    sim.stop_job(web, false);
    sim.stop_job(web, false);
    assert!(sim.job(web).is_some());
    sim.stop_job(web, true);
    assert!(sim.job(web).is_none());
    let events = sink.events();
    assert_eq!(
        stops(&events),
        vec![(HOUR_MS, "web-0".to_string(), false, 1)]
    );
    let placed: Vec<(u64, String)> = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { job, .. } => Some((*t, job.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        placed,
        vec![(0, "web-0".to_string()), (HOUR_MS, "wait-0".to_string())]
    );
    assert_eq!(state_violations(&sim), Vec::<String>::new());
}

#[test]
fn stopping_one_system_job_leaves_the_others_alone() {
    // Two system jobs run on a-0 next to a batch job; stopping `agent` stops only its alloc:
    // `logs` and the batch job keep running, and when a-1 joins at 1h `logs` comes to it,
    // `agent` does not.
    let mut c = config(
        1,
        4 * HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![
            job("agent", JobType::System, Arrivals::At(vec![0]), 100, 1),
            job("logs", JobType::System, Arrivals::At(vec![0]), 100, 1),
            job("build", JobType::Batch, Arrivals::At(vec![0]), 1000, 1),
        ],
    );
    c.operations = vec![
        stop(30 * MINUTE_MS, "agent", false),
        Operation {
            at_ms: HOUR_MS,
            action: Action::ScaleUp {
                pool: "a".to_string(),
                count: 1,
            },
        },
    ];
    let (_, events) = run_until(c, 2 * HOUR_MS);
    let ended: Vec<(u64, String)> = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocStopped { job, .. }
            | TraceEvent::AllocCompleted { job, .. }
            | TraceEvent::AllocLost { job, .. } => Some((*t, job.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(ended, vec![(30 * MINUTE_MS, "agent-0".to_string())]);
    let placed: Vec<(u64, String, String)> = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { job, node, .. } => Some((*t, job.clone(), node.clone())),
            _ => None,
        })
        .filter(|p| p.2 == "a-1")
        .collect();
    assert_eq!(
        placed,
        vec![(HOUR_MS, "logs-0".to_string(), "a-1".to_string())]
    );
}

#[test]
fn a_stopped_circleci_slot_counts_as_done() {
    // One CircleCI job with parallelism 2: ci-0-0 and ci-0-1, 30m each from 0. Stopping
    // ci-0-0 at 10m counts its slot as done, so the CircleCI job ends when ci-0-1 does, at
    // 30m: one makespan of 1800 s, and its record is freed.
    let mut w = batch_workload(
        "ci",
        Arrivals::At(vec![0]),
        Resources::new(1000, 1000, 0),
        DurationDist::Constant(30 * MINUTE_MS),
    );
    w.parallelism = CountDist::Fixed(2);
    let mut c = config(1, HOUR_MS, vec![pool("a", 1, 4000, 4000)], vec![w]);
    c.operations = vec![stop(10 * MINUTE_MS, "ci-0-0", false)];
    let (sim, events) = run_until(c, HOUR_MS);
    assert_eq!(
        stops(&events),
        vec![(10 * MINUTE_MS, "ci-0-0".to_string(), false, 1)]
    );
    let r = sim.report();
    assert_eq!(r.ci_jobs.count, 1);
    assert_eq!(r.ci_jobs.makespan_s.p99, 1800.0);
    assert_eq!(sim.held_objects().3, 0);
}

#[test]
fn stopping_a_job_whose_lost_alloc_waits_for_a_replacement() {
    // ci-0 runs two allocs of 1000 MHz from 0, one on each node. Node a-1 fails at 10m: its
    // alloc is lost and its replacement waits (a-0 is full). Stopping ci-0 at 20m stops the
    // live alloc and drops the replacement, a slot that had started: the CircleCI job's start
    // was counted once, at 0, and its record is freed with nothing left to start.
    let mut w = batch_workload(
        "ci",
        Arrivals::At(vec![0]),
        Resources::new(1000, 1000, 0),
        DurationDist::Constant(HOUR_MS),
    );
    w.count = 2;
    let mut c = config(1, HOUR_MS, vec![pool("a", 2, 1000, 1000)], vec![w]);
    c.operations = vec![
        Operation {
            at_ms: 10 * MINUTE_MS,
            action: Action::NodeFail {
                nodes: vec!["a-1".to_string()],
            },
        },
        stop(20 * MINUTE_MS, "ci-0", false),
    ];
    let (sim, events) = run_until(c, HOUR_MS);
    assert_eq!(
        stops(&events),
        vec![(20 * MINUTE_MS, "ci-0".to_string(), false, 1)]
    );
    let r = sim.report();
    assert_eq!(r.allocations.lost, 1);
    assert_eq!(r.ci_jobs.count, 1);
    assert_eq!(r.ci_jobs.start_all_s.p99, 0.0);
    assert_eq!(sim.held_objects().3, 0);
}

#[test]
fn the_run_ends_with_the_last_work_not_at_a_stopped_allocs_planned_end() {
    // long (10h) is stopped at 1h and nothing else is left: the run ends at 1h. Its end event
    // (still queued for 10h) does nothing, and the clock, node-hours and cost stop at 1h.
    let mut c = config(
        1,
        2 * HOUR_MS,
        vec![pool("a", 2, 4000, 4000)],
        vec![job("long", JobType::Batch, Arrivals::At(vec![0]), 1000, 1)],
    );
    c.operations = vec![stop(HOUR_MS, "long", false)];
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run();
    assert_eq!(sim.now(), HOUR_MS);
    assert!(sim.is_finished());
    let hours: f64 = sim.node_hours_by_pool().iter().sum();
    assert!((hours - 2.0).abs() < 1e-9, "{hours} node-hours");
    // Stopping records Nomad's job-deregister eval, complete at once.
    let triggers: Vec<(Trigger, EvalStatus)> = sim
        .evals()
        .into_iter()
        .map(|(_, e)| (e.trigger, e.status))
        .collect();
    assert_eq!(
        triggers,
        vec![
            (Trigger::JobRegister, EvalStatus::Complete),
            (Trigger::JobDeregister, EvalStatus::Complete)
        ]
    );
}

#[test]
fn stale_end_events_between_live_ones_do_not_end_the_run_early() {
    // long-0 is stopped at 1h; short (arriving at 2h, 30m) still runs after it: the run ends
    // when short ends, at 2h30m, while long-0's stale end waits at 10h and is never reached.
    let mut c = config(
        1,
        3 * HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![
            job("long", JobType::Batch, Arrivals::At(vec![0]), 1000, 1),
            batch_workload(
                "short",
                Arrivals::At(vec![2 * HOUR_MS]),
                Resources::new(1000, 1000, 0),
                DurationDist::Constant(30 * MINUTE_MS),
            ),
        ],
    );
    c.operations = vec![stop(HOUR_MS, "long", false)];
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run();
    assert_eq!(sim.now(), 2 * HOUR_MS + 30 * MINUTE_MS);
    assert_eq!(sim.report().allocations.completed, 1);
}
