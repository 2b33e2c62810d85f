//! The clients: restarts in place by the restart policy, task start time (issue 12).

use nomad_sim_core::config::{
    Action, Arrivals, DurationDist, JobType, Operation, RestartMode, RestartPolicy, SimConfig,
    WorkloadConfig,
};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::model::ClientStatus;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS, SECOND_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

fn job(name: &str, at_ms: u64, cpu: u64, minutes: u64) -> WorkloadConfig {
    batch_workload(
        name,
        Arrivals::At(vec![at_ms]),
        Resources::new(cpu, cpu, 0),
        DurationDist::Constant(minutes * MINUTE_MS),
    )
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

fn restarts(events: &[(u64, TraceEvent)]) -> Vec<(u64, String, u32, u64)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocRestarting {
                alloc,
                restarts,
                delay_ms,
                ..
            } => Some((*t, alloc.clone(), *restarts, *delay_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_failing_batch_task_restarts_three_times_in_place_holding_its_resources_then_fails() {
    // flaky fails every run. Nomad's batch restart policy: 3 attempts in 24h, 15s delay
    // (plus up to 25 % jitter), mode fail. While it restarts it keeps its 3000 MHz on a-0, so
    // waiter (2000 MHz) waits until the alloc has failed for good.
    let mut flaky = job("flaky", 0, 3000, 10);
    flaky.failure_rate = 1.0;
    let c = config(
        7,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![flaky, job("waiter", SECOND_MS, 2000, 10)],
    );
    let (sim, events) = run(c);
    let r = restarts(&events);
    let first = &r[0].1;
    let of_first: Vec<_> = r.iter().filter(|x| &x.1 == first).collect();
    assert_eq!(
        of_first.iter().map(|x| x.2).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(
        of_first.iter().all(|x| (15_000..18_750).contains(&x.3)),
        "{of_first:?}"
    );
    let failed_at = events
        .iter()
        .find_map(|(t, e)| match e {
            TraceEvent::AllocFailed { alloc, .. } if alloc == first => Some(*t),
            _ => None,
        })
        .unwrap();
    assert!(failed_at > of_first[2].0 + 15_000);
    let waiter_placed = events
        .iter()
        .find_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { job, .. } if job == "waiter-0" => Some(*t),
            _ => None,
        })
        .unwrap();
    assert_eq!(waiter_placed, failed_at);
    // The failed alloc still shows its restarts.
    let (id, _) = sim
        .allocs()
        .into_iter()
        .find(|(_, a)| a.client() == ClientStatus::Failed)
        .unwrap();
    assert_eq!(sim.alloc_restarts(id), 3);
    assert_eq!(sim.alloc_extra(id).reschedules, 0);
}

#[test]
fn restarts_outside_the_interval_do_not_count() {
    // One restart in 10m, delay 8m (up to 10m with jitter); runs last 1m and fail at a random
    // point. The tracker's interval begins at the first start; a failure after it ends
    // begins a new one. Every decision is replayed from the trace.
    let mut flaky = job("flaky", 0, 1000, 1);
    flaky.failure_rate = 1.0;
    flaky.count = 8;
    flaky.restart = Some(RestartPolicy {
        attempts: 1,
        interval_ms: 10 * MINUTE_MS,
        delay_ms: 8 * MINUTE_MS,
        mode: RestartMode::Fail,
    });
    let c = config(3, HOUR_MS, vec![pool("a", 2, 8000, 8000)], vec![flaky]);
    let (_, events) = run(c);
    let mut placed = std::collections::BTreeMap::new();
    // Per alloc: (interval start, failures in it).
    let mut tracker = std::collections::BTreeMap::new();
    let (mut restarted_in_new_interval, mut failed) = (0, 0);
    for (t, e) in &events {
        if let TraceEvent::AllocPlaced { alloc, .. } = e {
            placed.insert(alloc.clone(), *t);
        }
        let (alloc, restarts) = match e {
            TraceEvent::AllocRestarting {
                alloc, delay_ms, ..
            } => {
                assert!((8 * MINUTE_MS..10 * MINUTE_MS).contains(delay_ms));
                (alloc, true)
            }
            TraceEvent::AllocFailed { alloc, .. } => (alloc, false),
            _ => continue,
        };
        let (start, count) = tracker
            .entry(alloc.clone())
            .or_insert((placed[alloc], 0u32));
        let mut fresh = false;
        if *t > *start + 10 * MINUTE_MS {
            *start = *t;
            *count = 0;
            fresh = true;
        }
        *count += 1;
        assert_eq!(restarts, *count <= 1, "{alloc} at {t}");
        if restarts && fresh {
            restarted_in_new_interval += 1;
        }
        failed += usize::from(!restarts);
    }
    assert!(restarted_in_new_interval > 0);
    assert!(failed > 0);
}

#[test]
fn mode_delay_waits_for_the_interval_to_end_instead_of_failing() {
    let mut flaky = job("flaky", 0, 1000, 1);
    flaky.failure_rate = 1.0;
    flaky.restart = Some(RestartPolicy {
        attempts: 1,
        interval_ms: 10 * MINUTE_MS,
        delay_ms: 15 * SECOND_MS,
        mode: RestartMode::Delay,
    });
    let c = config(3, HOUR_MS, vec![pool("a", 1, 4000, 4000)], vec![flaky]);
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run_until(3 * HOUR_MS);
    let events = sink.events();
    assert!(!events
        .iter()
        .any(|(_, e)| matches!(e, TraceEvent::AllocFailed { .. })));
    let r = restarts(&events);
    assert!(r.len() > 10);
    // Some restarts wait for the interval's end, longer than the jittered delay.
    assert!(r.iter().any(|x| x.3 >= 18_750), "{r:?}");
}

/// A 1 ms run that fails the instant it starts (a uniform point of 1 ms rounds to 0), with
/// mode `delay` and no delay: the wait for the interval's end can come out at 0 ms exactly at
/// the end, and the run used to restart at that same instant forever. Now every restart
/// moves the clock, and the run ends at the time bound. The run is on a thread, so that a
/// regression fails after 60 s instead of hanging the suite.
#[test]
fn a_run_that_fails_at_once_in_mode_delay_never_stops_the_clock() {
    let mut flaky = batch_workload(
        "flaky",
        Arrivals::At(vec![0]),
        Resources::new(100, 100, 0),
        DurationDist::Constant(1),
    );
    flaky.failure_rate = 1.0;
    flaky.restart = Some(RestartPolicy {
        attempts: 1,
        interval_ms: MINUTE_MS,
        delay_ms: 0,
        mode: RestartMode::Delay,
    });
    let c = config(
        1,
        10 * MINUTE_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![flaky],
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sim = Simulation::new(c);
        sim.run_until(HOUR_MS);
        let _ = tx.send(sim.now());
    });
    let now = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the run ends: a restart always moves the clock");
    assert_eq!(now, HOUR_MS);
}

#[test]
fn a_service_that_fails_every_run_ends_at_the_time_bound() {
    // Service: 2 restarts in 30m, then rescheduled without limit (30s doubling up to 1h). The
    // run stops limits.max_time_past_horizon after the horizon.
    let mut web = job("web", 0, 1000, 30);
    web.job_type = JobType::Service;
    web.failure_rate = 1.0;
    web.count = 2;
    let mut c = config(1, HOUR_MS, vec![pool("a", 3, 4000, 4000)], vec![web]);
    c.limits.max_time_past_horizon_ms = 12 * HOUR_MS;
    let (sim, _) = run(c);
    assert_eq!(sim.now(), 13 * HOUR_MS);
    assert!(sim.stopped_at_time_limit);
    let r = sim.report();
    assert!(r.allocations.failed > 4, "{:?}", r.allocations);
    // And with the default bound (30 days past the horizon) it ends too.
    let mut web = job("web", 0, 1000, 30);
    web.job_type = JobType::Service;
    web.failure_rate = 1.0;
    let c = config(1, HOUR_MS, vec![pool("a", 3, 4000, 4000)], vec![web]);
    let (sim, _) = run(c);
    assert_eq!(sim.now(), HOUR_MS + 30 * 24 * HOUR_MS);
}

#[test]
fn a_task_start_time_delays_the_run_and_holds_the_resources() {
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![job("x", 0, 3000, 10), job("y", 0, 3000, 10)],
    );
    c.client.task_start = DurationDist::Constant(2 * MINUTE_MS);
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run_until(MINUTE_MS);
    // x is placed and pulling its image: pending, holding its 3000 MHz.
    let allocs = sim.allocs();
    assert_eq!(allocs.len(), 1);
    assert_eq!(allocs[0].1.client(), ClientStatus::Pending);
    let x = allocs[0].0;
    assert_eq!(sim.alloc_running_since(x), None);
    // Its task runs from 2m.
    sim.run_until(3 * MINUTE_MS);
    assert_eq!(sim.alloc_running_since(x), Some(2 * MINUTE_MS));
    sim.run();
    let ends: Vec<(u64, String)> = sink
        .events()
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocCompleted { job, .. } => Some((*t, job.clone())),
            _ => None,
        })
        .collect();
    // x: placed 0, runs 2m..12m; y: placed at 12m, runs 14m..24m.
    assert_eq!(
        ends,
        vec![
            (12 * MINUTE_MS, "x-0".to_string()),
            (24 * MINUTE_MS, "y-0".to_string())
        ]
    );
    // Pending time is still submission to placement.
    assert_eq!(sim.report().pending_s.max, 720.0);
}

