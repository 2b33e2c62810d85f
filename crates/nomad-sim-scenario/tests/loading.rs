//! Scenario loading: every key reaches the configuration, shipped scenarios load, traces replay.

use std::path::Path;

use nomad_sim_core::config::{
    Action, Arrivals, AutoscalerMetric, CountDist, DrainDeadline, DurationDist, JobType,
    NodeSelector, NodeTarget,
};
use nomad_sim_core::{Algorithm, NomadVersion, Resources, Simulation};
use nomad_sim_scenario::{load_file, parse_str};

use nomad_sim_output::ScratchDir;

const FULL: &str = r#"
name: full
description: every key
seed: 9
horizon: 2h30m
nomad_version: "1.10.5"
scheduler: { algorithm: spread }
limits: { max_allocations: 5000 }
node_pools:
  - name: linux
    count: 3
    datacenter: us-east-1
    node_pool: linux
    node_class: linux-64bit
    resources: { cpu: 16000, memory: 32768, disk: 100000 }
    reserved: { cpu: 1000, memory: 2048, disk: 1000 }
    boot_time: 3m
    attributes: { kernel.name: linux, cpu.numcores: 8 }
    meta: { rack: r1 }
    cost_per_hour: 0.5
resource_classes:
  huge: { cpu: 12000, memory: 24000 }
workloads:
  - name: a
    type: service
    priority: 70
    arrivals: { every: { interval: 30s, start: 1m } }
    parallelism: { uniform: { min: 1, max: 3 } }
    count: 2
    resource_class: huge
    duration: { lognormal: { median: 6m, sigma: 0.5 } }
    datacenters: ["us-*"]
    node_pool: linux
    constraints:
      - { attribute: "${attr.cpu.numcores}", operator: ">=", value: 8 }
      - { operator: distinct_hosts }
    failure_rate: 0.1
    max_parallel: 2
  - name: b
    arrivals:
      diurnal:
        rates: [1/h, 2/h, 3/h, 4/h, 5/h, 6/h, 7/h, 8/h, 9/h, 10/h, 11/h, 12/h,
                13/h, 14/h, 15/h, 16/h, 17/h, 18/h, 19/h, 20/h, 21/h, 22/h, 23/h, 1/m]
    parallelism: { weighted: [ { value: 1, weight: 3 }, { value: 4, weight: 1 } ] }
    resources: { cpu: 500, memory: 256, disk: 10 }
    duration: { empirical: [1m, 2m, 3m] }
    node_pool: all
  - name: c
    arrivals: { at: [2h, 10m] }
    node_pool: all
    resource_class: medium+
    duration: 90s
operations:
  - at: 10m
    node_drain: { nodes: [linux-1], deadline: 20m, ignore_system: true }
  - at: 11m
    node_drain: { pool: linux, count: 1, node_selector: empty, force: true }
  - at: 12m
    node_drain: { nodes: [linux-2], no_deadline: true }
  - at: 20m
    node_drain_disable: { nodes: [linux-1], keep_ineligible: true }
  - at: 21m
    node_eligibility: { nodes: [linux-1], enable: true }
  - at: 30m
    scale_up: { pool: linux, count: 2 }
  - at: 40m
    scale_down: { pool: linux, count: 1, node_selector: oldest_create_index, drain_deadline: 5m, lifecycle_hook: { heartbeat_timeout: 10m } }
  - at: 50m
    node_fail: { nodes: [linux-4] }
autoscaler:
  pool: linux
  min: 1
  max: 9
  evaluation_interval: 1m
  cooldown: 2m
  check: { metric: memory_allocated_pct, target: 70, threshold: 0.1 }
  node_selector_strategy: newest_create_index
  node_drain_deadline: 5m
"#;

