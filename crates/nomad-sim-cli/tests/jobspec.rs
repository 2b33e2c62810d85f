//! `nomad-sim jobspec`: the summary, Nomad's JSON (both flag spellings), the round trip through
//! that JSON, the shipped sweep job, and bad files (exit 2 with file:line:col).

use std::path::Path;
use std::process::{Command, Output};

use nomad_sim_output::ScratchDir;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../nomad-sim-jobspec/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn sweep_job() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/jobs/nomad-sim-sweep.nomad.hcl")
        .display()
        .to_string()
}

fn tmp() -> ScratchDir {
    ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-jobspec-{}", std::process::id())),
    )
    .expect("a scratch directory")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn the_summary_shows_identity_and_asks() {
    let out = run(&["jobspec", &fixture("full.nomad.hcl")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for needle in [
        "job \"full\" (service): priority 70, node pool \"linux\", datacenters dc1,dc2",
        "constraint ${attr.kernel.name} = linux",
        "spread ${node.datacenter} (weight 80): dc1 70%, dc2 30%",
        "group \"api\": count 4, each asks cpu 350 MHz, cores 2, memory 2064 MB",
        "task \"proxy\" (docker, prestart sidecar)",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in\n{s}");
    }
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn json_is_nomads_job_run_output_in_both_spellings() {
    let a = run(&["jobspec", &fixture("full.nomad.hcl"), "--json"]);
    let b = run(&["jobspec", &fixture("full.nomad.hcl"), "-json"]);
    assert!(
        a.status.success() && b.status.success(),
        "{}",
        text(&b.stderr)
    );
    assert_eq!(a.stdout, b.stdout);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(v["Job"]["ID"], "full");
    assert_eq!(v["Job"]["TaskGroups"][0]["Count"], 4);
    assert_eq!(
        v["Job"]["TaskGroups"][0]["Tasks"][2]["Resources"]["MemoryMaxMB"],
        2048
    );
    assert_eq!(
        v["Job"]["TaskGroups"][0]["ReschedulePolicy"]["Delay"],
        60_000_000_000u64
    );
}

#[test]
fn hcl_to_json_and_back_gives_the_same_job() {
    let dir = tmp();
    for name in [
        "full.nomad.hcl",
        "variables.nomad.hcl",
        "shapes-multigroup.nomad.hcl",
        "minimal.nomad.hcl",
    ] {
        let first = run(&["jobspec", &fixture(name), "--json"]);
        assert!(first.status.success(), "{name}: {}", text(&first.stderr));
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, &first.stdout).unwrap();
        let second = run(&["jobspec", file.to_str().unwrap(), "--json"]);
        assert!(second.status.success(), "{name}: {}", text(&second.stderr));
        assert_eq!(text(&first.stdout), text(&second.stdout), "{name}");
        assert!(second.stderr.is_empty(), "{name}: {}", text(&second.stderr));
    }
}

#[test]
fn variables_take_nomads_var_flags() {
    let out = run(&[
        "jobspec",
        &fixture("variables.nomad.hcl"),
        "-var",
        "image_tag=3.1",
        "-var=replicas=4",
        "--var",
        "size=large",
        "-json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Job"]["Meta"]["image"], "registry.example/api:3.1");
    assert_eq!(v["Job"]["TaskGroups"][0]["Count"], 4);
    assert_eq!(
        v["Job"]["TaskGroups"][0]["Tasks"][0]["Resources"]["MemoryMB"],
        2048
    );
}

#[test]
fn the_shipped_sweep_job_reads_without_warnings() {
    let out = run(&["jobspec", &sweep_job()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "warnings: {}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("job \"nomad-sim-sweep\" (batch, parameterized)"),
        "{s}"
    );
    assert!(s.contains("meta required [shard]"), "{s}");
}

#[test]
fn warnings_go_to_stderr_once_per_kind() {
    let out = run(&["jobspec", &fixture("ignored.nomad.hcl")]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.matches("template is ignored").count(), 1, "{err}");
    assert!(
        err.contains("ignored.nomad.hcl:29:7: template is ignored"),
        "{err}"
    );
}

#[test]
fn unsupported_content_prints_the_job_then_exits_2() {
    let out = run(&["jobspec", &fixture("unsupported.nomad.hcl")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("job \"unsupported\""));
    let err = text(&out.stderr);
    assert!(
        err.contains("unsupported.nomad.hcl:4:5: CSI volume \"data\" cannot be simulated yet"),
        "{err}"
    );
}

#[test]
fn bad_files_exit_2_with_file_line_and_column() {
    let cases = [
        (
            "bad/syntax.nomad.hcl",
            "syntax.nomad.hcl:9:5: HCL syntax error",
        ),
        (
            "bad/unknown-variable.nomad.hcl",
            "unknown-variable.nomad.hcl:11:24: unknown variable var.tga",
        ),
        (
            "bad/wrong-type.nomad.hcl",
            "wrong-type.nomad.hcl:3:13: variable \"replicas\": wrong type",
        ),
        (
            "bad/negative-count.nomad.hcl",
            "negative-count.nomad.hcl:3:13: group \"g\": count must be 0 or more, got -1",
        ),
        (
            "bad/negative-count.json",
            "negative-count.json:7:18: group \"g\": count must be 0 or more",
        ),
        ("bad/syntax.json", "syntax.json:5:3: JSON syntax error"),
    ];
    for (file, want) in cases {
        let out = run(&["jobspec", &fixture(file)]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with("nomad-sim: error: ") && err.contains(want),
            "{file}: {err}"
        );
        assert!(out.stdout.is_empty(), "{file}");
    }
    let out = run(&[
        "jobspec",
        &fixture("variables.nomad.hcl"),
        "--var",
        "replicas=lots",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("variables.nomad.hcl:7:1: --var replicas=lots: wrong type"));
    let out = run(&["jobspec", "/no/such/job.nomad.hcl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read the job file"));
}

#[test]
fn a_cron_or_time_zone_a_scenario_would_refuse_is_refused_here_too() {
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-jobspec-cron-{}", std::process::id())),
    )
    .expect("a scratch directory");
    let job = |periodic: &str| {
        format!(
            "job \"p\" {{\n  type = \"batch\"\n  periodic {{\n{periodic}\n  }}\n  group \"g\" {{\n    task \"t\" {{\n      driver = \"docker\"\n    }}\n  }}\n}}\n"
        )
    };
    let cases = [
        (
            "cron.nomad.hcl",
            job("    cron = \"61 * * * *\""),
            "periodic cron \"61 * * * *\"",
        ),
        (
            "zone.nomad.hcl",
            job("    cron = \"0 * * * *\"\n    time_zone = \"Mars/Olympus\""),
            "\"Mars/Olympus\" is not a known time zone name",
        ),
    ];
    for (name, text_of_file, want) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text_of_file).unwrap();
        let out = run(&["jobspec", &path.display().to_string()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = text(&out.stderr);
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}");
    }
    // A good zone reads.
    let path = dir.path().join("good.nomad.hcl");
    std::fs::write(
        &path,
        job("    cron = \"0 2 * * *\"\n    time_zone = \"America/New_York\""),
    )
    .unwrap();
    let out = run(&["jobspec", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
