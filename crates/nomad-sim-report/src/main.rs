//! The `nomad-sim-report` command: compare placement algorithms, search capacity, guard CI.
#![forbid(unsafe_code)]

mod examples;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use nomad_sim_core::config::SimConfig;
use nomad_sim_output::{check_not_input, cleanup};
use nomad_sim_report::algorithms::{by_name, NAMES};
use nomad_sim_report::baseline::{self, Thresholds};
use nomad_sim_report::capacity::{self, Query};
use nomad_sim_report::features;
use nomad_sim_report::fingerprint::{self, Fingerprint, ScenarioPrint};
use nomad_sim_report::knob::{Values, Vary};
use nomad_sim_report::shard::{self, Partial};
use nomad_sim_report::summary::{self, Results};
use nomad_sim_report::sweep::{run_all, RunSpec};
use nomad_sim_report::target::Target;

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
    args_conflicts_with_subcommands = true,
    after_help = examples::SWEEP
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
    #[command(after_help = examples::MERGE)]
    Merge(MergeArgs),
    /// Find the cheapest setting of one or two knobs (a pool's size, a scale-down's count, a
    /// drain deadline, the autoscaler's bounds, a class mix) that keeps every target.
    #[command(after_help = examples::CAPACITY)]
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
    /// Allowed relative drop of placements per second (with --compare-timing).
    #[arg(long, default_value_t = 0.25)]
    speed_tolerance: f64,
    /// Also compare placements per second with the baseline (off by default: wall-clock
    /// figures differ between machines and between runs on one machine).
    #[arg(long)]
    compare_timing: bool,
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
    /// The pool to size: short for `--vary pool.NAME.count=MIN..MAX`.
    #[arg(long, conflicts_with = "vary")]
    pool: Option<String>,
    /// A knob and its values, `KNOB=VALUES` (see docs/capacity-planning.md): e.g.
    /// `pool.linux.count=4..30`, `scale_down@20h.count=4..12`,
    /// `scale_down.0.drain_deadline=5m,15m,30m`, `autoscaler.max=10..40:5`,
    /// `workload.pr-medium.share.large=0..0.5:0.1`. Twice for a two-dimensional grid.
    #[arg(long, value_name = "KNOB=VALUES")]
    vary: Vec<String>,
    /// A target every seed must meet: `[pool=NAME:|workload=NAME:]METRIC<=VALUE` (also <, >=, >),
    /// e.g. `p95_pending_s<=60`, `workload=pr-medium:p99_pending_s<=300`. Repeat for several
    /// (default: `p95_pending_s<=60`).
    #[arg(long, value_name = "EXPR")]
    target: Vec<String>,
    /// Seeds per setting; every seed must meet every target.
    #[arg(long, default_value_t = 3)]
    seeds: u32,
    /// Smallest node count to try (with --pool).
    #[arg(long, default_value_t = 1)]
    min: u32,
    /// Largest node count to try (with --pool).
    #[arg(long, default_value_t = 100)]
    max: u32,
    /// Placement algorithm.
    #[arg(long, default_value = "binpack")]
    algorithm: String,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Write capacity.md, capacity.html and capacity.svg (the chart or heat map) into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also search again without each scheduling feature the scenario uses (spread, affinity,
    /// preemption, ports, devices, system and sysbatch jobs, periodic jobs) and show how the
    /// answer changes.
    #[arg(long)]
    features: bool,
}

/// The name errors are prefixed with.
const PROGRAM: &str = "nomad-sim-report";

/// A failure: 2 for bad input, 1 for a regression or a failed write.
struct Failure(String, u8);

fn input(message: impl Into<String>) -> Failure {
    Failure(message.into(), 2)
}

/// The most nodes a capacity search may try, as the loader's node limit.
const MAX_NODES: u32 = 1_000_000;

/// Prints to standard output: a closed pipe drops the rest quietly, a full disk is exit 1.
fn print_out(text: &str) -> Result<(), Failure> {
    nomad_sim_output::print(text)
        .map_err(|e| Failure(format!("writing to standard output: {e}"), 1))
}

/// A loaded scenario with what the fingerprint needs.
struct Loaded {
    config: SimConfig,
    classes: Vec<(String, nomad_sim_core::Resources)>,
    print: ScenarioPrint,
    inputs: Vec<PathBuf>,
}