#[test]
fn every_key_reaches_the_configuration() {
    let s = parse_str(FULL, "full.yaml", Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let c = &s.config;
    assert_eq!(s.description.as_deref(), Some("every key"));
    assert_eq!((c.seed, c.horizon_ms), (9, 9_000_000));
    assert_eq!(
        c.nomad_version,
        NomadVersion {
            major: 1,
            minor: 10,
            patch: 5
        }
    );
    assert!(c.nomad_version.replaces_drained_batch_allocs());
    assert_eq!(c.algorithm, Algorithm::Spread);
    assert_eq!(c.limits.max_allocations, 5000);
    let p = &c.pools[0];
    assert_eq!(p.allocatable(), Resources::new(15000, 30720, 99000));
    assert_eq!(p.boot_time_ms, 180_000);
    assert_eq!(p.node_pool, "linux");
    assert_eq!(p.attributes["cpu.numcores"], "8");
    assert_eq!(p.meta["rack"], "r1");
    let a = &c.workloads[0];
    assert_eq!(a.job_type, JobType::Service);
    assert_eq!((a.priority, a.count, a.max_parallel), (70, 2, 2));
    assert_eq!(a.resources, Resources::new(12000, 24000, 0));
    assert!(matches!(
        a.arrivals,
        Arrivals::Every {
            interval_ms: 30_000,
            start_ms: 60_000
        }
    ));
    assert!(matches!(
        a.parallelism,
        CountDist::Uniform { min: 1, max: 3 }
    ));
    assert!(matches!(a.duration, DurationDist::Lognormal { .. }));
    assert!(a.distinct_hosts);
    assert_eq!(a.constraints.len(), 1);
    assert_eq!(a.constraints[0].describe(), "${attr.cpu.numcores} >= 8");
    assert_eq!(a.node_pool.as_deref(), Some("linux"));
    let b = &c.workloads[1];
    match &b.arrivals {
        Arrivals::Diurnal { rates_per_hour } => {
            assert_eq!((rates_per_hour[1], rates_per_hour[23]), (2.0, 60.0))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(b.resources, Resources::new(500, 256, 10));
    assert!(matches!(&c.workloads[2].arrivals, Arrivals::At(t) if t == &vec![600_000, 7_200_000]));
    assert_eq!(c.workloads[2].resources, Resources::new(3072, 6144, 0));
    assert_eq!(c.operations.len(), 8);
    assert!(
        matches!(&c.operations[0].action, Action::NodeDrain { spec, .. } if spec.deadline == DrainDeadline::After(1_200_000) && spec.ignore_system)
    );
    assert!(
        matches!(&c.operations[1].action, Action::NodeDrain { target: NodeTarget::Select { selector: NodeSelector::Empty, .. }, spec } if spec.deadline == DrainDeadline::Force)
    );
    assert!(
        matches!(&c.operations[2].action, Action::NodeDrain { spec, .. } if spec.deadline == DrainDeadline::None)
    );
    assert!(matches!(
        &c.operations[3].action,
        Action::NodeDrainDisable {
            keep_ineligible: true,
            ..
        }
    ));
    assert!(matches!(
        &c.operations[4].action,
        Action::NodeEligibility { eligible: true, .. }
    ));
    assert!(matches!(
        &c.operations[6].action,
        Action::ScaleDown {
            heartbeat_timeout_ms: Some(600_000),
            selector: NodeSelector::OldestCreateIndex,
            ..
        }
    ));
    let auto = c.autoscaler.as_ref().unwrap();
    assert_eq!(auto.metric, AutoscalerMetric::MemoryAllocatedPct);
    assert_eq!(
        (
            auto.min,
            auto.max,
            auto.evaluation_interval_ms,
            auto.cooldown_ms
        ),
        (1, 9, 60_000, 120_000)
    );
    // And it runs.
    let mut sim = Simulation::new(c.clone());
    sim.run();
    assert!(sim.report().allocations.placed > 0);
}

#[test]
fn problems_are_all_reported_in_file_order() {
    let text = FULL
        .replace(
            "node_pool: linux\n    constraints",
            "node_pool: windows\n    constraints",
        )
        .replace("resource_class: medium+", "resource_class: jumbo")
        .replace(
            "count: 2\n    resource_class: huge",
            "count: 0\n    resource_class: huge",
        );
    let err = parse_str(&text, "full.yaml", Path::new(".")).unwrap_err();
    let lines: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines[0].starts_with("full.yaml:29:12: workloads[0].count"),
        "{lines:#?}"
    );
    assert!(lines[1].contains("workloads[0].node_pool: unknown node pool \"windows\""));
    assert!(lines[2].contains("unknown resource class \"jumbo\""));
}

#[test]
fn shipped_scenarios_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            load_file(&path).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 5);
}

