//! The `nomad-sim-report` command: compare placement algorithms, search capacity, guard CI.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};

use nomad_sim_core::config::SimConfig;
use nomad_sim_report::algorithms::{by_name, NAMES};
use nomad_sim_report::baseline::{self, Baseline, Thresholds};
use nomad_sim_report::capacity::{self, Query};
use nomad_sim_report::summary::{self, Results};
use nomad_sim_report::sweep::{run_all, RunResult, RunSpec, METRICS};

/// The scenarios a plain `nomad-sim-report` compares (the quick ones; pass --scenarios for others).
const DEFAULT_SCENARIOS: [&str; 5] = [
    "scenarios/circleci-weekday.yaml",
    "scenarios/circleci-scale-down.yaml",
    "scenarios/drain-deadline-tradeoff.yaml",
    "scenarios/autoscaler-weekday.yaml",
    "scenarios/trace-replay.yaml",
];

/// Compare placement algorithms over scenarios and seeds.
#[derive(Debug, Parser)]
#[command(
    name = "nomad-sim-report",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    sweep: SweepArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Merge shard results (from --shard i/n runs) into the report one unsharded run writes.
    Merge(MergeArgs),
    /// Find the smallest node count of a pool that keeps a target across seeds.
    Capacity(CapacityArgs),
}

#[derive(Debug, Args)]
struct Outputs {
    /// Write results.json, report.md and report.html into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Compare with this baseline; exit 1 and print what got worse if anything regressed.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Save this run's figures as a baseline.
    #[arg(long, value_name = "FILE")]
    save_baseline: Option<PathBuf>,
    /// Allowed relative increase of p95 pending time.
    #[arg(long, default_value_t = 0.10)]
    p95_tolerance: f64,
    /// Allowed absolute increase of p95 pending time, in seconds.
    #[arg(long, default_value_t = 1.0)]
    p95_slack_s: f64,
    /// Allowed drop of CPU utilisation (0.02 = two points).
    #[arg(long, default_value_t = 0.02)]
    util_tolerance: f64,
    /// Allowed relative drop of placements per second.
    #[arg(long, default_value_t = 0.25)]
    speed_tolerance: f64,
}

#[derive(Debug, Args)]
struct SweepArgs {
    /// Scenario files or directories (every .yaml inside).
    #[arg(long, num_args = 1.., value_name = "DIR|FILE")]
    scenarios: Vec<PathBuf>,
    /// Comma-separated algorithms (default: all).
    #[arg(long, value_delimiter = ',', value_name = "a,b,...")]
    algorithms: Vec<String>,
    /// Seeds per scenario and algorithm (the scenario's seed, +1, +2, ...).
    #[arg(long, default_value_t = 5)]
    seeds: u32,
    /// Run only shard i of n (0-based) and write its partial result to --out.
    #[arg(long, value_name = "i/n")]
    shard: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Leave wall-clock figures out, so the output is byte-identical between runs.
    #[arg(long)]
    no_timing: bool,
    #[command(flatten)]
    outputs: Outputs,
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// Shard result files.
    #[arg(required = true, num_args = 1..)]
    shards: Vec<PathBuf>,
    #[command(flatten)]
    outputs: Outputs,
}

#[derive(Debug, Args)]
struct CapacityArgs {
    /// The scenario.
    scenario: PathBuf,
    /// The pool to size.
    #[arg(long)]
    pool: String,
    /// The target, as `<metric><=<value>`, e.g. `p95_pending_s<=60`.
    #[arg(long, default_value = "p95_pending_s<=60")]
    target: String,
    /// Seeds per node count; every seed must meet the target.
    #[arg(long, default_value_t = 3)]
    seeds: u32,
    /// Smallest node count to try.
    #[arg(long, default_value_t = 1)]
    min: u32,
    /// Largest node count to try.
    #[arg(long, default_value_t = 100)]
    max: u32,
    /// Placement algorithm.
    #[arg(long, default_value = "binpack")]
    algorithm: String,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Write capacity.md and capacity.html into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// A failure: 2 for bad input, 1 for a regression or a failed write.
struct Failure(String, u8);

fn input(message: impl Into<String>) -> Failure {
    Failure(message.into(), 2)
}

/// What a shard writes.
#[derive(Serialize, Deserialize)]
struct Partial {
    schema_version: u32,
    shard: usize,
    shards: usize,
    total_runs: usize,
    runs: Vec<RunResult>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        None => sweep(cli.sweep),
        Some(Command::Merge(m)) => merge(m),
        Some(Command::Capacity(c)) => capacity_cmd(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message, code)) => {
            eprintln!("{message}");
            ExitCode::from(code)
        }
    }
}

