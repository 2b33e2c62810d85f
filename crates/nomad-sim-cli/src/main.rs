//! The `nomad-sim` command: run a scenario, validate it, and inspect the simulated cluster.

mod summary;
mod trace_writer;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use nomad_sim_core::{Algorithm, Simulation};
use nomad_sim_scenario::Scenario;

/// A Nomad-compatible scheduler simulator, in virtual time.
#[derive(Debug, Parser)]
#[command(name = "nomad-sim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and summarise it (or print the JSON report with --json).
    Run(RunArgs),
    /// Check a scenario file and report every problem with its line and column.
    Validate {
        /// The scenario file.
        scenario: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The scenario file (YAML).
    scenario: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the placement algorithm: binpack or spread.
    #[arg(long)]
    algorithm: Option<String>,
    /// Print the JSON report on stdout instead of the summary.
    #[arg(long)]
    json: bool,
    /// Write every event as one JSON object per line to this file.
    #[arg(long, value_name = "FILE.jsonl")]
    trace: Option<PathBuf>,
    /// Stop writing the trace after this many events (the run itself goes on).
    #[arg(long, default_value_t = 20_000_000, value_name = "N")]
    trace_max_events: u64,
    /// Write report.json and summary.txt (and trace.jsonl with --trace) into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Measure wall-clock time into perf.wall_s (the one figure that differs between runs).
    #[arg(long)]
    timing: bool,
}

/// A failure to report: bad input exits 2.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn input(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { scenario } => validate(&scenario),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn load(path: &Path) -> Result<Scenario, Failure> {
    nomad_sim_scenario::load_file(path).map_err(|e| Failure::input(e.to_string()))
}

fn validate(path: &Path) -> Result<(), Failure> {
    let scenario = load(path)?;
    let c = &scenario.config;
    let nodes: u32 = c.pools.iter().map(|p| p.count).sum();
    println!(
        "{}: ok ({} node pools, {} nodes, {} workloads, {} operations)",
        path.display(),
        c.pools.len(),
        nodes,
        c.workloads.len(),
        c.operations.len()
    );
    Ok(())
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let mut scenario = load(&args.scenario)?;
    if let Some(seed) = args.seed {
        scenario.config.seed = seed;
    }
    if let Some(name) = &args.algorithm {
        scenario.config.algorithm = Algorithm::parse(name).ok_or_else(|| {
            Failure::input(format!(
                "--algorithm {name:?}: unknown algorithm (Nomad's are binpack and spread)"
            ))
        })?;
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::input(format!("--out {}: cannot create: {e}", dir.display())))?;
    }
    let trace_path = match (&args.trace, &args.out) {
        (Some(t), _) => Some(t.clone()),
        (None, _) => None,
    };
    let started = Instant::now();
    let mut sim = Simulation::new(scenario.config.clone());
    let trace = match &trace_path {
        Some(path) => {
            let writer = trace_writer::TraceFile::create(path, args.trace_max_events)
                .map_err(|e| Failure::input(format!("--trace {}: {e}", path.display())))?;
            sim.set_trace_sink(Box::new(writer.sink()));
            Some(writer)
        }
        None => None,
    };
    sim.run();
    let mut report = sim.report();
    if args.timing {
        report.perf.wall_s = Some((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
    }
    if let Some(trace) = trace {
        sim.take_trace_sink();
        let outcome = trace.finish().map_err(|e| Failure {
            message: format!("writing the trace: {e}"),
            code: 1,
        })?;
        if outcome.dropped > 0 {
            eprintln!(
                "warning: the trace stopped after {} events ({} more not written); raise --trace-max-events to keep them",
                outcome.written, outcome.dropped
            );
        }
    }
    let json = serde_json::to_string_pretty(&report).expect("the report serialises");
    let text = summary::render(&sim, &report, scenario.description.as_deref());
    if let Some(dir) = &args.out {
        write_atomic(&dir.join("report.json"), &(json.clone() + "\n"))?;
        write_atomic(&dir.join("summary.txt"), &text)?;
    }
    if args.json {
        println!("{json}");
    } else {
        print!("{text}");
    }
    if sim.truncated {
        eprintln!(
            "warning: arrivals stopped early at limits.max_allocations = {}",
            scenario.config.limits.max_allocations
        );
    }
    Ok(())
}

/// Writes a file through a temporary name, so a failure never leaves half a file.
fn write_atomic(path: &Path, content: &str) -> Result<(), Failure> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Failure {
            message: format!("writing {}: {e}", path.display()),
            code: 1,
        })
}