#[test]
fn a_trace_replays_row_by_row() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/trace-replay.yaml");
    let c = load_file(&path).unwrap().config;
    let Arrivals::Trace(rows) = &c.workloads[0].arrivals else {
        panic!()
    };
    assert_eq!(rows.len(), 10);
    let mut sim = Simulation::new(c.clone());
    sim.run();
    let r = sim.report();
    assert_eq!(r.ci_jobs.count, 10);
    let expected: u64 = rows.iter().map(|r| u64::from(r.parallelism)).sum();
    assert_eq!(r.allocations.placed, expected);
    // Fan-out names: replay-<arrival>-<index>.
    let jobs = sim.jobs();
    assert_eq!(sim.job_name(jobs[2].0), "replay-1-1");
    // Each job got its row's ask.
    let (_, big) = jobs.iter().find(|(_, j)| j.arrival == 5).unwrap();
    assert_eq!(big.ask, Resources::new(8192, 16384, 0));
}

#[test]
fn a_bad_trace_is_located_in_the_csv() {
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-trace-{}", std::process::id())),
    )
    .expect("a scratch directory");
    std::fs::write(
        dir.join("t.csv"),
        "submit,parallelism,cpu,memory,duration\n1m,2,2048,4096,5m\n2m,two,2048,4096,5m\n",
    )
    .unwrap();
    let yaml = "name: t\nhorizon: 1h\nnode_pools:\n  - { name: p, count: 1, resources: { cpu: 8000, memory: 8000 } }\nworkloads:\n  - name: w\n    arrivals: { trace: { file: t.csv } }\n";
    std::fs::write(dir.join("s.yaml"), yaml).unwrap();
    let err = load_file(&dir.join("s.yaml")).unwrap_err().to_string();
    assert!(err.contains("s.yaml:7:32:"), "{err}");
    assert!(err.contains("t.csv:3:4: parallelism"), "{err}");
}

#[test]
fn system_jobs_keep_count_one() {
    let yaml = "name: s\nhorizon: 1h\nnode_pools:\n  - { name: p, count: 2, resources: { cpu: 4000, memory: 4000 } }\nworkloads:\n  - name: agent\n    type: system\n    count: 2\n    arrivals: { at: [0s] }\n    resources: { cpu: 100, memory: 100 }\n    duration: 1h\n";
    let err = parse_str(yaml, "s.yaml", Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("s.yaml:8:12: workloads[0].count: a system job runs one allocation"),
        "{err}"
    );
    let ok = parse_str(
        &yaml.replace("    count: 2\n", ""),
        "s.yaml",
        Path::new("."),
    )
    .unwrap();
    let mut sim = Simulation::new(ok.config);
    sim.run();
    assert_eq!(sim.report().allocations.placed, 2, "one per node");
}

/// `api.default_duration` is a scenario key like any other: read, checked and located.
#[test]
fn the_api_block_is_read_and_checked_with_its_location() {
    let head = "name: a\nhorizon: 1h\nnode_pools:\n  - { name: a, count: 1, resources: { cpu: 4000, memory: 4000 } }\nworkloads:\n  - { name: w, arrivals: { at: [0s] }, resources: { cpu: 100, memory: 100 }, duration: 1m }\n";
    let s = nomad_sim_scenario::parse_str(
        &format!("{head}api:\n  default_duration: 5m\n"),
        "s.yaml",
        std::path::Path::new("."),
    )
    .unwrap();
    assert_eq!(s.api_default_duration_ms, Some(300_000));
    let none = nomad_sim_scenario::parse_str(head, "s.yaml", std::path::Path::new(".")).unwrap();
    assert_eq!(none.api_default_duration_ms, None);
    for (bad, want) in [
        ("api:\n  default_duration: soon\n", "s.yaml:8:"),
        ("api:\n  nope: 1\n", "s.yaml:8:"),
    ] {
        let e = nomad_sim_scenario::parse_str(
            &format!("{head}{bad}"),
            "s.yaml",
            std::path::Path::new("."),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(want), "{e}");
    }
}