#[test]
fn a_client_that_stopped_heartbeating_does_not_start_the_task() {
    // x is placed on a-0 at 0 and its image pull takes 35s. a-0 stops heartbeating at 30s;
    // the server cannot notice before 40s (a TTL of at least 10s from the last heartbeat,
    // plus the 10s grace). At 35s the crashed client starts nothing: the alloc is still
    // pending as the server last heard, with no run.
    let mut c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![job("x", 0, 1000, 10)],
    );
    c.client.task_start = DurationDist::Constant(35 * SECOND_MS);
    c.operations = vec![Operation {
        at_ms: 30 * SECOND_MS,
        action: Action::NodeFail {
            nodes: vec!["a-0".to_string()],
        },
    }];
    let mut sim = Simulation::new(c);
    sim.check_every_event(true);
    sim.run_until(36 * SECOND_MS);
    let allocs = sim.allocs();
    assert_eq!(allocs.len(), 1);
    assert_eq!(allocs[0].1.client(), ClientStatus::Pending);
    assert_eq!(sim.alloc_running_since(allocs[0].0), None);
}

/// The times of the restarts and the failure of `flaky` (fails 30 % of its runs), alone or
/// next to a service that never fails.
fn flaky_failures(with_service: bool) -> Vec<(u64, &'static str)> {
    let mut flaky = job("flaky", 0, 1000, 10);
    flaky.failure_rate = 0.3;
    flaky.arrivals = Arrivals::At(vec![0; 20]);
    let mut workloads = vec![flaky];
    if with_service {
        let mut web = job("web", 0, 1000, 120);
        web.job_type = JobType::Service;
        workloads.insert(0, web);
    }
    let c = config(3, HOUR_MS, vec![pool("a", 4, 8000, 8000)], workloads);
    let (_, events) = run(c);
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocRestarting { job, .. } if job.starts_with("flaky") => {
                Some((*t, "restarting"))
            }
            TraceEvent::AllocFailed { job, .. } if job.starts_with("flaky") => Some((*t, "failed")),
            _ => None,
        })
        .collect()
}

