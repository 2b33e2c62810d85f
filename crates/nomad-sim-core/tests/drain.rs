//! Drains, scale-down, failures and the autoscaler on runs small enough to work out by hand.

use nomad_sim_core::config::{
    Action, Arrivals, AutoscalerConfig, AutoscalerMetric, DrainDeadline, DrainSpec, DurationDist,
    JobType, NodeSelector, NodeTarget, NomadVersion, Operation, SimConfig, WorkloadConfig,
};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::model::{Eligibility, NodeStatus};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS, SECOND_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

const ASK: Resources = Resources::new(1000, 1000, 0);

fn job_at(name: &str, at_ms: u64, minutes: u64) -> WorkloadConfig {
    batch_workload(
        name,
        Arrivals::At(vec![at_ms]),
        ASK,
        DurationDist::Constant(minutes * MINUTE_MS),
    )
}

/// Pool `a` has one node from the start; pool `b` is empty until a scale-up at 5m, so
/// everything submitted at time zero lands on `a-0`.
fn two_pools(workloads: Vec<WorkloadConfig>, mut operations: Vec<Operation>) -> SimConfig {
    let mut c = config(
        1,
        4 * HOUR_MS,
        vec![pool("a", 1, 4000, 4000), pool("b", 0, 4000, 4000)],
        workloads,
    );
    operations.insert(
        0,
        Operation {
            at_ms: 5 * MINUTE_MS,
            action: Action::ScaleUp {
                pool: "b".to_string(),
                count: 1,
            },
        },
    );
    c.operations = operations;
    c
}

fn drain(node: &str, at_ms: u64, deadline: DrainDeadline) -> Operation {
    Operation {
        at_ms,
        action: Action::NodeDrain {
            target: NodeTarget::Names(vec![node.to_string()]),
            spec: DrainSpec {
                deadline,
                ignore_system: false,
            },
        },
    }
}

fn run(c: SimConfig) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run();
    let events = sink.events();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    (sim, events)
}

/// (time, job, reason) of every stop.
fn stops(events: &[(u64, TraceEvent)]) -> Vec<(u64, String, String)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocStopped { job, reason, .. } => Some((*t, job.clone(), reason.clone())),
            _ => None,
        })
        .collect()
}

fn placed_on(events: &[(u64, TraceEvent)], job: &str) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { job: j, node, .. } if j == job => Some((*t, node.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn batch_allocs_run_to_completion_and_the_deadline_stops_the_rest() {
    // On a-0: short (30m) and long (90m). Drain at 10m with a 1h deadline.
    let c = two_pools(
        vec![job_at("short", 0, 30), job_at("long", 0, 90)],
        vec![drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(HOUR_MS))],
    );
    let (sim, events) = run(c);
    assert_eq!(placed_on(&events, "short-0"), vec![(0, "a-0".to_string())]);
    assert_eq!(placed_on(&events, "long-0"), vec![(0, "a-0".to_string())]);
    assert_eq!(
        stops(&events),
        vec![(
            70 * MINUTE_MS,
            "long-0".to_string(),
            "drain_deadline".to_string()
        )]
    );
    let r = sim.report();
    assert_eq!((r.allocations.completed, r.allocations.stopped), (1, 1));
    assert_eq!(r.drains.len(), 1);
    let d = &r.drains[0];
    assert_eq!(
        (
            d.started_s,
            d.completed_s,
            d.deadline_reached,
            d.allocs_stopped
        ),
        (600.0, Some(4200.0), true, 1)
    );
    // Newest behaviour: the stopped batch alloc is not replaced; the job ends dead.
    assert_eq!(placed_on(&events, "long-0").len(), 1);
    assert_eq!(r.wasted_alloc_s, 4200.0);
    // The finished drain leaves the node ineligible.
    assert_eq!(sim.nodes()[0].eligibility, Eligibility::Ineligible);
    assert!(sim.nodes()[0].drain.is_none());
}

#[test]
fn before_1_10_6_a_batch_alloc_stopped_at_the_deadline_is_replaced() {
    let mut c = two_pools(
        vec![job_at("long", 0, 90)],
        vec![drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(HOUR_MS))],
    );
    c.nomad_version = NomadVersion {
        major: 1,
        minor: 10,
        patch: 5,
    };
    let (sim, events) = run(c);
    assert_eq!(
        placed_on(&events, "long-0"),
        vec![(0, "a-0".to_string()), (70 * MINUTE_MS, "b-0".to_string())]
    );
    // The replacement runs the whole 90 minutes again.
    assert_eq!(sim.now(), 160 * MINUTE_MS);
    assert_eq!(sim.report().allocations.completed, 1);
}

