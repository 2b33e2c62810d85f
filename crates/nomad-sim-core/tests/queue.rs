//! The event queue pops exactly what a reference heap on (time, class, push order) pops, in
//! its small form, in radix form (with its in-order run), and across the switches between them.

use std::collections::BTreeSet;

use nomad_sim_core::ids::{AllocId, ArenaId, EvalId, NodeId};
use nomad_sim_core::queue::{EventKind, EventQueue};
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
    let delay = prop_oneof![Just(0u64), 0u64..4, 0u64..1_000, 0u64..(1u64 << 40)];
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
    let delay = prop_oneof![
        4 => Just(1_000u64),
        1 => Just(0u64),
        1 => 0u64..4,
        1 => 990u64..1_010,
    ];
    let step = (0u8..8, prop::collection::vec((delay, 0u8..5), 0..10))
        .prop_map(|(pops, pushes)| Step { pops, pushes });
    prop::collection::vec(step, 1..120)
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(256))]

    #[test]
    fn pops_in_time_class_push_order(steps in steps()) {
        check(&steps)?;
    }

    #[test]
    fn pops_in_order_when_most_pushes_come_in_key_order(steps in constant_run_times()) {
        check(&steps)?;
    }

    #[test]
    fn pops_in_order_across_the_switches_between_forms(steps in bursts()) {
        let most = steps.iter().map(|s| s.pushes.len()).sum::<usize>();
        prop_assume!(most > nomad_sim_core::queue::TO_RADIX);
        check(&steps)?;
    }
}

/// Runs the steps on the queue and on the reference and compares every pop.
fn check(steps: &[Step]) -> Result<(), TestCaseError> {
    {
        let mut q = EventQueue::new();
        // The reference: an ordered set of (time, class, push number).
        let mut reference: BTreeSet<(u64, u8, u32)> = BTreeSet::new();
        let mut now = 0u64;
        let mut n = 0u32;
        for step in steps {
            for _ in 0..step.pops {
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
                q.push(now + delay, event(class, n));
                reference.insert((now + delay, class, n));
                n += 1;
            }
            prop_assert_eq!(q.len(), reference.len());
            prop_assert_eq!(q.peek_time(), reference.first().map(|e| e.0));
        }
        while let Some((t, c, i)) = reference.pop_first() {
            prop_assert_eq!(q.pop(), Some((t, event(c, i))));
        }
        prop_assert!(q.is_empty());
    }
    Ok(())
}
