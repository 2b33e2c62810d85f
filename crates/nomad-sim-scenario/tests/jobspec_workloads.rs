//! `jobspec:` workloads: a Nomad job file read with Nomad's defaults and its identity kept,
//! the scenario giving only arrivals and run times; job file problems located in the job file.

use std::path::{Path, PathBuf};

use nomad_sim_core::config::{Arrivals, DurationDist, JobIdentity};
use nomad_sim_core::{JobType, Resources};
use nomad_sim_scenario::{load_file, parse_str, ScenarioError};

use nomad_sim_output::ScratchDir;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmpdir(name: &str) -> ScratchDir {
    ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-jobspec-{}-{name}", std::process::id())),
    )
    .expect("a scratch directory")
}

const HEAD: &str = "name: t\nhorizon: 2h\nnode_pools:\n  - name: linux\n    count: 2\n    resources: { cpu: 8000, memory: 16000, disk: 50000 }\n";

const BATCH: &str = "job \"etl\" {\n  type = \"batch\"\n  group \"load\" {\n    count = 2\n    task \"run\" {\n      driver = \"docker\"\n      config {\n        image = \"etl:1\"\n      }\n      resources {\n        cpu    = 1000\n        memory = 2048\n      }\n    }\n  }\n}\n";

/// Writes `job` as `dir/job.nomad.hcl` and a scenario with one workload `body` (indented
/// under `workloads:`), and loads it.
fn load_with(
    dir: &Path,
    job: &str,
    body: &str,
) -> Result<nomad_sim_scenario::Scenario, ScenarioError> {
    std::fs::write(dir.join("job.nomad.hcl"), job).unwrap();
    let text = format!("{HEAD}workloads:\n{body}");
    parse_str(&text, "s.yaml", dir)
}

fn problems(e: &ScenarioError) -> String {
    e.problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_shipped_job_files_load_with_their_identity_and_nomads_defaults() {
    let s = load_file(&repo().join("scenarios/job-files.yaml")).unwrap();
    let w = &s.config.workloads;
    let names: Vec<&str> = w.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["web", "ci-build", "cleanup", "node-exporter"]);

    // web: a service, priority 60, `instances` set to 6 by the scenario's variables (the
    // file's default is 3), 500 MHz / 512 MB, registered once under its own ID.
    let web = &w[0];
    assert_eq!(web.job_type, JobType::Service);
    assert_eq!(web.priority, 60);
    assert_eq!(web.count, 6);
    assert_eq!(web.resources, Resources::new(500, 512, 300));
    assert_eq!(web.datacenters, ["dc1", "dc2"]);
    assert_eq!(web.constraints.len(), 1);
    assert_eq!(web.spreads.len(), 1);
    assert_eq!(web.asks.dynamic_ports, ["http"]);
    assert!(matches!(&web.arrivals, Arrivals::At(t) if t == &[0]));
    assert!(matches!(web.duration, DurationDist::Constant(d) if d == 24 * 3_600_000));
    assert_eq!(
        web.identity.as_deref(),
        Some(&JobIdentity {
            job_id: "web".into(),
            group: "frontend".into(),
            registered_once: true,
            group_index: 0,
            group_count: 1,
            tasks: vec![("nginx".into(), 500, 512)],
        })
    );

    // ci-build: parameterized batch, dispatched by the scenario's Poisson arrivals.
    let build = &w[1];
    assert_eq!(build.job_type, JobType::Batch);
    assert_eq!(build.priority, 50, "Nomad's default priority");
    assert_eq!(build.resources, Resources::new(2048, 4096, 300));
    match &build.arrivals {
        Arrivals::Dispatch(inner) => {
            assert!(matches!(**inner, Arrivals::Poisson { rate_per_hour } if rate_per_hour == 30.0))
        }
        other => panic!("ci-build arrivals {other:?}"),
    }
    assert_eq!(build.group_name(), "build");

    // cleanup: periodic on the file's cron, prohibit_overlap kept.
    match &w[2].arrivals {
        Arrivals::Periodic(p) => {
            assert_eq!(p.cron.text, "*/30 * * * *");
            assert!(p.prohibit_overlap);
            assert_eq!(p.utc_offset_s, 0);
        }
        other => panic!("cleanup arrivals {other:?}"),
    }
    assert_eq!(w[3].job_type, JobType::System);
    assert_eq!(w[3].priority, 70);
    assert!(s.inputs.iter().any(|p| p.ends_with("jobs/web.nomad.hcl")));
}

