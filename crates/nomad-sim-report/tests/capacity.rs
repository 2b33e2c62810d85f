//! Capacity search over knobs: per-pool and per-workload targets, two-dimensional grids with
//! a heat map, the knobs a scenario overrides refused with the reason, and bad knobs exit 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nomad_sim_output::ScratchDir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nomad-sim-report"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> ScratchDir {
    ScratchDir::create(std::env::temp_dir().join(format!(
        "nomad-sim-report-capacity-{}-{name}",
        std::process::id()
    )))
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

fn refused(args: &[&str], needle: &str) {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.starts_with("nomad-sim-report: error: "),
        "{args:?}: {err}"
    );
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in {err}"
    );
    assert!(!err.contains("panicked"));
}

/// Two pools and two workloads: `small` jobs may go anywhere, `big` jobs only to pool `big`;
/// a scale-down of `big` at 2h, a forced drain at 3h, and a plain drain at 3h30m.
fn two_pools(dir: &Path) -> String {
    let path = dir.join("two-pools.yaml");
    std::fs::write(
        &path,
        "name: two-pools\nseed: 11\nhorizon: 4h\n\
         node_pools:\n\
         \x20 - { name: small, count: 2, resources: { cpu: 4000, memory: 8000 }, cost_per_hour: 0.1 }\n\
         \x20 - { name: big, count: 4, resources: { cpu: 16000, memory: 32000 }, cost_per_hour: 0.4, meta: { size: big } }\n\
         workloads:\n\
         \x20 - name: small\n    arrivals: { poisson: { rate: 40/h } }\n    resources: { cpu: 1000, memory: 1000 }\n    duration: { exponential: { mean: 10m } }\n\
         \x20 - name: big\n    arrivals: { poisson: { rate: 20/h } }\n    resource_class: large\n    duration: { exponential: { mean: 20m } }\n\
         \x20   constraints: [{ attribute: \"${meta.size}\", value: big }]\n\
         operations:\n\
         \x20 - { at: 2h, scale_down: { pool: big, count: 1, drain_deadline: 10m } }\n\
         \x20 - { at: 3h, node_drain: { nodes: [small-0], force: true } }\n\
         \x20 - { at: 3h30m, node_drain: { nodes: [small-1], deadline: 5m } }\n",
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn per_workload_targets_size_the_pool_that_workload_needs() {
    let dir = tmp("workload");
    let s = two_pools(&dir);
    let md = ok(&[
        "capacity",
        &s,
        "--vary",
        "pool.big.count=1..8",
        "--target",
        "workload=big:p95_pending_s<=60",
        "--target",
        "pool=small:waited_fraction<=0.5",
        "--seeds",
        "2",
    ]);
    assert!(md.starts_with("Cheapest setting meeting"), "{md}");
    assert!(md.contains("worst workload=big:p95_pending_s"), "{md}");
    assert!(md.contains("worst pool=small:waited_fraction"), "{md}");
    assert!(md.contains("| cost |"), "priced pools: cost column\n{md}");
    // The answer is the smallest count that meets both: every smaller one tried fails.
    let answer: f64 = md
        .split("pool.big.count = ")
        .nth(1)
        .and_then(|r| r.split("**").next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no answer in {md}"));
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| pool"))
    {
        let n: f64 = line[2..].split(" |").next().unwrap().parse().unwrap();
        if n < answer {
            assert!(line.contains("| no"), "{line}");
        }
        if n == answer {
            assert!(line.contains("yes (cheapest)"), "{line}");
        }
    }
}

#[test]
fn a_two_dimensional_grid_draws_a_heat_map() {
    let dir = tmp("grid");
    let s = two_pools(&dir);
    let out = dir.join("out");
    let md = ok(&[
        "capacity",
        &s,
        "--vary",
        "pool.big.count=2..6:2",
        "--vary",
        "scale_down.0.drain_deadline=1m,30m",
        "--target",
        "stopped_or_lost<=3",
        "--target",
        "p95_pending_s<=120",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(md.contains("↓ scale_down.0.drain_deadline →"), "{md}");
    let svg = std::fs::read_to_string(out.join("capacity.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert_eq!(
        svg.matches("<rect x=").count() - svg.matches("stroke-width=\"3\"").count(),
        6
    );
    if md.contains("Cheapest setting meeting") {
        assert_eq!(
            svg.matches('★').count(),
            2,
            "the answer is starred once, and in the note"
        );
    }
    let html = std::fs::read_to_string(out.join("capacity.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("**") && !html.contains('`'));
}

#[test]
fn knobs_the_scenario_overrides_are_refused_with_the_reason() {
    let dir = tmp("refused");
    let s = two_pools(&dir);
    let auto = root().join("scenarios/autoscaler-weekday.yaml");
    let auto = auto.to_str().unwrap();
    refused(
        &["capacity", auto, "--pool", "linux"],
        "the autoscaler owns pool \"linux\"",
    );
    refused(
        &["capacity", auto, "--vary", "pool.linux.count=2..9"],
        "vary autoscaler.min or autoscaler.max instead",
    );
    refused(
        &["capacity", &s, "--vary", "node_drain.0.deadline=1m,5m"],
        "is forced",
    );
    refused(
        &["capacity", &s, "--vary", "node_drain@3h.deadline=1m,5m"],
        "is forced",
    );
    refused(
        &["capacity", &s, "--vary", "scale_up.0.count=1..3"],
        "the scenario has 0 scale_up operations",
    );
    refused(
        &["capacity", &s, "--vary", "scale_down@5h.count=1..3"],
        "no scale_down operation at that time (they are at 2h0m0s)",
    );
    refused(
        &["capacity", &s, "--vary", "autoscaler.max=1..3"],
        "no autoscaler",
    );
    refused(
        &["capacity", &s, "--vary", "workload.big.share.huge=0..1"],
        "unknown resource class \"huge\"",
    );
    refused(
        &["capacity", &s, "--vary", "pool.nope.count=1..3"],
        "no pool \"nope\"",
    );
    refused(
        &["capacity", &s, "--vary", "pool.big.size=1..3"],
        "unknown knob",
    );
    refused(
        &["capacity", &s, "--vary", "pool.big.count=9..3"],
        "starts above its end",
    );
    refused(
        &[
            "capacity",
            &s,
            "--vary",
            "pool.big.count=1..9",
            "--target",
            "workload=nope:p95_pending_s<=1",
        ],
        "no workload \"nope\"",
    );
    refused(
        &[
            "capacity",
            &s,
            "--vary",
            "pool.big.count=1..9",
            "--target",
            "pool=big:cpu_utilization<=1",
        ],
        "unknown metric",
    );
    refused(
        &[
            "capacity",
            &s,
            "--vary",
            "pool.big.count=1..20:1",
            "--vary",
            "pool.small.count=1..30:1",
        ],
        "at most 400",
    );
    refused(&["capacity", &s], "give --pool NAME or --vary");
    refused(
        &[
            "capacity",
            &s,
            "--vary",
            "pool.big.count=1..200:1",
            "--seeds",
            "1000",
        ],
        "at most 100000",
    );
    refused(
        &["capacity", &s, "--vary", "pool.big.count=1..4294967295"],
        "more than the 1000000 nodes",
    );
    refused(
        &[
            "capacity",
            &s,
            "--vary",
            "pool.big.count=1..2",
            "--vary",
            "pool.big.count=3..4",
        ],
        "the same knob",
    );
}

#[test]
fn a_larger_class_share_costs_waiting_time() {
    let dir = tmp("share");
    let s = two_pools(&dir);
    let md = ok(&[
        "capacity",
        &s,
        "--vary",
        "workload.small.share.xlarge=0,0.5",
        "--target",
        "workload=small:p99_pending_s<=100000",
        "--seeds",
        "2",
    ]);
    let rows: Vec<Vec<f64>> = md
        .lines()
        .filter(|l| l.starts_with("| 0"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .filter_map(|c| c.trim().parse().ok())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 2, "{md}");
    // Half of the small builds asking for 8 vCPU wait longer at the 99th percentile.
    assert!(rows[1][3] > rows[0][3], "{md}");
}

/// One pool of 4000 MHz / 8000 MB nodes. `web` is a service of 4 instances of 500 MHz on
/// static port 8080, so each needs a node of its own: 4 nodes at least, and at 3 one
/// instance is never placed. `sys` is a system job and `tidy` a periodic job, both tiny.
/// Without ports every instance fits on one node: the answer falls from 4 to 1 (−3). Spread,
/// affinity, devices and batch preemption are not used, so they get no row; system jobs and
/// periodic jobs do, and leave the answer as it is.
#[test]
fn features_shows_what_each_used_feature_changes() {
    let dir = tmp("features");
    let path = dir.join("ports.yaml");
    std::fs::write(
        &path,
        "name: ports\nseed: 3\nhorizon: 2h\n\
         node_pools:\n\
         \x20 - { name: linux, count: 2, resources: { cpu: 4000, memory: 8000 } }\n\
         workloads:\n\
         \x20 - name: web\n    type: service\n    arrivals: { at: [0s] }\n    count: 4\n    resources: { cpu: 500, memory: 500 }\n    duration: 3h\n\
         \x20   ports: [ { label: http, static: 8080 } ]\n\
         \x20 - name: sys\n    type: system\n    arrivals: { at: [0s] }\n    resources: { cpu: 100, memory: 100 }\n    duration: 3h\n\
         \x20 - name: tidy\n    arrivals: { periodic: { cron: \"0 * * * *\" } }\n    resources: { cpu: 100, memory: 100 }\n    duration: 1m\n",
    )
    .unwrap();
    let md = ok(&[
        "capacity",
        path.to_str().unwrap(),
        "--pool",
        "linux",
        "--min",
        "1",
        "--max",
        "6",
        "--seeds",
        "1",
        "--features",
    ]);
    assert!(md.contains("**4 nodes**"), "{md}");
    let section = md
        .split("## What each modelled feature changes")
        .nth(1)
        .unwrap_or_else(|| panic!("no features section in {md}"));
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(
        rows.len(),
        5,
        "header, full model and three features\n{section}"
    );
    assert!(
        rows[1].starts_with("| full model | pool.linux.count = 4 | — |"),
        "{section}"
    );
    assert!(
        rows[2].starts_with(
            "| without ports: port asks dropped | pool.linux.count = 1 | pool.linux.count −3 |"
        ),
        "{section}"
    );
    assert!(
        rows[3].starts_with("| without system and sysbatch jobs:"),
        "{section}"
    );
    assert!(
        rows[3].contains("| pool.linux.count = 4 | same |"),
        "{section}"
    );
    assert!(rows[4].starts_with("| without periodic jobs:"), "{section}");
    assert!(
        rows[4].contains("| pool.linux.count = 4 | same |"),
        "{section}"
    );
    assert!(!section.contains("without spread"), "{section}");
    assert!(!section.contains("without preemption"), "{section}");
}