#[test]
fn force_stops_everything_at_once() {
    let c = two_pools(
        vec![job_at("short", 0, 30), job_at("long", 0, 90)],
        vec![drain("a-0", 10 * MINUTE_MS, DrainDeadline::Force)],
    );
    let (sim, events) = run(c);
    let s = stops(&events);
    assert_eq!(s.len(), 2);
    assert!(s
        .iter()
        .all(|(t, _, reason)| *t == 10 * MINUTE_MS && reason == "force_drain"));
    let d = &sim.report().drains[0];
    assert_eq!(
        (d.completed_s, d.deadline_reached, d.allocs_stopped),
        (Some(600.0), true, 2)
    );
}

#[test]
fn without_a_deadline_the_drain_waits_for_the_last_alloc() {
    let c = two_pools(
        vec![job_at("short", 0, 30), job_at("long", 0, 90)],
        vec![drain("a-0", 10 * MINUTE_MS, DrainDeadline::None)],
    );
    let (sim, events) = run(c);
    assert!(stops(&events).is_empty());
    let d = &sim.report().drains[0];
    assert_eq!((d.completed_s, d.deadline_reached), (Some(5400.0), false));
}

#[test]
fn an_empty_node_finishes_its_drain_at_once() {
    let c = two_pools(
        vec![job_at("late", 30 * MINUTE_MS, 5)],
        vec![drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(HOUR_MS))],
    );
    let (sim, events) = run(c);
    assert_eq!(sim.report().drains[0].completed_s, Some(600.0));
    // Work submitted later goes elsewhere.
    assert_eq!(
        placed_on(&events, "late-0"),
        vec![(30 * MINUTE_MS, "b-0".to_string())]
    );
}

#[test]
fn service_allocs_migrate_max_parallel_at_a_time_after_health() {
    let mut web = job_at("web", 0, 600);
    web.job_type = JobType::Service;
    web.count = 3;
    web.max_parallel = 1;
    let c = two_pools(
        vec![web],
        vec![drain("a-0", 10 * MINUTE_MS, DrainDeadline::None)],
    );
    let (sim, events) = run(c);
    let s = stops(&events);
    let times: Vec<u64> = s.iter().map(|x| x.0).collect();
    // One at a time, each after the previous replacement ran its 10 s min_healthy_time.
    assert_eq!(
        times,
        vec![
            10 * MINUTE_MS,
            10 * MINUTE_MS + 10 * SECOND_MS,
            10 * MINUTE_MS + 20 * SECOND_MS
        ]
    );
    assert!(s.iter().all(|x| x.2 == "migrate"));
    let replacements: Vec<_> = placed_on(&events, "web-0")
        .into_iter()
        .filter(|p| p.1 == "b-0")
        .collect();
    assert_eq!(replacements.len(), 3);
    assert_eq!(sim.report().drains[0].completed_s, Some(620.0));
}

#[test]
fn two_at_a_time_with_max_parallel_two() {
    let mut web = job_at("web", 0, 600);
    web.job_type = JobType::Service;
    web.count = 3;
    web.max_parallel = 2;
    let c = two_pools(
        vec![web],
        vec![drain("a-0", 10 * MINUTE_MS, DrainDeadline::None)],
    );
    let (_, events) = run(c);
    let times: Vec<u64> = stops(&events).iter().map(|x| x.0).collect();
    assert_eq!(
        times,
        vec![
            10 * MINUTE_MS,
            10 * MINUTE_MS,
            10 * MINUTE_MS + 10 * SECOND_MS
        ]
    );
}

