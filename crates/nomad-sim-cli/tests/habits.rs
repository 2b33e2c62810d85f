//! Nomad's habits in both binaries (single-dash long flags, examples in every `--help`, one
//! error prefix, `--at` with days and RFC 3339 times) and a run summary that stays short.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nomad_sim_output::ScratchDir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
}

/// The report binary, next to this one when the workspace was built (`cargo test --workspace`).
fn report_bin() -> Option<Command> {
    let p = PathBuf::from(env!("CARGO_BIN_EXE_nomad-sim")).with_file_name("nomad-sim-report");
    p.exists().then(|| Command::new(p))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scenario(name: &str) -> String {
    root()
        .join("scenarios")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn single_dash_flags_work_like_double_dash_ones() {
    let w = scenario("circleci-weekday.yaml");
    let a = run(&["run", &w, "-json", "-seed=7"]);
    let b = run(&["run", &w, "--json", "--seed", "7"]);
    assert!(a.status.success(), "{}", err(&a));
    assert_eq!(a.stdout, b.stdout);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(v["seed"], 7);
    let s = run(&["status", &w, "-at", "10m", "-json"]);
    assert!(s.status.success(), "{}", err(&s));
    assert!(text(&s).trim_start().starts_with('['));
    if let Some(mut r) = report_bin() {
        let o = r
            .args([
                "-scenarios",
                &w,
                "-algorithms",
                "binpack",
                "-seeds",
                "2",
                "-no-timing",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", err(&o));
        assert!(text(&o).contains("circleci-weekday"));
    }
}

#[test]
fn every_help_ends_with_examples() {
    for sub in [
        "run",
        "validate",
        "status",
        "node-status",
        "logs",
        "import",
        "jobspec",
    ] {
        let o = run(&[sub, "--help"]);
        assert!(o.status.success());
        assert!(
            text(&o).contains("Examples:"),
            "nomad-sim {sub} --help:\n{}",
            text(&o)
        );
        assert_eq!(run(&[sub, "-help"]).stdout, o.stdout, "-help for {sub}");
    }
    assert!(text(&run(&["--help"])).contains("Examples:"));
    if report_bin().is_some() {
        for args in [
            vec!["--help"],
            vec!["merge", "--help"],
            vec!["capacity", "--help"],
        ] {
            let o = report_bin().unwrap().args(&args).output().unwrap();
            assert!(o.status.success());
            assert!(text(&o).contains("Examples:"), "nomad-sim-report {args:?}");
        }
    }
}

#[test]
fn errors_start_with_the_program_name() {
    let w = scenario("circleci-weekday.yaml");
    for args in [
        vec!["run", "/no/such.yaml"],
        vec!["run", &w, "--bogus"],
        vec!["status", &w, "--at", "yesterday"],
        vec!["status", &w, "--at", "2025-01-01T00:00:00Z"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            err(&o).starts_with("nomad-sim: error: "),
            "{args:?}: {}",
            err(&o)
        );
    }
    if let Some(mut r) = report_bin() {
        let o = r.args(["--seeds", "0"]).output().unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(
            err(&o).starts_with("nomad-sim-report: error: "),
            "{}",
            err(&o)
        );
    }
}

#[test]
fn at_takes_days_and_the_times_the_views_print() {
    let w = scenario("circleci-weekday.yaml");
    // The weekday scenario starts on 2026-01-05 at midnight UTC.
    let by_duration = run(&["node-status", &w, "--at", "14h30m", "-json"]);
    let by_time = run(&["node-status", &w, "--at", "2026-01-05T14:30:00Z", "-json"]);
    let by_offset = run(&[
        "node-status",
        &w,
        "--at",
        "2026-01-05T15:30:00+01:00",
        "-json",
    ]);
    assert!(by_duration.status.success(), "{}", err(&by_duration));
    assert_eq!(by_duration.stdout, by_time.stdout);
    assert_eq!(by_duration.stdout, by_offset.stdout);
    let day = run(&["status", &w, "--at", "1d"]);
    let hours = run(&["status", &w, "--at", "24h"]);
    assert!(day.status.success(), "{}", err(&day));
    assert_eq!(day.stdout, hours.stdout);
    let early = run(&["status", &w, "--at", "2026-01-04T23:00:00Z"]);
    assert_eq!(early.status.code(), Some(2));
    assert!(err(&early).contains("before the scenario's start (2026-01-05T00:00:00Z)"));
}

#[test]
fn a_busy_run_prints_a_short_summary_and_everything_with_verbose() {
    let a = scenario("autoscaler-weekday.yaml");
    let short = run(&["run", &a]);
    assert!(short.status.success(), "{}", err(&short));
    let s = text(&short);
    let lines = s.lines().count();
    assert!(lines < 50, "{lines} lines:\n{s}");
    for needle in [
        "pool ",
        "workload ",
        "pr-medium",
        "queue by hour",
        "day 1",
        "105 drains",
        "autoscaler        36 scale-ups (+103 nodes), 38 scale-downs (-105 nodes)",
        "between 2 and 24 live nodes",
        "(--verbose lists every drain)",
    ] {
        assert!(s.contains(needle), "no {needle:?} in:\n{s}");
    }
    let long = text(&run(&["run", &a, "--verbose"]));
    assert!(long.lines().count() > 200, "{}", long.lines().count());
    assert!(long.contains("linux-3        started 1m0s"));
    assert!(long.contains("autoscaler  linux        +"));
    // The JSON report is the contract, untouched by the summary's sampling.
    let j = run(&["run", &a, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["drains"].as_array().unwrap().len(), 105);
}

#[test]
fn per_pool_and_per_workload_figures_add_up() {
    let w = scenario("circleci-weekday.yaml");
    let s = text(&run(&["run", &w]));
    let placed = |name: &str| -> u64 {
        s.lines()
            .find(|l| l.trim_start().starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} row in\n{s}"))
    };
    let total: u64 = [
        "pr-medium",
        "pr-large",
        "lint-small",
        "integration-xlarge",
        "nightly",
    ]
    .iter()
    .map(|w| placed(w))
    .sum();
    assert!(s.contains("placed 6250"), "{s}");
    assert_eq!(total, 6250);
}

#[test]
fn every_quick_scenario_and_a_long_run_print_short_summaries() {
    for name in [
        "circleci-weekday.yaml",
        "circleci-scale-down.yaml",
        "drain-deadline-tradeoff.yaml",
        "autoscaler-weekday.yaml",
        "trace-replay.yaml",
    ] {
        let o = run(&["run", &scenario(name)]);
        assert!(o.status.success(), "{name}: {}", err(&o));
        let n = text(&o).lines().count();
        assert!(n < 50, "{name}: {n} lines");
    }
    // Ninety days on one busy node: the queue is shown in buckets, not 90 rows.
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-habits-{}", std::process::id())),
    )
    .expect("a scratch directory");
    let path = dir.join("long.yaml");
    std::fs::write(
        &path,
        "name: long\nhorizon: 2160h\nnode_pools:\n  - { name: n, count: 1, resources: { cpu: 1000, memory: 1000 } }\n\
         workloads:\n  - { name: w, arrivals: { poisson: { rate: 5/h } }, resources: { cpu: 1000, memory: 1000 }, duration: { exponential: { mean: 10m } } }\n",
    )
    .unwrap();
    let o = run(&["run", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    let s = text(&o);
    assert!(s.lines().count() < 40, "{s}");
    assert!(s.contains("per 13 hours"), "{s}");
}