fn main() -> ExitCode {
    cleanup::install("nomad-sim-report");
    let args = nomad_sim_output::args::nomad_flags(&Cli::command(), std::env::args_os());
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            return ExitCode::from(nomad_sim_output::args::clap_exit(PROGRAM, &e));
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
            cleanup::remove_all();
            nomad_sim_output::warn(&nomad_sim_output::args::error_text(PROGRAM, &message));
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

/// Loads a scenario and prints its notices (`Scenario::notices`) on stderr, each naming the
/// file.
fn load(path: &Path) -> Result<Loaded, Failure> {
    let scenario = nomad_sim_scenario::load_file(path).map_err(|e| input(e.to_string()))?;
    // A sweep loads many scenarios: each warning names its file.
    for notice in scenario.notices() {
        nomad_sim_output::warn(&format!("{PROGRAM}: warning: {}: {notice}", path.display()));
    }
    let mut contents = Vec::new();
    for f in &scenario.inputs {
        contents.push(std::fs::read(f).map_err(|e| input(format!("{}: {e}", f.display())))?);
    }
    let parts: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
    let classes = nomad_sim_report::classes::of_scenario(contents.first().map_or(&[][..], |c| c));
    Ok(Loaded {
        classes,
        print: ScenarioPrint {
            name: scenario.config.name.clone(),
            seed: scenario.config.seed,
            hash: fingerprint::fnv1a(&parts),
        },
        config: scenario.config,
        inputs: scenario.inputs,
    })
}

fn sweep(args: SweepArgs) -> Result<(), Failure> {
    let files = scenario_files(&args.scenarios)?;
    let loaded: Vec<Loaded> = files.iter().map(|f| load(f)).collect::<Result<_, _>>()?;
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
    if args.seeds == 0 || args.seeds > fingerprint::MAX_SEEDS {
        return Err(input(format!(
            "--seeds {}: must be between 1 and {}",
            args.seeds,
            fingerprint::MAX_SEEDS
        )));
    }
    let print = Fingerprint {
        version: fingerprint::VERSION.to_string(),
        scenarios: loaded.iter().map(|l| l.print.clone()).collect(),
        algorithms: algorithms.clone(),
        seeds: args.seeds,
        timing: !args.no_timing,
    };
    let Some(total) = print.total_runs() else {
        return Err(input(format!(
            "{} scenarios × {} algorithms × {} seeds is more than the {} runs a sweep may have: shrink one of them",
            loaded.len(),
            algorithms.len(),
            args.seeds,
            fingerprint::MAX_RUNS
        )));
    };
    let inputs: Vec<PathBuf> = loaded.iter().flat_map(|l| l.inputs.clone()).collect();
    let configs: Vec<SimConfig> = loaded.into_iter().map(|l| l.config).collect();
    let mut specs = Vec::with_capacity(total);
    for (s, c) in configs.iter().enumerate() {
        for a in &algorithms {
            for k in 0..args.seeds {
                specs.push(RunSpec {
                    index: specs.len(),
                    scenario: s,
                    algorithm: a.clone(),
                    seed: c.seed.wrapping_add(u64::from(k)),
                });
            }
        }
    }
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
        if n > total {
            return Err(input(format!(
                "--shard {shard}: the sweep has only {total} runs, so at most {total} shards"
            )));
        }
        let out = args
            .outputs
            .out
            .clone()
            .ok_or_else(|| input("--shard needs --out DIR for its partial result"))?;
        let path = out.join(format!("shard-{i}-of-{n}.json"));
        check_not_input("--out", &path, &inputs).map_err(input)?;
        create_dir(&out, "--out")?;
        specs.retain(|s| s.index % n == i);
        let runs =
            run_all(&specs, &configs, threads(args.threads), !args.no_timing).map_err(input)?;
        let partial = Partial {
            schema_version: shard::SCHEMA_VERSION,
            fingerprint: print,
            shard: i,
            shards: n,
            total_runs: total,
            runs,
        };
        write(&path, &to_json(&partial, false)?)?;
        cleanup::keep_dirs();
        nomad_sim_output::warn(&format!(
            "wrote {} ({} of {} runs)",
            path.display(),
            partial.runs.len(),
            total
        ));
        return Ok(());
    }
    check_outputs(&args.outputs, &inputs)?;
    let runs = run_all(&specs, &configs, threads(args.threads), !args.no_timing).map_err(input)?;
    finish(Results::new(runs), &print, &args.outputs)
}

fn merge(args: MergeArgs) -> Result<(), Failure> {
    let mut shards = Vec::new();
    for path in &args.shards {
        shards.push((
            path.display().to_string(),
            shard::read(path).map_err(input)?,
        ));
    }
    check_outputs(&args.outputs, &args.shards)?;
    let print = shards
        .first()
        .map(|(_, p)| p.fingerprint.clone())
        .ok_or_else(|| input("no shard files given"))?;
    let runs = shard::merge(shards).map_err(input)?;
    finish(Results::new(runs), &print, &args.outputs)
}

