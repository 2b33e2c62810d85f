//! Sweeps: every scenario × algorithm × seed, run in parallel, with the figures the report needs.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use nomad_sim_core::config::{Arrivals, CountDist, SimConfig};
use nomad_sim_core::metrics::round_to;
use nomad_sim_core::time::SimTime;
use nomad_sim_core::Resources;

use crate::algorithms::simulation;

/// One run to make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Position in the whole sweep (shards keep it, so merging restores the order).
    pub index: usize,
    /// Index into the sweep's scenarios.
    pub scenario: usize,
    /// Algorithm name.
    pub algorithm: String,
    /// Seed.
    pub seed: u64,
}

/// What one run measured. Everything but `timing` is a pure function of the spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The spec.
    pub spec: RunSpec,
    /// Scenario name.
    pub scenario: String,
    /// Named figures (see [`METRICS`]).
    pub metrics: Vec<(String, f64)>,
    /// Pending-time percentiles 0..=100 in seconds, for the distribution chart.
    pub pending_percentiles: Vec<f64>,
    /// Sampled over simulated time: (hours, queued allocs, CPU utilisation).
    pub series: Vec<(f64, f64, f64)>,
    /// Wall-clock figures, when measured: (wall seconds, placements per second).
    pub timing: Option<(f64, f64)>,
}

impl RunResult {
    /// A named figure.
    pub fn metric(&self, name: &str) -> f64 {
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map_or(f64::NAN, |(_, v)| *v)
    }
}

/// Quality figures of a run, in report order: (key, column title, lower is better).
pub const METRICS: [(&str, &str, bool); 11] = [
    ("p50_pending_s", "p50 pending (s)", true),
    ("p95_pending_s", "p95 pending (s)", true),
    ("p99_pending_s", "p99 pending (s)", true),
    ("waited_fraction", "waited", true),
    ("cpu_utilization", "CPU util", false),
    ("memory_utilization", "mem util", false),
    ("fragmentation", "fragmentation", true),
    ("node_hours", "node-hours", true),
    ("stopped_or_lost", "stopped+lost", true),
    ("never_placed", "never placed", true),
    ("placements", "placements", false),
];

/// The ask most allocations of a configuration are expected to make (the "typical ask" for
/// fragmentation): the workload with the most expected allocations wins.
pub fn typical_ask(config: &SimConfig) -> Resources {
    let hours = config.horizon_ms as f64 / 3_600_000.0;
    let expected = |w: &nomad_sim_core::config::WorkloadConfig| -> f64 {
        let arrivals = match &w.arrivals {
            Arrivals::Poisson { rate_per_hour } => rate_per_hour * hours,
            Arrivals::At(t) => t.len() as f64,
            Arrivals::Every { interval_ms, .. } => {
                config.horizon_ms as f64 / (*interval_ms).max(1) as f64
            }
            Arrivals::Diurnal { rates_per_hour } => {
                rates_per_hour.iter().sum::<f64>() / rates_per_hour.len().max(1) as f64 * hours
            }
            Arrivals::Trace(rows) => rows.len() as f64,
        };
        let fan = match &w.parallelism {
            CountDist::Fixed(n) => f64::from(*n),
            CountDist::Uniform { min, max } => (f64::from(*min) + f64::from(*max)) / 2.0,
            CountDist::Weighted(v) => {
                let total: f64 = v.iter().map(|(_, w)| w).sum();
                v.iter().map(|(n, w)| f64::from(*n) * w).sum::<f64>() / total.max(1e-9)
            }
        };
        arrivals * fan * f64::from(w.count)
    };
    config
        .workloads
        .iter()
        .max_by(|a, b| expected(a).total_cmp(&expected(b)))
        .map(|w| match &w.arrivals {
            Arrivals::Trace(rows) if !rows.is_empty() => {
                Resources::new(rows[0].cpu_mhz, rows[0].memory_mb, 0)
            }
            _ => w.resources,
        })
        .unwrap_or_default()
}

