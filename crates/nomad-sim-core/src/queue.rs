//! The event queue: a min-heap on (time, class, insertion order), so same-time events run in a written order.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::ids::{AllocId, NodeId};
use crate::time::SimTime;

/// Event classes, in the order same-time events run. Placements run after all of them
/// (the eval broker drains once every event at a time has been handled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventClass {
    /// Allocations finishing or failing: capacity is freed first.
    AllocEnd = 0,
    /// Node lifecycle: boot complete, drain deadlines, lifecycle-hook timeouts, migration health.
    NodeLifecycle = 1,
    /// Operator actions from the scenario's timeline.
    Operation = 2,
    /// Evals whose reschedule delay has passed.
    DelayedEval = 3,
    /// Workload arrivals (job registrations).
    Arrival = 4,
}

/// What happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// An allocation's task exits (successfully unless `failed`).
    AllocEnd {
        /// The allocation.
        alloc: AllocId,
        /// True when the task fails.
        failed: bool,
    },
    /// A booting node becomes ready.
    NodeReady {
        /// The node.
        node: NodeId,
    },
    /// A drain's deadline passes.
    DrainDeadline {
        /// The node.
        node: NodeId,
        /// The drain record, to ignore deadlines of drains that already ended.
        record: u32,
    },
    /// A lifecycle hook's heartbeat timeout passes: the instance is terminated.
    LifecycleTimeout {
        /// The node.
        node: NodeId,
    },
    /// A migrated service alloc's replacement may now be healthy: drain the next batch.
    MigrateCheck {
        /// The draining node.
        node: NodeId,
    },
    /// Operation number `index` of the timeline.
    Operation {
        /// Index into the configuration's operations.
        index: u32,
    },
    /// An eval that waited for a reschedule delay enters the broker.
    DelayedEval {
        /// The eval.
        eval: u32,
    },
    /// The autoscaler evaluates its policy.
    AutoscalerTick,
    /// The next arrival of workload `workload`.
    Arrival {
        /// Index into the configuration's workloads.
        workload: u32,
    },
}

impl EventKind {
    /// The class that orders this event among same-time events.
    pub fn class(&self) -> EventClass {
        match self {
            EventKind::AllocEnd { .. } => EventClass::AllocEnd,
            EventKind::NodeReady { .. }
            | EventKind::DrainDeadline { .. }
            | EventKind::LifecycleTimeout { .. }
            | EventKind::MigrateCheck { .. } => EventClass::NodeLifecycle,
            EventKind::Operation { .. } | EventKind::AutoscalerTick => EventClass::Operation,
            EventKind::DelayedEval { .. } => EventClass::DelayedEval,
            EventKind::Arrival { .. } => EventClass::Arrival,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    time: SimTime,
    class: EventClass,
    seq: u64,
    kind: EventKind,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest first.
        (other.time, other.class, other.seq).cmp(&(self.time, self.class, self.seq))
    }
}

/// A priority queue of events: earliest time first, then class, then insertion order.
#[derive(Clone, Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Entry>,
    next_seq: u64,
}

impl EventQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `kind` at `time`.
    pub fn push(&mut self, time: SimTime, kind: EventKind) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry {
            time,
            class: kind.class(),
            seq,
            kind,
        });
    }

    /// The time of the next event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    /// Removes and returns the next event.
    pub fn pop(&mut self) -> Option<(SimTime, EventKind)> {
        self.heap.pop().map(|e| (e.time, e.kind))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_time_events_run_by_class_then_insertion() {
        let mut q = EventQueue::new();
        q.push(10, EventKind::Arrival { workload: 0 });
        q.push(10, EventKind::Operation { index: 0 });
        q.push(
            10,
            EventKind::AllocEnd {
                alloc: AllocId(1),
                failed: false,
            },
        );
        q.push(5, EventKind::Arrival { workload: 1 });
        q.push(
            10,
            EventKind::AllocEnd {
                alloc: AllocId(2),
                failed: false,
            },
        );
        q.push(10, EventKind::NodeReady { node: NodeId(0) });
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (5, EventKind::Arrival { workload: 1 }),
                (
                    10,
                    EventKind::AllocEnd {
                        alloc: AllocId(1),
                        failed: false
                    }
                ),
                (
                    10,
                    EventKind::AllocEnd {
                        alloc: AllocId(2),
                        failed: false
                    }
                ),
                (10, EventKind::NodeReady { node: NodeId(0) }),
                (10, EventKind::Operation { index: 0 }),
                (10, EventKind::Arrival { workload: 0 }),
            ]
        );
    }
}