/// Serialises an output; a failure here is a bug in the figures (such as a NaN).
fn to_json<T: serde::Serialize>(value: &T, pretty: bool) -> Result<String, Failure> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.map_err(|e| Failure(format!("the results do not serialise: {e}"), 1))
}

/// Writes a file (atomically when it is a regular file); a failed write is exit 1.
fn write(path: &Path, text: &str) -> Result<(), Failure> {
    nomad_sim_output::write_file(path, text.as_bytes())
        .map_err(|e| Failure(format!("writing {}: {e}", path.display()), 1))
}

/// Creates a directory (and its parents) for an output; one that cannot be is bad input.
fn create_dir(dir: &Path, flag: &str) -> Result<(), Failure> {
    if dir.exists() && !dir.is_dir() {
        return Err(input(format!(
            "{flag} {}: exists and is not a directory",
            dir.display()
        )));
    }
    nomad_sim_output::create_dir(dir)
        .map_err(|e| input(format!("{flag} {}: cannot create: {e}", dir.display())))
}

/// Refuses outputs that name inputs, before any run.
fn check_outputs(o: &Outputs, inputs: &[PathBuf]) -> Result<(), Failure> {
    if let Some(dir) = &o.out {
        for name in ["results.json", "report.md", "report.html"] {
            check_not_input("--out", &dir.join(name), inputs).map_err(input)?;
        }
    }
    if let Some(path) = &o.save_baseline {
        check_not_input("--save-baseline", path, inputs).map_err(input)?;
        if path.is_dir() {
            return Err(input(format!(
                "--save-baseline {}: is a directory",
                path.display()
            )));
        }
    }
    if let Some(path) = &o.baseline {
        check_not_input("--baseline", path, inputs).map_err(input)?;
    }
    Ok(())
}

fn finish(results: Results, print: &Fingerprint, o: &Outputs) -> Result<(), Failure> {
    let md = summary::report_markdown(&results);
    // Compare first, then write and save: a baseline that cannot be compared is refused
    // before anything is written, and `--baseline X --save-baseline X` checks the old X.
    let mut verdict = None;
    if let Some(path) = &o.baseline {
        let old = baseline::read(path).map_err(|e| input(format!("--baseline {e}")))?;
        let t = Thresholds {
            p95_relative: o.p95_tolerance,
            p95_absolute_s: o.p95_slack_s,
            utilization_drop: o.util_tolerance,
            speed_relative: o.speed_tolerance,
            compare_timing: o.compare_timing,
        };
        let (regressions, note) = baseline::check(&old, print, &results.rows, t)
            .map_err(|e| input(format!("--baseline {}: {e}", path.display())))?;
        verdict = Some((path, regressions, note));
    }
    if let Some(dir) = &o.out {
        create_dir(dir, "--out")?;
        write(
            &dir.join("results.json"),
            &(to_json(&results, true)? + "\n"),
        )?;
        write(
            &dir.join("report.md"),
            &format!("# nomad-sim placement report\n{md}"),
        )?;
        write(
            &dir.join("report.html"),
            &summary::html(&results, "nomad-sim placement report"),
        )?;
        cleanup::keep_dirs();
    }
    print_out(&md)?;
    let mut regressed = None;
    if let Some((path, regressions, note)) = verdict {
        if let Some(note) = note {
            nomad_sim_output::warn(&format!("note: {note}"));
        }
        if regressions.is_empty() {
            print_out(&format!("\nNo regression against {}.\n", path.display()))?;
        } else {
            regressed = Some(format!(
                "\nRegressions against {}:\n\n{}",
                path.display(),
                baseline::table(&regressions)
            ));
        }
    }
    if let Some(path) = &o.save_baseline {
        let same = o
            .baseline
            .as_ref()
            .is_some_and(|b| nomad_sim_output::same_file(b, path));
        if regressed.is_some() && same {
            nomad_sim_output::warn(&format!(
                "note: {} was not updated, because this sweep regressed against it",
                path.display()
            ));
        } else {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_dir(parent, "--save-baseline")?;
            }
            let b = baseline::from_rows(print, &results.rows);
            write(path, &(to_json(&b, true)? + "\n"))?;
            cleanup::keep_dirs();
        }
    }
    match regressed {
        Some(table) => Err(Failure(table, 1)),
        None => Ok(()),
    }
}