#[test]
fn disabling_a_drain_lets_blocked_work_in() {
    // One node; a drain at 10m; a job at 15m blocks; the drain is disabled at 20m.
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![job_at("first", 0, 30), job_at("second", 15 * MINUTE_MS, 5)],
    );
    c.operations = vec![
        drain("a-0", 10 * MINUTE_MS, DrainDeadline::None),
        Operation {
            at_ms: 20 * MINUTE_MS,
            action: Action::NodeDrainDisable {
                nodes: vec!["a-0".to_string()],
                keep_ineligible: false,
            },
        },
    ];
    let (sim, events) = run(c);
    assert_eq!(
        placed_on(&events, "second-0"),
        vec![(20 * MINUTE_MS, "a-0".to_string())]
    );
    assert_eq!(sim.report().pending_s.max, 300.0);
    assert_eq!(sim.nodes()[0].eligibility, Eligibility::Eligible);
    // The drain's record ends when it was disabled, at 20m, without a deadline or a stop.
    let d = &sim.report().drains[0];
    assert_eq!(
        (
            d.started_s,
            d.completed_s,
            d.deadline_reached,
            d.allocs_stopped
        ),
        (600.0, Some(1200.0), false, 0)
    );
}

#[test]
fn keep_ineligible_keeps_blocked_work_out() {
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![job_at("first", 0, 30), job_at("second", 15 * MINUTE_MS, 5)],
    );
    c.operations = vec![
        drain("a-0", 10 * MINUTE_MS, DrainDeadline::None),
        Operation {
            at_ms: 20 * MINUTE_MS,
            action: Action::NodeDrainDisable {
                nodes: vec!["a-0".to_string()],
                keep_ineligible: true,
            },
        },
    ];
    let (sim, _) = run(c);
    assert_eq!(sim.report().allocations.never_placed, 1);
}

#[test]
fn a_lifecycle_hook_timeout_terminates_the_instance_with_its_work() {
    // A 2h job; scale-down at 10m with a 3h drain deadline but a 1h hook timeout.
    let mut c = two_pools(vec![job_at("long", 0, 120)], vec![]);
    c.operations.push(Operation {
        at_ms: 10 * MINUTE_MS,
        action: Action::ScaleDown {
            pool: "a".to_string(),
            count: 1,
            selector: NodeSelector::LeastBusy,
            drain_deadline: DrainDeadline::After(3 * HOUR_MS),
            heartbeat_timeout_ms: Some(HOUR_MS),
        },
    });
    let (sim, events) = run(c);
    let lost: Vec<_> = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocLost { reason, .. } => Some((*t, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(lost, vec![(70 * MINUTE_MS, "node_terminated".to_string())]);
    assert!(events.iter().any(|(t, e)| *t == 70 * MINUTE_MS
        && matches!(e, TraceEvent::NodeTerminated { node } if node == "a-0")));
    // Lost work is replaced (on b-0) and runs in full.
    assert_eq!(
        placed_on(&events, "long-0").last(),
        Some(&(70 * MINUTE_MS, "b-0".to_string()))
    );
    let r = sim.report();
    assert_eq!((r.allocations.lost, r.allocations.completed), (1, 1));
    assert_eq!(sim.nodes()[0].status, NodeStatus::Terminated);
    // Node-hours: a-0 lived 70 minutes, b-0 from 5m to the end at 190m.
    assert!(
        (r.node_hours - (70.0 + 185.0) / 60.0).abs() < 0.001,
        "{}",
        r.node_hours
    );
}

#[test]
fn scale_down_terminates_each_node_once_its_drain_is_done() {
    let mut c = two_pools(vec![job_at("short", 0, 30)], vec![]);
    c.operations.push(Operation {
        at_ms: 10 * MINUTE_MS,
        action: Action::ScaleDown {
            pool: "a".to_string(),
            count: 1,
            selector: NodeSelector::OldestCreateIndex,
            drain_deadline: DrainDeadline::After(HOUR_MS),
            heartbeat_timeout_ms: Some(2 * HOUR_MS),
        },
    });
    let (sim, events) = run(c);
    assert!(events
        .iter()
        .any(|(t, e)| *t == 30 * MINUTE_MS && matches!(e, TraceEvent::NodeTerminated { .. })));
    assert_eq!(sim.report().allocations.lost, 0);
}

#[test]
fn empty_selector_takes_only_idle_nodes() {
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 3, 4000, 4000)],
        vec![job_at("busy", 0, 50)],
    );
    c.operations = vec![Operation {
        at_ms: 10 * MINUTE_MS,
        action: Action::ScaleDown {
            pool: "a".to_string(),
            count: 3,
            selector: NodeSelector::Empty,
            drain_deadline: DrainDeadline::After(HOUR_MS),
            heartbeat_timeout_ms: None,
        },
    }];
    let (sim, events) = run(c);
    let terminated = events
        .iter()
        .filter(|(_, e)| matches!(e, TraceEvent::NodeTerminated { .. }))
        .count();
    assert_eq!(terminated, 2);
    assert_eq!(sim.report().allocations.completed, 1);
}

