//! Observing a run: streamed metrics, trace events, and the read model that views and the API share.

#[allow(unused_imports)]
use crate::prelude::*;

mod histogram;
pub mod invariants;
pub mod metrics;
mod read;
pub mod trace;

/// What watches the run: the metrics collector and the trace sink.
#[derive(Default)]
pub(crate) struct Observer {
    pub(crate) collector: Collector,
    pub(crate) sink: Option<Box<dyn TraceSink>>,
    /// True while `alloc_placed` events carry per-node scores.
    pub(crate) collect_scores: bool,
    /// Each held alloc's placement metrics by alloc serial, when asked for (Nomad keeps them on
    /// the alloc; the simulator keeps them only for views, since they are large).
    pub(crate) alloc_metrics: Option<BTreeMap<u64, AllocMetric>>,
}

/// The subsystem and message Nomad shows for a node event, for trace events about nodes.
pub(crate) fn node_event_text(event: &TraceEvent) -> Option<(&'static str, String)> {
    let text = match event {
        TraceEvent::NodeReady { .. } => ("Cluster", "Node registered".to_string()),
        TraceEvent::NodeDrainStarted { .. } => ("Drain", "Node drain strategy set".to_string()),
        TraceEvent::NodeDrainUpdated { .. } => ("Drain", "Node drain strategy updated".to_string()),
        TraceEvent::NodeDrainComplete {
            deadline_reached, ..
        } => (
            "Drain",
            if *deadline_reached {
                "Node drain complete (deadline reached)".to_string()
            } else {
                "Node drain complete".to_string()
            },
        ),
        TraceEvent::NodeEligibility { eligible, .. } => (
            "Cluster",
            format!(
                "Node marked as {}",
                if *eligible {
                    "eligible for scheduling"
                } else {
                    "ineligible for scheduling"
                }
            ),
        ),
        TraceEvent::NodeDown { .. } => ("Cluster", "Node heartbeat missed".to_string()),
        TraceEvent::NodeDisconnected { .. } => ("Cluster", "Node heartbeat missed".to_string()),
        TraceEvent::NodeTerminated { .. } => ("Cluster", "Node instance terminated".to_string()),
        _ => return None,
    };
    Some(text)
}