#[test]
fn a_plain_job_with_arrivals_is_registered_anew_and_a_name_renames_it() {
    let dir = tmpdir("plain");
    let s = load_with(
        &dir,
        BATCH,
        "  - jobspec: job.nomad.hcl\n    name: nightly-etl\n    arrivals: { every: 30m }\n    duration: 10m\n",
    )
    .unwrap();
    let w = &s.config.workloads[0];
    assert_eq!(w.name, "nightly-etl");
    assert_eq!(w.count, 2);
    let id = w.identity.as_deref().unwrap();
    assert_eq!(
        (id.job_id.as_str(), id.group.as_str()),
        ("nightly-etl", "load")
    );
    assert!(!id.registered_once);
}

#[test]
fn keys_the_job_file_decides_are_refused_where_they_are_written() {
    let dir = tmpdir("keys");
    let e = load_with(
        &dir,
        BATCH,
        "  - jobspec: job.nomad.hcl\n    duration: 10m\n    count: 3\n    resource_class: large\n",
    )
    .unwrap_err();
    let text = problems(&e);
    assert!(
        text.contains("s.yaml:10:5: workloads[0].count: comes from the job file"),
        "{text}"
    );
    assert!(
        text.contains("workloads[0].resource_class: comes from the job file"),
        "{text}"
    );
}

#[test]
fn a_job_file_error_is_located_in_the_job_file() {
    let dir = tmpdir("syntax");
    let e = load_with(
        &dir,
        "job \"x\" {\n  group \"g\" {\n    count = \n  }\n}\n",
        "  - jobspec: job.nomad.hcl\n    duration: 10m\n",
    )
    .unwrap_err();
    let first = e.problems[0].to_string();
    let file = dir.join("job.nomad.hcl").display().to_string();
    assert!(first.starts_with(&format!("{file}:")), "{first}");
    assert!(first.contains("workloads[0].jobspec"), "{first}");
    let missing = load_with(
        &dir,
        BATCH,
        "  - jobspec: nope.nomad.hcl\n    duration: 10m\n",
    )
    .unwrap_err();
    assert!(
        problems(&missing).contains("cannot read the job file"),
        "{}",
        problems(&missing)
    );
}

#[test]
fn what_the_scenario_must_say_is_asked_for() {
    let dir = tmpdir("asks");
    let no_duration = load_with(&dir, BATCH, "  - jobspec: job.nomad.hcl\n").unwrap_err();
    assert!(
        problems(&no_duration).contains("s.yaml:8:5: workloads[0]: needs a duration"),
        "{}",
        problems(&no_duration)
    );
    let parameterized = BATCH.replace("type = \"batch\"", "type = \"batch\"\n  parameterized {}");
    let e = load_with(
        &dir,
        &parameterized,
        "  - jobspec: job.nomad.hcl\n    duration: 1m\n",
    )
    .unwrap_err();
    assert!(
        problems(&e).contains("dispatched by arrivals"),
        "{}",
        problems(&e)
    );
    let periodic = BATCH.replace(
        "type = \"batch\"",
        "type = \"batch\"\n  periodic {\n    crons = [\"@hourly\"]\n  }",
    );
    let e = load_with(
        &dir,
        &periodic,
        "  - jobspec: job.nomad.hcl\n    duration: 1m\n    arrivals: { every: 1h }\n",
    )
    .unwrap_err();
    assert!(
        problems(&e).contains("periodic block launches it"),
        "{}",
        problems(&e)
    );
}

#[test]
fn an_ask_no_node_can_hold_is_refused_in_any_group() {
    let dir = tmpdir("refused");
    let huge = BATCH.replace("memory = 2048", "memory = 64000");
    let e = load_with(
        &dir,
        &huge,
        "  - jobspec: job.nomad.hcl\n    duration: 1m\n",
    )
    .unwrap_err();
    assert!(
        problems(&e).contains("which fits no node"),
        "{}",
        problems(&e)
    );
    assert!(!problems(&e).contains("ephemeral_disk"), "{}", problems(&e));
    let no_disk = format!(
        "{}workloads:\n  - jobspec: job.nomad.hcl\n    duration: 1m\n",
        HEAD.replace(", disk: 50000", "")
    );
    std::fs::write(dir.join("job.nomad.hcl"), BATCH).unwrap();
    let e = parse_str(&no_disk, "s.yaml", &dir).unwrap_err();
    assert!(
        problems(&e).contains("give the pools a disk"),
        "{}",
        problems(&e)
    );
    // A second group that fits no node is refused as the first would be.
    let two = BATCH.replace(
        "  group \"load\" {",
        "  group \"extract\" {\n    task \"t\" {\n      driver = \"docker\"\n      resources {\n        memory = 99000\n      }\n    }\n  }\n  group \"load\" {",
    );
    let e = load_with(&dir, &two, "  - jobspec: job.nomad.hcl\n    duration: 1m\n").unwrap_err();
    assert!(
        problems(&e).contains("asks 100 MHz, 99000 MB, 300 MB disk, which fits no node"),
        "{}",
        problems(&e)
    );
}

