//! The event queue pops exactly what a reference heap on (time, class, push order) pops, in
//! its small form, in radix form (with its in-order run), and across the switches between them;
//! what it peeks as the next two events is what it pops.

use std::collections::BTreeSet;

use nomad_sim_core::ids::{AllocId, ArenaId, EvalId, NodeId};
use nomad_sim_core::queue::{EventKind, EventQueue, MAX_EVENT_TIME};
use proptest::prelude::*;

/// An event of each class, tagged with `n` so every push is distinguishable.
fn event(class: u8, n: u32) -> EventKind {
    match class % 5 {
        0 => EventKind::AllocEnd {
            alloc: AllocId::from_parts(n, 0),
            failed: false,
        },
        1 => EventKind::NodeReady { node: NodeId(n) },
        2 => EventKind::Operation { index: n },
        3 => EventKind::DelayedEval {
            eval: EvalId::from_parts(n, 0),
        },
        _ => EventKind::Arrival { workload: n },
    }
}

/// One step of a simulation-like use: pop a few events, then push events at or after the
/// last popped time (some at that very time, in any class, as the engine may).
#[derive(Clone, Debug)]
struct Step {
    pops: u8,
    pushes: Vec<(u64, u8)>,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    steps_of(4, 6, 60)
}

/// Steps of up to `pops - 1` pops and `pushes - 1` pushes.
fn steps_of(pops: u8, pushes: usize, steps: usize) -> impl Strategy<Value = Vec<Step>> {
    // Delays of every size, since the radix heap's buckets are named by 8-bit digits: up to
    // the queue's whole range (a push past it is held at its last time; see `check`).
    let delay = prop_oneof![
        Just(0u64),
        0u64..4,
        0u64..1_000,
        0u64..(1u64 << 40),
        0u64..(1u64 << 52),
        0u64..=MAX_EVENT_TIME
    ];
    let step = (0u8..pops, prop::collection::vec((delay, 0u8..5), 0..pushes))
        .prop_map(|(pops, pushes)| Step { pops, pushes });
    prop::collection::vec(step, 1..steps)
}

/// Bursts of pushes then of pops: the queue grows past `TO_RADIX` and shrinks below
/// `TO_SMALL`, again and again.
fn bursts() -> impl Strategy<Value = Vec<Step>> {
    let grow = steps_of(2, 40, 12);
    let shrink = steps_of(60, 2, 12);
    prop::collection::vec((grow, shrink), 1..4).prop_map(|phases| {
        phases
            .into_iter()
            .flat_map(|(g, s)| g.into_iter().chain(s))
            .collect()
    })
}

/// Mostly pushes a fixed time ahead, as allocations of a constant run time end, mixed with
/// same-time and near pushes: the run takes the in-order keys and the radix heap the rest,
/// with many equal keys between them.
fn constant_run_times() -> impl Strategy<Value = Vec<Step>> {
    run_times(5, 8, 10)
}

/// [`constant_run_times`] with events of `classes` classes only, up to `pops - 1` pops and
/// `pushes - 1` pushes a step: with two classes and more pushes than pops, the queue is soon
/// in radix form, where the run and the heap often hold equal keys at once.
fn run_times(classes: u8, pops: u8, pushes: usize) -> impl Strategy<Value = Vec<Step>> {
    let delay = prop_oneof![
        4 => Just(1_000u64),
        1 => Just(0u64),
        1 => 0u64..4,
        1 => 990u64..1_010,
    ];
    let step = (
        0u8..pops,
        prop::collection::vec((delay, 0u8..classes), 0..pushes),
    )
        .prop_map(|(pops, pushes)| Step { pops, pushes });
    prop::collection::vec(step, 1..120)
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(256))]

    #[test]
    fn pops_in_time_class_push_order(steps in steps()) {
        check(&steps, false)?;
        check(&steps, true)?;
    }

    #[test]
    fn pops_in_order_when_most_pushes_come_in_key_order(steps in constant_run_times()) {
        check(&steps, false)?;
        check(&steps, true)?;
    }

    #[test]
    fn pops_in_order_when_the_run_and_the_heap_share_keys(steps in run_times(2, 6, 14)) {
        check(&steps, false)?;
        check(&steps, true)?;
    }

    #[test]
    fn pops_in_order_across_the_switches_between_forms(steps in bursts()) {
        let most = steps.iter().map(|s| s.pushes.len()).sum::<usize>();
        prop_assume!(most > nomad_sim_core::queue::TO_RADIX);
        check(&steps, false)?;
        check(&steps, true)?;
    }
}

