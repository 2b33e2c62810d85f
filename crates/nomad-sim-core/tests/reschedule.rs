//! The reschedule policy as Nomad applies it (issue 12): the delay function with its ceiling
//! and reset, the attempt window, the node penalty over the whole reschedule tracker, and
//! replacements of lost or migrated allocs that start a new tracker.

use std::collections::BTreeMap;

use nomad_sim_core::config::{
    Action, Arrivals, DelayFunction, DrainDeadline, DrainSpec, DurationDist, JobType, NodeTarget,
    ReschedulePolicy, RestartMode, RestartPolicy, SimConfig, WorkloadConfig,
};
use nomad_sim_core::ids::NodeId;
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::server::reschedule::{eligible, next_delay, RescheduleEvent};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS, SECOND_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

const NO_RESTARTS: RestartPolicy = RestartPolicy {
    attempts: 0,
    interval_ms: HOUR_MS,
    delay_ms: 15_000,
    mode: RestartMode::Fail,
};

fn service_exponential(max_delay_ms: u64) -> ReschedulePolicy {
    ReschedulePolicy {
        attempts: 0,
        interval_ms: 0,
        delay_ms: 30 * SECOND_MS,
        delay_function: DelayFunction::Exponential,
        max_delay_ms,
        unlimited: true,
    }
}

fn ev(time_ms: u64, delay_ms: u64) -> RescheduleEvent {
    RescheduleEvent {
        time_ms,
        prev_node: NodeId(0),
        delay_ms,
    }
}

#[test]
fn the_exponential_delay_doubles_up_to_its_ceiling_and_resets_after_a_long_run() {
    let p = service_exponential(HOUR_MS);
    // No tracker yet: the base delay.
    assert_eq!(next_delay(&p, &[], 0), 30 * SECOND_MS);
    // Doubling from the last event's delay: 30s, 1m, 2m, ... 32m, then the 1h ceiling.
    let mut events = Vec::new();
    let mut t = 0;
    let mut seen = Vec::new();
    for _ in 0..9 {
        let d = next_delay(&p, &events, t + 5 * MINUTE_MS);
        seen.push(d / SECOND_MS);
        t += 5 * MINUTE_MS + d;
        events.push(ev(t, d));
    }
    assert_eq!(seen, vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    // At the ceiling, an alloc that ran longer than the ceiling since the last reschedule
    // starts again from the base delay (Nomad's reset of the reschedule tracker's delay).
    let last = events.last().unwrap().time_ms;
    assert_eq!(next_delay(&p, &events, last + HOUR_MS), 3600 * SECOND_MS);
    assert_eq!(next_delay(&p, &events, last + HOUR_MS + 1), 30 * SECOND_MS);
    // Below the ceiling there is no reset, however long the alloc ran.
    assert_eq!(
        next_delay(&p, &[ev(0, 60_000)], 10 * HOUR_MS),
        120 * SECOND_MS
    );
}

#[test]
fn fibonacci_and_constant_delays() {
    let mut p = service_exponential(10 * MINUTE_MS);
    p.delay_function = DelayFunction::Fibonacci;
    p.delay_ms = 60 * SECOND_MS;
    let mut events: Vec<RescheduleEvent> = Vec::new();
    let mut seen = Vec::new();
    for i in 0..7u64 {
        let d = next_delay(&p, &events, i * 1000);
        seen.push(d / SECOND_MS);
        events.push(ev(i * 1000, d));
    }
    assert_eq!(seen, vec![60, 60, 120, 180, 300, 480, 600]);
    p.delay_function = DelayFunction::Constant;
    assert_eq!(next_delay(&p, &events, 10 * HOUR_MS), 60 * SECOND_MS);
}

#[test]
fn attempts_are_counted_within_the_interval_before_the_failure() {
    let p = ReschedulePolicy {
        attempts: 2,
        interval_ms: HOUR_MS,
        delay_ms: 5_000,
        delay_function: DelayFunction::Constant,
        max_delay_ms: 0,
        unlimited: false,
    };
    assert!(eligible(&p, &[], 0));
    let two = [ev(0, 5_000), ev(30 * MINUTE_MS, 5_000)];
    assert!(!eligible(&p, &two, 40 * MINUTE_MS));
    // One of the two attempts is more than an hour before this failure.
    assert!(eligible(&p, &two, HOUR_MS));
    let none = ReschedulePolicy { attempts: 0, ..p };
    assert!(!eligible(&none, &[], 0));
}

fn run_until(c: SimConfig, until: u64) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run_until(until);
    let events = sink.events();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    (sim, events)
}