#[test]
fn a_failed_node_loses_its_allocs_and_they_are_replaced() {
    // a-0's client stops heartbeating at 20m; the server notices when its heartbeat timer
    // expires (TTL 10s plus up to 10s stagger, plus 10s grace), then the alloc is lost and
    // replaced on b-0.
    let mut c = two_pools(vec![job_at("long", 0, 90)], vec![]);
    c.operations.push(Operation {
        at_ms: 20 * MINUTE_MS,
        action: Action::NodeFail {
            nodes: vec!["a-0".to_string()],
        },
    });
    let (sim, events) = run(c);
    let down = events
        .iter()
        .find_map(|(t, e)| matches!(e, TraceEvent::NodeDown { .. }).then_some(*t))
        .unwrap();
    assert!((20 * MINUTE_MS + 10 * SECOND_MS..=20 * MINUTE_MS + 30 * SECOND_MS).contains(&down));
    assert_eq!(
        placed_on(&events, "long-0"),
        vec![(0, "a-0".to_string()), (down, "b-0".to_string())]
    );
    let r = sim.report();
    assert_eq!((r.allocations.lost, r.allocations.completed), (1, 1));
    assert_eq!(r.wasted_alloc_s, down as f64 / 1000.0);
}

#[test]
fn a_failed_batch_alloc_is_rescheduled_once_away_from_its_node() {
    let mut w = job_at("flaky", 0, 10);
    w.failure_rate = 1.0;
    let c = config(5, HOUR_MS, vec![pool("a", 3, 4000, 4000)], vec![w]);
    let (sim, events) = run(c);
    let placed = placed_on(&events, "flaky-0");
    assert_eq!(placed.len(), 2, "one attempt, one reschedule");
    let fail_time = events
        .iter()
        .find_map(|(t, e)| matches!(e, TraceEvent::AllocFailed { .. }).then_some(*t))
        .unwrap();
    assert_eq!(placed[1].0, fail_time + 5 * SECOND_MS);
    // The replacement carried the reschedule penalty for the node it failed on.
    let metrics = events
        .iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::AllocPlaced { metrics, .. } => Some(metrics.clone()),
            _ => None,
        })
        .nth(1)
        .unwrap();
    let penalised: Vec<_> = metrics
        .scores
        .iter()
        .filter(|s| s.scores.node_reschedule_penalty == Some(-1.0))
        .collect();
    assert!(penalised.iter().all(|s| s.node == placed[0].1));
    assert_eq!(sim.report().allocations.failed, 2);
}

#[test]
fn the_autoscaler_scales_out_for_load_and_back_in_when_idle() {
    // One node fits two jobs; 20 jobs of 20 minutes arrive at once; target 50 % CPU.
    let mut work = job_at("burst", 0, 20);
    work.arrivals = Arrivals::At(vec![0; 20]);
    work.resources = Resources::new(2000, 2000, 0);
    let mut p = pool("a", 1, 4000, 4000);
    p.boot_time_ms = 2 * MINUTE_MS;
    let mut c = config(1, HOUR_MS, vec![p], vec![work]);
    c.autoscaler = Some(AutoscalerConfig {
        pool: "a".to_string(),
        min: 1,
        max: 6,
        evaluation_interval_ms: MINUTE_MS,
        cooldown_ms: 2 * MINUTE_MS,
        metric: AutoscalerMetric::CpuAllocatedPct,
        target: 50.0,
        threshold: 0.01,
        node_selector: NodeSelector::LeastBusy,
        node_drain_deadline_ms: 5 * MINUTE_MS,
    });
    let (sim, events) = run(c);
    // At 1m: 100 % allocated on 1 node -> 2 nodes, ready at 3m.
    let ready: Vec<u64> = events
        .iter()
        .filter_map(|(t, e)| matches!(e, TraceEvent::NodeReady { .. }).then_some(*t))
        .collect();
    assert_eq!(ready[0], 0);
    assert_eq!(ready[1], 3 * MINUTE_MS);
    assert!(sim.nodes().len() <= 6);
    assert!(
        sim.nodes().len() > 2,
        "it keeps scaling out while the pool is full"
    );
    // All work done, then scale-in to the minimum.
    assert_eq!(sim.report().allocations.completed, 20);
    let live = sim
        .nodes()
        .iter()
        .filter(|n| n.status == NodeStatus::Ready)
        .count();
    assert_eq!(live, 1, "back to min once idle");
}

