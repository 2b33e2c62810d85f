//! Nomad node pools on node groups: `node_pool:` puts a group's nodes in a Nomad pool (default
//! `default`), a workload's `node_pool` (default `default`, `all` for every pool) and a job
//! file's `node_pool` select by it, and `${node.pool}` resolves to it.

use std::collections::BTreeSet;
use std::path::Path;

use nomad_sim_core::Simulation;
use nomad_sim_scenario::{parse_str, Scenario, ScenarioError};

use nomad_sim_output::ScratchDir;

/// Two groups: `linux` in Nomad's `default` pool and `gpu` in pool `gpu`, and `workloads`.
fn scenario(workloads: &str) -> Result<Scenario, ScenarioError> {
    let text = format!(
        "name: t\nhorizon: 1h\nnode_pools:\n  - name: linux\n    count: 2\n    resources: {{ cpu: 8000, memory: 16000, disk: 50000 }}\n  - name: gpu\n    node_pool: gpu\n    count: 2\n    resources: {{ cpu: 8000, memory: 16000, disk: 50000 }}\nworkloads:\n{workloads}"
    );
    parse_str(&text, "s.yaml", Path::new("."))
}

/// The node groups (scenario names) each workload's allocations ran on, after a run.
fn groups_used(s: Scenario) -> Vec<BTreeSet<String>> {
    let workloads = s.config.workloads.len();
    let mut sim = Simulation::new(s.config);
    sim.run();
    let mut used = vec![BTreeSet::new(); workloads];
    for (_, a) in sim.allocs() {
        let job = sim.job(a.job).expect("a held alloc's job is held");
        let pool = sim.nodes()[a.node.index()].pool as usize;
        used[job.workload as usize].insert(sim.config().pools[pool].name.clone());
    }
    used
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn problems(e: &ScenarioError) -> String {
    e.problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// 40 short allocs at once, so that every workload would use both groups if it could.
const MANY: &str = "    arrivals: { at: [0s] }\n    count: 40\n    resources: { cpu: 100, memory: 100 }\n    duration: { constant: 1m }\n";

#[test]
fn a_workload_sees_its_node_pool_only() {
    let s = scenario(&format!(
        "  - name: plain\n{MANY}  - name: on-gpu\n    node_pool: gpu\n{MANY}  - name: anywhere\n    node_pool: all\n{MANY}"
    ))
    .unwrap();
    let pools: Vec<String> = s.config.pools.iter().map(|p| p.node_pool.clone()).collect();
    assert_eq!(
        pools,
        ["default", "gpu"],
        "Nomad's default pool unless given"
    );
    assert_eq!(
        groups_used(s),
        [names(&["linux"]), names(&["gpu"]), names(&["gpu", "linux"])],
        "no node_pool is Nomad's `default`; `all` is every pool"
    );
}

#[test]
fn node_pool_interpolation_gives_nomads_pool_not_the_group_name() {
    let s = scenario(&format!(
        "  - name: gpu-by-constraint\n    node_pool: all\n    constraints:\n      - {{ attribute: \"${{node.pool}}\", operator: \"=\", value: gpu }}\n{MANY}  - name: default-by-constraint\n    node_pool: all\n    constraints:\n      - {{ attribute: \"${{node.pool}}\", operator: \"=\", value: default }}\n{MANY}"
    ))
    .unwrap();
    assert_eq!(groups_used(s), [names(&["gpu"]), names(&["linux"])]);
}

#[test]
fn a_job_file_runs_in_its_node_pool() {
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-node-pools-{}", std::process::id())),
    )
    .expect("a scratch directory");
    let job = |id: &str, pool: &str| {
        format!(
            "job \"{id}\" {{\n  type = \"batch\"\n  {pool}\n  group \"g\" {{\n    count = 40\n    task \"t\" {{\n      driver = \"docker\"\n      resources {{\n        cpu    = 100\n        memory = 100\n      }}\n    }}\n  }}\n}}\n"
        )
    };
    std::fs::write(
        dir.join("gpu.nomad.hcl"),
        job("train", "node_pool = \"gpu\""),
    )
    .unwrap();
    std::fs::write(dir.join("plain.nomad.hcl"), job("etl", "")).unwrap();
    std::fs::write(
        dir.join("all.nomad.hcl"),
        job("scan", "node_pool = \"all\""),
    )
    .unwrap();
    std::fs::write(
        dir.join("nowhere.nomad.hcl"),
        job("lost", "node_pool = \"linux\""),
    )
    .unwrap();
    let head = "name: t\nhorizon: 1h\nnode_pools:\n  - name: linux\n    count: 2\n    resources: { cpu: 8000, memory: 16000, disk: 50000 }\n  - name: gpu\n    node_pool: gpu\n    count: 2\n    resources: { cpu: 8000, memory: 16000, disk: 50000 }\nworkloads:\n";
    let each = |file: &str| format!("  - jobspec: {file}\n    duration: {{ constant: 1m }}\n");
    let text = format!(
        "{head}{}{}{}",
        each("gpu.nomad.hcl"),
        each("plain.nomad.hcl"),
        each("all.nomad.hcl")
    );
    let s = parse_str(&text, "s.yaml", &dir).unwrap();
    assert_eq!(
        groups_used(s),
        [names(&["gpu"]), names(&["linux"]), names(&["gpu", "linux"])]
    );
    // A job file naming a node group instead of a Nomad node pool is refused, naming the pools.
    let e = parse_str(
        &format!("{head}{}", each("nowhere.nomad.hcl")),
        "s.yaml",
        &dir,
    )
    .unwrap_err();
    let text = problems(&e);
    assert!(
        text.contains(
            "node pool \"linux\", which no node is in (node pools: default, gpu, or \"all\")"
        ),
        "{text}"
    );
}

#[test]
fn a_group_name_given_as_node_pool_gets_a_hint() {
    let e = scenario(&format!("  - name: w\n    node_pool: linux\n{MANY}")).unwrap_err();
    let text = problems(&e);
    assert!(
        text.starts_with("s.yaml:13:16: workloads[0].node_pool: no node group is in Nomad node pool \"linux\"; node group \"linux\" is in node pool \"default\": add `node_pool: linux` to it (node pools: default, gpu, or \"all\")"),
        "{text}"
    );
    let e = scenario(&format!("  - name: w\n    node_pool: gpus\n{MANY}")).unwrap_err();
    assert!(
        problems(&e).contains("unknown node pool \"gpus\" (node pools: default, gpu, or \"all\")"),
        "{}",
        problems(&e)
    );
}

#[test]
fn a_node_group_cannot_be_in_all_or_a_badly_named_pool() {
    for (pool, want) in [
        ("all", "no node is in Nomad's built-in pool \"all\""),
        (
            "\"gpu pool\"",
            "\"gpu pool\" is not a valid Nomad node pool name",
        ),
        ("\"\"", "\"\" is not a valid Nomad node pool name"),
    ] {
        let text = format!(
            "name: t\nhorizon: 1h\nnode_pools:\n  - name: linux\n    node_pool: {pool}\n    count: 2\n    resources: {{ cpu: 8000, memory: 16000 }}\nworkloads:\n  - name: w\n    node_pool: all\n{MANY}"
        );
        let e = parse_str(&text, "s.yaml", Path::new(".")).unwrap_err();
        let got = problems(&e);
        assert!(
            got.starts_with("s.yaml:5:16: node_pools[0].node_pool: ") && got.contains(want),
            "{pool}: {got}"
        );
    }
}

#[test]
fn a_workload_whose_pool_has_no_group_is_refused() {
    // Every group is in `gpu`, so a workload in Nomad's `default` pool could never run.
    let text = format!(
        "name: t\nhorizon: 1h\nnode_pools:\n  - name: gpu\n    node_pool: gpu\n    count: 2\n    resources: {{ cpu: 8000, memory: 16000 }}\nworkloads:\n  - name: w\n{MANY}"
    );
    let e = parse_str(&text, "s.yaml", Path::new(".")).unwrap_err();
    let got = problems(&e);
    assert!(
        got.contains("workloads[0]: unknown node pool \"default\" (node pools: gpu, or \"all\")"),
        "{got}"
    );
}