/// How many samples of the time series a run takes.
const SAMPLES: u64 = 240;

/// Makes one run.
pub fn run_one(spec: &RunSpec, config: &SimConfig, timing: bool) -> Result<RunResult, String> {
    let mut config = config.clone();
    config.seed = spec.seed;
    let started = Instant::now();
    let mut sim = simulation(config.clone(), &spec.algorithm)
        .ok_or_else(|| format!("unknown algorithm {:?}", spec.algorithm))?;
    let ask = typical_ask(&config);
    let step: SimTime = (config.horizon_ms / SAMPLES).max(60_000);
    let mut series = Vec::new();
    let mut stranded = Vec::new();
    let mut t = 0;
    loop {
        let done = sim.run_until(t);
        let (cpu, _) = sim.utilization_now();
        series.push((
            round_to(t as f64 / 3_600_000.0, 4),
            sim.queued_allocs_total() as f64,
            round_to(cpu, 4),
        ));
        stranded.push(sim.stranded_fraction(ask));
        if done {
            break;
        }
        t += step;
    }
    let wall = started.elapsed().as_secs_f64();
    let r = sim.report();
    let pending = sim.pending_histogram();
    let ranks: Vec<f64> = (1..=100).map(f64::from).collect();
    let pending_percentiles = std::iter::once(pending.min_ms())
        .chain(pending.percentiles_ms(&ranks))
        .map(|ms| round_to(ms as f64 / 1000.0, 3))
        .collect();
    let fragmentation = if stranded.is_empty() {
        0.0
    } else {
        stranded.iter().sum::<f64>() / stranded.len() as f64
    };
    let a = r.allocations;
    let metrics = vec![
        ("p50_pending_s".to_string(), r.pending_s.p50),
        ("p95_pending_s".to_string(), r.pending_s.p95),
        ("p99_pending_s".to_string(), r.pending_s.p99),
        ("waited_fraction".to_string(), r.waited_fraction),
        ("cpu_utilization".to_string(), r.utilization.cpu_mean),
        ("memory_utilization".to_string(), r.utilization.memory_mean),
        ("fragmentation".to_string(), round_to(fragmentation, 6)),
        ("node_hours".to_string(), r.node_hours),
        ("stopped_or_lost".to_string(), (a.stopped + a.lost) as f64),
        ("never_placed".to_string(), a.never_placed as f64),
        ("placements".to_string(), a.placed as f64),
    ];
    let timing = timing.then(|| {
        let per_s = if wall > 0.0 {
            a.placed as f64 / wall
        } else {
            0.0
        };
        (round_to(wall, 4), per_s.round())
    });
    Ok(RunResult {
        spec: spec.clone(),
        scenario: config.name.clone(),
        metrics,
        pending_percentiles,
        series,
        timing,
    })
}

/// Runs the specs on `threads` threads, with a progress bar on a terminal. Results come back
/// in spec order whatever the threads did.
pub fn run_all(
    specs: &[RunSpec],
    configs: &[SimConfig],
    threads: usize,
    timing: bool,
) -> Result<Vec<RunResult>, String> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<RunResult, String>>>> =
        Mutex::new(vec![None; specs.len()]);
    let progress = std::io::stderr().is_terminal();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= specs.len() {
                    break;
                }
                let r = run_one(&specs[i], &configs[specs[i].scenario], timing);
                results.lock().expect("no thread panicked")[i] = Some(r);
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                if progress {
                    let width = 30;
                    let filled = n * width / specs.len();
                    let mut err = std::io::stderr();
                    let _ = write!(
                        err,
                        "\r[{}{}] {n}/{} runs",
                        "#".repeat(filled),
                        " ".repeat(width - filled),
                        specs.len()
                    );
                    let _ = err.flush();
                }
            });
        }
    });
    if progress {
        let _ = writeln!(std::io::stderr());
    }
    results
        .into_inner()
        .expect("no thread panicked")
        .into_iter()
        .map(|r| r.expect("every run ran"))
        .collect()
}