fn threads(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn scenario_files(args: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    if args.is_empty() {
        // Relative to the working directory, else to the checkout the binary was built from.
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        return Ok(DEFAULT_SCENARIOS
            .iter()
            .map(|s| {
                let here = PathBuf::from(s);
                if here.exists() {
                    here
                } else {
                    checkout.join(s)
                }
            })
            .collect());
    }
    let mut files = Vec::new();
    for a in args {
        if a.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(a)
                .map_err(|e| input(format!("{}: {e}", a.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(a.clone());
        }
    }
    if files.is_empty() {
        return Err(input("no scenario files found"));
    }
    Ok(files)
}

fn load(path: &Path) -> Result<SimConfig, Failure> {
    nomad_sim_scenario::load_file(path)
        .map(|s| s.config)
        .map_err(|e| input(format!("error: {e}")))
}

fn sweep(args: SweepArgs) -> Result<(), Failure> {
    let files = scenario_files(&args.scenarios)?;
    let configs: Vec<SimConfig> = files.iter().map(|f| load(f)).collect::<Result<_, _>>()?;
    let algorithms: Vec<String> = if args.algorithms.is_empty() {
        NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        args.algorithms.clone()
    };
    for a in &algorithms {
        if by_name(a).is_none() {
            return Err(input(format!(
                "--algorithms: unknown algorithm {a:?} (known: {}, binpack-limit-N)",
                NAMES.join(", ")
            )));
        }
    }
    if args.seeds == 0 {
        return Err(input("--seeds must be at least 1"));
    }
    let mut specs = Vec::new();
    for (s, c) in configs.iter().enumerate() {
        for a in &algorithms {
            for k in 0..args.seeds {
                specs.push(RunSpec {
                    index: specs.len(),
                    scenario: s,
                    algorithm: a.clone(),
                    seed: c.seed + u64::from(k),
                });
            }
        }
    }
    let total = specs.len();
    if let Some(shard) = &args.shard {
        let (i, n) = shard
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .filter(|(i, n)| *n > 0 && i < n)
            .ok_or_else(|| {
                input(format!(
                    "--shard {shard:?}: expected i/n with 0 <= i < n, e.g. 0/4"
                ))
            })?;
        let out = args
            .outputs
            .out
            .clone()
            .ok_or_else(|| input("--shard needs --out DIR for its partial result"))?;
        specs.retain(|s| s.index % n == i);
        let runs =
            run_all(&specs, &configs, threads(args.threads), !args.no_timing).map_err(input)?;
        let partial = Partial {
            schema_version: 1,
            shard: i,
            shards: n,
            total_runs: total,
            runs,
        };
        std::fs::create_dir_all(&out).map_err(|e| input(format!("{}: {e}", out.display())))?;
        let path = out.join(format!("shard-{i}-of-{n}.json"));
        write(&path, &serde_json::to_string(&partial).expect("serialises"))?;
        eprintln!(
            "wrote {} ({} of {} runs)",
            path.display(),
            partial.runs.len(),
            total
        );
        return Ok(());
    }
    let runs = run_all(&specs, &configs, threads(args.threads), !args.no_timing).map_err(input)?;
    finish(Results::new(runs), &args.outputs)
}

fn merge(args: MergeArgs) -> Result<(), Failure> {
    let mut runs: Vec<RunResult> = Vec::new();
    let mut total = None;
    for path in &args.shards {
        let text =
            std::fs::read_to_string(path).map_err(|e| input(format!("{}: {e}", path.display())))?;
        let p: Partial = serde_json::from_str(&text).map_err(|e| {
            input(format!(
                "{}:{}:{}: not a shard result: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        if *total.get_or_insert(p.total_runs) != p.total_runs {
            return Err(input(format!(
                "{}: from a different sweep ({} runs, not {})",
                path.display(),
                p.total_runs,
                total.unwrap_or(0)
            )));
        }
        runs.extend(p.runs);
    }
    runs.sort_by_key(|r| r.spec.index);
    let total = total.unwrap_or(0);
    let have: Vec<usize> = runs.iter().map(|r| r.spec.index).collect();
    if have != (0..total).collect::<Vec<_>>() {
        return Err(input(format!(
            "the shards cover {} of {} runs, or repeat some: pass every shard once",
            have.len(),
            total
        )));
    }
    finish(Results::new(runs), &args.outputs)
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Failure(format!("writing {}: {e}", path.display()), 1))
}

fn finish(results: Results, o: &Outputs) -> Result<(), Failure> {
    let md = summary::markdown(&results.rows);
    print!("{md}");
    if let Some(dir) = &o.out {
        std::fs::create_dir_all(dir).map_err(|e| input(format!("{}: {e}", dir.display())))?;
        write(
            &dir.join("results.json"),
            &(serde_json::to_string_pretty(&results).expect("serialises") + "\n"),
        )?;
        write(
            &dir.join("report.md"),
            &format!("# nomad-sim placement report\n{md}"),
        )?;
        write(
            &dir.join("report.html"),
            &summary::html(&results, "nomad-sim placement report"),
        )?;
    }
    if let Some(path) = &o.save_baseline {
        let b = baseline::from_rows(&results.rows);
        write(
            path,
            &(serde_json::to_string_pretty(&b).expect("serialises") + "\n"),
        )?;
    }
    if let Some(path) = &o.baseline {
        let text = std::fs::read_to_string(path)
            .map_err(|e| input(format!("--baseline {}: {e}", path.display())))?;
        let b: Baseline = serde_json::from_str(&text).map_err(|e| {
            input(format!(
                "{}:{}:{}: not a baseline: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        let t = Thresholds {
            p95_relative: o.p95_tolerance,
            p95_absolute_s: o.p95_slack_s,
            utilization_drop: o.util_tolerance,
            speed_relative: o.speed_tolerance,
        };
        let regressions = baseline::compare(&b, &results.rows, t);
        if !regressions.is_empty() {
            return Err(Failure(
                format!(
                    "\nRegressions against {}:\n\n{}",
                    path.display(),
                    baseline::table(&regressions)
                ),
                1,
            ));
        }
        println!("\nNo regression against {}.", path.display());
    }
    Ok(())
}

fn capacity_cmd(args: CapacityArgs) -> Result<(), Failure> {
    let config = load(&args.scenario)?;
    let (metric, value) = args.target.split_once("<=").ok_or_else(|| {
        input(format!(
            "--target {:?}: expected <metric><=<value>, e.g. p95_pending_s<=60",
            args.target
        ))
    })?;
    let metric = metric.trim().to_string();
    if !METRICS.iter().any(|(k, _, _)| *k == metric) {
        return Err(input(format!(
            "--target: unknown metric {metric:?} (known: {})",
            METRICS.iter().map(|m| m.0).collect::<Vec<_>>().join(", ")
        )));
    }
    let max_value: f64 = value
        .trim()
        .parse()
        .map_err(|_| input(format!("--target: {value:?} is not a number")))?;
    if !config.pools.iter().any(|p| p.name == args.pool) {
        return Err(input(format!(
            "--pool {:?}: no such pool in {}",
            args.pool,
            args.scenario.display()
        )));
    }
    if args.min == 0 || args.min > args.max || args.seeds == 0 {
        return Err(input("need 1 <= --min <= --max and --seeds >= 1"));
    }
    if by_name(&args.algorithm).is_none() {
        return Err(input(format!("--algorithm {:?}: unknown", args.algorithm)));
    }
    let q = Query {
        config,
        pool: args.pool,
        metric,
        max_value,
        seeds: args.seeds,
        min: args.min,
        max: args.max,
        algorithm: args.algorithm,
        threads: threads(args.threads),
    };
    let answer = capacity::search(&q).map_err(input)?;
    let md = capacity::markdown(&q, &answer);
    print!("{md}");
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).map_err(|e| input(format!("{}: {e}", dir.display())))?;
        write(&dir.join("capacity.md"), &md)?;
        write(&dir.join("capacity.html"), &capacity::html(&q, &answer))?;
    }
    Ok(())
}
