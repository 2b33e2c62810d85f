//! Timers of the drainer, the clients and the server's workers, run in time order.
//!
//! Each timer is kept here with its time and a sequence number, and one wake-up event per timer
//! goes on the engine's queue (the `MigrateCheck` event kind, in the node-lifecycle class). A
//! wake-up runs the earliest timer due, so timers that fall at the same instant run in the
//! order they were set, among the other node-lifecycle events by insertion. Timers are never
//! cancelled: each one checks on arrival that what it was set for still holds.

#[allow(unused_imports)]
use crate::prelude::*;

/// What a timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// An alloc's task starts running (after its image pull, or a restart's delay).
    TaskStart {
        /// The alloc.
        alloc: AllocId,
        /// The run it was set for.
        run: u32,
    },
    /// An alloc's task has run `min_healthy_time`: it is healthy if it is still that run.
    Healthy {
        /// The alloc.
        alloc: AllocId,
        /// The run it was set for.
        run: u32,
    },
    /// The drainer's deadline heap fires.
    DrainDeadlines,
    /// The server's heartbeat timer for a silent client expires.
    HeartbeatExpired {
        /// The node.
        node: NodeId,
    },
    /// An unknown alloc's `lost_after` passed.
    LostAfter {
        /// The alloc.
        alloc: AllocId,
    },
    /// A scheduler worker's plan was applied.
    EvalDone {
        /// The eval.
        eval: EvalId,
        /// True when it was woken from the blocked evals.
        from_bucket: bool,
    },
    /// An alloc's `healthy_deadline` passed: unhealthy unless already healthy.
    HealthDeadline {
        /// The alloc.
        alloc: AllocId,
    },
}

/// The pending timers, earliest first, ties in the order they were set.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(SimTime, u64, Timer)>>,
    seq: u64,
}

impl Simulation {
    /// Sets `timer` to fire at `at` (or now, if `at` has passed).
    pub(crate) fn set_timer(&mut self, at: SimTime, timer: Timer) {
        let at = at.max(self.now);
        let t = &mut self.ops.timers;
        t.heap.push(Reverse((at, t.seq, timer)));
        t.seq += 1;
        self.queue
            .push(at, EventKind::MigrateCheck { node: NodeId(0) });
    }

    /// A wake-up event: runs the earliest timer due.
    pub(crate) fn on_timer_wake(&mut self) {
        let Some(&Reverse((at, _, timer))) = self.ops.timers.heap.peek() else {
            return;
        };
        debug_assert!(at <= self.now, "a wake-up comes at or after its timer");
        if at > self.now {
            return;
        }
        self.ops.timers.heap.pop();
        match timer {
            Timer::DrainDeadlines => self.on_deadlines_timer(),
            Timer::HeartbeatExpired { node } => self.on_heartbeat_expired(node),
            Timer::LostAfter { alloc } => self.on_lost_after(alloc),
            Timer::EvalDone { eval, from_bucket } => self.on_eval_done(eval, from_bucket),
            Timer::TaskStart { alloc, run } => self.on_task_start_timer(alloc, run),
            Timer::Healthy { alloc, run } => self.on_healthy_timer(alloc, run),
            Timer::HealthDeadline { alloc } => self.on_health_deadline_timer(alloc),
        }
    }
}
