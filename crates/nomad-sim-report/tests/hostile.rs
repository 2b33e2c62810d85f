//! Hostile input for `nomad-sim-report`: absurd flags, baselines and shards from other sweeps
//! or tampered with, readers that go away, full disks. Exit 2 is bad input, exit 1 a real
//! regression (or a failed write), and the CI recipe passes every time on unchanged code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
    ScratchDir::create(std::env::temp_dir().join(format!(
        "nomad-sim-report-hostile-{}-{name}",
        std::process::id()
    )))
    .expect("a scratch directory")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn assert_exit(args: &[&str], code: i32, needle: &str) -> Output {
    let o = run(args);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
    assert!(
        stderr(&o).contains(needle),
        "{args:?}: expected {needle:?} in {}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"));
    o
}

/// A scenario small enough to sweep a hundred times in a debug build.
fn small(dir: &Path) -> String {
    let path = dir.join("small.yaml");
    std::fs::write(
        &path,
        "name: small\nseed: 3\nhorizon: 2h\nnode_pools:\n  - { name: n, count: 3, resources: { cpu: 4000, memory: 4000 } }\n\
         workloads:\n  - name: w\n    arrivals: { poisson: { rate: 60/h } }\n    resources: { cpu: 1000, memory: 1000 }\n    duration: { exponential: { mean: 10m } }\n",
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn absurd_flags_exit_2() {
    let weekday = scenario("circleci-weekday.yaml");
    let w = weekday.as_str();
    assert_exit(
        &["--scenarios", w, "--seeds", "4294967295"],
        2,
        "--seeds 4294967295",
    );
    assert_exit(&["--scenarios", w, "--seeds", "4294967296"], 2, "");
    assert_exit(
        &["capacity", w, "--pool", "linux", "--max", "4294967295"],
        2,
        "at most 1000000 nodes",
    );
    assert_exit(
        &[
            "capacity", w, "--pool", "linux", "--min", "5000000", "--max", "6000000",
        ],
        2,
        "at most 1000000 nodes",
    );
    assert_exit(
        &["capacity", w, "--pool", "linux", "--min", "5000000"],
        2,
        "--min <= --max",
    );
    assert_exit(
        &["capacity", w, "--pool", "linux", "--seeds", "4294967295"],
        2,
        "--seeds",
    );
    let dir = tmp("shards");
    assert_exit(
        &[
            "--scenarios",
            w,
            "--algorithms",
            "binpack",
            "--seeds",
            "2",
            "--shard",
            "3/5",
            "--out",
            dir.to_str().unwrap(),
        ],
        2,
        "only 2 runs",
    );
}

#[test]
fn baselines_are_compared_only_with_what_they_measured() {
    let dir = tmp("fingerprint");
    let s = small(&dir);
    let base = dir.join("ci/nested/base.json");
    // A baseline in a directory that does not exist yet: created.
    let o = run(&[
        "--scenarios",
        &s,
        "--algorithms",
        "binpack,random",
        "--seeds",
        "2",
        "--save-baseline",
        base.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b = base.to_str().unwrap();
    // Other seeds, another scenario, an older format: exit 2, never "No regression".
    assert_exit(
        &[
            "--scenarios",
            &s,
            "--algorithms",
            "binpack",
            "--seeds",
            "3",
            "--baseline",
            b,
        ],
        2,
        "--seeds 2",
    );
    assert_exit(
        &[
            "--scenarios",
            &scenario("trace-replay.yaml"),
            "--algorithms",
            "binpack",
            "--seeds",
            "2",
            "--baseline",
            b,
        ],
        2,
        "nothing to compare",
    );
    let text = std::fs::read_to_string(&base).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["entries"] = serde_json::json!([]);
    let empty = dir.join("empty.json");
    std::fs::write(&empty, v.to_string()).unwrap();
    assert_exit(
        &[
            "--scenarios",
            &s,
            "--algorithms",
            "binpack",
            "--seeds",
            "2",
            "--baseline",
            empty.to_str().unwrap(),
        ],
        2,
        "nothing to compare: the baseline holds no entries",
    );
    let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
    old["schema_version"] = serde_json::json!(1);
    old.as_object_mut().unwrap().remove("fingerprint");
    let old_path = dir.join("old.json");
    std::fs::write(&old_path, serde_json::to_string_pretty(&old).unwrap()).unwrap();
    assert_exit(
        &[
            "--scenarios",
            &s,
            "--algorithms",
            "binpack",
            "--seeds",
            "2",
            "--baseline",
            old_path.to_str().unwrap(),
        ],
        2,
        "old.json:18:3: not a baseline of this nomad-sim-report",
    );
    let mut version: serde_json::Value = serde_json::from_str(&text).unwrap();
    version["fingerprint"]["version"] = serde_json::json!("0.0.1");
    let version_path = dir.join("version.json");
    std::fs::write(&version_path, version.to_string()).unwrap();
    assert_exit(
        &[
            "--scenarios",
            &s,
            "--algorithms",
            "binpack",
            "--seeds",
            "2",
            "--baseline",
            version_path.to_str().unwrap(),
        ],
        2,
        "saved by nomad-sim-report 0.0.1",
    );
    // A subset of what the baseline holds is compared; timing only when asked.
    let o = run(&[
        "--scenarios",
        &s,
        "--algorithms",
        "random",
        "--seeds",
        "2",
        "--baseline",
        b,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_exit(
        &[
            "--scenarios",
            &s,
            "--algorithms",
            "binpack",
            "--seeds",
            "2",
            "--no-timing",
            "--compare-timing",
            "--baseline",
            b,
        ],
        2,
        "contradict",
    );
    // The baseline is an input: it cannot be the sweep's --out report, nor a scenario.
    assert_exit(
        &[
            "--scenarios",
            &s,
            "--seeds",
            "1",
            "--algorithms",
            "binpack",
            "--save-baseline",
            &s,
        ],
        2,
        "this is an input",
    );
}

#[test]
fn compare_then_save_to_the_same_file() {
    let dir = tmp("same-file");
    let s = small(&dir);
    let base = dir.join("base.json");
    let b = base.to_str().unwrap();
    let args = [
        "--scenarios",
        &s,
        "--algorithms",
        "binpack",
        "--seeds",
        "2",
        "--no-timing",
    ];
    let mut first = args.to_vec();
    first.extend(["--baseline", b, "--save-baseline", b]);
    // No baseline yet: a missing file is bad input, and nothing is saved.
    assert_exit(&first, 2, "base.json");
    assert!(!base.exists());
    let mut save = args.to_vec();
    save.extend(["--save-baseline", b]);
    assert!(run(&save).status.success());
    let saved = std::fs::read_to_string(&base).unwrap();
    // Compared against itself first, then saved again (unchanged code: the same file).
    let o = run(&first);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("No regression"));
    assert_eq!(std::fs::read_to_string(&base).unwrap(), saved);
    // A regression leaves the baseline as it was.
    let mut v: serde_json::Value = serde_json::from_str(&saved).unwrap();
    v["entries"][0]["cpu_utilization"] = serde_json::json!(1.0);
    let tampered = serde_json::to_string_pretty(&v).unwrap();
    std::fs::write(&base, &tampered).unwrap();
    let o = run(&first);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("was not updated"));
    assert_eq!(std::fs::read_to_string(&base).unwrap(), tampered);
}

fn shards(dir: &Path, s: &str, seeds: &str, n: usize) -> Vec<PathBuf> {
    let out = dir.join(format!("shards-{seeds}-{n}"));
    for i in 0..n {
        let shard = format!("{i}/{n}");
        let o = run(&[
            "--scenarios",
            s,
            "--algorithms",
            "binpack,first-fit",
            "--seeds",
            seeds,
            "--no-timing",
            "--shard",
            &shard,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    (0..n)
        .map(|i| out.join(format!("shard-{i}-of-{n}.json")))
        .collect()
}

#[test]
fn merge_refuses_shards_that_do_not_belong_together() {
    let dir = tmp("merge");
    let s = small(&dir);
    let a = shards(&dir, &s, "2", 2);
    let b = shards(&dir, &s, "3", 2);
    let p = |v: &PathBuf| v.to_str().unwrap().to_string();
    // Shards of two sweeps.
    assert_exit(
        &["merge", &p(&a[0]), &p(&b[1])],
        2,
        "from a different sweep",
    );
    // The same shard twice, and a missing shard.
    assert_exit(&["merge", &p(&a[0]), &p(&a[0])], 2, "given twice");
    assert_exit(&["merge", &p(&a[0])], 2, "missing");
    let edit = |name: &str, f: &dyn Fn(&mut serde_json::Value)| -> String {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&a[1]).unwrap()).unwrap();
        f(&mut v);
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let zero = edit("zero.json", &|v| v["runs"] = serde_json::json!([]));
    assert_exit(&["merge", &p(&a[0]), &zero], 2, "holds no runs");
    let huge = edit("huge.json", &|v| {
        v["total_runs"] = serde_json::json!(1u64 << 63)
    });
    assert_exit(&["merge", &p(&a[0]), &huge], 2, "huge.json:");
    let seeds = edit("seeds.json", &|v| {
        v["fingerprint"]["seeds"] = serde_json::json!(u32::MAX)
    });
    assert_exit(
        &["merge", &p(&a[0]), &seeds],
        2,
        "more runs than a sweep may have",
    );
    let moved = edit("moved.json", &|v| {
        v["runs"][0]["spec"]["index"] = serde_json::json!(0)
    });
    assert_exit(
        &["merge", &p(&a[0]), &moved],
        2,
        "is not a run of shard 1 of 2",
    );
    let shards_n = edit("n.json", &|v| v["shards"] = serde_json::json!(0));
    assert_exit(&["merge", &p(&a[0]), &shards_n], 2, "impossible");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{\"schema_version\": 2,\n  \"runs\": [1, 2").unwrap();
    assert_exit(
        &["merge", &p(&a[0]), garbage.to_str().unwrap()],
        2,
        "garbage.json:2:",
    );
    // The right shards merge, and --out may not be a shard.
    let out = dir.join("merged");
    assert!(run(&[
        "merge",
        &p(&a[0]),
        &p(&a[1]),
        "--out",
        out.to_str().unwrap()
    ])
    .status
    .success());
    assert!(out.join("results.json").exists());
}

#[test]
fn closed_pipes_and_full_disks() {
    let dir = tmp("pipes");
    let s = small(&dir);
    let mut child = bin()
        .args(["--scenarios", &s, "--seeds", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_exit(
        &[
            "--scenarios",
            &s,
            "--seeds",
            "1",
            "--algorithms",
            "binpack",
            "--save-baseline",
            "/dev/full",
        ],
        1,
        "writing /dev/full: No space left on device",
    );
}

/// docs/report.md's CI recipe, on a small scenario: save a baseline once (timed, as the
/// recipe's first command is), then compare unchanged code a hundred times, timed and not.
/// Wall-clock figures are not compared unless asked, so every comparison passes.
#[test]
fn the_ci_recipe_passes_every_time_on_unchanged_code() {
    let dir = tmp("recipe");
    let s = small(&dir);
    let base = dir.join("ci/placement-baseline.json");
    let b = base.to_str().unwrap();
    let o = run(&["--scenarios", &s, "--seeds", "5", "--save-baseline", b]);
    assert!(o.status.success(), "{}", stderr(&o));
    for i in 0..100 {
        let mut args = vec!["--scenarios", s.as_str(), "--seeds", "5", "--baseline", b];
        if i % 2 == 1 {
            args.push("--no-timing");
        }
        let o = run(&args);
        assert!(o.status.success(), "run {i}: {}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("No regression"));
    }
}
