//! Node failure detected by missed heartbeats, and the disconnect block (issue 12).

use nomad_sim_core::config::{
    Action, Arrivals, DisconnectPolicy, DurationDist, JobType, Operation, SimConfig, WorkloadConfig,
};
use nomad_sim_core::ids::{AllocId, NodeId};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::model::NodeStatus;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS, SECOND_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

fn job(name: &str, at_ms: u64, duration_ms: u64) -> WorkloadConfig {
    batch_workload(
        name,
        Arrivals::At(vec![at_ms]),
        Resources::new(1000, 1000, 0),
        DurationDist::Constant(duration_ms),
    )
}

fn cluster(workloads: Vec<WorkloadConfig>, seed: u64) -> SimConfig {
    let mut c = config(
        seed,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000), pool("b", 0, 4000, 4000)],
        workloads,
    );
    c.operations = vec![
        Operation {
            at_ms: 5 * MINUTE_MS,
            action: Action::ScaleUp {
                pool: "b".to_string(),
                count: 1,
            },
        },
        Operation {
            at_ms: 10 * MINUTE_MS,
            action: Action::NodeFail {
                nodes: vec!["a-0".to_string()],
            },
        },
    ];
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

fn when(events: &[(u64, TraceEvent)], f: impl Fn(&TraceEvent) -> bool) -> Vec<u64> {
    events
        .iter()
        .filter(|(_, e)| f(e))
        .map(|(t, _)| *t)
        .collect()
}

