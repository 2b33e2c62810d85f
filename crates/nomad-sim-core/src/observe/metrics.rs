//! Run metrics: the contract's report (DESIGN §6.3) and the time integrals behind it.

use serde::Serialize;

pub use super::histogram::Histogram;
use crate::time::SimTime;

/// The report `nomad-sim run --json` prints. Key names are the public contract.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Bumped when keys change meaning.
    pub schema_version: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The master seed.
    pub seed: u64,
    /// The placement algorithm.
    pub algorithm: String,
    /// The behaviour profile.
    pub nomad_version: String,
    /// Allocation outcomes.
    pub allocations: AllocationCounts,
    /// Job submission to placement, per allocation, in seconds.
    pub pending_s: PendingStats,
    /// Share of placed allocations that waited.
    pub waited_fraction: f64,
    /// CircleCI jobs (one arrival fanned out to `parallelism` Nomad jobs).
    pub ci_jobs: CiJobStats,
    /// Allocated over available, time-weighted over ready nodes.
    pub utilization: Utilization,
    /// Node-hours from creation to termination (or the end of the run).
    pub node_hours: f64,
    /// Node-hours times each pool's hourly price.
    pub cost: f64,
    /// Alloc-seconds of work thrown away by stops and losses.
    pub wasted_alloc_s: f64,
    /// One entry per drain.
    pub drains: Vec<DrainRecord>,
    /// What the run cost the simulator.
    pub perf: Perf,
}

/// Allocation outcomes.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct AllocationCounts {
    /// Allocations placed (including replacements).
    pub placed: u64,
    /// Finished successfully.
    pub completed: u64,
    /// Failed.
    pub failed: u64,
    /// Stopped by the server (a drain, `job_stop` or preemption).
    pub stopped: u64,
    /// Lost with their node.
    pub lost: u64,
    /// Still queued when the run ended.
    pub never_placed: u64,
    /// Of the stopped allocations, those preempted by a higher-priority alloc (left out of
    /// the report when zero).
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub preempted: u64,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// Summary of a sample of durations in seconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PendingStats {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

/// Mean and upper percentiles, in seconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ShortStats {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// CircleCI job figures.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct CiJobStats {
    /// CircleCI jobs submitted.
    pub count: u64,
    /// Submission until every one of its Nomad jobs started.
    pub start_all_s: ShortStats,
    /// Submission until every one of its Nomad jobs ended.
    pub makespan_s: ShortStats,
}

/// Time-weighted utilisation, 0..1.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Utilization {
    /// CPU allocated over CPU available.
    pub cpu_mean: f64,
    /// Memory allocated over memory available.
    pub memory_mean: f64,
}

/// One drain's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct DrainRecord {
    /// Node name.
    pub node: String,
    /// When it started, in seconds.
    pub started_s: f64,
    /// When it completed, in seconds (`null` if it had not when the run ended).
    pub completed_s: Option<f64>,
    /// True when the deadline ended it.
    pub deadline_reached: bool,
    /// Allocs the drain stopped.
    pub allocs_stopped: u32,
}

/// Simulator effort.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Perf {
    /// Events processed.
    pub events: u64,
    /// Placements made.
    pub placements: u64,
    /// Wall-clock seconds; `null` unless the caller measured it (it is the one non-deterministic figure).
    pub wall_s: Option<f64>,
}

/// Running totals kept while the simulation advances.
#[derive(Clone, Debug, Default)]
pub struct Collector {
    /// Pending time per original placement (job submission to placement).
    pub pending: Histogram,
    /// (submission, pending) per original placement, kept only when asked for.
    pub pending_samples: Option<Vec<(SimTime, SimTime)>>,
    /// CircleCI jobs: submission until every one of its allocs started.
    pub start_all: Histogram,
    /// CircleCI jobs: submission until every one of its allocs ended.
    pub makespan: Histogram,
    /// Outcome counters.
    pub counts: AllocationCounts,
    /// ∫ allocated CPU dt over ready nodes (MHz·ms).
    pub cpu_used_area: f64,
    /// ∫ available CPU dt over ready nodes.
    pub cpu_avail_area: f64,
    /// ∫ allocated memory dt.
    pub mem_used_area: f64,
    /// ∫ available memory dt.
    pub mem_avail_area: f64,
    /// ∫ live nodes dt (node·ms), per pool.
    pub node_ms_area: Vec<f64>,
    /// ∫ queued allocs dt.
    pub queued_area: f64,
    /// ∫ running allocs dt.
    pub running_area: f64,
    /// The last time integrals were advanced to.
    pub last_ms: SimTime,
    /// Alloc-milliseconds of work thrown away.
    pub wasted_ms: f64,
    /// Events processed.
    pub events: u64,
    /// Drain records.
    pub drains: Vec<DrainRecord>,
}

impl Collector {
    /// Merges the histograms' buffered samples (see [`Histogram::settle`]).
    pub fn settle(&mut self) {
        self.pending.settle();
        self.start_all.settle();
        self.makespan.settle();
    }

    /// Records one original placement's pending time.
    pub fn record_pending(&mut self, submit_ms: SimTime, pending_ms: SimTime) {
        self.pending.record(pending_ms);
        if let Some(samples) = self.pending_samples.as_mut() {
            samples.push((submit_ms, pending_ms));
        }
    }
}

/// Rounds to `digits` decimals so reports are easy to read and diff.
pub fn round_to(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// Nearest-rank percentile of sorted values.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarises a sample of seconds.
pub fn pending_stats(mut values: Vec<f64>) -> PendingStats {
    if values.is_empty() {
        return PendingStats::default();
    }
    values.sort_by(f64::total_cmp);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    PendingStats {
        mean: round_to(mean, 3),
        p50: round_to(percentile_sorted(&values, 50.0), 3),
        p90: round_to(percentile_sorted(&values, 90.0), 3),
        p95: round_to(percentile_sorted(&values, 95.0), 3),
        p99: round_to(percentile_sorted(&values, 99.0), 3),
        max: round_to(*values.last().unwrap_or(&0.0), 3),
    }
}

impl PendingStats {
    /// The short form: mean, p50, p95 and p99.
    pub fn short(&self) -> ShortStats {
        ShortStats {
            mean: self.mean,
            p50: self.p50,
            p95: self.p95,
            p99: self.p99,
        }
    }
}

/// Summarises a sample of seconds, short form.
pub fn short_stats(values: Vec<f64>) -> ShortStats {
    pending_stats(values).short()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile_sorted(&v, 50.0), 50.0);
        assert_eq!(percentile_sorted(&v, 95.0), 95.0);
        assert_eq!(percentile_sorted(&v, 100.0), 100.0);
        assert_eq!(percentile_sorted(&[7.0], 99.0), 7.0);
        let s = pending_stats(vec![3.0, 1.0, 2.0]);
        assert_eq!((s.mean, s.p50, s.max), (2.0, 2.0, 3.0));
    }
}
