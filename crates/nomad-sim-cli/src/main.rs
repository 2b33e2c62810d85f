//! The `nomad-sim` command: run a scenario, validate it, and inspect the simulated cluster.

mod format;
mod import;
mod jobspec_cmd;
mod summary;
mod trace_writer;
mod views;

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
    /// Jobs at a moment, like `nomad status` (or `nomad job status <job>` for one job).
    Status(ViewArgs),
    /// Nodes at a moment, like `nomad node status` (or `nomad node status <node>`).
    NodeStatus(ViewArgs),
    /// An allocation's task events and placement metrics at a moment (a job picks one of its allocs).
    Logs(LogsArgs),
    /// Write a scenario from a real cluster's API JSON: nodes grouped into pools, jobs as workloads.
    Import(ImportArgs),
    /// How the simulator reads a Nomad job file (HCL2 or JSON): the job, or its JSON with --json.
    Jobspec(jobspec_cmd::JobspecArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// `GET /v1/nodes?resources=true` output, or one `GET /v1/node/:id` payload.
    #[arg(long, value_name = "nodes.json")]
    nodes: PathBuf,
    /// A directory of `GET /v1/node/:id` payloads, for nodes listed without resources.
    #[arg(long, value_name = "DIR")]
    node_detail: Option<PathBuf>,
    /// Job specs as `nomad job run -output` writes them (the `POST /v1/jobs` payload).
    #[arg(long, value_name = "job.json", num_args = 1..)]
    jobs: Vec<PathBuf>,
    /// The scenario's name.
    #[arg(long, default_value = "imported")]
    name: String,
    /// The scenario's horizon (also the run time of imported service jobs).
    #[arg(long, default_value = "24h")]
    horizon: String,
    /// Run time of imported batch task groups, which the spec does not give.
    #[arg(long, default_value = "10m")]
    batch_duration: String,
    /// Write the scenario here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ViewArgs {
    /// The scenario file (YAML).
    scenario: PathBuf,
    /// The moment to look at, as a duration from the start (`90m`, `14h30m`).
    #[arg(long, value_name = "DURATION")]
    at: String,
    /// One job (ID or prefix) or node (name or ID prefix) to show in detail.
    id: Option<String>,
    /// Print JSON shaped like Nomad's HTTP API instead of the CLI's text.
    #[arg(long)]
    json: bool,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the placement algorithm: binpack or spread.
    #[arg(long)]
    algorithm: Option<String>,
}