#[test]
fn a_task_that_cannot_fail_draws_nothing_from_the_failure_stream() {
    // Only tasks with a failure rate draw whether (and when) a run fails, so a service that
    // never fails, started first, leaves flaky's failures exactly as they were.
    let alone = flaky_failures(false);
    assert!(alone.len() >= 3, "{alone:?}");
    assert_eq!(flaky_failures(true), alone);
}

#[test]
fn a_failure_at_the_very_end_of_the_interval_still_counts_in_it() {
    // Nomad's restart tracker starts a new interval only for a failure strictly after the
    // current one ends (`now.After(end)`). 60 allocs of a task that fails half its runs at
    // once (a 1 ms run), 1 attempt in 10m, mode delay: a second failure within the interval
    // waits until the interval ends, at 10m exactly. A run started then that fails at once
    // fails at the end itself, still in the interval: the count is past the attempts again,
    // and the wait until the end is the 1 ms floor that keeps the clock moving (not the 15s
    // delay of a new interval).
    let mut flaky = batch_workload(
        "flaky",
        Arrivals::At(vec![0; 60]),
        Resources::new(50, 50, 0),
        DurationDist::Constant(1),
    );
    flaky.failure_rate = 0.5;
    flaky.restart = Some(RestartPolicy {
        attempts: 1,
        interval_ms: 10 * MINUTE_MS,
        delay_ms: 15 * SECOND_MS,
        mode: RestartMode::Delay,
    });
    let c = config(1, HOUR_MS, vec![pool("a", 1, 4000, 4000)], vec![flaky]);
    let (_, events) = run(c);
    let at_end: Vec<u64> = restarts(&events)
        .iter()
        .filter(|r| r.0 == 10 * MINUTE_MS)
        .map(|r| r.3)
        .collect();
    assert!(!at_end.is_empty());
    assert!(at_end.iter().all(|&d| d == 1), "{at_end:?}");
}
