//! The radix-heap event queue pops exactly what a reference heap on (time, class, push order) pops.

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
    let delay = prop_oneof![Just(0u64), 0u64..4, 0u64..1_000, 0u64..(1u64 << 40)];
    let step = (0u8..4, prop::collection::vec((delay, 0u8..5), 0..6))
        .prop_map(|(pops, pushes)| Step { pops, pushes });
    prop::collection::vec(step, 1..60)
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(256))]

    #[test]
    fn pops_in_time_class_push_order(steps in steps()) {
        let mut q = EventQueue::new();
        // The reference: an ordered set of (time, class, push number).
        let mut reference: BTreeSet<(u64, u8, u32)> = BTreeSet::new();
        let mut now = 0u64;
        let mut n = 0u32;
        for step in &steps {
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
}