fn system_agent() -> WorkloadConfig {
    let mut w = batch_workload(
        "agent",
        Arrivals::At(vec![0]),
        Resources::new(200, 200, 0),
        DurationDist::Constant(3 * HOUR_MS),
    );
    w.job_type = JobType::System;
    w
}

#[test]
fn a_system_job_runs_on_every_node_including_new_ones() {
    let c = two_pools(vec![system_agent()], vec![]);
    let (sim, events) = run(c);
    let nodes: Vec<String> = placed_on(&events, "agent-0")
        .into_iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(
        nodes,
        vec!["a-0".to_string(), "b-0".to_string()],
        "b-0 joins at 5m and gets one too"
    );
    assert_eq!(sim.jobs()[0].1.count, 2);
}

#[test]
fn system_allocs_are_drained_last() {
    let c = two_pools(
        vec![system_agent(), job_at("build", 0, 30)],
        vec![drain("a-0", 10 * MINUTE_MS, DrainDeadline::None)],
    );
    let (sim, events) = run(c);
    // The build runs to completion at 30m; only then is the agent stopped and the drain done.
    assert_eq!(
        stops(&events),
        vec![(30 * MINUTE_MS, "agent-0".to_string(), "migrate".to_string())]
    );
    assert_eq!(sim.report().drains[0].completed_s, Some(1800.0));
}

#[test]
fn ignore_system_leaves_system_allocs_running() {
    let mut c = two_pools(vec![system_agent(), job_at("build", 0, 30)], vec![]);
    c.operations.push(Operation {
        at_ms: 10 * MINUTE_MS,
        action: Action::NodeDrain {
            target: NodeTarget::Names(vec!["a-0".to_string()]),
            spec: DrainSpec {
                deadline: DrainDeadline::After(5 * MINUTE_MS),
                ignore_system: true,
            },
        },
    });
    let (sim, events) = run(c);
    // The deadline stops the build but not the agent, which runs its full three hours.
    assert_eq!(
        stops(&events),
        vec![(
            15 * MINUTE_MS,
            "build-0".to_string(),
            "drain_deadline".to_string()
        )]
    );
    let allocs = sim.allocs();
    let (_, agent_on_a0) = allocs
        .iter()
        .find(|(_, a)| a.node.0 == 0 && sim.job(a.job).unwrap().workload == 0)
        .unwrap();
    assert_eq!(agent_on_a0.ended_ms(), Some(3 * HOUR_MS));
}

#[test]
fn the_deadline_stops_system_allocs_without_ignore_system() {
    let c = two_pools(
        vec![system_agent(), job_at("build", 0, 30)],
        vec![drain(
            "a-0",
            10 * MINUTE_MS,
            DrainDeadline::After(5 * MINUTE_MS),
        )],
    );
    let (_, events) = run(c);
    let s = stops(&events);
    assert_eq!(s.len(), 2);
    assert!(s
        .iter()
        .all(|x| x.0 == 15 * MINUTE_MS && x.2 == "drain_deadline"));
}

#[test]
fn empty_ignore_system_counts_nodes_running_only_system_jobs_as_empty() {
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 3, 4000, 4000)],
        vec![system_agent(), job_at("busy", 0, 50)],
    );
    for (selector, expected) in [
        (NodeSelector::Empty, 0),
        (NodeSelector::EmptyIgnoreSystem, 2),
    ] {
        c.operations = vec![Operation {
            at_ms: 10 * MINUTE_MS,
            action: Action::ScaleDown {
                pool: "a".to_string(),
                count: 3,
                selector,
                drain_deadline: DrainDeadline::After(HOUR_MS),
                heartbeat_timeout_ms: None,
            },
        }];
        let (_, events) = run(c.clone());
        let drained = events
            .iter()
            .filter(|(_, e)| matches!(e, TraceEvent::NodeDrainStarted { .. }))
            .count();
        assert_eq!(drained, expected, "{selector:?}");
    }
}

