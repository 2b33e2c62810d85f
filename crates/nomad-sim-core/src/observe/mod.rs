//! Observing a run: streamed metrics, trace events, and the read model that views and the API share.

#[allow(unused_imports)]
use crate::prelude::*;

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
}