/// Runs the steps on the queue and on the reference and compares every pop; with `peek`,
/// compares [`EventQueue::peek_two`] with the reference's next two before every pop (a peek
/// may refill the radix heap early, so the queue is checked with and without).
fn check(steps: &[Step], peek: bool) -> Result<(), TestCaseError> {
    {
        let mut q = EventQueue::new();
        // The reference: an ordered set of (time, class, push number).
        let mut reference: BTreeSet<(u64, u8, u32)> = BTreeSet::new();
        let mut now = 0u64;
        let mut n = 0u32;
        for step in steps {
            for _ in 0..step.pops {
                if peek {
                    check_peek(&mut q, &reference)?;
                }
                let expected = reference.pop_first();
                let got = q.pop();
                match (expected, got) {
                    (None, None) => {}
                    (Some((t, c, i)), Some((gt, kind))) => {
                        prop_assert_eq!(gt, t);
                        prop_assert_eq!(kind, event(c, i));
                        now = t;
                    }
                    (e, g) => prop_assert!(false, "reference {:?}, queue {:?}", e, g),
                }
            }
            for &(delay, class) in &step.pushes {
                let t = now.saturating_add(delay).min(MAX_EVENT_TIME);
                q.push(t, event(class, n));
                reference.insert((t, class, n));
                n += 1;
            }
            prop_assert_eq!(q.len(), reference.len());
            prop_assert_eq!(q.peek_time(), reference.first().map(|e| e.0));
        }
        while !reference.is_empty() {
            if peek {
                check_peek(&mut q, &reference)?;
            }
            let (t, c, i) = reference.pop_first().expect("not empty");
            prop_assert_eq!(q.pop(), Some((t, event(c, i))));
        }
        prop_assert!(q.is_empty());
    }
    Ok(())
}

/// The queue's next event is the reference's, and so is the one after it when the queue
/// names it.
fn check_peek(
    q: &mut EventQueue,
    reference: &BTreeSet<(u64, u8, u32)>,
) -> Result<(), TestCaseError> {
    let (next, after) = q.peek_two();
    let mut upcoming = reference.iter().map(|&(_, c, i)| event(c, i));
    prop_assert_eq!(next, upcoming.next());
    if after.is_some() {
        prop_assert_eq!(after, upcoming.next());
    }
    Ok(())
}

/// Times across the whole range, up to the last the queue takes, fill every digit of the
/// radix heap's buckets and come back in order.
#[test]
fn times_across_the_whole_range_pop_in_order() {
    let mut times: Vec<u64> = (0..600u64)
        .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 3) >> (i % 61))
        .collect();
    times.extend([
        0,
        1,
        MAX_EVENT_TIME,
        MAX_EVENT_TIME,
        MAX_EVENT_TIME - 1,
        1 << 53,
    ]);
    let mut q = EventQueue::new();
    for (n, &t) in times.iter().enumerate() {
        assert!(t <= MAX_EVENT_TIME);
        q.push(t, event((n % 5) as u8, n as u32));
    }
    let mut want: Vec<(u64, u8, u32)> = times
        .iter()
        .enumerate()
        .map(|(n, &t)| (t, (n % 5) as u8, n as u32))
        .collect();
    want.sort_unstable();
    for (t, c, n) in want {
        assert_eq!(q.pop(), Some((t, event(c, n))));
    }
    assert!(q.is_empty());
}

/// The event after next is known without a search where the engine needs it: in the small
/// form, among equal keys, in the run, and in a small lowest bucket of the radix heap.
#[test]
fn peek_two_knows_the_event_after_next() {
    let alloc = |n: u32| event(0, n);
    let arrival = |n: u32| event(4, n);
    // The small form.
    let mut q = EventQueue::new();
    q.push(20, alloc(1));
    q.push(10, alloc(2));
    assert_eq!(q.peek_two(), (Some(alloc(2)), Some(alloc(1))));

    // The radix heap, events at scattered times pushed out of order: after each pop, the
    // next two are known from the front or from a small lowest bucket.
    let mut q = EventQueue::new();
    let times: Vec<u64> = (0..400u64).map(|i| (i * 7_919) % 4_001).collect();
    for (n, &t) in times.iter().enumerate() {
        q.push(t, arrival(n as u32));
    }
    let mut sorted: Vec<(u64, u32)> = times
        .iter()
        .enumerate()
        .map(|(n, &t)| (t, n as u32))
        .collect();
    sorted.sort();
    let mut known = 0;
    for (k, &(t, n)) in sorted.iter().enumerate() {
        let (next, after) = q.peek_two();
        assert_eq!(next, Some(arrival(n)));
        if let Some(after) = after {
            assert_eq!(Some(after), sorted.get(k + 1).map(|&(_, n)| arrival(n)));
            known += 1;
        }
        assert_eq!(q.pop(), Some((t, arrival(n))));
    }
    assert!(
        known > 300,
        "the event after next was known {known} times of 400"
    );

    // The run: allocs ending a fixed time after each push, in key order. The first 200 go
    // to the radix heap (the queue switches form with them); those pushed after, to the run.
    let mut q = EventQueue::new();
    for n in 0..200u32 {
        q.push(1_000 + u64::from(n), alloc(n));
    }
    for n in 0..400u32 {
        let after = (n + 1 < 400).then(|| alloc(n + 1));
        let (next, peeked_after) = q.peek_two();
        assert_eq!(next, Some(alloc(n)));
        if n >= 200 || peeked_after.is_some() {
            assert_eq!(peeked_after, after, "at pop {n}");
        }
        let (t, _) = q.pop().expect("an event");
        if n < 200 {
            q.push(t + 5_000, alloc(200 + n));
        }
    }
}