// --- The drainer watches jobs (issue 12) ------------------------------------------------------

fn service(name: &str, count: u32, max_parallel: u32) -> WorkloadConfig {
    let mut w = job_at(name, 0, 600);
    w.job_type = JobType::Service;
    w.count = count;
    w.max_parallel = max_parallel;
    w
}

fn scale_up(pool: &str, at_ms: u64, count: u32) -> Operation {
    Operation {
        at_ms,
        action: Action::ScaleUp {
            pool: pool.to_string(),
            count,
        },
    }
}

fn drain_of(r: &nomad_sim_core::Report, node: &str) -> Option<f64> {
    r.drains
        .iter()
        .find(|d| d.node == node)
        .and_then(|d| d.completed_s)
}

#[test]
fn a_drain_before_the_allocs_are_healthy_migrates_at_10s_and_20s_not_at_the_deadline() {
    // web (count 2, max_parallel 1) starts on a-0 at 0; b-0 joins at 1s; a-0 is drained at 5s
    // with a 1h deadline. Nothing is healthy at 5s; at 10s both originals are (min_healthy_time),
    // so one migrates; its replacement is healthy at 20s, so the second migrates then.
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000), pool("b", 0, 4000, 4000)],
        vec![service("web", 2, 1)],
    );
    c.operations = vec![
        scale_up("b", SECOND_MS, 1),
        drain("a-0", 5 * SECOND_MS, DrainDeadline::After(HOUR_MS)),
    ];
    let (sim, events) = run(c);
    let s = stops(&events);
    assert_eq!(
        s,
        vec![
            (10 * SECOND_MS, "web-0".to_string(), "migrate".to_string()),
            (20 * SECOND_MS, "web-0".to_string(), "migrate".to_string()),
        ]
    );
    assert_eq!(
        placed_on(&events, "web-0"),
        vec![
            (0, "a-0".to_string()),
            (0, "a-0".to_string()),
            (10 * SECOND_MS, "b-0".to_string()),
            (20 * SECOND_MS, "b-0".to_string()),
        ]
    );
    let d = &sim.report().drains[0];
    assert_eq!((d.completed_s, d.deadline_reached), (Some(20.0), false));
}

#[test]
fn two_nodes_of_one_service_job_drained_together_both_finish_promptly() {
    // web (count 4) runs two allocs on each of a-0 and a-1 (job anti-affinity spreads them);
    // c-0 joins at 1m. Both a nodes are drained at 10m without deadline: the job watcher
    // migrates one alloc at a time across both nodes, each once the previous replacement is
    // healthy, so the four go at 10m, 10m10s, 10m20s and 10m30s.
    let mut c = config(
        3,
        HOUR_MS,
        vec![pool("a", 2, 4000, 4000), pool("c", 0, 16000, 16000)],
        vec![service("web", 4, 1)],
    );
    c.operations = vec![scale_up("c", MINUTE_MS, 1), {
        let mut d = drain("a-0", 10 * MINUTE_MS, DrainDeadline::None);
        d.action = Action::NodeDrain {
            target: NodeTarget::Names(vec!["a-0".to_string(), "a-1".to_string()]),
            spec: DrainSpec {
                deadline: DrainDeadline::None,
                ignore_system: false,
            },
        };
        d
    }];
    let (sim, events) = run(c);
    let on_a: Vec<String> = placed_on(&events, "web-0")
        .into_iter()
        .filter(|p| p.0 == 0)
        .map(|p| p.1)
        .collect();
    assert_eq!(on_a.iter().filter(|n| *n == "a-0").count(), 2, "{on_a:?}");
    let times: Vec<u64> = stops(&events).iter().map(|s| s.0).collect();
    let m = 10 * MINUTE_MS;
    assert_eq!(
        times,
        vec![
            m,
            m + 10 * SECOND_MS,
            m + 20 * SECOND_MS,
            m + 30 * SECOND_MS
        ]
    );
    let r = sim.report();
    let (a0, a1) = (drain_of(&r, "a-0").unwrap(), drain_of(&r, "a-1").unwrap());
    assert!(a0.max(a1) == 630.0 && a0.min(a1) == 620.0, "{a0} {a1}");
}