/// A pool's `nodes:` names its first nodes as the real cluster does; names and IDs are unique
/// and cannot be taken by a generated node.
#[test]
fn named_nodes_are_kept_and_checked() {
    let scenario = |nodes: &str, ops: &str| {
        format!(
            "name: a\nhorizon: 1h\nnode_pools:\n  - name: linux\n    count: 3\n    resources: {{ cpu: 4000, memory: 4000 }}\n    nodes: {nodes}\nworkloads:\n  - {{ name: w, arrivals: {{ at: [0s] }}, resources: {{ cpu: 100, memory: 100 }}, duration: 1m }}\n{ops}"
        )
    };
    let load = |text: String| {
        nomad_sim_scenario::parse_str(&text, "s.yaml", std::path::Path::new("."))
            .map_err(|e| e.to_string())
    };
    let ok = load(scenario(
        "[{ name: mew-a, id: 11111111-2222-3333-4444-555555555555 }, { name: linux-1 }]",
        "operations:\n  - { at: 1m, node_drain: { nodes: [mew-a, linux-2] } }\n",
    ))
    .unwrap();
    let p = &ok.config.pools[0];
    assert_eq!(
        (0..3).map(|i| p.node_name(i)).collect::<Vec<_>>(),
        ["mew-a", "linux-1", "linux-2"]
    );
    for (nodes, ops, want) in [
        ("[{ name: a }, { name: a }]", "", "is also the name at"),
        (
            "[{ name: a, id: x }, { name: b, id: x }]",
            "",
            "is also the ID at",
        ),
        ("[{ name: linux-5 }]", "", "a generated node"),
        (
            "[{ name: a }, { name: b }, { name: c }, { name: d }]",
            "",
            "names 4 nodes in a pool of count 3",
        ),
        (
            "[{ name: mew-a }]",
            "operations:\n  - { at: 1m, node_drain: { nodes: [linux-0] } }\n",
            "node 0 of pool linux is named \"mew-a\"",
        ),
    ] {
        let e = load(scenario(nodes, ops)).unwrap_err();
        assert!(e.contains(want), "{nodes}: {e}");
    }
}

const PREFERENCES: &str = r#"
name: racks
seed: 1
horizon: 1h
node_pools:
  - { name: r1, count: 2, meta: { rack: r1 }, resources: { cpu: 8000, memory: 8000 } }
  - { name: r2, count: 2, meta: { rack: r2 }, resources: { cpu: 8000, memory: 8000 } }
workloads:
  - name: web
    type: service
    count: 10
    arrivals: { at: [0s] }
    resources: { cpu: 100, memory: 100 }
    duration: 1h
    spreads:
      - attribute: "${meta.rack}"
        weight: 70
        targets: [ { value: r1, percent: 70 }, { value: r2, percent: 30 } ]
      - { attribute: "${node.datacenter}" }
    affinities:
      - { attribute: "${node.class}", value: fast, weight: -40 }
      - { attribute: "${attr.kernel.version}", operator: version, value: ">= 5.10" }
"#;

#[test]
fn spreads_and_affinities_reach_the_configuration() {
    let c = parse_str(PREFERENCES, "racks.yaml", Path::new(".")).unwrap();
    let w = &c.config.workloads[0];
    assert_eq!(w.spreads.len(), 2);
    assert_eq!(w.spreads[0].attribute, "${meta.rack}");
    assert_eq!(w.spreads[0].weight, 70);
    assert_eq!(
        w.spreads[0]
            .targets
            .iter()
            .map(|t| (t.value.as_str(), t.percent))
            .collect::<Vec<_>>(),
        vec![("r1", 70), ("r2", 30)]
    );
    assert_eq!(w.spreads[1].weight, 50, "Nomad's default weight");
    assert!(w.spreads[1].targets.is_empty());
    assert_eq!(w.affinities.len(), 2);
    assert_eq!(w.affinities[0].weight, -40);
    assert_eq!(
        w.affinities[0].constraint.describe(),
        "${node.class} = fast"
    );
    assert_eq!(w.affinities[1].weight, 50);
    assert_eq!(
        w.affinities[1].constraint.describe(),
        "${attr.kernel.version} version >= 5.10"
    );
    // The run places the ten allocs 7/3 over the racks.
    let mut sim = Simulation::new(c.config);
    sim.run_until(60_000);
    let on_r1 = sim
        .allocs()
        .into_iter()
        .filter(|(_, a)| sim.nodes()[a.node.index()].name.starts_with("r1-"))
        .count();
    assert_eq!(on_r1, 7);
}