#[derive(Debug, clap::Args)]
struct LogsArgs {
    /// The scenario file (YAML).
    scenario: PathBuf,
    /// The moment to look at, as a duration from the start.
    #[arg(long, value_name = "DURATION")]
    at: String,
    /// An allocation (ID prefix or name) or a job (then one of its allocations, running first).
    alloc_or_job: String,
    /// Print the allocation as `GET /v1/allocation/:id` returns it.
    #[arg(long)]
    json: bool,
    /// Accepted for familiarity with `nomad logs -stderr`; the simulator has one stream of events.
    #[arg(long)]
    stderr: bool,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the placement algorithm: binpack or spread.
    #[arg(long)]
    algorithm: Option<String>,
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
    /// Write report.json and summary.txt into this directory.
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
    let cli = match Cli::try_parse_from(jobspec_cmd::nomad_flags(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { scenario } => validate(&scenario),
        Command::Status(args) => status(args),
        Command::NodeStatus(args) => node_status(args),
        Command::Logs(args) => logs(args),
        Command::Import(args) => import_cmd(args),
        Command::Jobspec(args) => jobspec_cmd::run(args).map_err(Failure::input),
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

/// Loads a scenario and applies `--seed` and `--algorithm`.
fn load_with(path: &Path, seed: Option<u64>, algorithm: Option<&str>) -> Result<Scenario, Failure> {
    let mut scenario = load(path)?;
    if let Some(seed) = seed {
        scenario.config.seed = seed;
    }
    if let Some(name) = algorithm {
        scenario.config.algorithm = Algorithm::parse(name).ok_or_else(|| {
            Failure::input(format!(
                "--algorithm {name:?}: unknown algorithm (Nomad's are binpack and spread)"
            ))
        })?;
    }
    Ok(scenario)
}

fn parse_at(text: &str) -> Result<u64, Failure> {
    nomad_sim_core::time::parse_duration_ms(text)
        .map_err(|e| Failure::input(format!("--at {text:?}: {e}")))
}

fn moment(
    path: &Path,
    at: &str,
    seed: Option<u64>,
    algorithm: Option<&str>,
) -> Result<views::Moment, Failure> {
    let at_ms = parse_at(at)?;
    let scenario = load_with(path, seed, algorithm)?;
    let sim = Simulation::new(scenario.config);
    Ok(views::Moment::run(sim, at_ms, scenario.start_unix_ms))
}

/// Prints a list view or, with an ID, a detail view; text or API JSON.
fn view<T>(
    args: &ViewArgs,
    list: impl Fn(&views::Moment, bool) -> String,
    find: impl Fn(&views::Moment, &str) -> Result<T, String>,
    detail: impl Fn(&views::Moment, T, bool) -> String,
) -> Result<(), Failure> {
    let m = moment(
        &args.scenario,
        &args.at,
        args.seed,
        args.algorithm.as_deref(),
    )?;
    let text = match &args.id {
        None => list(&m, args.json),
        Some(id) => detail(&m, find(&m, id).map_err(Failure::input)?, args.json),
    };
    println!("{text}");
    Ok(())
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON serialises")
}

fn status(args: ViewArgs) -> Result<(), Failure> {
    view(
        &args,
        |m, json| {
            if json {
                pretty(&m.jobs_json())
            } else {
                m.job_list()
            }
        },
        |m, id| m.find_job(id),
        |m, job, json| {
            if json {
                pretty(&m.job_allocs_json(job))
            } else {
                m.job_detail(job)
            }
        },
    )
}

fn node_status(args: ViewArgs) -> Result<(), Failure> {
    view(
        &args,
        |m, json| {
            if json {
                pretty(&m.nodes_json())
            } else {
                m.node_list()
            }
        },
        |m, id| m.find_node(id),
        |m, node, json| {
            if json {
                pretty(&m.node_json(node))
            } else {
                m.node_detail(node)
            }
        },
    )
}

fn logs(args: LogsArgs) -> Result<(), Failure> {
    let m = moment(
        &args.scenario,
        &args.at,
        args.seed,
        args.algorithm.as_deref(),
    )?;
    let alloc = m.find_alloc(&args.alloc_or_job).map_err(Failure::input)?;
    if args.json {
        println!("{}", pretty(&m.alloc_json(alloc)));
    } else {
        println!("{}", m.alloc_view(alloc));
    }
    Ok(())
}

fn import_cmd(args: ImportArgs) -> Result<(), Failure> {
    for (flag, value) in [
        ("--horizon", &args.horizon),
        ("--batch-duration", &args.batch_duration),
    ] {
        nomad_sim_core::time::parse_duration_ms(value)
            .map_err(|e| Failure::input(format!("{flag} {value:?}: {e}")))?;
    }
    let text = import::import(&import::ImportOptions {
        nodes: args.nodes,
        node_detail: args.node_detail,
        jobs: args.jobs,
        name: args.name,
        horizon: args.horizon,
        batch_duration: args.batch_duration,
    })
    .map_err(Failure::input)?;
    match &args.out {
        Some(path) => write_atomic(path, &text)?,
        None => print!("{text}"),
    }
    Ok(())
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let scenario = load_with(&args.scenario, args.seed, args.algorithm.as_deref())?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::input(format!("--out {}: cannot create: {e}", dir.display())))?;
    }
    let trace_path = args.trace.clone();
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
