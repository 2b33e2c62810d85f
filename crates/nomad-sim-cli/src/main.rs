//! The `nomad-sim` command: run a scenario, validate it, and inspect the simulated cluster.
#![forbid(unsafe_code)]

mod at;
mod examples;
mod format;
mod history;
mod import;
mod jobspec_cmd;
mod output;
mod serve;
mod summary;
mod trace_writer;
mod views;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{CommandFactory, Parser, Subcommand};

use nomad_sim_core::{Algorithm, Simulation};
use nomad_sim_report::breakdown;
use nomad_sim_scenario::Scenario;

/// A Nomad-compatible scheduler simulator, in virtual time.
#[derive(Debug, Parser)]
#[command(name = "nomad-sim", version, about, long_about = None, after_help = examples::MAIN)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and summarise it (or print the JSON report with --json).
    #[command(after_help = examples::RUN)]
    Run(RunArgs),
    /// Check a scenario file and report every problem with its line and column.
    #[command(after_help = examples::VALIDATE)]
    Validate {
        /// The scenario file.
        scenario: PathBuf,
    },
    /// Jobs at a moment, like `nomad status` (or `nomad job status <job>` for one job).
    #[command(after_help = examples::STATUS)]
    Status(ViewArgs),
    /// Nodes at a moment, like `nomad node status` (or `nomad node status <node>`).
    #[command(after_help = examples::NODE_STATUS)]
    NodeStatus(ViewArgs),
    /// An allocation's task events and placement metrics at a moment (a job picks one of its allocs).
    #[command(after_help = examples::LOGS)]
    Logs(LogsArgs),
    /// Write a scenario from a real cluster's API JSON: nodes grouped into pools, jobs as workloads.
    #[command(after_help = examples::IMPORT)]
    Import(ImportArgs),
    /// How the simulator reads a Nomad job file (HCL2 or JSON): the job, or its JSON with --json.
    #[command(after_help = examples::JOBSPEC)]
    Jobspec(jobspec_cmd::JobspecArgs),
    /// Evaluations at a moment, like `nomad eval list` (or `nomad eval status <id>`).
    #[command(after_help = examples::EVAL)]
    Eval(ViewArgs),
    /// Serve Nomad's HTTP API over the simulated cluster, in simulated time.
    #[command(after_help = examples::SERVE)]
    Serve(serve::ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// `GET /v1/nodes?resources=true` output, or one `GET /v1/node/:id` payload.
    #[arg(long, value_name = "nodes.json")]
    nodes: PathBuf,
    /// A directory of `GET /v1/node/:id` payloads, for nodes listed without resources.
    #[arg(long, value_name = "DIR")]
    node_detail: Option<PathBuf>,
    /// Job files (HCL2, or JSON as `nomad job run -output` or `GET /v1/job/:id` print it),
    /// run by the scenario as `jobspec:` workloads that refer to them.
    #[arg(long, value_name = "job.json", num_args = 1..)]
    jobs: Vec<PathBuf>,
    /// The scenario's name.
    #[arg(long, default_value = "imported")]
    name: String,
    /// `GET /v1/allocations?resources=true` output: what the cluster ran, replayed as an
    /// arrival trace written beside the scenario (`<out>.allocs.csv`; needs --out).
    #[arg(long, value_name = "allocations.json")]
    allocs: Option<PathBuf>,
    /// `GET /v1/jobs` output, with --allocs: a job's first allocation is replayed from the
    /// job's submission instead of its placement (which includes the real cluster's queueing).
    #[arg(long, value_name = "jobs.json", requires = "allocs")]
    job_list: Option<PathBuf>,
    /// The scenario's horizon (also the run time of imported service jobs); default 24h, or
    /// with --allocs the history's span.
    #[arg(long)]
    horizon: Option<String>,
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
    /// The moment to look at: a duration from the start (`90m`, `1d2h`) or a time as the
    /// views print it (`2026-01-05T14:30:00Z`, relative to the scenario's `start`).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    at: String,
    /// One job (ID or prefix), node (name or ID prefix) or eval (ID prefix; `list` lists all, a job ID its evals) to show.
    id: Option<String>,
    /// Print JSON shaped like Nomad's HTTP API instead of the CLI's text.
    #[arg(long)]
    json: bool,
    /// Override the scenario's seed.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Override the placement algorithm: binpack or spread.
    #[arg(long)]
    algorithm: Option<String>,
}