#[test]
fn bad_spreads_and_affinities_are_located() {
    let text = PREFERENCES
        .replace("weight: 70", "weight: 0")
        .replace("percent: 30", "percent: 40")
        .replace("weight: -40", "weight: 0")
        .replace(
            "operator: version, value: \">= 5.10\"",
            "operator: version, value: \">= x\"",
        );
    let err = parse_str(&text, "racks.yaml", Path::new(".")).unwrap_err();
    let lines: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(
        lines[0].contains("workloads[0].spreads[0].weight: must be between 1 and 100"),
        "{lines:#?}"
    );
    assert!(lines[1].contains("add up to 110 %"), "{lines:#?}");
    assert!(
        lines[2].contains("workloads[0].affinities[0].weight"),
        "{lines:#?}"
    );
    assert!(
        lines[3].contains("invalid version constraint"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().all(|l| l.starts_with("racks.yaml:")),
        "{lines:#?}"
    );
}

const HARDWARE: &str = r#"name: hw
horizon: 1h
scheduler: { memory_oversubscription: true }
node_pools:
  - name: gpu
    count: 1
    resources: { cpu: 8000, memory: 32768, cores: 8 }
    reserved_ports: "22,8000-8002"
    devices:
      - { vendor: nvidia, type: gpu, name: "Tesla T4", count: 2, attributes: { memory_mib: 16384 } }
workloads:
  - name: train
    arrivals: { at: [0s] }
    resources: { cores: 2, memory: 4096, memory_max: 8192 }
    duration: 10m
    ports:
      - { label: http, static: 7234 }
      - { label: metrics }
    devices:
      - name: nvidia/gpu
        constraints: [ { attribute: "${device.attr.memory_mib}", operator: ">=", value: 8192 } ]
        affinities: [ { attribute: "${device.model}", value: "Tesla T4", weight: 50 } ]
"#;

#[test]
fn ports_devices_and_cores_reach_the_configuration() {
    let s = parse_str(HARDWARE, "hw.yaml", Path::new(".")).unwrap();
    let c = &s.config;
    assert!(c.scheduler.memory_oversubscription);
    let hw = &c.pools[0].hardware;
    assert_eq!(hw.reserved_ports, vec![22, 8000, 8001, 8002]);
    assert_eq!((hw.cores, hw.core_mhz), (8, 1000));
    assert_eq!(hw.devices[0].name, "Tesla T4");
    assert_eq!(hw.devices[0].count, 2);
    let a = &c.workloads[0].asks;
    assert_eq!(a.cores, 2);
    assert_eq!(a.memory_max_mb, Some(8192));
    assert_eq!(a.static_ports[0].value, 7234);
    assert_eq!(a.dynamic_ports, vec!["metrics".to_string()]);
    assert_eq!(a.devices[0].count, 1);
    assert_eq!(a.devices[0].affinities[0].1, 50);
    let mut sim = Simulation::new(s.config);
    sim.run_until(60_000);
    let allocs = sim.allocs();
    let h = sim.alloc_extra(allocs[0].0).hardware.as_ref().unwrap();
    assert_eq!(
        h.ports,
        vec![("http".to_string(), 7234), ("metrics".to_string(), 20_000)]
    );
    assert_eq!(h.cores, vec![0, 1]);
    assert_eq!(h.devices, vec![(0, vec![0])]);
    assert_eq!(h.memory_max_mb, Some(8192));
    assert_eq!(sim.nodes()[0].used, Resources::new(2000, 4096, 0));
}

#[test]
fn bad_ports_devices_and_cores_are_located() {
    let text = HARDWARE
        .replace("\"22,8000-8002\"", "\"22,9-3\"")
        .replace("static: 7234", "static: 70000")
        .replace("cores: 2,", "cores: 9,")
        .replace("name: nvidia/gpu", "name: amd/gpu");
    let err = parse_str(&text, "hw.yaml", Path::new(".")).unwrap_err();
    let lines: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(
        lines[0].starts_with("hw.yaml:8:21: node_pools[0].reserved_ports: invalid range"),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("workloads[0].ports[0].static: port 70000")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("workloads[0].resources.cores: asks 9 cores")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("workloads[0].devices: asks for devices that no node")),
        "{lines:#?}"
    );
}

const LIFECYCLE: &str = r#"name: lifecycle
start: "2026-03-02T06:00:00Z"
horizon: 24h
node_pools:
  - { name: p, count: 3, resources: { cpu: 8000, memory: 8000 } }
