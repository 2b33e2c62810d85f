//! Job files written from Nomad's job specification pages, read in HCL and JSON: every field,
//! every default, identity, warnings, unsupported content, located errors and round trips.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nomad_sim_jobspec::{load_file, parse_as, parse_str, Format, Job, JobType, Loaded};

const S: u64 = 1_000_000_000;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(name: &str) -> Loaded {
    load_with(name, &[])
}

fn load_with(name: &str, vars: &[(&str, &str)]) -> Loaded {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match load_file(&fixture(name), &vars) {
        Ok(l) => l,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// The error text of a file that must not load.
fn error_of(name: &str) -> String {
    match load_file(&fixture(name), &BTreeMap::new()) {
        Ok(_) => panic!("{name} loaded"),
        Err(e) => e.to_string(),
    }
}

/// HCL -> the API JSON the CLI prints -> read again: the same job.
fn round_trip(job: &Job) -> Job {
    let text = serde_json::to_string_pretty(&job.to_api_json()).unwrap();
    match parse_as(Format::Json, &text, "round-trip.json", &BTreeMap::new()) {
        Ok(l) => {
            assert!(l.warnings.is_empty(), "{:?}", l.warnings);
            l.job
        }
        Err(e) => panic!("{e}\n{text}"),
    }
}

#[test]
fn a_silent_file_gets_nomads_defaults_in_hcl_and_json() {
    let hcl = load("minimal.nomad.hcl");
    let json = load("minimal.json");
    assert_eq!(hcl.job, json.job);
    assert!(hcl.warnings.is_empty() && hcl.unsupported.is_empty());
    let j = &hcl.job;
    assert_eq!((j.id.as_str(), j.name.as_str()), ("minimal", "minimal"));
    assert_eq!(j.job_type, JobType::Service);
    assert_eq!(j.priority, 50);
    assert_eq!(j.datacenters, ["*"]);
    assert_eq!(j.node_pool, "default");
    assert_eq!(
        (j.namespace.as_str(), j.region.as_str()),
        ("default", "global")
    );
    assert!(!j.all_at_once && j.periodic.is_none() && j.parameterized_job.is_none());
    let g = &j.task_groups[0];
    assert_eq!((g.name.as_str(), g.count), ("web", 1));
    assert_eq!(g.ephemeral_disk.size_mb, 300);
    let r = &g.restart_policy;
    assert_eq!(
        (r.attempts, r.interval, r.delay, r.mode.as_str()),
        (2, 1800 * S, 15 * S, "fail")
    );
    let rs = g.reschedule_policy.as_ref().unwrap();
    assert_eq!(
        (
            rs.delay,
            rs.delay_function.as_str(),
            rs.max_delay,
            rs.unlimited
        ),
        (30 * S, "exponential", 3600 * S, true)
    );
    let m = g.migrate.as_ref().unwrap();
    assert_eq!(
        (
            m.max_parallel,
            m.health_check.as_str(),
            m.min_healthy_time,
            m.healthy_deadline
        ),
        (1, "checks", 10 * S, 300 * S)
    );
    let u = g.update.as_ref().unwrap();
    assert_eq!(
        (
            u.max_parallel,
            u.health_check.as_str(),
            u.min_healthy_time,
            u.healthy_deadline
        ),
        (1, "checks", 10 * S, 300 * S)
    );
    assert_eq!(
        (u.progress_deadline, u.stagger, u.canary),
        (600 * S, 30 * S, 0)
    );
    let t = &g.tasks[0];
    assert_eq!((t.name.as_str(), t.driver.as_str()), ("server", "docker"));
    assert_eq!((t.resources.cpu, t.resources.memory_mb), (100, 300));
    assert_eq!((t.resources.cores, t.resources.memory_max_mb), (0, 0));
    assert_eq!(t.kill_timeout, 5 * S);
    assert!(t.lifecycle.is_none());
    assert_eq!(&t.restart_policy, r);
    assert_eq!(t.config.as_ref().unwrap()["image"], "nginx:1.27");
}

#[test]
fn batch_jobs_get_batch_restart_and_reschedule_and_no_migrate_or_update() {
    let j = load("batch-minimal.nomad.hcl").job;
    assert_eq!(j.job_type, JobType::Batch);
    let g = &j.task_groups[0];
    let r = &g.restart_policy;
    assert_eq!(
        (r.attempts, r.interval, r.delay, r.mode.as_str()),
        (3, 24 * 3600 * S, 15 * S, "fail")
    );
    let rs = g.reschedule_policy.as_ref().unwrap();
    assert_eq!(
        (
            rs.attempts,
            rs.interval,
            rs.delay,
            rs.delay_function.as_str(),
            rs.unlimited
        ),
        (1, 24 * 3600 * S, 5 * S, "constant", false)
    );
    assert!(g.migrate.is_none() && g.update.is_none());
}

#[test]
fn every_field_reads_the_same_from_hcl_and_json() {
    let hcl = load("full.nomad.hcl");
    let json = load("full.json");
    assert!(hcl.warnings.is_empty(), "{:?}", hcl.warnings);
    assert_eq!(hcl.job, json.job);
    let j = &hcl.job;
    assert_eq!(
        (j.name.as_str(), j.namespace.as_str(), j.region.as_str()),
        ("Full job", "ci", "eu")
    );
    assert_eq!((j.priority, j.all_at_once), (70, true));
    assert_eq!(j.datacenters, ["dc1", "dc2"]);
    assert_eq!(j.node_pool, "linux");
    assert_eq!(j.meta["team"], "platform");
    let ops: Vec<(&str, &str, &str)> = j
        .constraints
        .iter()
        .map(|c| (c.l_target.as_str(), c.operand.as_str(), c.r_target.as_str()))
        .collect();
    assert_eq!(
        ops,
        [
            ("${attr.kernel.name}", "=", "linux"),
            ("${node.class}", "regexp", "^m5"),
            ("", "distinct_hosts", "true")
        ]
    );
    assert_eq!(j.affinities[0].weight, -30);
    let sp = &j.spreads[0];
    assert_eq!(
        (sp.attribute.as_str(), sp.weight),
        ("${node.datacenter}", 80)
    );
    assert_eq!(
        sp.spread_target
            .iter()
            .map(|t| (t.value.as_str(), t.percent))
            .collect::<Vec<_>>(),
        [("dc1", 70), ("dc2", 30)]
    );
    let g = &j.task_groups[0];
    assert_eq!((g.name.as_str(), g.count), ("api", 4));
    assert_eq!(g.constraints[0].operand, "distinct_property");
    assert_eq!(g.affinities[0].weight, 50, "affinity weight defaults to 50");
    assert_eq!(g.spreads[0].weight, 50, "spread weight defaults to 50");
    let r = &g.restart_policy;
    assert_eq!(
        (r.attempts, r.interval, r.delay, r.mode.as_str()),
        (5, 600 * S, 5 * S, "delay")
    );
    // The job's reschedule block under the group's.
    let rs = g.reschedule_policy.as_ref().unwrap();
    assert_eq!(
        (
            rs.delay,
            rs.delay_function.as_str(),
            rs.max_delay,
            rs.unlimited
        ),
        (60 * S, "fibonacci", 1800 * S, true)
    );
    let m = g.migrate.as_ref().unwrap();
    assert_eq!(
        (
            m.max_parallel,
            m.health_check.as_str(),
            m.min_healthy_time,
            m.healthy_deadline
        ),
        (3, "task_states", 30 * S, 600 * S)
    );
    let u = g.update.as_ref().unwrap();
    assert_eq!(
        (
            u.max_parallel,
            u.health_check.as_str(),
            u.min_healthy_time,
            u.healthy_deadline
        ),
        (2, "task_states", 20 * S, 180 * S)
    );
    assert_eq!(
        (u.stagger, u.canary, u.auto_promote, u.auto_revert),
        (10 * S, 1, true, true)
    );
    assert_eq!(u.progress_deadline, 600 * S);
    assert_eq!(
        (g.ephemeral_disk.size_mb, g.ephemeral_disk.sticky),
        (1024, true)
    );
    let d = g.disconnect.as_ref().unwrap();
    assert_eq!(
        (d.lost_after, d.replace, d.reconcile.as_str()),
        (3600 * S, false, "keep_original")
    );
    let n = &g.networks[0];
    assert_eq!(n.mode, "bridge");
    assert_eq!(
        (
            n.reserved_ports[0].label.as_str(),
            n.reserved_ports[0].value,
            n.reserved_ports[0].to
        ),
        ("http", 8080, 80)
    );
    assert_eq!(
        (n.dynamic_ports[0].label.as_str(), n.dynamic_ports[0].to),
        ("metrics", 9100)
    );
    assert_eq!(n.reserved_ports[0].host_network, "default");
    assert_eq!(g.meta["tier"], "front");
    let names: Vec<&str> = g.tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["init", "proxy", "app", "flush"]);
    let app = &g.tasks[2];
    assert_eq!((app.resources.cores, app.resources.cpu), (2, 0));
    assert_eq!(
        (app.resources.memory_mb, app.resources.memory_max_mb),
        (1024, 2048)
    );
    assert_eq!(
        (app.kill_timeout, app.leader, app.user.as_str()),
        (30 * S, true, "app")
    );
    assert_eq!(app.env["MODE"], "prod");
    assert_eq!(
        app.restart_policy.attempts, 1,
        "the task's restart over the group's"
    );
    assert_eq!(app.restart_policy.mode, "delay");
    assert_eq!(app.constraints[0].operand, "version");
    let dev = &app.resources.devices[0];
    assert_eq!((dev.name.as_str(), dev.count), ("nvidia/gpu", 2));
    assert_eq!(dev.constraints[0].r_target, "16 GiB");
    assert_eq!(dev.affinities[0].r_target, "Tesla T4");
    let proxy = g.tasks[1].lifecycle.as_ref().unwrap();
    assert_eq!((proxy.hook.as_str(), proxy.sidecar), ("prestart", true));
    assert_eq!(g.tasks[3].lifecycle.as_ref().unwrap().hook, "poststop");
    // The job-level blocks stay as written (with defaults) on the job too.
    assert_eq!(j.migrate.as_ref().unwrap().max_parallel, 3);
    assert_eq!(j.update.as_ref().unwrap().max_parallel, 2);
}

#[test]
fn the_ask_takes_the_largest_phase_plus_prestart_sidecars() {
    let g = &load("full.nomad.hcl").job.task_groups[0];
    let ask = g.ask();
    // cpu: proxy 50 + max(init 300, app 0 (cores), flush 200).
    assert_eq!(ask.cpu, 350);
    // memory: proxy 64 + max(init 600, app 1024, flush 2000).
    assert_eq!(ask.memory_mb, 2064);
    // memory_max: proxy 64 + max(600, app 2048, 2000).
    assert_eq!(ask.memory_max_mb, 2112);
    assert_eq!((ask.cores, ask.disk_mb), (2, 1024));
    assert_eq!(ask.devices.len(), 1);
    assert_eq!(
        (ask.reserved_ports.as_slice(), ask.dynamic_ports),
        (&[8080][..], 1)
    );
    // A poststart sidecar runs with the main tasks: they add up.
    let shop = load("shapes-multigroup.nomad.hcl").job;
    let worker = shop
        .task_groups
        .iter()
        .find(|g| g.name == "worker")
        .unwrap();
    assert_eq!((worker.ask().cpu, worker.ask().memory_mb), (200, 428));
}

#[test]
fn many_shapes_load_with_their_identity() {
    type Case<'a> = (&'a str, &'a str, JobType, &'a [(&'a str, u32)]);
    let cases: &[Case] = &[
        (
            "shapes-system.nomad.hcl",
            "node-exporter",
            JobType::System,
            &[("exporter", 1)],
        ),
        (
            "shapes-sysbatch.nomad.hcl",
            "gc-images",
            JobType::Sysbatch,
            &[("gc", 1)],
        ),
        (
            "shapes-periodic.nomad.hcl",
            "nightly-report",
            JobType::Batch,
            &[("report", 1)],
        ),
        (
            "shapes-multigroup.nomad.hcl",
            "shop",
            JobType::Service,
            &[("frontend", 3), ("cache", 0), ("worker", 2)],
        ),
        ("full.nomad.hcl", "full", JobType::Service, &[("api", 4)]),
        ("api-read.json", "cache", JobType::Service, &[("cache", 3)]),
    ];
    for (file, id, ty, groups) in cases {
        let l = load(file);
        assert_eq!(&l.job.id, id, "{file}");
        assert_eq!(l.job.job_type, *ty, "{file}");
        let got: Vec<(&str, u32)> = l
            .job
            .task_groups
            .iter()
            .map(|g| (g.name.as_str(), g.count))
            .collect();
        assert_eq!(&got, groups, "{file}");
        assert!(l.unsupported.is_empty(), "{file}: {:?}", l.unsupported);
    }
    let sys = load("shapes-system.nomad.hcl").job;
    assert!(
        sys.task_groups[0].reschedule_policy.is_none(),
        "system jobs do not reschedule"
    );
    assert!(sys.task_groups[0].update.is_some());
    assert_eq!(sys.priority, 90);
    let sysbatch = load("shapes-sysbatch.nomad.hcl").job;
    let p = sysbatch.periodic.as_ref().unwrap();
    assert_eq!(p.crons(), ["0 3 * * *", "0 15 * * *"]);
    assert_eq!(
        (p.time_zone.as_str(), p.prohibit_overlap, p.enabled),
        ("Europe/Berlin", true, true)
    );
    assert_eq!(sysbatch.task_groups[0].restart_policy.attempts, 3);
    let periodic = load("shapes-periodic.nomad.hcl").job;
    let p = periodic.periodic.as_ref().unwrap();
    assert_eq!(
        (p.spec.as_str(), p.spec_type.as_str(), p.time_zone.as_str()),
        ("@daily", "cron", "UTC")
    );
    assert!(!p.enabled && !periodic.is_periodic());
    // count falls back to scaling.min only when count is absent.
    let shop = load("shapes-multigroup.nomad.hcl");
    assert_eq!(
        shop.warnings.len(),
        1,
        "scaling is a warning: {:?}",
        shop.warnings
    );
}

#[test]
fn scaling_min_is_the_default_count() {
    let text = r#"
job "s" {
  group "g" {
    scaling {
      min = 3
      max = 9
    }
    task "t" {
      driver = "exec"
    }
  }
}"#;
    let l = parse_str(text, "s.nomad.hcl", &BTreeMap::new()).unwrap();
    assert_eq!(l.job.task_groups[0].count, 3);
}

#[test]
fn parameterized_jobs_read_their_block() {
    let l = load_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/jobs/nomad-sim-sweep.nomad.hcl"),
        &BTreeMap::new(),
    )
    .unwrap();
    assert!(
        l.warnings.is_empty(),
        "the shipped sweep job reads without warnings: {:?}",
        l.warnings
    );
    assert!(l.unsupported.is_empty());
    let j = &l.job;
    assert_eq!(j.id, "nomad-sim-sweep");
    assert_eq!(j.job_type, JobType::Batch);
    let p = j.parameterized_job.as_ref().unwrap();
    assert_eq!(
        (p.payload.as_str(), p.meta_required.as_slice()),
        ("forbidden", &["shard".to_string()][..])
    );
    assert!(j.is_parameterized());
    let task = &j.task_groups[0].tasks[0];
    let args = task.config.as_ref().unwrap()["args"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        args.contains(&serde_json::json!("${NOMAD_META_shard}/8")),
        "{args:?}"
    );
    assert_eq!(j.task_groups[0].ask().cpu, 4000);
}

#[test]
fn variables_locals_functions_and_passthrough() {
    let j = load("variables.nomad.hcl").job;
    assert_eq!(j.datacenters, ["dc1", "dc2", "dc3"]);
    assert_eq!(j.meta["image"], "registry.example/api:1.2");
    assert_eq!(j.meta["dcs"], "dc1,dc2,dc3");
    assert_eq!(j.meta["count"], "3");
    assert_eq!(j.meta["team"], "core");
    assert_eq!(j.meta["first"], "b");
    assert_eq!(j.meta["trim"], "x");
    assert_eq!(j.meta["up"], "FALLBACK");
    assert_eq!(j.meta["num"], "42");
    assert_eq!(j.meta["small"], "3");
    // Node attributes stay for the scheduler, written the way Nomad keeps them.
    assert_eq!(
        j.constraints[0].l_target,
        "${attr.unique.network.ip-address}"
    );
    assert_eq!(j.constraints[1].l_target, "${attr.kernel.name}");
    let g = &j.task_groups[0];
    assert_eq!(g.count, 2);
    let t = &g.tasks[0];
    assert_eq!((t.resources.cpu, t.resources.memory_mb), (512, 256));
    let cfg = t.config.as_ref().unwrap();
    assert_eq!(cfg["image"], "api:1.2");
    assert_eq!(cfg["args"][1], "${node.unique.name}");
    assert_eq!(cfg["args"][3], "${NOMAD_PORT_http}");

    // Overrides as -var gives them, each converted to the variable's type.
    let j = load_with(
        "variables.nomad.hcl",
        &[
            ("image_tag", "2.0"),
            ("regions", "[\"x\"]"),
            ("size", "large"),
            ("debug", "true"),
            ("replicas", "5"),
        ],
    )
    .job;
    assert_eq!(j.datacenters, ["x", "dc3"]);
    assert_eq!(j.meta["image"], "registry.example/api:2.0");
    assert_eq!(j.task_groups[0].count, 1, "debug = true picks one replica");
    assert_eq!(j.task_groups[0].tasks[0].resources.memory_mb, 2048);
}

#[test]
fn ignored_fields_are_warned_once_each_with_their_place() {
    let l = load("ignored.nomad.hcl");
    assert!(l.unsupported.is_empty());
    let w: Vec<(Option<&str>, u32)> = l
        .warnings
        .iter()
        .map(|w| (w.field.as_deref(), w.pos.line))
        .collect();
    assert_eq!(
        w,
        [
            (Some("service"), 4),
            (Some("volume"), 16),
            (Some("template"), 29),
            (Some("artifact"), 35),
            (Some("vault"), 39),
            (Some("logs"), 43),
        ]
    );
    let template = &l.warnings[2];
    assert!(
        template.message.contains("(2 places)"),
        "{}",
        template.message
    );
    assert!(template
        .to_string()
        .contains("ignored.nomad.hcl:29:7: template is ignored"));
}

#[test]
fn scheduling_content_the_simulator_cannot_model_is_an_error() {
    let l = load("unsupported.nomad.hcl");
    let fields: Vec<&str> = l
        .unsupported
        .iter()
        .filter_map(|d| d.field.as_deref())
        .collect();
    assert_eq!(fields, ["volume", "host_network", "numa"]);
    let lines: Vec<u32> = l.unsupported.iter().map(|d| d.pos.line).collect();
    assert_eq!(lines, [4, 14, 28]);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn bad_files_name_the_line_and_column() {
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
            "negative-count.json:7:18: group \"g\": count must be 0 or more, got -1",
        ),
        ("bad/syntax.json", "syntax.json:5:3: JSON syntax error"),
    ];
    for (file, want) in cases {
        let e = error_of(file);
        assert!(e.contains(want), "{file}: {e}");
    }
}

#[test]
fn var_overrides_are_checked() {
    let vars = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
    let path = fixture("variables.nomad.hcl");
    let e = load_file(&path, &vars("replicas", "many"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("variables.nomad.hcl:7:1: --var replicas=many: wrong type"),
        "{e}"
    );
    let e = load_file(&path, &vars("nope", "1"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--var nope: no variable \"nope\" is declared"),
        "{e}"
    );
    let e = load_file(&fixture("full.json"), &vars("a", "1"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("a JSON job file has no variables"), "{e}");
}

#[test]
fn hcl_errors_nomad_reports() {
    let cases = [
        ("job \"a\" {\n  group \"g\" {\n    task \"t\" {\n      driver = \"exec\"\n      bogus  = 1\n    }\n  }\n}\n", "x.hcl:5:7: unsupported argument \"bogus\" in task"),
        ("job \"a\" {\n  type = \"cron\"\n  group \"g\" {\n    task \"t\" {\n      driver = \"exec\"\n    }\n  }\n}\n", "x.hcl:2:10: type must be service, batch, system or sysbatch"),
        ("job \"a\" {\n  group \"g\" {\n    task \"t\" {\n      driver = \"exec\"\n      resources {\n        memory = 5\n      }\n    }\n  }\n}\n", "x.hcl:6:18: task \"t\": memory must be at least 10 MB"),
        ("job \"a\" {\n  group \"g\" {\n    task \"t\" {\n      driver = \"exec\"\n      resources {\n        cpu   = 100\n        cores = 2\n      }\n    }\n  }\n}\n", "cpu and cores cannot both be set"),
        ("job \"a\" {\n  periodic {\n    cron = \"@daily\"\n  }\n  group \"g\" {\n    task \"t\" {\n      driver = \"exec\"\n    }\n  }\n}\n", "x.hcl:2:3: a periodic job must be of type batch or sysbatch"),
        ("job \"a\" {\n  group \"g\" {\n    task \"t\" {\n      driver = \"exec\"\n      kill_timeout = \"soon\"\n    }\n  }\n}\n", "x.hcl:5:22: kill_timeout: \"soon\" is not a duration"),
        ("locals {\n  a = local.b\n  b = local.a\n}\njob \"a\" {}\n", "depends on itself"),
        ("job \"a\" {\n  group \"g\" {\n    count = nosuch(1)\n    task \"t\" {\n      driver = \"exec\"\n    }\n  }\n}\n", "x.hcl:3:13: cannot evaluate: undefined function `nosuch`"),
        ("job \"a\" {\n  group \"g\" {\n    task \"t\" {\n      driver = \"exec\"\n    }\n  }\n  group \"g\" {\n    task \"t\" {\n      driver = \"exec\"\n    }\n  }\n}\n", "group \"g\" is defined twice"),
        ("variable \"n\" {\n  type = number\n  default = 0\n  validation {\n    condition = var.n > 0\n    error_message = \"n must be positive.\"\n  }\n}\njob \"a\" {}\n", "x.hcl:5:17: variable \"n\": n must be positive."),
        ("job \"a\" {}\njob \"b\" {}\n", "x.hcl:2:1: only one job block"),
        ("variable \"n\" {}\njob \"a\" {}\n", "x.hcl:1:10: variable \"n\" has no default"),
    ];
    for (text, want) in cases {
        match parse_str(text, "x.hcl", &BTreeMap::new()) {
            Ok(_) => panic!("loaded: {text}"),
            Err(e) => assert!(e.to_string().contains(want), "want {want:?}, got {e}"),
        }
    }
}

#[test]
fn json_keys_match_in_any_case_and_unknown_keys_are_tolerated() {
    let text = r#"{"id": "lower", "type": "batch", "SomethingNew": {"x": 1},
        "taskgroups": [{"name": "g", "count": 2, "tasks": [{"name": "t", "driver": "exec", "Future": true}]}]}"#;
    let l = parse_str(text, "lower.json", &BTreeMap::new()).unwrap();
    assert_eq!(
        (l.job.id.as_str(), l.job.job_type),
        ("lower", JobType::Batch)
    );
    assert_eq!(l.job.task_groups[0].count, 2);
    assert!(l.warnings.is_empty());
}

#[test]
fn the_api_read_shape_loads_without_noise() {
    let l = load("api-read.json");
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let g = &l.job.task_groups[0];
    assert_eq!(g.networks[0].dynamic_ports[0].to, 6379);
    assert_eq!(g.networks[0].mode, "host");
    assert_eq!(g.tasks[0].resources.cpu, 500);
}

#[test]
fn every_good_fixture_round_trips_through_api_json() {
    for name in [
        "minimal.nomad.hcl",
        "minimal.json",
        "batch-minimal.nomad.hcl",
        "full.nomad.hcl",
        "full.json",
        "shapes-system.nomad.hcl",
        "shapes-sysbatch.nomad.hcl",
        "shapes-periodic.nomad.hcl",
        "shapes-multigroup.nomad.hcl",
        "variables.nomad.hcl",
        "api-read.json",
    ] {
        let job = load(name).job;
        assert_eq!(round_trip(&job), job, "{name}");
    }
}

#[test]
fn damaged_files_give_errors_not_panics() {
    for name in [
        "full.nomad.hcl",
        "variables.nomad.hcl",
        "full.json",
        "api-read.json",
    ] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let format = Format::detect(name, &text);
        let cuts: Vec<usize> = (0..text.len())
            .step_by(17)
            .filter(|i| text.is_char_boundary(*i))
            .collect();
        for cut in cuts {
            // Cut the file short, and drop one character, at each point.
            let short = &text[..cut];
            let _ = parse_as(format, short, name, &BTreeMap::new());
            let mut dropped = text.clone();
            dropped.remove(cut);
            let _ = parse_as(format, &dropped, name, &BTreeMap::new());
        }
    }
}

/// A job whose one task has these `resources` lines, in HCL.
fn with_resources(lines: &str) -> String {
    format!("job \"a\" {{\n  group \"g\" {{\n    task \"t\" {{\n      driver = \"exec\"\n      resources {{\n        {lines}\n      }}\n    }}\n  }}\n}}\n")
}

#[test]
fn out_of_range_numbers_name_the_bound_they_break() {
    let cases = [
        ("memory = 4294967296", "x.hcl:6:18: task \"t\": memory is too large: it must be at most 4294967295 MB, got 4294967296"),
        ("memory = 1e12", "x.hcl:6:18: task \"t\": memory is too large: it must be at most 4294967295 MB, got 1000000000000"),
        ("memory = 1e30", "x.hcl:6:18: task \"t\": memory is too large: it must be at most 4294967295 MB, got 1e30"),
        ("memory = 5", "x.hcl:6:18: task \"t\": memory must be at least 10 MB, got 5"),
        ("memory = -5", "x.hcl:6:18: task \"t\": memory must be at least 10 MB, got -5"),
        ("cpu = 4294967296", "x.hcl:6:15: task \"t\": cpu is too large: it must be at most 4294967295 MHz, got 4294967296"),
        ("cpu = 0", "x.hcl:6:15: task \"t\": cpu must be at least 1 MHz, got 0"),
        ("cores = 4294967296", "x.hcl:6:17: task \"t\": cores is too large: it must be at most 4294967295, got 4294967296"),
        ("cores = -1", "x.hcl:6:17: task \"t\": cores must be 0 or more, got -1"),
        ("memory_max = 99999999999", "x.hcl:6:22: task \"t\": memory_max is too large: it must be at most 4294967295 MB, got 99999999999"),
        ("device \"nvidia/gpu\" {\n          count = 4294967296\n        }", "x.hcl:7:19: task \"t\": device count is too large: it must be at most 4294967295, got 4294967296"),
    ];
    for (lines, want) in cases {
        let text = with_resources(lines);
        match parse_str(&text, "x.hcl", &BTreeMap::new()) {
            Ok(_) => panic!("loaded: {lines}"),
            Err(e) => assert_eq!(e.to_string(), want, "{lines}"),
        }
    }
    // The largest value each field holds is accepted.
    for (lines, cpu, memory) in [
        ("memory = 4294967295", 100, 4_294_967_295),
        ("cpu = 4294967295", 4_294_967_295, 300),
        ("memory = 1e9", 100, 1_000_000_000),
    ] {
        let l = parse_str(&with_resources(lines), "x.hcl", &BTreeMap::new()).unwrap();
        let r = &l.job.task_groups[0].tasks[0].resources;
        assert_eq!((r.cpu, r.memory_mb), (cpu, memory), "{lines}");
    }
}

#[test]
fn out_of_range_group_and_policy_numbers_say_too_large() {
    let group = |lines: &str| {
        format!("job \"a\" {{\n  group \"g\" {{\n    {lines}\n    task \"t\" {{\n      driver = \"exec\"\n    }}\n  }}\n}}\n")
    };
    let cases = [
        ("count = 1e12", "x.hcl:3:13: group \"g\": count is too large: it must be at most 4294967295, got 1000000000000"),
        ("count = -1", "x.hcl:3:13: group \"g\": count must be 0 or more, got -1"),
        ("ephemeral_disk {\n      size = 4294967296\n    }", "x.hcl:4:14: ephemeral_disk size is too large: it must be at most 4294967295 MB, got 4294967296"),
        ("restart {\n      attempts = 1e12\n    }", "x.hcl:4:18: attempts is too large: it must be at most 4294967295, got 1000000000000"),
        ("update {\n      max_parallel = 4294967296\n    }", "x.hcl:4:22: max_parallel is too large: it must be at most 4294967295, got 4294967296"),
        ("scaling {\n      min = -2\n      max = 3\n    }", "x.hcl:4:13: scaling min must be 0 or more, got -2"),
    ];
    for (lines, want) in cases {
        match parse_str(&group(lines), "x.hcl", &BTreeMap::new()) {
            Ok(_) => panic!("loaded: {lines}"),
            Err(e) => assert_eq!(e.to_string(), want, "{lines}"),
        }
    }
    // Before, a restart's attempts above what the model holds were cut down to its largest.
    let l = parse_str(
        &group("restart {\n      attempts = 4294967295\n    }"),
        "x.hcl",
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(l.job.task_groups[0].restart_policy.attempts, u32::MAX);
}

#[test]
fn out_of_range_numbers_in_api_json_say_too_large() {
    let job = |resources: &str| {
        format!("{{\"ID\": \"a\", \"TaskGroups\": [{{\"Name\": \"g\", \"Tasks\": [{{\"Name\": \"t\", \"Driver\": \"exec\", \"Resources\": {resources}}}]}}]}}")
    };
    let cases = [
        ("{\"MemoryMB\": 1e12}", "task \"t\": memory is too large: it must be at most 4294967295 MB, got 1000000000000"),
        ("{\"MemoryMB\": 4294967296}", "task \"t\": memory is too large: it must be at most 4294967295 MB, got 4294967296"),
        ("{\"CPU\": 18446744073709551616}", "task \"t\": cpu is too large: it must be at most 4294967295 MHz, got 1.8446744073709552e19"),
        ("{\"MemoryMB\": \"1e12\"}", "task \"t\": memory is too large: it must be at most 4294967295 MB, got 1e12"),
    ];
    for (resources, want) in cases {
        match parse_str(&job(resources), "x.json", &BTreeMap::new()) {
            Ok(_) => panic!("loaded: {resources}"),
            Err(e) => assert!(e.to_string().contains(want), "want {want:?}, got {e}"),
        }
    }
    let text = "{\"ID\": \"a\", \"TaskGroups\": [{\"Name\": \"g\", \"Tasks\": [{\"Name\": \"t\", \"Driver\": \"exec\", \"KillTimeout\": 1e30}]}]}";
    let e = parse_str(text, "x.json", &BTreeMap::new()).unwrap_err();
    assert!(
        e.to_string()
            .contains("KillTimeout: a duration of 1e30 nanoseconds is too large"),
        "{e}"
    );
}