#[derive(Debug, clap::Args)]
struct LogsArgs {
    /// The scenario file (YAML).
    scenario: PathBuf,
    /// The moment to look at: a duration from the start (`90m`, `1d2h`) or an RFC 3339 time.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
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
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
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
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
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
    /// List every drain, scaling action, workload and hour in the summary.
    #[arg(long, short = 'v')]
    verbose: bool,
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

    /// A failure after the input was accepted, such as a write error: exit 1.
    fn output(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

/// Prints to standard output; a closed pipe is quiet, a full disk is exit 1.
fn print_out(text: &str) -> Result<(), Failure> {
    output::stdout(text).map_err(Failure::output)
}

fn main() -> ExitCode {
    nomad_sim_output::cleanup::install("nomad-sim");
    let args = nomad_sim_output::args::nomad_flags(&Cli::command(), std::env::args_os());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(nomad_sim_output::args::clap_exit("nomad-sim", &e)),
    };
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { scenario } => validate(&scenario),
        Command::Status(args) => status(args),
        Command::NodeStatus(args) => node_status(args),
        Command::Logs(args) => logs(args),
        Command::Import(args) => import_cmd(args),
        Command::Jobspec(args) => jobspec_cmd::run(args).map_err(Failure::input),
        Command::Eval(args) => eval_cmd(args),
        Command::Serve(args) => serve::run(args).map_err(|e| Failure {
            message: e.message,
            code: e.code,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            nomad_sim_output::cleanup::remove_all();
            nomad_sim_output::warn(&nomad_sim_output::args::error_text("nomad-sim", &f.message));
            ExitCode::from(f.code)
        }
    }
}

/// Loads a scenario and prints its notices (`Scenario::notices`) on stderr.
fn load(path: &Path) -> Result<Scenario, Failure> {
    let scenario =
        nomad_sim_scenario::load_file(path).map_err(|e| Failure::input(e.to_string()))?;
    for notice in scenario.notices() {
        nomad_sim_output::warn(&format!("nomad-sim: warning: {notice}"));
    }
    Ok(scenario)
}

/// Warns when allocations were still queued when the run ended: the pending-time figures
/// count placed allocations only, so work that nothing could place would look like no wait.
/// Names each workload with waiting allocations and its last failed placement's metrics.
fn warn_never_placed(sim: &Simulation, never_placed: u64) {
    if never_placed == 0 {
        return;
    }
    let mut waiting: std::collections::BTreeMap<
        u32,
        (u64, Option<&nomad_sim_core::placement::AllocMetric>),
    > = std::collections::BTreeMap::new();
    for (_, j) in sim.jobs() {
        if j.queued == 0 {
            continue;
        }
        let entry = waiting.entry(j.workload).or_insert((0, None));
        entry.0 += u64::from(j.queued);
        if let Some(metric) = j.failure.as_deref() {
            entry.1 = Some(metric);
        }
    }
    let (count, were) = if never_placed == 1 {
        ("1 allocation".to_string(), "was")
    } else {
        (format!("{never_placed} allocations"), "were")
    };
    let mut text = format!(
        "nomad-sim: warning: {count} {were} never placed (still queued when the run ended); the pending-time figures count placed allocations only"
    );
    for (w, (n, metric)) in waiting {
        let name = &sim.config().workloads[w as usize].name;
        text.push_str(&format!("\n  workload {name:?}: {n} waiting"));
        if let Some(m) = metric {
            text.push_str(", its last failed placement:");
            for line in views::text::metric_lines(m) {
                text.push_str(&format!("\n  {line}"));
            }
        }
    }
    nomad_sim_output::warn(&text);
}

fn validate(path: &Path) -> Result<(), Failure> {
    let scenario = load(path)?;
    let c = &scenario.config;
    let nodes: u64 = c.pools.iter().map(|p| u64::from(p.count)).sum();
    print_out(&format!(
        "{}: ok ({} node pools, {} nodes, {} workloads, {} operations)\n",
        path.display(),
        c.pools.len(),
        nodes,
        c.workloads.len(),
        c.operations.len()
    ))
}

/// `--seed`: a whole number, said in those words when it is not one.
fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("expected a whole number from 0 to {}", u64::MAX))
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

