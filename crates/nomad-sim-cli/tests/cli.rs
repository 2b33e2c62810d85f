//! End-to-end tests of the `nomad-sim` binary: the contract's report and trace, determinism,
//! shipped scenarios, and bad input (exit 2 with a located message, never a panic).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nomad_sim_output::ScratchDir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scenario(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn tmpdir(name: &str) -> ScratchDir {
    ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-cli-{}-{name}", std::process::id())),
    )
    .expect("a scratch directory")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn run_prints_a_summary() {
    let out = run(&["run", scenario("circleci-weekday.yaml").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "circleci-weekday",
        "pending (s)",
        "utilisation",
        "node-hours",
        "CircleCI jobs",
    ] {
        assert!(text.contains(needle), "summary lacks {needle:?}:\n{text}");
    }
}

#[test]
fn json_report_has_the_contract_keys() {
    let out = run(&[
        "run",
        scenario("circleci-weekday.yaml").to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "schema_version",
        "scenario",
        "seed",
        "algorithm",
        "nomad_version",
        "allocations",
        "pending_s",
        "waited_fraction",
        "ci_jobs",
        "utilization",
        "node_hours",
        "drains",
        "perf",
    ] {
        assert!(r.get(key).is_some(), "report lacks {key}");
    }
    for key in [
        "placed",
        "completed",
        "failed",
        "stopped",
        "lost",
        "never_placed",
    ] {
        assert!(r["allocations"][key].is_u64(), "allocations.{key}");
    }
    for key in ["mean", "p50", "p90", "p95", "p99", "max"] {
        assert!(r["pending_s"][key].is_f64(), "pending_s.{key}");
    }
    for key in ["mean", "p50", "p95", "p99"] {
        assert!(r["ci_jobs"]["start_all_s"][key].is_f64());
        assert!(r["ci_jobs"]["makespan_s"][key].is_f64());
    }
    assert!(r["utilization"]["cpu_mean"].as_f64().unwrap() > 0.0);
    assert!(r["utilization"]["memory_mean"].as_f64().unwrap() <= 1.0);
    assert!(r["perf"]["events"].as_u64().unwrap() > 0);
    assert!(
        r["perf"]["wall_s"].is_null(),
        "wall time is opt-in (--timing)"
    );
    assert_eq!(r["scenario"], "circleci-weekday");
    assert_eq!(r["seed"], 42);
    assert_eq!(r["algorithm"], "binpack");
    let placed = r["allocations"]["placed"].as_u64().unwrap();
    assert!(placed > 1000);
    assert_eq!(placed, r["perf"]["placements"].as_u64().unwrap());
}

#[test]
fn seed_and_algorithm_flags_change_the_run() {
    let path = scenario("circleci-weekday.yaml");
    let a = run(&["run", path.to_str().unwrap(), "--json"]);
    let b = run(&[
        "run",
        path.to_str().unwrap(),
        "--json",
        "--seed",
        "7",
        "--algorithm",
        "spread",
    ]);
    let rb: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    assert_eq!(rb["seed"], 7);
    assert_eq!(rb["algorithm"], "spread");
    assert_ne!(a.stdout, b.stdout);
}

#[test]
fn same_seed_gives_byte_identical_report_and_trace() {
    let dir = tmpdir("determinism");
    let path = scenario("circleci-weekday.yaml");
    let mut outputs = Vec::new();
    for i in 0..2 {
        let trace = dir.join(format!("trace-{i}.jsonl"));
        let out = run(&[
            "run",
            path.to_str().unwrap(),
            "--json",
            "--trace",
            trace.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        outputs.push((out.stdout, std::fs::read(&trace).unwrap()));
    }
    assert_eq!(outputs[0].0, outputs[1].0, "reports differ");
    assert_eq!(outputs[0].1, outputs[1].1, "traces differ");
    // The trace is JSON lines in time order with the contract's events.
    let text = String::from_utf8(outputs[0].1.clone()).unwrap();
    let mut last = 0;
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let t = v["t_ms"].as_u64().unwrap();
        assert!(t >= last);
        last = t;
        let event = v["event"].as_str().unwrap().to_string();
        if event == "alloc_placed" {
            for key in ["job", "alloc", "node", "metrics"] {
                assert!(v.get(key).is_some(), "alloc_placed lacks {key}");
            }
            let m = &v["metrics"];
            for key in [
                "nodes_evaluated",
                "nodes_filtered",
                "nodes_exhausted",
                "dimension_exhausted",
                "scores",
            ] {
                assert!(m.get(key).is_some(), "metrics lack {key}");
            }
            let s = &m["scores"][0];
            assert!(
                s["node"].is_string()
                    && s["norm_score"].is_f64()
                    && s["scores"]["binpack"].is_f64()
            );
        }
        seen.insert(event);
    }
    for e in [
        "job_submitted",
        "alloc_placed",
        "alloc_completed",
        "node_ready",
        "eval_blocked",
        "eval_unblocked",
    ] {
        assert!(seen.contains(e), "no {e} in the trace");
    }
}

#[test]
fn out_dir_gets_report_and_summary() {
    let dir = tmpdir("out");
    let out = run(&[
        "run",
        scenario("circleci-weekday.yaml").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--timing",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert!(r["perf"]["wall_s"].as_f64().is_some());
    assert!(std::fs::read_to_string(dir.join("summary.txt"))
        .unwrap()
        .contains("pending (s)"));
}

#[test]
fn shipped_scenarios_validate() {
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let out = run(&["validate", path.to_str().unwrap()]);
            assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
            n += 1;
        }
    }
    assert!(n >= 5);
}

#[test]
fn shipped_mmc_scenario_matches_erlang_c() {
    // M/M/10 at rho 0.8: Erlang C says P(wait) = 0.4092 and mean wait 61.38 s.
    let out = run(&[
        "run",
        scenario("mmc-10-rho80.yaml").to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mean = r["pending_s"]["mean"].as_f64().unwrap();
    let waited = r["waited_fraction"].as_f64().unwrap();
    assert!((mean - 61.377).abs() / 61.377 < 0.05, "mean wait {mean}");
    assert!((waited - 0.40918).abs() < 0.01, "waited {waited}");
}

/// Writes `yaml` to a scenario file and runs `validate` and `run` on it: both must exit 2 with
/// a message naming the file, and (when given) the line and column, and containing `needle`.
fn assert_rejected(name: &str, yaml: &str, line_col: Option<(usize, usize)>, needle: &str) {
    let dir = tmpdir(name);
    let path = dir.join("bad.yaml");
    std::fs::write(&path, yaml).unwrap();
    for cmd in ["validate", "run"] {
        let out = run(&[cmd, path.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name} ({cmd}): {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        let prefix = match line_col {
            Some((l, c)) => format!("{}:{l}:{c}:", path.display()),
            None => path.display().to_string(),
        };
        assert!(
            err.contains(&prefix),
            "{name}: expected {prefix:?} in {err}"
        );
        assert!(err.contains(needle), "{name}: expected {needle:?} in {err}");
        assert!(out.stdout.is_empty(), "{name}: printed output on failure");
    }
}

const POOLS: &str =
    "node_pools:\n  - name: linux\n    count: 2\n    resources: { cpu: 8000, memory: 16000 }\n";

#[test]
fn bad_scenarios_exit_2_with_a_located_message() {
    let head = format!("name: bad\nhorizon: 1h\n{POOLS}");
    let work = "workloads:\n  - name: w\n    arrivals: { poisson: { rate: 10/h } }\n    resource_class: medium\n    duration: 5m\n";
    assert_rejected(
        "syntax",
        "name: x\n  horizon: 1h\n",
        Some((2, 10)),
        "mapping values are not allowed",
    );
    assert_rejected(
        "unknown-key",
        &format!("{head}{work}colour: blue\n"),
        Some((12, 1)),
        "unknown field `colour`",
    );
    assert_rejected(
        "negative-count",
        &format!("name: bad\nhorizon: 1h\nnode_pools:\n  - name: linux\n    count: -3\n    resources: {{ cpu: 1, memory: 1 }}\n{work}"),
        Some((5, 12)),
        "-3",
    );
    assert_rejected(
        "impossible-class",
        &format!("{head}{}", work.replace("medium", "2xlarge+")),
        Some((10, 21)),
        "impossible resource class \"2xlarge+\"",
    );
    assert_rejected(
        "unknown-class",
        &format!("{head}{}", work.replace("medium", "huge")),
        Some((10, 21)),
        "unknown resource class \"huge\"",
    );
    assert_rejected(
        "bad-duration",
        &format!("{head}{}", work.replace("5m", "5 minutes")),
        Some((11, 15)),
        "unknown unit",
    );
    assert_rejected(
        "bad-rate",
        &format!("{head}{}", work.replace("10/h", "10")),
        Some((9, 34)),
        "no unit",
    );
    assert_rejected(
        "bad-horizon",
        &format!("name: bad\nhorizon: soon\n{POOLS}{work}"),
        Some((2, 10)),
        "invalid duration",
    );
    assert_rejected(
        "unknown-pool",
        &format!(
            "{head}{work}operations:\n  - at: 1m\n    scale_up: {{ pool: windows, count: 1 }}\n"
        ),
        Some((14, 23)),
        "unknown node pool \"windows\"",
    );
    assert_rejected(
        "drain-flags",
        &format!("{head}{work}operations:\n  - at: 1m\n    node_drain: {{ nodes: [linux-1], deadline: 1h, force: true }}\n"),
        Some((14, 19)),
        "at most one of deadline, force and no_deadline",
    );
    assert_rejected(
        "hook-timeout",
        &format!("{head}{work}operations:\n  - at: 1m\n    scale_down: {{ pool: linux, count: 1, lifecycle_hook: {{ heartbeat_timeout: 3h }} }}\n"),
        None,
        "30s to 2h",
    );
    assert_rejected(
        "version",
        &format!("{head}{work}nomad_version: 1.10\n"),
        Some((12, 16)),
        "must be quoted",
    );
    assert_rejected(
        "no-workloads",
        &format!("{head}workloads: []\n"),
        Some((7, 12)),
        "at least one workload",
    );
    assert_rejected(
        "wrong-type",
        &format!("{head}{work}seed: forty-two\n"),
        Some((12, 7)),
        "invalid type",
    );
    assert_rejected(
        "too-many-nodes",
        &format!("name: bad\nhorizon: 1h\nnode_pools:\n  - name: linux\n    count: 4000000000\n    resources: {{ cpu: 8000, memory: 16000 }}\n{work}"),
        Some((4, 3)),
        "at most 1000000",
    );
}

#[test]
fn bad_flags_and_files_exit_2() {
    let path = scenario("circleci-weekday.yaml");
    let p = path.to_str().unwrap();
    for args in [
        vec!["run", p, "--seed", "-1"],
        vec!["run", p, "--seed", "many"],
        vec!["run", p, "--algorithm", "fastest"],
        vec!["run", p, "--bogus"],
        vec!["run", "/nonexistent/scenario.yaml"],
        vec!["frobnicate"],
        vec!["run"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
    // An unwritable trace path fails before the run, and leaves nothing behind.
    let out = run(&["run", p, "--trace", "/nonexistent/dir/trace.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    // Negative numbers get the value's own message, not a tip about `--`.
    let out = run(&["run", p, "--seed", "-1"]);
    assert!(
        stderr(&out).contains("'-1' for '--seed <SEED>': expected a whole number from 0 to"),
        "{}",
        stderr(&out)
    );
    let out = run(&["status", p, "--at", "-5m"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("\"-5m\" is before the start"),
        "{}",
        stderr(&out)
    );
    // No command at all: the help on stderr, without an error prefix.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("Usage: nomad-sim <COMMAND>"), "{err}");
    assert!(!err.contains("error:"), "{err}");
}

#[test]
fn work_no_node_can_take_is_named_before_and_after_the_run() {
    let dir = tmpdir("unplaceable");
    let path = dir.join("unplaceable.yaml");
    let yaml = format!(
        "name: unplaceable\nseed: 1\nhorizon: 1h\n{POOLS}workloads:\n  - name: arm\n    arrivals: {{ at: [0s, 10m] }}\n    count: 2\n    resources: {{ cpu: 500, memory: 256 }}\n    duration: 5m\n    constraints:\n      - {{ attribute: \"${{attr.cpu.arch}}\", operator: \"=\", value: arm64 }}\n  - name: any\n    arrivals: {{ at: [0s] }}\n    resources: {{ cpu: 500, memory: 256 }}\n    duration: 5m\n"
    );
    std::fs::write(&path, yaml).unwrap();
    let path = path.to_str().unwrap();
    let checked = run(&["validate", path]);
    assert!(checked.status.success(), "{}", stderr(&checked));
    let err = stderr(&checked);
    assert!(
        err.contains("workload \"arm\": no node satisfies its constraints (pool linux fails \"${attr.cpu.arch} = arm64\")"),
        "{err}"
    );
    assert!(!err.contains("\"any\""), "{err}");
    let out = run(&["run", path, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("4 allocations were never placed"),
        "the run warns that its pending figures leave work out: {err}"
    );
    assert!(err.contains("workload \"arm\": 4 waiting"), "{err}");
    assert!(
        err.contains("Constraint \"${attr.cpu.arch} = arm64\": 1 nodes excluded by filter"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["allocations"]["never_placed"], 4);
    // After the horizon the queue is empty, but the run has not ended: work still waits.
    let late = run(&["status", path, "--at", "2h"]);
    assert!(late.status.success(), "{}", stderr(&late));
    assert!(
        !stderr(&late).contains("after the run ended"),
        "{}",
        stderr(&late)
    );
    let swallowed = run(&["status", path, "--at", "--json"]);
    assert_eq!(swallowed.status.code(), Some(2));
    assert!(
        stderr(&swallowed).contains("--at needs a value before the next flag \"--json\""),
        "{}",
        stderr(&swallowed)
    );
    // A run whose work all placed says nothing of it.
    let fine = run(&[
        "run",
        scenario("mmc-10-rho80.yaml").to_str().unwrap(),
        "--json",
    ]);
    assert!(!stderr(&fine).contains("never placed"), "{}", stderr(&fine));
}

#[test]
fn listed_arrivals_past_the_horizon_are_named() {
    let dir = tmpdir("past-horizon");
    let path = dir.join("late.yaml");
    let yaml = format!(
        "name: late\nseed: 1\nhorizon: 1h\n{POOLS}workloads:\n  - name: builds\n    arrivals: {{ at: [0s, 30m, 1h, 3h] }}\n    resources: {{ cpu: 500, memory: 256 }}\n    duration: 5m\n"
    );
    std::fs::write(&path, yaml).unwrap();
    let out = run(&["run", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "workload \"builds\": 2 of its 4 listed arrivals come at or after the horizon (1h0m0s)"
        ),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["allocations"]["placed"], 2);
}

#[test]
fn a_moment_after_the_run_ended_says_so() {
    let path = scenario("mmc-10-rho80.yaml");
    let p = path.to_str().unwrap();
    let late = run(&["status", p, "--at", "1000d"]);
    assert!(late.status.success(), "{}", stderr(&late));
    assert!(
        stderr(&late).contains("--at 1000d is after the run ended"),
        "{}",
        stderr(&late)
    );
    let during = run(&["status", p, "--at", "2h"]);
    assert!(during.status.success(), "{}", stderr(&during));
    assert!(
        !stderr(&during).contains("after the run ended"),
        "{}",
        stderr(&during)
    );
}
