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
use crate::breakdown;

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
            a @ (Arrivals::Periodic(_) | Arrivals::Dispatch(_)) => {
                nomad_sim_scenario::budget::expected_arrivals(a, config.horizon_ms)
            }
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
        .map(|w| match w.arrivals.timing() {
            Arrivals::Trace(rows) if !rows.is_empty() => {
                Resources::new(rows[0].cpu_mhz, rows[0].memory_mb, 0)
            }
            _ => w.resources,
        })
        .unwrap_or_default()
}

/// How many samples of the time series a run takes.
const SAMPLES: u64 = 240;

/// How runs are made and shown.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Measure wall-clock time.
    pub timing: bool,
    /// Add per-pool and per-workload figures (`pool=NAME:METRIC`, `workload=NAME:METRIC`).
    pub breakdown: bool,
    /// Workload names reported under another name (see `breakdown::Tally::new`).
    pub aliases: Vec<(String, String)>,
    /// What the progress bar calls each configuration (default: the scenario's name).
    pub labels: Vec<String>,
}

/// Makes one run.
pub fn run_one(spec: &RunSpec, config: &SimConfig, timing: bool) -> Result<RunResult, String> {
    run_one_with(
        spec,
        config,
        &RunOptions {
            timing,
            ..RunOptions::default()
        },
    )
}

/// Makes one run with options.
pub fn run_one_with(
    spec: &RunSpec,
    config: &SimConfig,
    options: &RunOptions,
) -> Result<RunResult, String> {
    let mut config = config.clone();
    config.seed = spec.seed;
    let started = Instant::now();
    let mut sim = simulation(config.clone(), &spec.algorithm)
        .ok_or_else(|| format!("unknown algorithm {:?}", spec.algorithm))?;
    // A sweep reads the report and samples of the live cluster, never terminal objects.
    sim.forget_terminal_objects();
    let ask = typical_ask(&config);
    let step: SimTime = (config.horizon_ms / SAMPLES).max(60_000);
    let mut series = Vec::new();
    let mut stranded = Vec::new();
    let seen = breakdown::observe(
        &mut sim,
        breakdown::Options {
            breakdown: options.breakdown,
            aliases: options.aliases.clone(),
            trace: None,
            sample_every_ms: step,
        },
        |sim| {
            let (cpu, _) = sim.utilization_now();
            series.push((
                round_to(sim.now() as f64 / 3_600_000.0, 4),
                sim.queued_allocs_total() as f64,
                round_to(cpu, 4),
            ));
            stranded.push(sim.stranded_fraction(ask));
        },
    );
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
    let mut metrics = vec![
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
        ("cost".to_string(), r.cost),
    ];
    if let Some((pools, workloads)) = &seen.groups {
        for (kind, groups) in [("pool", pools), ("workload", workloads)] {
            for g in groups {
                for m in breakdown::GROUP_METRICS {
                    if let Some(v) = g.metric(m) {
                        metrics.push((crate::target::group_key(kind, &g.name, m), v));
                    }
                }
            }
        }
    }
    let timing = options.timing.then(|| {
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
    run_all_with(
        specs,
        configs,
        threads,
        &RunOptions {
            timing,
            ..RunOptions::default()
        },
    )
}

/// Formats seconds as `1h02m`, `3m05s` or `42s` for the progress bar.
pub fn eta_text(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// The progress line: a bar, the count, what runs now and the time left.
pub fn progress_line(done: usize, total: usize, current: &str, elapsed_s: f64) -> String {
    let width = 24;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    let eta = if done == 0 {
        "ETA --".to_string()
    } else {
        format!(
            "ETA {}",
            eta_text(elapsed_s / done as f64 * (total - done) as f64)
        )
    };
    let mut current: String = current.chars().take(40).collect();
    if done == total {
        current = "done".to_string();
    }
    format!(
        "\r[{}{}] {done}/{total} runs  {eta}  {current:<40}",
        "#".repeat(filled),
        " ".repeat(width - filled)
    )
}

/// [`run_all`] with options: per-pool and per-workload figures, labels for the progress bar.
pub fn run_all_with(
    specs: &[RunSpec],
    configs: &[SimConfig],
    threads: usize,
    options: &RunOptions,
) -> Result<Vec<RunResult>, String> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<RunResult, String>>>> =
        Mutex::new(vec![None; specs.len()]);
    let progress = std::io::stderr().is_terminal() && !specs.is_empty();
    let started = Instant::now();
    let label = |s: &RunSpec| {
        let name = options
            .labels
            .get(s.scenario)
            .cloned()
            .unwrap_or_else(|| configs[s.scenario].name.clone());
        format!("{name} {} seed {}", s.algorithm, s.seed)
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= specs.len() {
                    break;
                }
                if progress {
                    let line = progress_line(
                        done.load(Ordering::SeqCst),
                        specs.len(),
                        &label(&specs[i]),
                        started.elapsed().as_secs_f64(),
                    );
                    let mut err = std::io::stderr();
                    let _ = write!(err, "{line}");
                    let _ = err.flush();
                }
                let r = run_one_with(&specs[i], &configs[specs[i].scenario], options);
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(r);
                }
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    if progress {
        let mut err = std::io::stderr();
        let _ = writeln!(
            err,
            "{}",
            progress_line(
                specs.len(),
                specs.len(),
                "",
                started.elapsed().as_secs_f64()
            )
        );
    }
    results
        .into_inner()
        .map_err(|_| "a run panicked".to_string())?
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("a run did not finish".to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_shows_the_run_and_the_time_left() {
        let line = progress_line(3, 12, "circleci-weekday binpack seed 43", 6.0);
        assert!(line.contains("3/12 runs"), "{line}");
        assert!(line.contains("ETA 18s"), "{line}");
        assert!(line.contains("circleci-weekday binpack seed 43"), "{line}");
        assert_eq!(eta_text(3725.0), "1h02m");
        assert!(progress_line(0, 5, "x", 0.0).contains("ETA --"));
    }
}