#[test]
fn a_force_update_stops_everything_at_once() {
    // a-0 is draining with a 1h deadline from 10m; at 20m the operator forces the drain.
    let c = two_pools(
        vec![job_at("long", 0, 90)],
        vec![
            drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(HOUR_MS)),
            drain("a-0", 20 * MINUTE_MS, DrainDeadline::Force),
        ],
    );
    let (sim, events) = run(c);
    assert_eq!(
        stops(&events),
        vec![(
            20 * MINUTE_MS,
            "long-0".to_string(),
            "force_drain".to_string()
        )]
    );
    let r = sim.report();
    assert_eq!(r.drains.len(), 1, "an update is the same drain");
    let d = &r.drains[0];
    assert_eq!(
        (d.started_s, d.completed_s, d.deadline_reached),
        (600.0, Some(1200.0), true)
    );
}

#[test]
fn a_new_deadline_replaces_the_old_one() {
    // Shorter: a 1h deadline from 10m, replaced at 20m by 5m: forced at 25m, not 70m.
    let c = two_pools(
        vec![job_at("long", 0, 90)],
        vec![
            drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(HOUR_MS)),
            drain("a-0", 20 * MINUTE_MS, DrainDeadline::After(5 * MINUTE_MS)),
        ],
    );
    let (_, events) = run(c);
    assert_eq!(
        stops(&events),
        vec![(
            25 * MINUTE_MS,
            "long-0".to_string(),
            "drain_deadline".to_string()
        )]
    );
    // Longer: 5m from 10m, replaced at 12m by 1h: forced at 72m, not 15m.
    let c = two_pools(
        vec![job_at("long", 0, 90)],
        vec![
            drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(5 * MINUTE_MS)),
            drain("a-0", 12 * MINUTE_MS, DrainDeadline::After(HOUR_MS)),
        ],
    );
    let (_, events) = run(c);
    assert_eq!(stops(&events)[0].0, 72 * MINUTE_MS);
    // No deadline any more: the alloc runs to completion at 90m.
    let c = two_pools(
        vec![job_at("long", 0, 90)],
        vec![
            drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(5 * MINUTE_MS)),
            drain("a-0", 12 * MINUTE_MS, DrainDeadline::None),
        ],
    );
    let (sim, events) = run(c);
    assert!(stops(&events).is_empty());
    assert_eq!(sim.report().drains[0].completed_s, Some(5400.0));
}

#[test]
fn an_operators_drain_update_keeps_a_scale_down_terminating_the_node() {
    // The autoscaler's scale-down drains a-0 at 10m to terminate it (1h deadline); at 20m an
    // operator re-drains it with a 30m deadline. The new deadline (50m) applies, and the
    // instance is still terminated when the drain completes.
    let mut c = config(
        1,
        4 * HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![job_at("long", 0, 90)],
    );
    c.operations = vec![
        Operation {
            at_ms: 10 * MINUTE_MS,
            action: Action::ScaleDown {
                pool: "a".to_string(),
                count: 1,
                selector: NodeSelector::OldestCreateIndex,
                drain_deadline: DrainDeadline::After(HOUR_MS),
                heartbeat_timeout_ms: None,
            },
        },
        drain("a-0", 20 * MINUTE_MS, DrainDeadline::After(30 * MINUTE_MS)),
    ];
    let (sim, events) = run(c);
    assert_eq!(
        stops(&events),
        vec![(
            50 * MINUTE_MS,
            "long-0".to_string(),
            "drain_deadline".to_string()
        )]
    );
    let n = &sim.nodes()[0];
    assert_eq!(n.status, NodeStatus::Terminated);
    assert_eq!(n.terminated_ms, Some(50 * MINUTE_MS));
}

#[test]
fn work_stopped_at_a_deadline_counts_as_wasted_from_its_placement() {
    // A 90m batch job placed at 5m on a-0, whose drain from 10m has a 30m deadline: stopped
    // at 40m after running 35m = 2100 s, all of it wasted.
    let mut c = config(
        1,
        4 * HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![job_at("late", 5 * MINUTE_MS, 90)],
    );
    c.operations = vec![drain(
        "a-0",
        10 * MINUTE_MS,
        DrainDeadline::After(30 * MINUTE_MS),
    )];
    let (sim, events) = run(c);
    assert_eq!(
        stops(&events),
        vec![(
            40 * MINUTE_MS,
            "late-0".to_string(),
            "drain_deadline".to_string()
        )]
    );
    let r = sim.report();
    assert_eq!(r.wasted_alloc_s, 2100.0);
    assert_eq!(r.drains[0].allocs_stopped, 1);
}

