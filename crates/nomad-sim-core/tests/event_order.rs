//! The event queue's order, worked by hand: time, then class, then push order, including
//! events pushed for the current instant in an earlier class than the one being handled.

use nomad_sim_core::ids::{AllocId, ArenaId, EvalId, NodeId};
use nomad_sim_core::queue::{EventKind, EventQueue, MAX_EVENT_TIME};

fn end(n: u32) -> EventKind {
    EventKind::AllocEnd {
        alloc: AllocId::from_parts(n, 0),
        failed: false,
    }
}

fn arrival(n: u32) -> EventKind {
    EventKind::Arrival { workload: n }
}

fn drain_all(q: &mut EventQueue) -> Vec<(u64, EventKind)> {
    std::iter::from_fn(|| q.pop()).collect()
}

#[test]
fn the_last_representable_time_is_two_to_the_61_minus_one() {
    // Keys are time << 3 | class, so 61 bits are left for the time.
    assert_eq!(MAX_EVENT_TIME, (1u64 << 61) - 1);
    let mut q = EventQueue::new();
    q.push(MAX_EVENT_TIME, arrival(1));
    q.push(MAX_EVENT_TIME, end(1));
    q.push(MAX_EVENT_TIME - 1, arrival(2));
    assert_eq!(
        drain_all(&mut q),
        vec![
            (MAX_EVENT_TIME - 1, arrival(2)),
            (MAX_EVENT_TIME, end(1)),
            (MAX_EVENT_TIME, arrival(1)),
        ]
    );
}

#[test]
#[should_panic(expected = "past the queue's range")]
fn a_time_past_the_range_is_refused() {
    EventQueue::new().push(MAX_EVENT_TIME + 1, arrival(0));
}

#[test]
fn classes_run_in_their_order_at_one_instant() {
    let mut q = EventQueue::new();
    let kinds = [
        arrival(0),
        EventKind::DelayedEval {
            eval: EvalId::from_parts(0, 0),
        },
        EventKind::AutoscalerTick,
        EventKind::Operation { index: 0 },
        EventKind::MigrateCheck { node: NodeId(3) },
        EventKind::LifecycleTimeout { node: NodeId(2) },
        EventKind::NodeReady { node: NodeId(0) },
        end(0),
    ];
    for k in kinds {
        q.push(1_000, k);
    }
    assert_eq!(q.len(), 8);
    assert!(!q.is_empty());
    let popped: Vec<EventKind> = drain_all(&mut q).into_iter().map(|(_, k)| k).collect();
    assert_eq!(
        popped,
        vec![
            end(0),
            EventKind::MigrateCheck { node: NodeId(3) },
            EventKind::LifecycleTimeout { node: NodeId(2) },
            EventKind::NodeReady { node: NodeId(0) },
            EventKind::AutoscalerTick,
            EventKind::Operation { index: 0 },
            EventKind::DelayedEval {
                eval: EvalId::from_parts(0, 0),
            },
            arrival(0),
        ]
    );
    assert!(q.is_empty());
}

#[test]
fn times_far_apart_pop_in_order() {
    let mut q = EventQueue::new();
    let times = [
        7u64,
        1 << 40,
        3,
        (1 << 40) + 1,
        1 << 20,
        0,
        5_000,
        (1 << 20) - 1,
    ];
    for (i, &t) in times.iter().enumerate() {
        q.push(t, arrival(i as u32));
    }
    assert_eq!(q.len(), 8);
    assert_eq!(q.peek_time(), Some(0));
    let popped: Vec<u64> = drain_all(&mut q).into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        popped,
        vec![
            0,
            3,
            7,
            5_000,
            (1 << 20) - 1,
            1 << 20,
            1 << 40,
            (1 << 40) + 1
        ]
    );
    assert_eq!(q.len(), 0);
    assert!(q.is_empty());
    assert_eq!(q.peek_time(), None);
    assert_eq!(q.pop(), None);
}

#[test]
fn same_key_events_keep_push_order_across_pops() {
    let mut q = EventQueue::new();
    q.push(10, arrival(1));
    q.push(10, arrival(2));
    assert_eq!(q.pop(), Some((10, arrival(1))));
    // Pushed for the instant and class just popped: after the one already waiting.
    q.push(10, arrival(3));
    assert_eq!(q.len(), 2);
    assert_eq!(q.pop(), Some((10, arrival(2))));
    assert_eq!(q.pop(), Some((10, arrival(3))));
    assert!(q.is_empty());
}

#[test]
fn late_events_run_first_in_key_then_push_order() {
    let mut q = EventQueue::new();
    q.push(10, arrival(0));
    q.push(10, arrival(1));
    q.push(20, end(100));
    assert_eq!(q.pop(), Some((10, arrival(0))));
    // While the arrival at 10 is handled, eight allocs end at 10 and a node becomes ready
    // at 10: earlier classes than the arrival, so they run before the next arrival, ends
    // first, each class in push order.
    q.push(10, EventKind::NodeReady { node: NodeId(7) });
    for n in 0..8 {
        q.push(10, end(n));
    }
    q.push(10, EventKind::NodeReady { node: NodeId(8) });
    assert_eq!(q.len(), 12);
    assert_eq!(q.peek_time(), Some(10));
    let mut want = vec![];
    for n in 0..8 {
        want.push((10, end(n)));
    }
    want.push((10, EventKind::NodeReady { node: NodeId(7) }));
    want.push((10, EventKind::NodeReady { node: NodeId(8) }));
    let mut got = vec![];
    for left in (2..12).rev() {
        got.push(q.pop().expect("an event"));
        assert_eq!(q.len(), left);
    }
    assert_eq!(got, want);
    assert_eq!(q.peek_time(), Some(10));
    assert_eq!(q.pop(), Some((10, arrival(1))));
    assert_eq!(q.peek_time(), Some(20));
    assert_eq!(q.pop(), Some((20, end(100))));
    assert!(q.is_empty());
}

#[test]
fn many_late_events_of_one_key_keep_push_order() {
    let mut q = EventQueue::new();
    assert!(q.is_empty());
    q.push(5, arrival(0));
    assert!(!q.is_empty());
    assert_eq!(q.pop(), Some((5, arrival(0))));
    for n in 0..40 {
        q.push(5, end(n));
    }
    let popped = drain_all(&mut q);
    let want: Vec<_> = (0..40).map(|n| (5, end(n))).collect();
    assert_eq!(popped, want);
}