workloads:
  - name: cleanup
    arrivals: { periodic: { cron: "0 */6 * * *", time_zone: "Etc/GMT-1", prohibit_overlap: true } }
    resources: { cpu: 500, memory: 500 }
    duration: 10m
  - name: build
    parameterized: true
    arrivals: { at: [1h, 2h] }
    resources: { cpu: 500, memory: 500 }
    duration: 10m
  - name: purge-cache
    type: sysbatch
    arrivals: { at: [0s, 12h] }
    resources: { cpu: 100, memory: 100 }
    duration: 1m
  - name: web
    type: service
    arrivals: { at: [0s] }
    resources: { cpu: 1000, memory: 1000 }
    duration: 720h
operations:
  - { at: 6h, job_stop: { job: web, purge: true } }
  - { at: 7h, job_stop: { job: build/dispatch-1772434800-00000000 } }
"#;

#[test]
fn periodic_parameterized_sysbatch_and_job_stop_keys_reach_the_configuration() {
    let s = parse_str(LIFECYCLE, "l.yaml", Path::new(".")).unwrap();
    let c = &s.config;
    assert_eq!(c.start_unix_ms, 1_772_431_200_000);
    let Arrivals::Periodic(p) = &c.workloads[0].arrivals else {
        panic!("{:?}", c.workloads[0].arrivals)
    };
    assert_eq!(p.utc_offset_s, 3600);
    assert!(p.prohibit_overlap);
    assert!(
        matches!(&c.workloads[1].arrivals, Arrivals::Dispatch(inner) if matches!(**inner, Arrivals::At(_)))
    );
    assert_eq!(c.workloads[2].job_type, JobType::Sysbatch);
    assert!(
        matches!(&c.operations[0].action, Action::JobStop { job, purge: true } if job == "web")
    );
    // The run: cleanup's 00:00, 06:00, 12:00 and 18:00 at UTC+1 are 23:00, 05:00, 11:00 and
    // 17:00 UTC, so the day from 06:00 UTC holds four children; build dispatches two;
    // purge-cache places on each of the three nodes twice; web places once, and is stopped.
    let mut sim = Simulation::new(s.config.clone());
    sim.run();
    assert_eq!(sim.report().allocations.placed, 4 + 2 + 6 + 1);
    assert_eq!(sim.report().allocations.stopped, 1);
}

#[test]
fn lifecycle_keys_are_checked() {
    for (from, to, want) in [
        (
            "cron: \"0 */6 * * *\"",
            "cron: \"@every 1h\"",
            "workloads[0].arrivals.periodic.cron",
        ),
        (
            "time_zone: \"Etc/GMT-1\"",
            "time_zone: Europe/Pariss",
            "periodic.time_zone: \"Europe/Pariss\" is not a known time zone name; did you mean Europe/Paris?",
        ),
        (
            "job: web, purge",
            "job: nothing, purge",
            "operations[0].job_stop.job",
        ),
        (
            "type: sysbatch\n    arrivals: { at: [0s, 12h] }",
            "type: sysbatch\n    count: 2\n    arrivals: { at: [0s, 12h] }",
            "a sysbatch job runs one allocation",
        ),
        (
            "parameterized: true",
            "parameterized: true\n    type: service",
            "a parameterized job must be of type batch or sysbatch",
        ),
    ] {
        let text = LIFECYCLE.replace(from, to);
        assert_ne!(text, LIFECYCLE, "{from}");
        let err = parse_str(&text, "l.yaml", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{want}: {err}");
    }
}

/// A named zone reads the IANA database: Europe/Paris is UTC+1 in January and changes to +2
/// at 2026-03-29T01:00:00Z (Unix 1774746000) and back at 2026-10-25T01:00:00Z (1792890000).
#[test]
fn a_named_time_zone_brings_its_daylight_saving_changes() {
    let text = LIFECYCLE
        .replace("time_zone: \"Etc/GMT-1\"", "time_zone: Europe/Paris")
        .replace("horizon: 24h", "horizon: 8760h");
    assert!(
        text.contains("Europe/Paris") && text.contains("8760h"),
        "{text}"
    );
    let s = parse_str(&text, "s.yaml", Path::new(".")).unwrap();
    let p = s
        .config
        .workloads
        .iter()
        .find_map(|w| match &w.arrivals {
            Arrivals::Periodic(p) => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(p.utc_offset_s, 3600);
    assert_eq!(
        p.offset_changes,
        vec![(1_774_746_000, 7200), (1_792_890_000, 3600)]
    );
}