/// One slot's history from the trace: (placed at, node, failed at) per alloc, in order.
fn history(events: &[(u64, TraceEvent)], job: &str) -> Vec<(u64, String, Option<u64>)> {
    let mut out: Vec<(u64, String, Option<u64>)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (t, e) in events {
        match e {
            TraceEvent::AllocPlaced {
                job: j,
                alloc,
                node,
                ..
            } if j == job => {
                index.insert(alloc.clone(), out.len());
                out.push((*t, node.clone(), None));
            }
            TraceEvent::AllocFailed { alloc, .. } => {
                if let Some(&i) = index.get(alloc) {
                    out[i].2 = Some(*t);
                }
            }
            _ => {}
        }
    }
    out
}

fn crashing_service(reschedule: ReschedulePolicy) -> WorkloadConfig {
    let mut w = batch_workload(
        "web",
        Arrivals::At(vec![0]),
        Resources::new(500, 500, 0),
        DurationDist::Constant(10 * MINUTE_MS),
    );
    w.job_type = JobType::Service;
    w.failure_rate = 1.0;
    w.restart = Some(NO_RESTARTS);
    w.reschedule = Some(reschedule);
    w
}

#[test]
fn service_reschedule_delays_follow_the_tracker_and_reset_after_a_run_longer_than_the_ceiling() {
    // Every run fails part-way (failure_rate 1, no restarts); the policy doubles from 30s up
    // to 2m. Each replacement's delay is worked out from the trace and checked exactly.
    let c = config(
        11,
        HOUR_MS,
        vec![pool("a", 3, 4000, 4000)],
        vec![crashing_service(service_exponential(2 * MINUTE_MS))],
    );
    let (_, events) = run_until(c, 6 * HOUR_MS);
    let h = history(&events, "web-0");
    assert!(h.len() > 10, "{}", h.len());
    let (mut prev_delay, mut resets, mut capped) = (0u64, 0, 0);
    for i in 1..h.len() {
        let failed = h[i - 1].2.expect("every alloc but the last has failed");
        let delay = h[i].0 - failed;
        let expected = if i == 1 {
            30 * SECOND_MS
        } else {
            let doubled = 2 * prev_delay;
            if doubled > 2 * MINUTE_MS {
                capped += 1;
                // The previous alloc ran from its placement (the last reschedule) to `failed`.
                if failed - h[i - 1].0 > 2 * MINUTE_MS {
                    resets += 1;
                    30 * SECOND_MS
                } else {
                    2 * MINUTE_MS
                }
            } else {
                doubled
            }
        };
        assert_eq!(delay, expected, "replacement {i}: {h:?}");
        prev_delay = delay;
    }
    assert!(
        resets > 0 && capped > resets,
        "resets {resets}, capped {capped}"
    );
}

#[test]
fn the_node_penalty_covers_every_node_in_the_reschedule_tracker() {
    // Four nodes; each replacement is penalised on the node its predecessor failed on and on
    // every node in that predecessor's tracker (the last five reschedules for an unlimited
    // policy, plus the one that placed it).
    let c = config(
        5,
        HOUR_MS,
        vec![pool("a", 4, 4000, 4000)],
        vec![crashing_service(service_exponential(2 * MINUTE_MS))],
    );
    let (_, events) = run_until(c, 4 * HOUR_MS);
    let h = history(&events, "web-0");
    let placements: Vec<_> = events
        .iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::AllocPlaced { job, metrics, .. } if job == "web-0" => Some(metrics.clone()),
            _ => None,
        })
        .collect();
    let mut checked = 0;
    for i in 1..h.len() {
        // Nodes of allocs i-1 back to i-7 (the predecessor and its tracker of up to six).
        let penalised: Vec<&String> = h[i.saturating_sub(7)..i].iter().map(|x| &x.1).collect();
        for s in &placements[i].scores {
            let expect = penalised.contains(&&s.node);
            assert_eq!(
                s.scores.node_reschedule_penalty.is_some(),
                expect,
                "replacement {i} on {}: {h:?}",
                s.node
            );
            if expect && i >= 2 && s.node != h[i - 1].1 {
                checked += 1;
            }
        }
    }
    assert!(
        checked > 0,
        "no node was penalised through the tracker alone"
    );
}

