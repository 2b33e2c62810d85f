//! End-to-end tests of `nomad-sim-report`: outputs, shards merged byte for byte, the baseline
//! catching an injected regression, capacity search, the baseline algorithms, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nomad_sim_core::config::{Arrivals, DurationDist};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};
use nomad_sim_report::algorithms::{by_name, simulation, NAMES};

use nomad_sim_output::ScratchDir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nomad-sim-report"))
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

fn tmp(name: &str) -> ScratchDir {
    ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-report-{}-{name}", std::process::id())),
    )
    .expect("a scratch directory")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_sweep_writes_markdown_json_and_html() {
    let out = tmp("sweep");
    let md = ok(&[
        "--scenarios",
        &scenario("circleci-weekday.yaml"),
        &scenario("trace-replay.yaml"),
        "--algorithms",
        "binpack,spread,best-fit",
        "--seeds",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(md.contains("### circleci-weekday: ranked against Nomad's binpack"));
    assert!(md.contains("#### All figures: circleci-weekday (3 seeds"));
    assert!(md.contains("| spread |"));
    assert!(md.contains("paired t-test over the seeds"));
    assert!(md.contains("placements/s"), "timed by default");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["runs"].as_array().unwrap().len(), 2 * 3 * 3);
    assert_eq!(results["rows"].as_array().unwrap().len(), 2 * 3);
    let row = &results["rows"][0];
    assert!(row["metrics"]["p95_pending_s"]["ci95"].as_f64().is_some());
    assert!(row["metrics"]["fragmentation"]["mean"].as_f64().unwrap() >= 0.0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        2 * 3 * 3,
        "small multiples: three charts per algorithm and scenario"
    );
    assert!(
        !html.contains("<script") && !html.contains("http://")
            || html.contains("xmlns=\"http://www.w3.org/2000/svg\"")
    );
    assert!(html.contains("Pending time by percentile"));
    // No raw Markdown reaches the page.
    for raw in ["**", "`", "|---", "### "] {
        assert!(!html.contains(raw), "raw Markdown {raw:?} in the HTML");
    }
}

#[test]
fn shards_merge_into_exactly_the_unsharded_result() {
    let whole = tmp("whole");
    let parts = tmp("parts");
    let merged = tmp("merged");
    let common = [
        "--scenarios",
        &scenario("circleci-weekday.yaml"),
        &scenario("drain-deadline-tradeoff.yaml"),
    ];
    let common: Vec<&str> = common.iter().map(|s| s.as_ref()).collect();
    let mut args = common.clone();
    args.extend([
        "--algorithms",
        "binpack,random,first-fit",
        "--seeds",
        "2",
        "--no-timing",
        "--out",
        whole.to_str().unwrap(),
    ]);
    let whole_md = ok(&args);
    for i in 0..3 {
        let shard = format!("{i}/3");
        let mut args = common.clone();
        args.extend([
            "--algorithms",
            "binpack,random,first-fit",
            "--seeds",
            "2",
            "--no-timing",
            "--shard",
            &shard,
            "--out",
            parts.to_str().unwrap(),
        ]);
        ok(&args);
    }
    let mut shard_files: Vec<String> = std::fs::read_dir(&parts)
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_string())
        .collect();
    shard_files.sort();
    assert_eq!(shard_files.len(), 3);
    let mut args = vec!["merge"];
    args.extend(shard_files.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap()]);
    let merged_md = ok(&args);
    assert_eq!(whole_md, merged_md);
    for f in ["results.json", "report.md", "report.html"] {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(merged.join(f)).unwrap(),
            "{f} differs"
        );
    }
    // A missing shard is refused.
    let o = run(&["merge", &shard_files[0], &shard_files[1]]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_baseline_catches_an_injected_regression() {
    let dir = tmp("baseline");
    let base = dir.join("baseline.json");
    // The weekday on 14 clients instead of 20: it queues, so p95 pending is above zero.
    let text = std::fs::read_to_string(scenario("circleci-weekday.yaml"))
        .unwrap()
        .replace("    count: 20\n", "    count: 14\n");
    let smaller = dir.join("circleci-weekday.yaml");
    std::fs::write(&smaller, text).unwrap();
    let common = ["--algorithms", "binpack", "--seeds", "3", "--no-timing"];
    let mut args = vec!["--scenarios", smaller.to_str().unwrap()];
    args.extend(common);
    args.extend(["--save-baseline", base.to_str().unwrap()]);
    ok(&args);
    // Unchanged: no regression.
    let mut args = vec!["--scenarios", smaller.to_str().unwrap()];
    args.extend(common);
    args.extend(["--baseline", base.to_str().unwrap()]);
    assert!(ok(&args).contains("No regression"));
    // Injected: a baseline that remembers shorter queues than today's.
    let mut b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert!(b["entries"][0]["p95_pending_s"].as_f64().unwrap() > 2.0);
    b["entries"][0]["p95_pending_s"] = serde_json::json!(0.0);
    std::fs::write(&base, serde_json::to_string(&b).unwrap()).unwrap();
    let o = run(&args);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("| circleci-weekday | binpack | p95_pending_s |"),
        "{err}"
    );
    // The 20-client scenario is another scenario under the same name: not comparable.
    let weekday = scenario("circleci-weekday.yaml");
    let mut args = vec!["--scenarios", weekday.as_str()];
    args.extend(common);
    args.extend(["--baseline", base.to_str().unwrap()]);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("changed (content hash"));
}