fn moment(
    path: &Path,
    at: &str,
    seed: Option<u64>,
    algorithm: Option<&str>,
) -> Result<views::Moment, Failure> {
    let scenario = load_with(path, seed, algorithm)?;
    let at_ms = at::parse_at(at, scenario.start_unix_ms).map_err(Failure::input)?;
    let horizon_ms = scenario.config.horizon_ms;
    let sim = Simulation::new(scenario.config);
    let moment = views::Moment::run(sim, at_ms, scenario.start_unix_ms, &scenario.job_specs);
    if at_ms > horizon_ms && moment.sim.is_finished() && moment.sim.queued_allocs_total() == 0 {
        nomad_sim_output::warn(&format!(
            "nomad-sim: note: --at {at} is after the run ended (arrivals stop at the horizon, {}, and no work was left); the views show what Nomad would still keep then",
            nomad_sim_core::time::format_duration_ms(horizon_ms)
        ));
    }
    Ok(moment)
}

/// Prints a list view or, with an ID, a detail view; text or API JSON.
fn view(
    args: &ViewArgs,
    render: impl Fn(&views::View, Option<&str>, bool) -> Result<String, String>,
) -> Result<(), Failure> {
    let m = moment(
        &args.scenario,
        &args.at,
        args.seed,
        args.algorithm.as_deref(),
    )?;
    let text = render(&m.view(), args.id.as_deref(), args.json).map_err(Failure::input)?;
    print_out(&format!("{text}\n"))
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn status(args: ViewArgs) -> Result<(), Failure> {
    view(&args, |v, id, json| {
        Ok(match (id, json) {
            (None, true) => pretty(&v.jobs_json("")),
            (None, false) => v.job_list(),
            (Some(id), true) => pretty(&v.job_allocs_json(v.find_job(id)?)),
            (Some(id), false) => v.job_detail(v.find_job(id)?),
        })
    })
}

fn node_status(args: ViewArgs) -> Result<(), Failure> {
    view(&args, |v, id, json| {
        Ok(match (id, json) {
            (None, true) => pretty(&v.nodes_json("", false)),
            (None, false) => v.node_list(),
            (Some(id), true) => pretty(&v.node_with_allocs_json(v.find_node(id)?)),
            (Some(id), false) => v.node_detail(v.find_node(id)?),
        })
    })
}

fn eval_cmd(args: ViewArgs) -> Result<(), Failure> {
    view(&args, |v, id, json| {
        let id = id.filter(|&i| i != "list");
        // A job's ID (or a prefix of it) that is not an eval's lists the job's evals, as
        // `nomad eval list -job <id>` does.
        if let Some(job) = id
            .filter(|i| v.find_eval(i).is_err())
            .and_then(|i| v.find_job(i).ok())
        {
            return Ok(match (job, json) {
                (job, true) => pretty(&v.job_evals_json(job)),
                (views::JobRef::Core(j), false) => v.eval_list_of(Some(j)),
                (views::JobRef::Parent(_), false) => "No evals found".to_string(),
            });
        }
        Ok(match (id, json) {
            (None, true) => pretty(&v.evals_json("")),
            (None, false) => v.eval_list(),
            (Some(id), true) => pretty(&v.eval_json(v.find_eval(id)?)),
            (Some(id), false) => v.eval_detail(v.find_eval(id)?),
        })
    })
}

fn logs(args: LogsArgs) -> Result<(), Failure> {
    let m = moment(
        &args.scenario,
        &args.at,
        args.seed,
        args.algorithm.as_deref(),
    )?;
    let v = m.view();
    let alloc = v.find_alloc(&args.alloc_or_job).map_err(Failure::input)?;
    if args.json {
        print_out(&format!("{}\n", pretty(&v.alloc_json(alloc))))
    } else {
        print_out(&format!("{}\n", v.alloc_view(alloc)))
    }
}

fn import_cmd(args: ImportArgs) -> Result<(), Failure> {
    for (flag, value) in [
        ("--horizon", args.horizon.as_ref()),
        ("--batch-duration", Some(&args.batch_duration)),
    ] {
        if let Some(value) = value {
            nomad_sim_core::time::parse_duration_ms(value)
                .map_err(|e| Failure::input(format!("{flag} {value:?}: {e}")))?;
        }
    }
    // The history's trace is written beside the scenario, so it needs a file to go beside.
    let history = match (&args.allocs, &args.out) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(Failure::input(
                "--allocs needs --out: the history's trace file is written beside the scenario",
            ))
        }
        (Some(allocs), Some(out)) => {
            let h = history::read(allocs, args.job_list.as_deref()).map_err(Failure::input)?;
            let stem = out
                .file_stem()
                .map_or_else(|| "imported".into(), |s| s.to_string_lossy().to_string());
            Some((h, format!("{stem}.allocs.csv")))
        }
    };
    // Default horizon: a day, or the history's span rounded up to the minute.
    let horizon = match (&args.horizon, &history) {
        (Some(h), _) => h.clone(),
        (None, Some((h, _))) => format!("{}m", h.span_ms.div_ceil(60_000).max(1)),
        (None, None) => "24h".to_string(),
    };
    if let Some(out) = &args.out {
        let mut inputs = vec![args.nodes.clone()];
        inputs.extend(args.jobs.iter().cloned());
        inputs.extend(args.allocs.iter().cloned());
        inputs.extend(args.job_list.iter().cloned());
        if let Some(dir) = &args.node_detail {
            inputs.push(dir.clone());
            if let Ok(entries) = std::fs::read_dir(dir) {
                inputs.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            }
        }
        nomad_sim_output::check_not_input("--out", out, &inputs).map_err(Failure::input)?;
        if out.is_dir() {
            return Err(Failure::input(format!(
                "--out {}: is a directory (give the scenario file to write)",
                out.display()
            )));
        }
    }
    // Job files are named relative to where the scenario is written (stdout: here).
    let base_dir = match args.out.as_ref() {
        Some(out) if !nomad_sim_output::is_stdout(out) => match out.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        },
        _ => PathBuf::from("."),
    };
    if !base_dir.is_dir() {
        return Err(Failure::input(format!(
            "--out: the directory {} does not exist",
            base_dir.display()
        )));
    }
    let opts = import::ImportOptions {
        nodes: args.nodes,
        node_detail: args.node_detail,
        jobs: args.jobs,
        base_dir: base_dir.clone(),
        name: args.name,
        horizon,
        batch_duration: args.batch_duration,
        history,
    };
    let import::Imported { text, warnings } = import::import(&opts).map_err(Failure::input)?;
    for w in &warnings {
        nomad_sim_output::warn(&format!("nomad-sim: warning: {w}"));
    }
    let history = &opts.history;
    // What import writes must load: check it with the loader before writing anything, from
    // the directory it goes to (the history's trace, not written yet, from a scratch copy).
    let label = args.out.as_ref().map_or_else(
        || "<imported scenario>".to_string(),
        |p| p.display().to_string(),
    );
    let mut checked_text = text.clone();
    // The history's copy lives in a scratch directory that goes when this block ends, on an
    // error too.
    let scratch = match history {
        Some((h, file)) => {
            let path =
                std::env::temp_dir().join(format!("nomad-sim-import-{}", std::process::id()));
            let shown = path.display().to_string();
            let dir = nomad_sim_output::ScratchDir::create(path)
                .and_then(|dir| std::fs::write(dir.join(file), &h.csv).map(|()| dir))
                .map_err(|e| Failure::output(format!("{shown}: {e}")))?;
            checked_text = checked_text.replace(
                &import::trace_line(file),
                &import::trace_line(&dir.join(file).display().to_string()),
            );
            Some(dir)
        }
        None => None,
    };
    let checked = nomad_sim_scenario::parse_str(&checked_text, &label, &base_dir);
    drop(scratch);
    if let Err(e) = checked {
        return Err(Failure::input(format!(
            "the imported scenario would not load, so it was not written:\n{e}"
        )));
    }
    match &args.out {
        Some(path) => {
            if let Some((h, file)) = history {
                let trace = path.with_file_name(file);
                output::write(&trace, &h.csv).map_err(Failure::output)?;
                if let Err(e) = output::write(path, &text) {
                    // Never leave half an import behind.
                    let _ = std::fs::remove_file(&trace);
                    return Err(Failure::output(e));
                }
                Ok(())
            } else {
                output::write(path, &text).map_err(Failure::output)
            }
        }
        None => print_out(&text),
    }
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let scenario = load_with(&args.scenario, args.seed, args.algorithm.as_deref())?;
    // `-`, `/dev/stdout` or the file standard output goes to: the trace shares stdout.
    let trace_to_stdout = args
        .trace
        .as_deref()
        .is_some_and(nomad_sim_output::is_stdout);
    if trace_to_stdout && args.json {
        return Err(Failure::input(
            "--trace - and --json both write to standard output: send the trace to a file",
        ));
    }
    output::prepare_run_outputs(&scenario.inputs, args.trace.as_deref(), args.out.as_deref())
        .map_err(Failure::input)?;
    let started = Instant::now();
    let mut sim = Simulation::new(scenario.config.clone());
    // The report and the trace are all a run writes: nothing reads terminal objects later.
    sim.forget_terminal_objects();
    let trace = match &args.trace {
        Some(_) if trace_to_stdout => Some(trace_writer::TraceFile::stdout(
            args.trace_max_events,
            args.out.is_none(),
        )),
        Some(path) => Some(
            trace_writer::TraceFile::create(path, args.trace_max_events)
                .map_err(|e| Failure::input(format!("--trace {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let options = breakdown::Options {
        breakdown: breakdown::worth_breaking_down(sim.config()),
        trace: trace
            .as_ref()
            .map(|t| Box::new(t.sink()) as Box<dyn nomad_sim_core::TraceSink>),
        ..breakdown::Options::default()
    };
    let seen = breakdown::observe(&mut sim, options, |_| {});
    if sim.stopped_at_time_limit {
        nomad_sim_output::warn(&format!(
            "nomad-sim: warning: the run stopped {} past the horizon with work still running (limits.max_time_past_horizon; a task that fails forever under restart mode delay does this): raise it with `limits: {{ max_time_past_horizon: 60d }}`",
            nomad_sim_core::time::format_duration_ms(sim.config().limits.max_time_past_horizon_ms)
        ));
    }
    let mut report = sim.report();
    warn_never_placed(&sim, report.allocations.never_placed);
    if args.timing {
        report.perf.wall_s = Some((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
    }
    if let Some(trace) = trace {
        sim.take_trace_sink();
        let label = args
            .trace
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string());
        let outcome = trace
            .finish()
            .map_err(|e| Failure::output(format!("writing the trace {label}: {e}")))?;
        if outcome.dropped > 0 {
            nomad_sim_output::warn(&format!(
                "nomad-sim: warning: the trace stopped after {} events ({} more not written); raise --trace-max-events to keep them",
                outcome.written, outcome.dropped
            ));
        }
    }
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| Failure::output(format!("the report does not serialise: {e}")))?;
    let text = summary::render(
        &sim,
        &report,
        scenario.description.as_deref(),
        &seen,
        args.verbose,
    );
    if let Some(dir) = &args.out {
        output::write(&dir.join("report.json"), &(json.clone() + "\n")).map_err(Failure::output)?;
        output::write(&dir.join("summary.txt"), &text).map_err(Failure::output)?;
        nomad_sim_output::cleanup::keep_dirs();
    }
    if args.json {
        print_out(&format!("{json}\n"))?;
    } else if trace_to_stdout {
        // Standard output carries the trace alone; the summary goes to stderr.
        nomad_sim_output::warn(text.trim_end());
    } else {
        print_out(&text)?;
    }
    if sim.truncated {
        let limit = scenario.config.limits.max_allocations;
        nomad_sim_output::warn(&format!(
            "nomad-sim: warning: arrivals stopped early: the run reached limits.max_allocations = {limit} allocations, and the report covers the run up to then. Raise it in the scenario with `limits: {{ max_allocations: {} }}`",
            limit.saturating_mul(2)
        ));
    }
    Ok(())
}