#[test]
fn two_deadlines_3s_apart_are_both_forced_at_the_later_one() {
    // a-0 and a-1 each run a 90m batch job; a-0's drain deadline is 40m, a-1's 40m3s.
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 2, 1000, 1000)],
        vec![job_at("x", 0, 90), job_at("y", 0, 90)],
    );
    c.operations = vec![
        drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(30 * MINUTE_MS)),
        drain(
            "a-1",
            10 * MINUTE_MS + 3 * SECOND_MS,
            DrainDeadline::After(30 * MINUTE_MS),
        ),
    ];
    let (sim, events) = run(c);
    let later = 40 * MINUTE_MS + 3 * SECOND_MS;
    let s = stops(&events);
    assert_eq!(s.len(), 2);
    assert!(
        s.iter().all(|x| x.0 == later && x.2 == "drain_deadline"),
        "{s:?}"
    );
    let r = sim.report();
    assert!(r
        .drains
        .iter()
        .all(|d| d.completed_s == Some(2403.0) && d.deadline_reached));
}

#[test]
fn deadlines_exactly_5s_apart_are_both_forced_at_the_earlier_one() {
    // Nomad's deadline heap sets its timer to the latest deadline strictly less than 5s after
    // the earliest (40m here: 40m5s is not less than 40m + 5s), and when the timer fires it
    // forces every node whose deadline is at most 5s after it: a-1's 40m5s goes with a-0's.
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 2, 1000, 1000)],
        vec![job_at("x", 0, 90), job_at("y", 0, 90)],
    );
    c.operations = vec![
        drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(30 * MINUTE_MS)),
        drain(
            "a-1",
            10 * MINUTE_MS + 5 * SECOND_MS,
            DrainDeadline::After(30 * MINUTE_MS),
        ),
    ];
    let (sim, events) = run(c);
    let times: Vec<u64> = stops(&events).iter().map(|s| s.0).collect();
    assert_eq!(times, vec![40 * MINUTE_MS, 40 * MINUTE_MS]);
    let r = sim.report();
    assert!(r
        .drains
        .iter()
        .all(|d| d.completed_s == Some(2400.0) && d.deadline_reached));
}

#[test]
fn deadlines_more_than_5s_apart_are_forced_each_at_its_own() {
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 2, 1000, 1000)],
        vec![job_at("x", 0, 90), job_at("y", 0, 90)],
    );
    c.operations = vec![
        drain("a-0", 10 * MINUTE_MS, DrainDeadline::After(30 * MINUTE_MS)),
        drain(
            "a-1",
            10 * MINUTE_MS + 6 * SECOND_MS,
            DrainDeadline::After(30 * MINUTE_MS),
        ),
    ];
    let (_, events) = run(c);
    let times: Vec<u64> = stops(&events).iter().map(|s| s.0).collect();
    assert_eq!(times, vec![40 * MINUTE_MS, 40 * MINUTE_MS + 6 * SECOND_MS]);
}

#[test]
fn a_replacement_that_never_turns_healthy_lets_the_drain_go_on_at_its_healthy_deadline() {
    // The replacement's task takes 6m to start (image pull) while the migrate block's
    // healthy_deadline is 5m: it is marked unhealthy at 5m after placement, which counts as a
    // health value, so the second alloc migrates then rather than waiting for the deadline.
    let mut web = service("web", 2, 1);
    web.healthy_deadline_ms = 5 * MINUTE_MS;
    let mut c = config(
        1,
        HOUR_MS * 3,
        vec![pool("a", 1, 4000, 4000), pool("b", 0, 4000, 4000)],
        vec![web],
    );
    c.operations = vec![
        scale_up("b", 30 * MINUTE_MS, 1),
        drain("a-0", 40 * MINUTE_MS, DrainDeadline::After(2 * HOUR_MS)),
    ];
    // Every task start (the originals' too) takes 6m.
    c.client.task_start = DurationDist::Constant(6 * MINUTE_MS);
    let (_, events) = run(c);
    let times: Vec<u64> = stops(&events).iter().map(|s| s.0).collect();
    assert_eq!(times, vec![40 * MINUTE_MS, 45 * MINUTE_MS]);
}