#[test]
fn capacity_search_finds_the_smallest_pool() {
    let dir = tmp("capacity");
    let path = dir.join("queue.yaml");
    std::fs::write(
        &path,
        "name: queue\nseed: 5\nhorizon: 100h\nnode_pools:\n  - { name: slot, count: 1, resources: { cpu: 1000, memory: 1000 } }\n\
         workloads:\n  - name: t\n    arrivals: { poisson: { rate: 60/h } }\n    resources: { cpu: 1000, memory: 1000 }\n    duration: { exponential: { mean: 5m } }\n",
    )
    .unwrap();
    let out = dir.join("out");
    let md = ok(&[
        "capacity",
        path.to_str().unwrap(),
        "--pool",
        "slot",
        "--target",
        "p95_pending_s<=30",
        "--seeds",
        "2",
        "--min",
        "2",
        "--max",
        "12",
        "--out",
        out.to_str().unwrap(),
    ]);
    // Offered load is 5 Erlangs: too few slots queue, enough slots meet the target.
    let answer: u32 = md
        .split("**")
        .nth(1)
        .unwrap()
        .trim_end_matches(" nodes")
        .parse()
        .unwrap();
    assert!((6..=12).contains(&answer), "{md}");
    let row = |n: u32| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {n} |")))
            .map(|l| l.contains("| yes"))
    };
    assert_eq!(row(answer), Some(true), "{md}");
    assert_eq!(row(answer - 1), Some(false), "{md}");
    assert!(std::fs::read_to_string(out.join("capacity.html"))
        .unwrap()
        .contains("<svg"));
}

/// Places one 1-CPU job on three nodes with 0, 2 and 3 of 4 CPUs in use (nodes x-0, x-1, x-2)
/// and returns the node chosen.
fn chosen_by(algorithm: &str) -> String {
    let mut fill1 = batch_workload(
        "fill-a",
        Arrivals::At(vec![0]),
        Resources::new(2000, 2000, 0),
        DurationDist::Constant(HOUR_MS),
    );
    fill1.constraints = vec![nomad_sim_core::constraint::Constraint::new(
        "${node.unique.name}",
        nomad_sim_core::constraint::Operand::Eq,
        "x-1",
    )
    .unwrap()];
    let mut fill2 = batch_workload(
        "fill-b",
        Arrivals::At(vec![0]),
        Resources::new(3000, 3000, 0),
        DurationDist::Constant(HOUR_MS),
    );
    fill2.constraints = vec![nomad_sim_core::constraint::Constraint::new(
        "${node.unique.name}",
        nomad_sim_core::constraint::Operand::Eq,
        "x-2",
    )
    .unwrap()];
    let probe = batch_workload(
        "probe",
        Arrivals::At(vec![MINUTE_MS]),
        Resources::new(1000, 1000, 0),
        DurationDist::Constant(MINUTE_MS),
    );
    let c = config(
        1,
        2 * MINUTE_MS,
        vec![pool("x", 3, 4000, 4000)],
        vec![fill1, fill2, probe],
    );
    let mut sim = simulation(c, algorithm).unwrap();
    let sink = SharedSink::new();
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.run();
    sink.events()
        .into_iter()
        .find_map(|(_, e)| match e {
            TraceEvent::AllocPlaced { job, node, .. } if job.starts_with("probe") => Some(node),
            _ => None,
        })
        .unwrap()
}

#[test]
fn baseline_algorithms_choose_as_documented() {
    assert_eq!(chosen_by("best-fit"), "x-2", "the fullest node that fits");
    assert_eq!(chosen_by("worst-fit"), "x-0", "the emptiest node");
    assert_eq!(
        chosen_by("first-fit"),
        "x-0",
        "the first node in creation order"
    );
    assert_eq!(
        chosen_by("dot-product"),
        "x-0",
        "most free room along the ask"
    );
    // Limits larger than the cluster behave like exhaustive best fit.
    assert_eq!(chosen_by("binpack-limit-8"), "x-2");
    for name in NAMES {
        let node = chosen_by(name);
        assert!(
            ["x-0", "x-1", "x-2"].contains(&node.as_str()),
            "{name}: {node}"
        );
    }
    assert!(by_name("binpack-limit-0").is_none());
    assert!(by_name("nope").is_none());
}

#[test]
fn bad_input_exits_2() {
    let weekday = scenario("circleci-weekday.yaml");
    for args in [
        vec!["--scenarios", weekday.as_str(), "--algorithms", "fastest"],
        vec!["--scenarios", weekday.as_str(), "--seeds", "0"],
        vec![
            "--scenarios",
            weekday.as_str(),
            "--shard",
            "3/3",
            "--out",
            "/tmp",
        ],
        vec!["--scenarios", "/nonexistent.yaml"],
        vec!["capacity", weekday.as_str(), "--pool", "nope"],
        vec![
            "capacity",
            weekday.as_str(),
            "--pool",
            "linux",
            "--target",
            "p95<=60",
        ],
    ] {
        let o = run(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn a_running_simulation_can_switch_algorithm() {
    let w = batch_workload(
        "w",
        Arrivals::At(vec![0, MINUTE_MS]),
        Resources::new(100, 100, 0),
        DurationDist::Constant(HOUR_MS),
    );
    let mut sim = Simulation::new(config(
        1,
        2 * MINUTE_MS,
        vec![pool("p", 2, 4000, 4000)],
        vec![w],
    ));
    sim.run_until(0);
    assert!(nomad_sim_report::algorithms::switch(&mut sim, "best-fit"));
    assert_eq!(sim.algorithm_name(), "best-fit");
    assert!(
        !nomad_sim_report::algorithms::switch(&mut sim, "spread"),
        "Nomad's algorithm is fixed per run"
    );
    assert!(nomad_sim_report::algorithms::switch(&mut sim, "binpack"));
    assert_eq!(sim.algorithm_name(), "binpack");
    sim.run();
    assert_eq!(sim.report().allocations.placed, 2);
}
