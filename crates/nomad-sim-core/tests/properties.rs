//! Property tests over random clusters, workloads and operation timelines (drains, scale-down,
//! failures). CI runs a bounded number of cases; set NOMAD_SIM_PROPTEST_CASES for more.

use proptest::prelude::*;

use std::collections::BTreeMap;

use nomad_sim_core::config::{Action, DrainDeadline, NodeSelector};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::model::NodeStatus;
use nomad_sim_core::ops::DEADLINE_COALESCE_WINDOW_MS;
use nomad_sim_core::testing::arb_config;
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{SimConfig, Simulation};

/// Runs the configuration in steps, checking the state after each, then checks the trace.
fn run_checked(config: SimConfig) -> Result<(Simulation, Vec<(u64, TraceEvent)>), TestCaseError> {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(config);
    sim.set_trace_sink(Box::new(sink.clone()));
    // Every event is followed by a full check of the state's accounting.
    sim.check_every_event(true);
    let mut t = 0;
    loop {
        let done = sim.run_until(t);
        let v = state_violations(&sim);
        prop_assert!(v.is_empty(), "state at t={t}: {v:#?}");
        if done {
            break;
        }
        t += 10 * MINUTE_MS;
        prop_assert!(t < 2_000 * HOUR_MS, "the run does not end");
    }
    let events = sink.events();
    let v = trace_violations(&sim, &events);
    prop_assert!(v.is_empty(), "trace: {v:#?}");
    Ok((sim, events))
}

proptest! {
    #![proptest_config(ProptestConfig { max_shrink_iters: 200, ..nomad_sim_core::testing::proptest_config(128) })]

    #[test]
    fn drains_scale_downs_and_failures_keep_nomads_rules(config in arb_config()) {
        let (sim, events) = run_checked(config.clone())?;
        // Every allocation ends in exactly one terminal state or is still live.
        let r = sim.report();
        let a = r.allocations;
        let live = sim.allocs().iter().filter(|(_, x)| x.ended_ms().is_none()).count() as u64;
        prop_assert_eq!(a.placed, a.completed + a.failed + a.stopped + a.lost + live);
        // With nothing left to run, nothing is live at the end.
        prop_assert_eq!(live, 0);
        // A terminated node holds nothing; a node that finished a drain stays ineligible.
        for n in sim.nodes() {
            if n.status == NodeStatus::Terminated {
                prop_assert!(n.allocs.is_empty());
            }
            // No drain waits on a condition that cannot change: when the run is over,
            // every drain has completed (or was disabled, or its node went away).
            prop_assert!(n.drain.is_none(), "{} still draining at the end", n.name);
        }
        // Scale-down with `empty` never loses work to a terminated node.
        let empty_only = config.operations.iter().all(|o| match &o.action {
            Action::ScaleDown { selector, .. } => matches!(selector, NodeSelector::Empty | NodeSelector::EmptyIgnoreSystem),
            Action::NodeFail { .. } => false,
            _ => true,
        });
        if empty_only {
            let lost = events.iter().filter(|(_, e)| matches!(e, TraceEvent::AllocLost { .. })).count();
            prop_assert_eq!(lost, 0);
        }
        // Same seed, same trace.
        let (_, again) = run_checked(config)?;
        prop_assert_eq!(events, again);
    }

    #[test]
    fn a_drain_without_deadline_stops_no_batch_work(mut config in arb_config()) {
        for op in &mut config.operations {
            if let Action::NodeDrain { spec, .. } = &mut op.action {
                spec.deadline = DrainDeadline::None;
            }
        }
        config.operations.retain(|o| matches!(o.action, Action::NodeDrain { .. }));
        let (_, events) = run_checked(config)?;
        for (t, e) in &events {
            if let TraceEvent::AllocStopped { reason, alloc, .. } = e {
                prop_assert_eq!(reason.as_str(), "migrate", "t={}: {} stopped", t, alloc);
            }
        }
    }
}

/// Drains with a deadline, from the trace: (node, deadline) pairs still open at each event.
fn deadline_overruns(events: &[(u64, TraceEvent)]) -> Vec<String> {
    let mut open: BTreeMap<String, u64> = BTreeMap::new();
    let mut out = Vec::new();
    let check = |t: u64, open: &BTreeMap<String, u64>, out: &mut Vec<String>| {
        for (node, d) in open {
            if t >= d + DEADLINE_COALESCE_WINDOW_MS {
                out.push(format!(
                    "t={t}: the drain of {node} is still open past its deadline {d}"
                ));
            }
        }
    };
    for (t, e) in events {
        check(*t, &open, &mut out);
        match e {
            TraceEvent::NodeDrainStarted { node, deadline_ms }
            | TraceEvent::NodeDrainUpdated { node, deadline_ms } => match deadline_ms {
                Some(d) => {
                    open.insert(node.clone(), *d);
                }
                None => {
                    open.remove(node);
                }
            },
            TraceEvent::NodeDrainComplete { node, .. }
            | TraceEvent::NodeDown { node }
            | TraceEvent::NodeDisconnected { node }
            | TraceEvent::NodeTerminated { node }
            | TraceEvent::NodeEligibility { node, .. } => {
                open.remove(node);
            }
            _ => {}
        }
    }
    if !open.is_empty() {
        out.push(format!("drains with deadlines never completed: {open:?}"));
    }
    out.dedup();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { max_shrink_iters: 200, ..nomad_sim_core::testing::proptest_config(32) })]

    /// A drain with a deadline completes by it (give or take the drainer's 5 s coalescing
    /// window), whatever else happens: updates, force, failures, latency.
    #[test]
    fn a_drain_with_a_deadline_always_completes_by_it(config in arb_config()) {
        let (_, events) = run_checked(config)?;
        let v = deadline_overruns(&events);
        prop_assert!(v.is_empty(), "{v:#?}");
    }

    /// Without a deadline, a drain completes as soon as its allocs are healthy elsewhere: the
    /// state check after every event (`drain_violations`) finds no service job that could
    /// migrate more allocs off draining nodes and does not, and no draining node left with
    /// nothing but system allocs.
    #[test]
    fn a_drain_without_deadline_moves_on_as_soon_as_replacements_are_healthy(mut config in arb_config()) {
        for op in &mut config.operations {
            if let Action::NodeDrain { spec, .. } = &mut op.action {
                spec.deadline = DrainDeadline::None;
            }
        }
        run_checked(config)?;
    }
}
