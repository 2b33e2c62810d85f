//! Hostile surroundings for the `nomad-sim` binary: readers that go away, full disks,
//! outputs that name inputs, devices, signals in the middle of a run, node names that try
//! to write YAML of their own. Each gets a clear answer, and nothing half-written is left.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nomad_sim_output::ScratchDir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
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
    bin().args(args).output().expect("the binary runs")
}

fn tmpdir(name: &str) -> ScratchDir {
    ScratchDir::create(std::env::temp_dir().join(format!(
        "nomad-sim-cli-hostile-{}-{name}",
        std::process::id()
    )))
    .expect("a scratch directory")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Runs the binary with its standard output closed before it writes anything.
fn with_closed_stdout(args: &[&str]) -> Output {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    let weekday = scenario("circleci-weekday.yaml");
    for args in [
        vec!["status", weekday.as_str(), "--at", "1h"],
        vec!["node-status", weekday.as_str(), "--at", "1h", "--json"],
        vec!["run", weekday.as_str()],
        vec!["run", weekday.as_str(), "--json"],
        vec!["run", weekday.as_str(), "--trace", "-"],
        vec!["validate", weekday.as_str()],
    ] {
        let o = with_closed_stdout(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
    // `run --trace - | head -2`: the reader takes two lines and goes away mid-trace.
    let mut child = bin()
        .args(["run", weekday.as_str(), "--trace", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("{\"t_ms\":0,"), "{first}");
    lines.next().unwrap().unwrap();
    drop(lines);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn the_trace_on_standard_output_is_alone_there() {
    let weekday = scenario("circleci-weekday.yaml");
    let o = run(&["run", weekday.as_str(), "--trace", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(text.lines().count() > 1000);
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    assert!(
        stderr(&o).contains("pending (s)"),
        "the summary goes to stderr"
    );
    let o = run(&["run", weekday.as_str(), "--trace", "-", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("both write to standard output"));
}

#[test]
fn a_full_disk_is_exit_1_naming_the_file() {
    let weekday = scenario("circleci-weekday.yaml");
    let o = run(&["run", weekday.as_str(), "--trace", "/dev/full"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("writing the trace /dev/full: No space left on device"),
        "{}",
        stderr(&o)
    );
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = bin()
        .args(["status", weekday.as_str(), "--at", "1h"])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("writing to standard output: No space left on device"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn outputs_never_overwrite_inputs() {
    let dir = tmpdir("inputs");
    let weekday = dir.join("weekday.yaml");
    std::fs::copy(scenario("circleci-weekday.yaml"), &weekday).unwrap();
    let before = std::fs::read(&weekday).unwrap();
    let w = weekday.to_str().unwrap();
    let other_name = dir.join("sub/../weekday.yaml");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for args in [
        vec!["run", w, "--trace", w],
        vec!["run", w, "--trace", other_name.to_str().unwrap()],
        vec!["run", w, "--out", w],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("this is an input"), "{}", stderr(&o));
        assert_eq!(std::fs::read(&weekday).unwrap(), before);
    }
    // The trace CSV a scenario replays is an input too.
    let replay = dir.join("replay");
    std::fs::create_dir_all(replay.join("traces")).unwrap();
    std::fs::copy(scenario("trace-replay.yaml"), replay.join("s.yaml")).unwrap();
    let csv = replay.join("traces/ci-sample.csv");
    std::fs::copy(root().join("scenarios/traces/ci-sample.csv"), &csv).unwrap();
    let o = run(&[
        "run",
        replay.join("s.yaml").to_str().unwrap(),
        "--trace",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // An --out directory whose report.json would be an input.
    let o = run(&[
        "import",
        "--nodes",
        root()
            .join("crates/nomad-sim-cli/tests/fixtures/node-detail.comma-fixed.json")
            .to_str()
            .unwrap(),
        "--out",
        root()
            .join("crates/nomad-sim-cli/tests/fixtures/../fixtures/node-detail.comma-fixed.json")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("this is an input"));
    // Nothing was left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn devices_are_written_not_replaced() {
    let weekday = scenario("circleci-weekday.yaml");
    let link = std::fs::symlink_metadata("/dev/stdout")
        .map(|m| m.file_type().is_symlink())
        .ok();
    let dir = tmpdir("devices");
    let captured = dir.join("stdout.txt");
    let o = bin()
        .args(["run", weekday.as_str(), "--trace", "/dev/stdout"])
        .stdout(Stdio::from(std::fs::File::create(&captured).unwrap()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&captured).unwrap();
    assert!(text.starts_with("{\"t_ms\":0,"), "{}", &text[..80]);
    assert!(!text.contains("pending (s)"), "the summary went to stderr");
    assert_eq!(
        std::fs::symlink_metadata("/dev/stdout")
            .map(|m| m.file_type().is_symlink())
            .ok(),
        link,
        "/dev/stdout is still what it was"
    );
    let o = run(&["run", weekday.as_str(), "--trace", "/dev/null", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_file());
}

/// Starts a long run, waits until its temporary trace file exists, sends `signal` and
/// returns the exit code; the run must leave neither the temporary file nor `--out`.
fn interrupt(signal: &str) -> Option<i32> {
    let dir = tmpdir(&format!("signal-{signal}"));
    let trace = dir.join("trace.jsonl");
    let out = dir.join("out");
    let mut child = bin()
        .args([
            "run",
            &scenario("mmc-10-rho80.yaml"),
            "--trace",
            trace.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let tmp = dir.join(format!(".trace.jsonl.{}.tmp", child.id()));
    // The temporary file appears once the run has started; the run takes far longer.
    while !tmp.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    assert!(!tmp.exists(), "{signal}: the temporary trace was left");
    assert!(!trace.exists(), "{signal}: a partial trace was left");
    assert!(!out.exists(), "{signal}: an empty --out was left");
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
    o.status.code()
}

#[test]
fn signals_remove_temporary_files_and_exit_128_plus_the_signal() {
    assert_eq!(interrupt("TERM"), Some(143));
    assert_eq!(interrupt("INT"), Some(130));
}

fn published(name: &str) -> serde_json::Value {
    let path = root()
        .join("crates/nomad-sim-cli/tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn imported_names_cannot_inject_yaml() {
    let dir = tmpdir("inject");
    let mut node = published("node-detail.comma-fixed.json");
    let evil = [
        "a\nworkloads: []\n#",
        "b\": x\n  - name: evil",
        "c\u{2028}d",
        "e\r\nnode_pools: []",
        "*alias &anchor !!tag {a: b} [c] # not a comment",
        "f\u{85}g\u{FEFF}",
    ];
    let mut list = Vec::new();
    for (i, name) in evil.iter().enumerate() {
        node["ID"] = serde_json::json!(format!("00000000-0000-0000-0000-00000000000{i}"));
        node["Name"] = serde_json::json!(name);
        node["Datacenter"] = serde_json::json!(format!("dc\n{name}"));
        node["Meta"] = serde_json::json!({ format!("k{name}"): name });
        list.push(node.clone());
    }
    let nodes = dir.join("nodes\nworkloads: x.json");
    std::fs::write(&nodes, serde_json::to_string(&list).unwrap()).unwrap();
    let out = dir.join("s.yaml");
    let o = run(&[
        "import",
        "--nodes",
        nodes.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = nomad_sim_scenario::load_file(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.config.workloads.len(), 1, "only the placeholder workload");
    let pools = &s.config.pools;
    assert_eq!(pools.len(), evil.len(), "one pool per datacenter");
    for name in evil {
        let p = pools
            .iter()
            .find(|p| p.datacenter == format!("dc\n{name}"))
            .unwrap_or_else(|| panic!("no pool in datacenter {name:?}"));
        assert_eq!(
            p.meta.get(&format!("k{name}")).map(String::as_str),
            Some(name)
        );
        // The node keeps its name, with control characters as `?`.
        assert_eq!(p.node_name(0), name.replace(char::is_control, "?"));
    }
}

#[test]
fn import_never_writes_a_scenario_validate_rejects() {
    let dir = tmpdir("invalid-import");
    let mut job = published("job-register-payload.json");
    job["Job"]["Priority"] = serde_json::json!(500);
    let job_path = dir.join("job.json");
    std::fs::write(&job_path, serde_json::to_string(&job).unwrap()).unwrap();
    let out = dir.join("s.yaml");
    let nodes = root().join("crates/nomad-sim-cli/tests/fixtures/node-detail.comma-fixed.json");
    let import = || {
        run(&[
            "import",
            "--nodes",
            nodes.to_str().unwrap(),
            "--jobs",
            job_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = import();
    // The job file is read as Nomad reads it, so its error is located in the job file.
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("job.json:1:73: priority must be from 1 to 100, got 500"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    // A job file that reads but would not load in the scenario (its datacenter has no node)
    // is refused by the loader's check, and nothing is written either.
    job["Job"]["Priority"] = serde_json::json!(50);
    job["Job"]["NodePool"] = serde_json::json!("default");
    job["Job"]["Datacenters"] = serde_json::json!(["mars-1"]);
    std::fs::write(&job_path, serde_json::to_string(&job).unwrap()).unwrap();
    let o = import();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("would not load"), "{}", stderr(&o));
    assert!(stderr(&o).contains("mars-1"), "{}", stderr(&o));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file"
    );
}

/// A batch task that fails every run under restart mode `delay` never ends: the run stops at
/// `limits.max_time_past_horizon` (here 2h) and says so, instead of running forever. The run
/// is given 60 s before the test fails, so a regression cannot hang the suite.
#[test]
fn work_that_never_ends_stops_at_the_time_limit() {
    let dir = tmpdir("never-ends");
    let path = dir.join("s.yaml");
    std::fs::write(
        &path,
        "name: never\nhorizon: 10m\nlimits: { max_time_past_horizon: 2h }\nnode_pools:\n  - { name: n, count: 1, resources: { cpu: 4000, memory: 4000 } }\nworkloads:\n  - name: w\n    arrivals: { at: [0s] }\n    resources: { cpu: 100, memory: 100 }\n    duration: 1ms\n    failure_rate: 1.0\n    restart: { attempts: 1, interval: 1m, delay: 0s, mode: delay }\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
        .args(["run", path.to_str().unwrap(), "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not stop at the time limit");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the run stopped 2h0m0s past the horizon with work still running"),
        "{}",
        stderr(&o)
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["allocations"]["placed"], 1);
}