#[test]
fn a_client_that_stops_heartbeating_is_down_after_its_ttl_and_grace() {
    // a-0 stops heartbeating at 10m. The server gives a 2-node cluster the minimum TTL (10s)
    // plus a stagger of up to one TTL, and waits a 10s grace: the node goes down between
    // 10m10s and 10m30s. Until then the server thinks it is ready: `late`, submitted at
    // 10m1s, is placed there (binpack prefers the busier node) and lost with it; `long`
    // would have completed at 10m5s, but its client cannot say so: it is lost too.
    for seed in 1..20 {
        let c = cluster(
            vec![
                job("long", 0, 10 * MINUTE_MS + 5 * SECOND_MS),
                job("late", 10 * MINUTE_MS + SECOND_MS, 10 * MINUTE_MS),
            ],
            seed,
        );
        let (sim, events) = run(c);
        let down = when(&events, |e| matches!(e, TraceEvent::NodeDown { .. }));
        assert_eq!(down.len(), 1);
        let t = down[0];
        assert!(
            (10 * MINUTE_MS + 10 * SECOND_MS..=10 * MINUTE_MS + 30 * SECOND_MS).contains(&t),
            "{t}"
        );
        let lost = when(&events, |e| matches!(e, TraceEvent::AllocLost { .. }));
        assert_eq!(lost, vec![t, t]);
        let placed: Vec<(u64, String, String)> = events
            .iter()
            .filter_map(|(t, e)| match e {
                TraceEvent::AllocPlaced { job, node, .. } => Some((*t, job.clone(), node.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            placed,
            vec![
                (0, "long-0".to_string(), "a-0".to_string()),
                (
                    10 * MINUTE_MS + SECOND_MS,
                    "late-0".to_string(),
                    "a-0".to_string()
                ),
                (t, "long-0".to_string(), "b-0".to_string()),
                (t, "late-0".to_string(), "b-0".to_string()),
            ]
        );
        let r = sim.report();
        assert_eq!((r.allocations.lost, r.allocations.completed), (2, 2));
        // Both lost runs are wasted, from their placement: long's from 0, late's from 10m1s.
        assert_eq!(
            r.wasted_alloc_s,
            (2 * t - (10 * MINUTE_MS + SECOND_MS)) as f64 / 1000.0
        );
    }
}

fn web(disconnect: Option<DisconnectPolicy>) -> WorkloadConfig {
    let mut w = job("web", 0, 2 * HOUR_MS);
    w.job_type = JobType::Service;
    w.disconnect = disconnect;
    w
}

#[test]
fn with_lost_after_the_allocs_are_unknown_then_lost() {
    // lost_after 5m, replace: the node is disconnected when its heartbeat expires, web's
    // alloc is unknown and replaced at once; 5m later it is lost and the node down.
    let c = cluster(
        vec![web(Some(DisconnectPolicy {
            lost_after_ms: 5 * MINUTE_MS,
            replace: true,
        }))],
        3,
    );
    let (sim, events) = run(c);
    let disconnected = when(&events, |e| {
        matches!(e, TraceEvent::NodeDisconnected { .. })
    });
    assert_eq!(disconnected.len(), 1);
    let t = disconnected[0];
    assert_eq!(
        when(&events, |e| matches!(e, TraceEvent::AllocUnknown { .. })),
        vec![t]
    );
    let placed = when(&events, |e| matches!(e, TraceEvent::AllocPlaced { .. }));
    assert_eq!(placed, vec![0, t]);
    assert_eq!(
        when(&events, |e| matches!(e, TraceEvent::AllocLost { .. })),
        vec![t + 5 * MINUTE_MS]
    );
    assert_eq!(
        when(&events, |e| matches!(e, TraceEvent::NodeDown { .. })),
        vec![t + 5 * MINUTE_MS]
    );
    assert_eq!(sim.nodes()[0].status, NodeStatus::Down);
    // Only the replacement ran to the end.
    assert_eq!(sim.report().allocations.completed, 1);
    // The disconnected node stopped counting as a live node (and costing node-hours) at
    // the disconnect: a-0 lived from 0 to t, b-0 is still live.
    assert_eq!(sim.live_nodes_by_pool(), &[0, 1]);
    assert_eq!(sim.node_hours_by_pool()[0], t as f64 / HOUR_MS as f64);
}

#[test]
fn a_disconnect_block_with_lost_after_zero_loses_the_allocs_at_once() {
    // Nomad's `lost_after` defaults to none, "equivalent to having the disconnect block be
    // nil": the allocs are lost when the heartbeat expires. The node goes down, never
    // disconnected, and no alloc is ever unknown.
    let c = cluster(
        vec![web(Some(DisconnectPolicy {
            lost_after_ms: 0,
            replace: true,
        }))],
        3,
    );
    let (_, events) = run(c);
    let down = when(&events, |e| matches!(e, TraceEvent::NodeDown { .. }));
    assert_eq!(down.len(), 1);
    let t = down[0];
    assert!(
        (10 * MINUTE_MS + 10 * SECOND_MS..=10 * MINUTE_MS + 30 * SECOND_MS).contains(&t),
        "{t}"
    );
    assert_eq!(
        when(&events, |e| matches!(
            e,
            TraceEvent::NodeDisconnected { .. } | TraceEvent::AllocUnknown { .. }
        )),
        Vec::<u64>::new()
    );
    assert_eq!(
        when(&events, |e| matches!(e, TraceEvent::AllocLost { .. })),
        vec![t]
    );
    assert_eq!(
        when(&events, |e| matches!(e, TraceEvent::AllocPlaced { .. })),
        vec![0, t]
    );
}

#[test]
fn without_replace_the_replacement_waits_until_the_alloc_is_lost() {
    let c = cluster(
        vec![web(Some(DisconnectPolicy {
            lost_after_ms: 5 * MINUTE_MS,
            replace: false,
        }))],
        3,
    );
    let (_, events) = run(c);
    let t = when(&events, |e| {
        matches!(e, TraceEvent::NodeDisconnected { .. })
    })[0];
    let placed = when(&events, |e| matches!(e, TraceEvent::AllocPlaced { .. }));
    assert_eq!(placed, vec![0, t + 5 * MINUTE_MS]);
}

#[test]
fn detection_follows_the_cluster_size() {
    // 1000 clients: the TTL is 1000 / 50 per second = 20s (plus up to 20s stagger), grace 10s.
    let mut c = config(
        9,
        HOUR_MS,
        vec![pool("a", 1000, 4000, 4000)],
        vec![job("x", 0, 2 * HOUR_MS)],
    );
    c.operations = vec![Operation {
        at_ms: 10 * MINUTE_MS,
        action: Action::NodeFail {
            nodes: (0..1000).map(|i| format!("a-{i}")).take(3).collect(),
        },
    }];
    let (_, events) = run(c);
    let down = when(&events, |e| matches!(e, TraceEvent::NodeDown { .. }));
    assert_eq!(down.len(), 3);
    for t in down {
        assert!(
            (10 * MINUTE_MS + 10 * SECOND_MS..=10 * MINUTE_MS + 50 * SECOND_MS).contains(&t),
            "{t}"
        );
    }
}

/// 50 nodes of pool `a` stop heartbeating at 20m with `max_heartbeats_per_second` as given:
/// how long after that each went down, in ms.
fn silent_at_20m(max_heartbeats_per_second: u32) -> Vec<u64> {
    let mut c = config(3, HOUR_MS, vec![pool("a", 50, 4000, 4000)], vec![]);
    c.heartbeat.max_heartbeats_per_second = max_heartbeats_per_second;
    c.operations = vec![Operation {
        at_ms: 20 * MINUTE_MS,
        action: Action::NodeFail {
            nodes: (0..50).map(|i| format!("a-{i}")).collect(),
        },
    }];
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run();
    let downs: Vec<u64> = sink
        .events()
        .iter()
        .filter(|(_, e)| matches!(e, TraceEvent::NodeDown { .. }))
        .map(|(t, _)| t - 20 * MINUTE_MS)
        .collect();
    assert_eq!(downs.len(), 50);
    downs
}

#[test]
fn a_silent_nodes_heartbeat_expires_within_its_staggered_ttl_plus_grace() {
    // With 50 nodes at Nomad's default 50 heartbeats/s the base TTL is Nomad's minimum, 10 s;
    // each node's TTL adds a stagger drawn from [0, 10 s), its last heartbeat fell anywhere in
    // its TTL, and the server adds a 10 s grace: each node goes down between 10 s and 30 s
    // after it went silent, and over 50 nodes some go down more than 20 s after (the chance
    // that none does is about 0.7^50).
    let downs = silent_at_20m(50);
    assert!(
        downs
            .iter()
            .all(|&d| d > 10 * SECOND_MS && d < 30 * SECOND_MS),
        "{downs:?}"
    );
    assert!(downs.iter().any(|&d| d > 20 * SECOND_MS), "{downs:?}");
}

#[test]
fn the_base_ttl_grows_with_the_ready_nodes() {
    // Nomad's base TTL is max(min_heartbeat_ttl, ready nodes / max_heartbeats_per_second):
    // 50 ready nodes at 1 heartbeat/s give 50 s, so each TTL is in [50 s, 100 s) and a node
    // goes down between 10 s and 110 s after it went silent; over 50 nodes some take more
    // than 30 s, the most a 10 s base would allow.
    let downs = silent_at_20m(1);
    assert!(
        downs
            .iter()
            .all(|&d| d > 10 * SECOND_MS && d < 110 * SECOND_MS),
        "{downs:?}"
    );
    assert!(downs.iter().any(|&d| d > 30 * SECOND_MS), "{downs:?}");
}

#[test]
fn a_client_that_fails_at_the_start_is_down_a_ttl_plus_grace_later() {
    // a-0 stops heartbeating at 0, the instant it registered: its last heartbeat is that
    // registration, so the server's timer runs a whole TTL (the 10 s minimum plus a stagger
    // of up to 10 s) plus the 10 s grace: down between 20 s and 30 s.
    for seed in 1..10 {
        let mut c = config(
            seed,
            HOUR_MS,
            vec![pool("a", 2, 4000, 4000)],
            vec![job("x", 0, 10 * MINUTE_MS)],
        );
        c.operations = vec![Operation {
            at_ms: 0,
            action: Action::NodeFail {
                nodes: vec!["a-0".to_string()],
            },
        }];
        let (_, events) = run(c);
        let down = when(&events, |e| matches!(e, TraceEvent::NodeDown { .. }));
        assert_eq!(down.len(), 1);
        assert!(
            (20 * SECOND_MS..30 * SECOND_MS).contains(&down[0]),
            "{down:?}"
        );
    }
}

#[test]
fn allocs_on_other_nodes_still_report_while_a_client_is_silent() {
    // a-0 stops heartbeating at 10m and is detected between 10m10s and 10m30s. `other`
    // runs on b-0 (node pool b) and ends at 10m5s, while a-0 is silent: b-0's own client
    // reports it complete then.
    let mut long = job("long", 0, 2 * HOUR_MS);
    long.node_pool = Some("a".to_string());
    let mut other = job("other", 0, 10 * MINUTE_MS + 5 * SECOND_MS);
    other.node_pool = Some("b".to_string());
    // Each group is in the Nomad node pool of its own name.
    let in_pool = |name: &str| {
        let mut p = pool(name, 1, 4000, 4000);
        p.node_pool = name.to_string();
        p
    };
    let mut c = config(
        4,
        HOUR_MS,
        vec![in_pool("a"), in_pool("b")],
        vec![long, other],
    );
    c.operations = vec![Operation {
        at_ms: 10 * MINUTE_MS,
        action: Action::NodeFail {
            nodes: vec!["a-0".to_string()],
        },
    }];
    let (_, events) = run(c);
    let completed: Vec<(u64, String)> = events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocCompleted { job, node, .. } if node == "b-0" => {
                Some((*t, job.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        completed,
        vec![(10 * MINUTE_MS + 5 * SECOND_MS, "other-0".to_string())]
    );
}

#[test]
fn an_unknown_alloc_cannot_report_its_end() {
    // web (lost_after 5m, replace) would end at 11m. Its node goes silent at 10m and is
    // disconnected between 10m10s and 10m30s, so at 11m the alloc is unknown: its client
    // cannot report, and the alloc is lost 5m after the disconnect, never complete. Its
    // replacement, placed on b-0 at the disconnect, runs its 11m there.
    let mut w = web(Some(DisconnectPolicy {
        lost_after_ms: 5 * MINUTE_MS,
        replace: true,
    }));
    w.duration = DurationDist::Constant(11 * MINUTE_MS);
    let (sim, events) = run(cluster(vec![w], 3));
    let t = when(&events, |e| {
        matches!(e, TraceEvent::NodeDisconnected { .. })
    })[0];
    assert_eq!(
        when(&events, |e| matches!(e, TraceEvent::AllocLost { .. })),
        vec![t + 5 * MINUTE_MS]
    );
    assert_eq!(
        when(&events, |e| matches!(e, TraceEvent::AllocCompleted { .. })),
        vec![t + 11 * MINUTE_MS]
    );
    let r = sim.report();
    assert_eq!((r.allocations.lost, r.allocations.completed), (1, 1));
}

#[test]
fn a_disconnected_node_and_its_unknown_alloc_read_as_such_until_the_alloc_is_lost() {
    let policy = Some(DisconnectPolicy {
        lost_after_ms: 5 * MINUTE_MS,
        replace: true,
    });
    let (_, events) = run(cluster(vec![web(policy)], 3));
    let t = when(&events, |e| {
        matches!(e, TraceEvent::NodeDisconnected { .. })
    })[0];
    // Again, stopped 1m after the disconnect: a-0 is disconnected and the original alloc
    // (the first placed) unknown; b-0 and the replacement on it are not.
    let mut sim = Simulation::new(cluster(vec![web(policy)], 3));
    sim.run_until(t + MINUTE_MS);
    let (a0, b0) = (NodeId(0), NodeId(1));
    let allocs: Vec<AllocId> = sim.allocs().iter().map(|(id, _)| *id).collect();
    assert_eq!(allocs.len(), 2);
    let (original, replacement) = (allocs[0], allocs[1]);
    assert_eq!(sim.alloc(original).unwrap().node, a0);
    assert_eq!(sim.alloc(replacement).unwrap().node, b0);
    assert!(sim.node_is_disconnected(a0));
    assert!(!sim.node_is_disconnected(b0));
    assert!(sim.alloc_is_unknown(original));
    assert!(!sim.alloc_is_unknown(replacement));
    // At t + 5m the alloc is lost and the node down: neither reads as before.
    sim.run_until(t + 5 * MINUTE_MS);
    assert!(!sim.node_is_disconnected(a0));
    assert!(!sim.alloc_is_unknown(original));
}