/// A `crons` list launches at the earliest match of any of its specs: from Monday
/// 2026-01-05T00:00:00Z (Unix 1767571200), 09:00 (1767603600), then 17:30 (1767634200), then
/// 09:00 the next day (1767690000).
#[test]
fn a_crons_list_launches_at_each_of_its_specs() {
    let dir = tmpdir("crons");
    let job = BATCH.replace(
        "type = \"batch\"",
        "type = \"batch\"\n  periodic {\n    crons = [\"0 9 * * *\", \"30 17 * * *\"]\n  }",
    );
    let s = load_with(&dir, &job, "  - jobspec: job.nomad.hcl\n    duration: 1m\n").unwrap();
    let Arrivals::Periodic(p) = &s.config.workloads[0].arrivals else {
        panic!("not periodic: {:?}", s.config.workloads[0].arrivals);
    };
    let mut t = 1_767_571_200;
    let mut launches = Vec::new();
    for _ in 0..3 {
        t = p.next_after_s(t).unwrap();
        launches.push(t);
    }
    assert_eq!(launches, [1_767_603_600, 1_767_634_200, 1_767_690_000]);
}

/// Two groups: a service's web servers and its cache.
const TWO_GROUPS: &str = "job \"shop\" {\n  type = \"service\"\n  group \"web\" {\n    count = 3\n    task \"nginx\" {\n      driver = \"docker\"\n      resources {\n        cpu    = 500\n        memory = 256\n      }\n    }\n  }\n  group \"cache\" {\n    task \"redis\" {\n      driver = \"docker\"\n      resources {\n        cpu    = 1000\n        memory = 1024\n      }\n    }\n  }\n}\n";

#[test]
fn a_job_with_several_groups_is_a_workload_per_group_with_one_identity() {
    let dir = tmpdir("groups");
    let s = load_with(
        &dir,
        TWO_GROUPS,
        "  - jobspec: job.nomad.hcl\n    duration: 24h\n",
    )
    .unwrap();
    let w = &s.config.workloads;
    let names: Vec<&str> = w.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["shop.web", "shop.cache"]);
    let ids: Vec<(String, String, u32, u32, bool)> = w
        .iter()
        .map(|w| {
            let i = w.identity.as_deref().unwrap();
            (
                i.job_id.clone(),
                i.group.clone(),
                i.group_index,
                i.group_count,
                i.registered_once,
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("shop".into(), "web".into(), 0, 2, true),
            ("shop".into(), "cache".into(), 1, 2, true)
        ]
    );
    assert_eq!((w[0].count, w[1].count), (3, 1));
    assert_eq!(w[0].resources, Resources::new(500, 256, 300));
    assert_eq!(w[1].resources, Resources::new(1000, 1024, 300));
    // Both groups are registered at the same moment, as one job is.
    assert!(w
        .iter()
        .all(|w| matches!(&w.arrivals, Arrivals::At(t) if t == &[0])));
    // A workload name renames the job, and the groups follow it.
    let s = load_with(
        &dir,
        TWO_GROUPS,
        "  - jobspec: job.nomad.hcl\n    name: store\n    duration: 24h\n",
    )
    .unwrap();
    let names: Vec<&str> = s.config.workloads.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["store.web", "store.cache"]);
    assert!(s
        .config
        .workloads
        .iter()
        .all(|w| w.identity.as_ref().unwrap().job_id == "store"));
}

#[test]
fn a_job_with_several_groups_takes_any_arrivals_but_a_trace() {
    let dir = tmpdir("groups-arrivals");
    // Random arrivals drive the first group; the others are registered with it.
    let s = load_with(
        &dir,
        TWO_GROUPS,
        "  - jobspec: job.nomad.hcl\n    arrivals: { poisson: { rate: 10/h } }\n    duration: 1h\n",
    )
    .unwrap();
    let w = &s.config.workloads;
    assert_eq!(w.len(), 2);
    assert!(!w[0].follows_first_group() && w[1].follows_first_group());
    assert_eq!((w[0].following_groups(), w[1].following_groups()), (1, 0));
    // A trace's rows give one group's ask: refused, at the arrivals key.
    std::fs::write(
        dir.join("t.csv"),
        "submit,cpu,memory,duration\n0s,100,100,1m\n",
    )
    .unwrap();
    let e = load_with(
        &dir,
        TWO_GROUPS,
        "  - jobspec: job.nomad.hcl\n    arrivals: { trace: { file: t.csv } }\n    duration: 1h\n",
    )
    .unwrap_err();
    let text = problems(&e);
    assert!(
        text.contains("workloads[0].arrivals: job.nomad.hcl: job \"shop\" has 2 task groups: a trace's rows give one group's resources"),
        "{text}"
    );
}
