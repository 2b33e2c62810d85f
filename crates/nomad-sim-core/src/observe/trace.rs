//! Trace events: what happened, when, in the contract's names. The core hands them to a sink.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Serialize;

use crate::placement::AllocMetric;
use crate::time::SimTime;

/// Receives trace events in simulated-time order. The CLI writes them as JSON lines.
pub trait TraceSink {
    /// Records one event at `t_ms`.
    fn record(&mut self, t_ms: SimTime, event: &TraceEvent);
}

/// A sink that keeps every event in memory; clones share the same buffer, so a test can hand
/// one clone to the simulation and read the events through another.
#[derive(Clone, Debug, Default)]
pub struct SharedSink(pub Rc<RefCell<Vec<(SimTime, TraceEvent)>>>);

impl SharedSink {
    /// A new, empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the events recorded so far.
    pub fn events(&self) -> Vec<(SimTime, TraceEvent)> {
        self.0.borrow().clone()
    }
}

impl TraceSink for SharedSink {
    fn record(&mut self, t_ms: SimTime, event: &TraceEvent) {
        self.0.borrow_mut().push((t_ms, event.clone()));
    }
}

/// One line of the trace, with its time.
#[derive(Clone, Debug, Serialize)]
pub struct TraceRecord<'a> {
    /// Simulated time in milliseconds.
    pub t_ms: SimTime,
    /// The event.
    #[serde(flatten)]
    pub event: &'a TraceEvent,
}

/// A trace event. `event` in the JSON is the variant's snake_case name.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent {
    /// A Nomad job was registered.
    JobSubmitted {
        /// Job ID.
        job: String,
        /// The task group's count.
        count: u32,
        /// The CircleCI job (arrival) number.
        ci_job: u64,
    },
    /// An evaluation could not place everything and waits for capacity.
    EvalBlocked {
        /// Job ID.
        job: String,
        /// Eval ID.
        eval: String,
        /// Allocs still queued.
        queued: u32,
        /// The failed placement's metrics.
        metrics: AllocMetric,
    },
    /// A blocked evaluation was woken by new capacity.
    EvalUnblocked {
        /// Job ID.
        job: String,
        /// Eval ID.
        eval: String,
        /// The node whose capacity woke it.
        node: String,
    },
    /// An allocation was placed (and started).
    AllocPlaced {
        /// Job ID.
        job: String,
        /// Alloc ID.
        alloc: String,
        /// Alloc name, `<job>.<group>[<index>]`.
        name: String,
        /// Node name.
        node: String,
        /// Milliseconds between job submission and this placement.
        pending_ms: SimTime,
        /// The Select's metrics.
        metrics: AllocMetric,
    },
    /// An allocation finished successfully.
    AllocCompleted {
        /// Job ID.
        job: String,
        /// Alloc ID.
        alloc: String,
        /// Node name.
        node: String,
    },
    /// An allocation failed.
    AllocFailed {
        /// Job ID.
        job: String,
        /// Alloc ID.
        alloc: String,
        /// Node name.
        node: String,
    },
    /// An allocation's task failed and its client restarts it in place (the restart policy),
    /// keeping the alloc's resources.
    AllocRestarting {
        /// Job ID.
        job: String,
        /// Alloc ID.
        alloc: String,
        /// Node name.
        node: String,
        /// Restarts of the alloc so far, this one included.
        restarts: u32,
        /// How long the task waits before it runs again.
        delay_ms: SimTime,
    },
    /// An allocation was stopped by the server.
    AllocStopped {
        /// Job ID.
        job: String,
        /// Alloc ID.
        alloc: String,
        /// Node name.
        node: String,
        /// Why: `drain_deadline`, `force_drain`, `migrate`, `preempted`.
        reason: String,
        /// For a preempted alloc: the ID of the alloc that preempted it.
        #[serde(skip_serializing_if = "Option::is_none")]
        preempted_by: Option<String>,
    },
    /// An allocation's node is disconnected: its status is unknown.
    AllocUnknown {
        /// Job ID.
        job: String,
        /// Alloc ID.
        alloc: String,
        /// Node name.
        node: String,
    },
    /// An allocation was lost with its node.
    AllocLost {
        /// Job ID.
        job: String,
        /// Alloc ID.
        alloc: String,
        /// Node name.
        node: String,
        /// Why: `node_down`, `node_terminated`.
        reason: String,
    },
    /// A job was stopped (`nomad job stop`): its live allocs were stopped, its queued allocs
    /// dropped and its waiting evals cancelled.
    JobStopped {
        /// Job ID.
        job: String,
        /// `-purge`: the job left the read model.
        purge: bool,
        /// Live allocs stopped.
        allocs_stopped: u32,
    },
    /// A node became ready.
    NodeReady {
        /// Node name.
        node: String,
    },
    /// A drain started.
    NodeDrainStarted {
        /// Node name.
        node: String,
        /// The deadline, if any.
        deadline_ms: Option<SimTime>,
    },
    /// A draining node's drain strategy was replaced (`nomad node drain -enable` again).
    NodeDrainUpdated {
        /// Node name.
        node: String,
        /// The new deadline, if any.
        deadline_ms: Option<SimTime>,
    },
    /// A drain completed.
    NodeDrainComplete {
        /// Node name.
        node: String,
        /// True when it completed because the deadline passed.
        deadline_reached: bool,
    },
    /// A node's scheduling eligibility changed by an operator (not by a drain).
    NodeEligibility {
        /// Node name.
        node: String,
        /// Eligible after the change.
        eligible: bool,
    },
    /// A node missed its heartbeats and some of its allocs have a `disconnect` block: it is
    /// disconnected and those allocs are unknown until their `lost_after` passes.
    NodeDisconnected {
        /// Node name.
        node: String,
    },
    /// A node went down.
    NodeDown {
        /// Node name.
        node: String,
    },
    /// A node's instance was terminated.
    NodeTerminated {
        /// Node name.
        node: String,
    },
}