#[test]
fn a_batch_alloc_is_rescheduled_again_once_its_attempt_has_left_the_interval() {
    // One attempt in 10m: a replacement that fails more than 10m after it was placed may be
    // rescheduled again; one that fails sooner may not.
    let mut w = crashing_service(ReschedulePolicy {
        attempts: 1,
        interval_ms: 10 * MINUTE_MS,
        delay_ms: 5 * SECOND_MS,
        delay_function: DelayFunction::Constant,
        max_delay_ms: 0,
        unlimited: false,
    });
    w.job_type = JobType::Batch;
    w.count = 6;
    w.duration = DurationDist::Constant(HOUR_MS);
    let c = config(2, HOUR_MS, vec![pool("a", 4, 8000, 8000)], vec![w]);
    let (_, events) = run_until(c, u64::MAX);
    let mut again = 0;
    // Every slot's chain of allocs, by alloc name: (placed, failed).
    let mut chains: BTreeMap<String, Vec<(u64, Option<u64>)>> = BTreeMap::new();
    let mut by_alloc: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for (t, e) in &events {
        match e {
            TraceEvent::AllocPlaced { alloc, name, .. } => {
                let chain = chains.entry(name.clone()).or_default();
                by_alloc.insert(alloc.clone(), (name.clone(), chain.len()));
                chain.push((*t, None));
            }
            TraceEvent::AllocFailed { alloc, .. } => {
                let (name, i) = by_alloc[alloc].clone();
                chains.get_mut(&name).unwrap()[i].1 = Some(*t);
            }
            _ => {}
        }
    }
    for (name, chain) in &chains {
        for i in 1..chain.len() {
            let failed = chain[i - 1].1.unwrap();
            assert_eq!(chain[i].0, failed + 5 * SECOND_MS, "{name}: {chain:?}");
        }
        // After the first reschedule, a further one happens exactly when the previous
        // replacement ran 10m or more.
        for i in 1..chain.len() {
            let (placed, failed) = (chain[i].0, chain[i].1.unwrap());
            let rescheduled = i + 1 < chain.len();
            assert_eq!(
                rescheduled,
                failed - placed >= 10 * MINUTE_MS,
                "{name}: {chain:?}"
            );
            again += usize::from(rescheduled);
        }
    }
    assert!(again > 0);
}

/// The node of the `n`-th placement so far.
fn find_placement(events: &SharedSink, n: usize) -> Option<String> {
    events
        .events()
        .iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::AllocPlaced { node, .. } => Some(node.clone()),
            _ => None,
        })
        .nth(n)
}

#[test]
fn a_lost_replacement_starts_a_new_tracker() {
    // Batch, one attempt in 24h. The first alloc fails and is rescheduled; its replacement's
    // node then fails, so the replacement is lost and replaced without using an attempt, and
    // that lost replacement carries no tracker: when it fails, it is rescheduled once more.
    let mut w = crashing_service(ReschedulePolicy::default_for(JobType::Batch));
    w.job_type = JobType::Batch;
    w.duration = DurationDist::Constant(10 * HOUR_MS);
    let c = config(3, HOUR_MS, vec![pool("a", 4, 4000, 4000)], vec![w]);
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    let mut t = 0;
    let node = loop {
        t += SECOND_MS;
        sim.run_until(t);
        if let Some(n) = find_placement(&sink, 1) {
            break n;
        }
        assert!(t < 11 * HOUR_MS);
    };
    sim.apply(Action::NodeFail { nodes: vec![node] });
    sim.run();
    let events = sink.events();
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    let r = sim.report();
    assert_eq!(
        (
            r.allocations.placed,
            r.allocations.failed,
            r.allocations.lost
        ),
        (4, 3, 1)
    );
}

#[test]
fn a_migrated_replacement_starts_a_new_tracker() {
    // Service, exponential from 30s. The first alloc fails: its replacement comes 30s later
    // with a tracker. That replacement is migrated by a force drain: the migrated alloc's
    // replacement has no tracker, so when it fails its replacement comes after 30s again
    // (with the tracker it would have been 1m).
    let mut w = crashing_service(service_exponential(HOUR_MS));
    w.duration = DurationDist::Constant(10 * HOUR_MS);
    let c = config(3, HOUR_MS, vec![pool("a", 4, 4000, 4000)], vec![w]);
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    let mut t = 0;
    let node = loop {
        t += SECOND_MS;
        sim.run_until(t);
        if let Some(n) = find_placement(&sink, 1) {
            break n;
        }
        assert!(t < 11 * HOUR_MS);
    };
    sim.apply(Action::NodeDrain {
        target: NodeTarget::Names(vec![node]),
        spec: DrainSpec {
            deadline: DrainDeadline::Force,
            ignore_system: false,
        },
    });
    sim.run_until(30 * HOUR_MS);
    let h = history(&sink.events(), "web-0");
    assert!(h.len() >= 4, "{h:?}");
    // h[0] failed; h[1] migrated (no failure); h[2] is the migration's replacement.
    assert_eq!(h[1].0, h[0].2.unwrap() + 30 * SECOND_MS);
    assert_eq!(h[1].2, None);
    assert_eq!(h[3].0, h[2].2.unwrap() + 30 * SECOND_MS, "{h:?}");
}