fn capacity_cmd(args: CapacityArgs) -> Result<(), Failure> {
    let loaded = load(&args.scenario)?;
    let config = loaded.config;
    let mut dims: Vec<Vary> = Vec::new();
    if let Some(pool) = &args.pool {
        if args.min == 0 || args.min > args.max {
            return Err(input("need 1 <= --min <= --max"));
        }
        if args.max > MAX_NODES {
            return Err(input(format!(
                "--max {}: the simulator takes at most {MAX_NODES} nodes",
                args.max
            )));
        }
        dims.push(
            Vary::parse(&format!("pool.{pool}.count={}..{}", args.min, args.max))
                .map_err(|e| input(format!("--pool {pool:?}: {e}")))?,
        );
    } else {
        if args.vary.is_empty() {
            return Err(input(
                "give --pool NAME or --vary KNOB=VALUES (e.g. --vary pool.linux.count=4..30)",
            ));
        }
        if args.vary.len() > 2 {
            return Err(input(format!(
                "{} --vary given: a search takes one or two",
                args.vary.len()
            )));
        }
        for v in &args.vary {
            dims.push(Vary::parse(v).map_err(input)?);
        }
    }
    for d in &dims {
        for k in &d.knobs {
            let flag = match &args.pool {
                Some(pool) => format!("--pool {pool}"),
                None => format!("--vary {}", d.text),
            };
            k.check(&config, &loaded.classes)
                .map_err(|e| input(format!("{flag}: {e}")))?;
        }
    }
    if dims.len() == 2 && dims[0].knobs.iter().any(|k| dims[1].knobs.contains(k)) {
        return Err(input("the two --vary name the same knob"));
    }
    // Node counts: the largest value of every count knob, plus every pool's own count, must
    // stay within what the simulator takes.
    let most: f64 = dims
        .iter()
        .filter(|d| d.is_count())
        .map(|d| match &d.values {
            Values::Range(_, hi) => *hi,
            Values::List(v) => v.last().copied().unwrap_or(0.0),
        })
        .sum();
    let pools: f64 = config.pools.iter().map(|p| f64::from(p.count)).sum();
    if most + pools > f64::from(MAX_NODES) {
        return Err(input(format!(
            "with these values a run could have {} nodes, more than the {MAX_NODES} nodes the simulator takes",
            most + pools
        )));
    }
    let texts = if args.target.is_empty() {
        vec!["p95_pending_s<=60".to_string()]
    } else {
        args.target.clone()
    };
    let targets: Vec<Target> = texts
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<_, _>>()
        .map_err(input)?;
    for t in &targets {
        t.check(&config).map_err(input)?;
    }
    if args.seeds == 0 || args.seeds > fingerprint::MAX_SEEDS {
        return Err(input(format!(
            "--seeds {}: must be between 1 and {}",
            args.seeds,
            fingerprint::MAX_SEEDS
        )));
    }
    let runs = capacity::max_settings(&dims).saturating_mul(u64::from(args.seeds));
    if runs > capacity::MAX_RUNS {
        return Err(input(format!(
            "up to {runs} runs (settings × --seeds {}): at most {}; use fewer values or seeds",
            args.seeds,
            capacity::MAX_RUNS
        )));
    }
    if let Some(dir) = &args.out {
        for name in ["capacity.md", "capacity.html", "capacity.svg"] {
            check_not_input("--out", &dir.join(name), &loaded.inputs).map_err(input)?;
        }
    }
    if by_name(&args.algorithm).is_none() {
        return Err(input(format!("--algorithm {:?}: unknown", args.algorithm)));
    }
    let q = Query {
        config,
        classes: loaded.classes,
        dims,
        targets,
        seeds: args.seeds,
        algorithm: args.algorithm,
        threads: threads(args.threads),
        pool: args.pool,
    };
    if let Some(dir) = &args.out {
        create_dir(dir, "--out")?;
    }
    let answer = capacity::search(&q).map_err(input)?;
    let mut md = capacity::markdown(&q, &answer);
    let extra = if args.features {
        let rows = features::compare(&q).map_err(input)?;
        features::markdown(&q, &answer, &rows)
    } else {
        String::new()
    };
    if !extra.is_empty() {
        md.push('\n');
        md.push_str(&extra);
    }
    if let Some(dir) = &args.out {
        write(&dir.join("capacity.md"), &md)?;
        write(
            &dir.join("capacity.html"),
            &capacity::html_with(&q, &answer, &extra),
        )?;
        let charts = capacity::charts(&q, &answer);
        write(
            &dir.join("capacity.svg"),
            charts.first().map_or("", String::as_str),
        )?;
        cleanup::keep_dirs();
    }
    print_out(&md)
}
