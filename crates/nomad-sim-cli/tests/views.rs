//! Golden tests of the operator views (`status`, `node-status`, `logs`), their JSON variants
//! checked against Nomad's published API payloads, and `import` on those payloads.
//! Set NOMAD_SIM_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nomad_sim_output::ScratchDir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn stdout_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("NOMAD_SIM_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden {}", path.display()));
    assert!(
        want == got,
        "{name} differs from its golden file.\n--- want\n{want}\n--- got\n{got}"
    );
}

fn views() -> String {
    fixture("views.yaml").to_str().unwrap().to_string()
}

#[test]
fn status_list_and_pending_job() {
    let v = views();
    let list = stdout_ok(&["status", &v, "--at", "5m"]);
    golden("status-5m.txt", &list);
    assert!(list.contains("pending"), "a build waits at 5m");
    let job = stdout_ok(&["status", &v, "--at", "5m", "waits-0"]);
    golden("status-waits-5m.txt", &job);
    assert!(job.contains("Placement Failure\nTask Group \"waits\":\n  * Resources exhausted on 2 nodes\n  * Dimension \"cpu\" exhausted on 2 nodes"));
    // Later it has run: the job is dead and its alloc complete.
    let later = stdout_ok(&["status", &v, "--at", "1h", "waits-0"]);
    assert!(later.contains("Status        = dead"));
    assert!(!later.contains("Placement Failure"));
}

#[test]
fn follow_a_drain_to_its_end() {
    let v = views();
    let during = stdout_ok(&["node-status", &v, "--at", "7m"]);
    golden("node-status-7m.txt", &during);
    let draining = stdout_ok(&["node-status", &v, "--at", "7m", "linux-1"]);
    golden("node-linux-1-7m.txt", &draining);
    assert!(draining.contains("Drain           = true; 2026-01-05T09:16:00Z deadline"));
    let after = stdout_ok(&["node-status", &v, "--at", "30m", "linux-1"]);
    golden("node-linux-1-30m.txt", &after);
    assert!(after.contains("Drain           = false"));
    assert!(after.contains("Eligibility     = ineligible"));
    assert!(after.contains("Node drain complete (deadline reached)"));
    // Count active clients the way the seed does: ready and eligible.
    let list = stdout_ok(&["node-status", &v, "--at", "30m"]);
    let eligible = list
        .lines()
        .filter(|l| l.contains(" eligible ") && l.ends_with("ready"))
        .count();
    assert_eq!(eligible, 1);
}

#[test]
fn logs_show_task_events_and_placement_metrics() {
    let v = views();
    // The build that ran on linux-1 was stopped by the drain deadline at 16m.
    let node = stdout_ok(&["node-status", &v, "--at", "30m", "linux-1"]);
    let alloc = node
        .lines()
        .skip_while(|l| !l.starts_with("Allocations"))
        .nth(2)
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let text = stdout_ok(&["logs", &v, "--at", "30m", &alloc]);
    golden("logs-drained-30m.txt", &text);
    assert!(
        text.contains("Killing     Sent interrupt (node drain deadline reached)"),
        "{text}"
    );
    assert!(text.contains("Desired Status      = stop"));
    assert!(text.contains("Placement Metrics"));
    // A job name picks one of its allocations.
    let by_job = stdout_ok(&["logs", &v, "--at", "30m", "waits-0", "--stderr"]);
    assert!(by_job.contains("Name                = waits-0.waits[0]"));
}

/// The keys of a JSON object.
fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn published(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

#[test]
fn json_views_use_nomads_api_names() {
    let v = views();
    let nodes: serde_json::Value =
        serde_json::from_str(&stdout_ok(&["node-status", &v, "--at", "7m", "--json"])).unwrap();
    let ours = keys(&nodes[0]);
    let theirs = keys(&published("nodes-list.json")[0]);
    let missing: Vec<_> = ours.difference(&theirs).collect();
    assert!(
        missing.is_empty(),
        "node stub keys not in Nomad's /v1/nodes: {missing:?}"
    );
    for k in [
        "ID",
        "Name",
        "NodePool",
        "Datacenter",
        "NodeClass",
        "Drain",
        "SchedulingEligibility",
        "Status",
    ] {
        assert!(ours.contains(k), "{k}");
    }
    let node: serde_json::Value = serde_json::from_str(&stdout_ok(&[
        "node-status",
        &v,
        "--at",
        "7m",
        "--json",
        "linux-1",
    ]))
    .unwrap();
    let detail = keys(&published("node-detail.comma-fixed.json"));
    let extra: Vec<_> = keys(&node)
        .into_iter()
        .filter(|k| {
            // Fields of current Nomad nodes newer than the published example, and the alloc stubs.
            !detail.contains(k)
                && ![
                    "Allocations",
                    "CSIControllerPlugins",
                    "CSINodePlugins",
                    "NodeMaxAllocs",
                    "Reserved",
                    "Resources",
                ]
                .contains(&k.as_str())
        })
        .collect();
    assert!(
        extra.is_empty(),
        "node keys not in Nomad's /v1/node/:id: {extra:?}"
    );
    assert_eq!(
        node["DrainStrategy"]["Deadline"], 600_000_000_000u64,
        "nanoseconds, flat as Go embeds the DrainSpec"
    );
    assert!(node["NodeResources"]["Cpu"]["CpuShares"].is_u64());
    let jobs: serde_json::Value =
        serde_json::from_str(&stdout_ok(&["status", &v, "--at", "5m", "--json"])).unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 3);
    let submit = jobs[0]["SubmitTime"].as_u64().unwrap();
    assert_eq!(
        submit, 1_767_603_600_000_000_000,
        "nanoseconds since the epoch"
    );
    assert_eq!(jobs[2]["Status"], "pending");
    assert_eq!(jobs[2]["JobSummary"]["Summary"]["waits"]["Queued"], 1);
    let alloc: serde_json::Value =
        serde_json::from_str(&stdout_ok(&["logs", &v, "--at", "30m", "long-0", "--json"])).unwrap();
    let theirs = keys(&published("allocation-detail.json"));
    let extra: Vec<_> = keys(&alloc)
        .into_iter()
        .filter(|k| {
            !theirs.contains(k) && // Fields newer than the published example (Nomad 0.x), present in current releases.
        ![
            "NodeName", "JobType", "JobVersion", "Namespace", "AllocatedResources",
            "DeploymentStatus", "DesiredTransition", "FollowupEvalID", "NetworkStatus",
            "PreemptedAllocations", "PreemptedByAllocation",
        ]
        .contains(&k.as_str())
        })
        .collect();
    assert!(
        extra.is_empty(),
        "allocation keys not in Nomad's /v1/allocation/:id: {extra:?}"
    );
    let metric_keys = keys(&alloc["Metrics"]);
    let published_metrics = keys(&published("allocation-detail.json")["Metrics"]);
    let extra: Vec<_> = metric_keys
        .iter()
        .filter(|k| {
            !published_metrics.contains(*k)
                && ![
                    "ScoreMetaData",
                    "NodePool",
                    "QuotaExhausted",
                    "ResourcesExhausted",
                ]
                .contains(&k.as_str())
        })
        .collect();
    assert!(extra.is_empty(), "{extra:?}");
    assert!(
        alloc["TaskStates"]["long"]["Events"]
            .as_array()
            .unwrap()
            .len()
            >= 4
    );
}

#[test]
fn import_runs_job_files_as_they_are() {
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-import-{}", std::process::id())),
    )
    .expect("a scratch directory");
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    let out = dir.join("imported.yaml");
    let nodes = fixture("node-detail.comma-fixed.json");
    let import = |jobs: &[&Path]| {
        let mut args = vec![
            "import".to_string(),
            "--nodes".into(),
            nodes.display().to_string(),
            "--horizon".into(),
            "2h".into(),
            "--out".into(),
            out.display().to_string(),
            "--jobs".into(),
        ];
        args.extend(jobs.iter().map(|p| p.display().to_string()));
        bin().args(&args).output().unwrap()
    };
    // The published job is in node pool "prod" and the published node in "default": Nomad
    // would never place it there, so the import says so instead of writing the scenario.
    let o = import(&[&fixture("job-register-payload.json")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("job \"cache\" is in node pool \"prod\", which no node is in"),
        "{err}"
    );
    assert!(!out.exists());

    // In the node's pool, with an HCL system job and a parameterized job beside it.
    let mut job = published("job-register-payload.json");
    job["Job"]["NodePool"] = serde_json::json!("default");
    std::fs::write(dir.join("cache.json"), job.to_string()).unwrap();
    std::fs::write(
        dir.join("jobs/agent.nomad.hcl"),
        "job \"agent\" {\n  type = \"system\"\n  group \"collect\" {\n    task \"vector\" {\n      driver = \"docker\"\n      resources {\n        cpu    = 100\n        memory = 64\n      }\n    }\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("jobs/build.nomad.hcl"),
        "job \"build\" {\n  type = \"batch\"\n  parameterized {}\n  group \"b\" {\n    task \"t\" {\n      driver = \"docker\"\n    }\n  }\n}\n",
    )
    .unwrap();
    // A batch job that says how long it runs keeps its own run time.
    std::fs::write(
        dir.join("jobs/nightly.nomad.hcl"),
        "job \"nightly\" {\n  type = \"batch\"\n  meta {\n    nomad_sim_duration = \"45m\"\n  }\n  group \"n\" {\n    task \"t\" {\n      driver = \"docker\"\n      resources {\n        cpu    = 100\n        memory = 64\n      }\n    }\n  }\n}\n",
    )
    .unwrap();
    let o = import(&[
        &dir.join("cache.json"),
        &dir.join("jobs/agent.nomad.hcl"),
        &dir.join("jobs/build.nomad.hcl"),
        &dir.join("jobs/nightly.nomad.hcl"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    // The scenario refers to the files, relative to itself, and runs services and system jobs
    // for the horizon; the parameterized job waits, commented out, for a dispatch rate.
    assert!(
        text.contains("  - jobspec: \"cache.json\"\n    duration: \"2h\"\n"),
        "{text}"
    );
    assert!(
        text.contains("  - jobspec: \"jobs/agent.nomad.hcl\"\n    duration: \"2h\"\n"),
        "{text}"
    );
    assert!(
        text.contains("  # - jobspec: \"jobs/build.nomad.hcl\"\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "  - jobspec: \"jobs/nightly.nomad.hcl\"\n    # duration: the job file's own run time\n"
        ),
        "{text}"
    );
    assert!(!text.contains("placeholder"), "{text}");
    let validate = run(&["validate", out.to_str().unwrap()]);
    assert!(
        validate.status.success(),
        "{}",
        String::from_utf8_lossy(&validate.stderr)
    );
    // Identity kept: jobs `cache` and `agent`, allocs named after their groups.
    let o = out.to_str().unwrap();
    let list = stdout_ok(&["status", o, "--at", "1m"]);
    let ids: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids, ["agent", "cache", "nightly"], "{list}");
    let allocs: Vec<serde_json::Value> =
        serde_json::from_str(&stdout_ok(&["status", o, "--at", "1m", "cache", "--json"])).unwrap();
    let names: Vec<&str> = allocs.iter().map(|a| a["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cache.cache[0]"]);
    let allocs: Vec<serde_json::Value> =
        serde_json::from_str(&stdout_ok(&["status", o, "--at", "1m", "agent", "--json"])).unwrap();
    let names: Vec<&str> = allocs.iter().map(|a| a["Name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["agent.collect[0]"],
        "the system job on the one node"
    );
}

#[test]
fn import_groups_identical_nodes_and_keeps_ineligible_ones_ineligible() {
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-import-group-{}", std::process::id())),
    )
    .expect("a scratch directory");
    let mut node = published("node-detail.comma-fixed.json");
    let mut list = Vec::new();
    for i in 0..3 {
        node["ID"] = serde_json::json!(format!("00000000-0000-0000-0000-00000000000{i}"));
        node["Name"] = serde_json::json!(format!("client-{i}"));
        node["SchedulingEligibility"] =
            serde_json::json!(if i == 2 { "ineligible" } else { "eligible" });
        list.push(node.clone());
    }
    // A fourth node in another Nomad node pool is a group of its own, in that pool.
    node["ID"] = serde_json::json!("00000000-0000-0000-0000-000000000009");
    node["Name"] = serde_json::json!("gpu-box");
    node["NodePool"] = serde_json::json!("gpu");
    list.push(node.clone());
    let path = dir.join("nodes.json");
    std::fs::write(&path, serde_json::to_string(&list).unwrap()).unwrap();
    let text = stdout_ok(&["import", "--nodes", path.to_str().unwrap()]);
    assert!(text.contains("    count: 3"), "{text}");
    assert!(
        text.contains("  - name: \"default\"\n    count: 3\n    datacenter: \"dc1\"\n    node_pool: \"default\"\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "  - name: \"gpu\"\n    count: 1\n    datacenter: \"dc1\"\n    node_pool: \"gpu\"\n"
        ),
        "{text}"
    );
    // The nodes keep their names and IDs.
    assert!(
        text.contains(
            "      - { name: \"client-0\", id: \"00000000-0000-0000-0000-000000000000\" }"
        ),
        "{text}"
    );
    assert!(
        text.contains("node_eligibility: { nodes: [\"client-2\"], disable: true }"),
        "{text}"
    );
    let out = dir.join("s.yaml");
    std::fs::write(&out, &text).unwrap();
    assert!(run(&["validate", out.to_str().unwrap()]).status.success());
    // The views show the cluster's own names and IDs.
    let nodes = stdout_ok(&["node-status", out.to_str().unwrap(), "--at", "1m"]);
    assert!(nodes.contains("client-1"), "{nodes}");
    let one = stdout_ok(&[
        "node-status",
        out.to_str().unwrap(),
        "--at",
        "1m",
        "client-1",
        "-json",
    ]);
    assert!(
        one.contains("\"ID\": \"00000000-0000-0000-0000-000000000001\""),
        "{one}"
    );
}

#[test]
fn import_errors_are_located() {
    // The published node-detail example is not valid JSON as printed (a missing comma).
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-import-bad-{}", std::process::id())),
    )
    .expect("a scratch directory");
    std::fs::copy(fixture("node-detail.json"), dir.join("node-detail.json")).unwrap();
    let o = run(&[
        "import",
        "--nodes",
        fixture("nodes-list.json").to_str().unwrap(),
        "--node-detail",
        dir.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("node-detail.json:138:3: invalid JSON"),
        "{err}"
    );
    // A listed node without resources, and no detail for it.
    let o = run(&[
        "import",
        "--nodes",
        fixture("nodes-list.json").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("has no NodeResources"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn views_reject_bad_input_with_exit_2() {
    let v = views();
    for args in [
        vec!["status", v.as_str(), "--at", "soon"],
        vec!["status", v.as_str(), "--at", "5m", "nosuchjob"],
        vec!["node-status", v.as_str(), "--at", "5m", "nosuchnode"],
        vec!["logs", v.as_str(), "--at", "5m", "nosuchalloc"],
        vec!["status", v.as_str()],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    }
}

#[test]
fn dead_jobs_are_garbage_collected_after_four_hours() {
    let v = views();
    // Every build has ended by 35m: at 4h they are still listed as dead, at 5h they are gone.
    let at4 = stdout_ok(&["status", &v, "--at", "4h"]);
    assert_eq!(
        at4.lines().filter(|l| l.contains(" dead ")).count(),
        3,
        "{at4}"
    );
    assert_eq!(
        stdout_ok(&["status", &v, "--at", "5h"]).trim(),
        "No running jobs"
    );
    let o = run(&["status", &v, "--at", "5h", "waits-0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn periodic_and_parameterized_parents_are_listed_with_their_children() {
    let v = fixture("lifecycle.yaml").to_str().unwrap().to_string();
    // cleanup launches at 15m (runs to 35m), skips 30m (overlap), launches at 45m; build
    // dispatches at 10m and its child is stopped at 50m.
    let list = stdout_ok(&["status", &v, "--at", "55m"]);
    let line = |id: &str| {
        list.lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} missing:\n{list}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(line("cleanup")[1..4], ["batch/periodic", "50", "running"]);
    assert_eq!(line("build")[1..4], ["batch/parameterized", "50", "dead"]);
    assert_eq!(line("cleanup/periodic-1767572100")[3], "dead");
    assert_eq!(line("cleanup/periodic-1767573900")[3], "running");
    assert!(!list.contains("cleanup/periodic-1767573000"), "{list}");
    let child = list
        .lines()
        .find(|l| l.starts_with("build/dispatch-1767571800-"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(child.contains("dead (stopped)"), "{child}");
    let detail = stdout_ok(&["status", &v, "--at", "55m", "cleanup"]);
    assert!(detail.contains("Periodic      = true"), "{detail}");
    assert!(detail.contains("Children Job Summary"), "{detail}");
    assert!(detail.contains("Previously Launched Jobs"), "{detail}");
    assert!(
        detail.contains("cleanup/periodic-1767573900  running"),
        "{detail}"
    );
}

/// Jobs read from job files keep their IDs and group names in every view: `web` (not
/// `web-0`), its allocs `web.frontend[i]`, the children `ci-build/dispatch-...` and
/// `cleanup/periodic-<unix s>` (the cron's half hours after 2026-01-05T00:00:00Z).
#[test]
fn job_file_workloads_keep_their_identity_in_the_views() {
    let s = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/job-files.yaml")
        .display()
        .to_string();
    let list = stdout_ok(&["status", &s, "--at", "1h"]);
    let ids: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(ids.contains(&"web"), "{list}");
    assert!(ids.contains(&"node-exporter"), "{list}");
    assert!(
        ids.contains(&"cleanup/periodic-1767573000"),
        "00:30 launch\n{list}"
    );
    assert!(
        ids.contains(&"cleanup/periodic-1767574800"),
        "01:00 launch\n{list}"
    );
    assert!(
        ids.iter().any(|i| i.starts_with("ci-build/dispatch-")),
        "{list}"
    );
    assert!(!ids.contains(&"web-0"), "{list}");
    let web = stdout_ok(&["status", &s, "--at", "1h", "web", "--json"]);
    let allocs: Vec<serde_json::Value> = serde_json::from_str(&web).unwrap();
    let mut names: Vec<&str> = allocs.iter().map(|a| a["Name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        (0..6)
            .map(|i| format!("web.frontend[{i}]"))
            .collect::<Vec<_>>(),
        "six instances, the variable's count"
    );
    assert!(allocs
        .iter()
        .all(|a| a["JobID"] == "web" && a["TaskGroup"] == "frontend"));
    // The alloc's task states are keyed by the job file's task, `nginx`.
    let id = allocs[0]["ID"].as_str().unwrap();
    let logs = stdout_ok(&["logs", &s, "--at", "1h", id, "--json"]);
    let alloc: serde_json::Value = serde_json::from_str(&logs).unwrap();
    assert!(alloc["TaskStates"]["nginx"].is_object(), "{logs}");
}

#[test]
fn multi_group_job_files_are_one_job_in_the_views() {
    let s = fixture("multi-group.yaml").display().to_string();
    // `nomad status` lists each Nomad job once: the service, the periodic parent and its child.
    let list = stdout_ok(&["status", &s, "--at", "40m"]);
    let ids: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        ids,
        ["report", "report/periodic-1767573000", "shop"],
        "{list}"
    );
    // `nomad job status shop`: one summary row per task group, in the file's order, and the
    // allocations of both groups.
    let detail = stdout_ok(&["status", &s, "--at", "40m", "shop"]);
    let summary: Vec<&str> = detail
        .lines()
        .skip_while(|l| !l.starts_with("Task Group"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(
        summary,
        [
            "web         0       0         3        0       0         0     0",
            "cache       0       0         1        0       0         0     0"
        ],
        "{detail}"
    );
    let allocs: Vec<serde_json::Value> =
        serde_json::from_str(&stdout_ok(&["status", &s, "--at", "40m", "shop", "--json"])).unwrap();
    let mut names: Vec<&str> = allocs.iter().map(|a| a["Name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["shop.cache[0]", "shop.web[0]", "shop.web[1]", "shop.web[2]"]
    );
    assert!(allocs.iter().all(|a| a["JobID"] == "shop"));
    // The jobs list's summaries carry every group; the periodic child runs both of its groups.
    let stubs: Vec<serde_json::Value> =
        serde_json::from_str(&stdout_ok(&["status", &s, "--at", "32m", "--json"])).unwrap();
    let running = |id: &str, group: &str| {
        let stub = stubs.iter().find(|j| j["ID"] == id).unwrap();
        stub["JobSummary"]["Summary"][group]["Running"].as_u64()
    };
    assert_eq!(running("shop", "web"), Some(3));
    assert_eq!(running("shop", "cache"), Some(1));
    assert_eq!(running("report/periodic-1767573000", "extract"), Some(1));
    assert_eq!(running("report/periodic-1767573000", "load"), Some(1));
    // After its five minutes the child is dead as a whole.
    let later = stdout_ok(&["status", &s, "--at", "40m", "report/periodic-1767573000"]);
    assert!(later.contains("Status        = dead"), "{later}");
    // The report counts the job's groups under the job's ID.
    let report: serde_json::Value =
        serde_json::from_str(&stdout_ok(&["run", &s, "--json"])).unwrap();
    assert_eq!(
        report["allocations"]["placed"], 10,
        "4 for shop, 2 per launch of report"
    );
    let text = stdout_ok(&["run", &s]);
    let placed = |workload: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(workload))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_string)
    };
    assert_eq!(placed("shop").as_deref(), Some("4"), "{text}");
    assert_eq!(placed("report").as_deref(), Some("6"), "{text}");
}

#[test]
fn import_warns_when_nodes_come_from_the_node_list() {
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-import-stub-{}", std::process::id())),
    )
    .expect("a scratch directory");
    // A `/v1/nodes?resources=true` entry: resources, but no meta and a few attributes.
    let mut node = published("node-detail.comma-fixed.json");
    let obj = node.as_object_mut().unwrap();
    obj.remove("Meta");
    obj.insert(
        "Attributes".into(),
        serde_json::json!({ "os.name": "ubuntu", "kernel.name": "linux" }),
    );
    let path = dir.join("nodes.json");
    std::fs::write(&path, serde_json::json!([node]).to_string()).unwrap();
    let o = run(&["import", "--nodes", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    let name = node["Name"].as_str().unwrap();
    assert!(
        err.contains(&format!(
            "nomad-sim: warning: 1 of 1 nodes come from the node list ({name})"
        )),
        "{err}"
    );
    assert!(err.contains("pass --node-detail DIR"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("# Warning: 1 of 1 nodes"));
    // The node's own payload has everything: no warning.
    let detail = dir.join("detail");
    std::fs::create_dir_all(&detail).unwrap();
    std::fs::copy(
        fixture("node-detail.comma-fixed.json"),
        detail.join("n.json"),
    )
    .unwrap();
    let o = run(&[
        "import",
        "--nodes",
        path.to_str().unwrap(),
        "--node-detail",
        detail.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
}

#[test]
fn a_dispatched_job_of_several_groups_is_one_child_per_dispatch() {
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-groups-{}", std::process::id())),
    )
    .expect("a scratch directory");
    std::fs::write(
        dir.join("build.nomad.hcl"),
        "job \"build\" {\n  type = \"batch\"\n  parameterized {}\n  group \"compile\" {\n    task \"cc\" {\n      driver = \"docker\"\n      resources {\n        cpu    = 500\n        memory = 256\n      }\n    }\n  }\n  group \"test\" {\n    count = 2\n    task \"run\" {\n      driver = \"docker\"\n      resources {\n        cpu    = 250\n        memory = 128\n      }\n    }\n  }\n}\n",
    )
    .unwrap();
    let scenario = dir.join("s.yaml");
    std::fs::write(
        &scenario,
        "name: groups\nseed: 4\nhorizon: 2h\nnode_pools:\n  - name: linux\n    count: 2\n    resources: { cpu: 8000, memory: 16000, disk: 50000 }\nworkloads:\n  - jobspec: build.nomad.hcl\n    arrivals: { poisson: { rate: 6/h } }\n    duration: 30m\n",
    )
    .unwrap();
    let s = scenario.to_str().unwrap();
    let list = stdout_ok(&["status", s, "--at", "2h"]);
    let children: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| id.starts_with("build/dispatch-"))
        .collect();
    assert!(children.len() >= 3, "{list}");
    let report: serde_json::Value =
        serde_json::from_str(&stdout_ok(&["run", s, "--json"])).unwrap();
    // Each dispatch places its compile alloc and its two test allocs, under one child ID.
    let dispatched = children.len() as u64;
    assert_eq!(report["allocations"]["placed"], 3 * dispatched, "{list}");
    for child in children {
        let allocs: Vec<serde_json::Value> =
            serde_json::from_str(&stdout_ok(&["status", s, "--at", "2h", child, "--json"]))
                .unwrap();
        let mut names: Vec<String> = allocs
            .iter()
            .map(|a| a["Name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                format!("{child}.compile[0]"),
                format!("{child}.test[0]"),
                format!("{child}.test[1]")
            ]
        );
    }
}

/// A scenario in a fresh directory running `jobs/shop.nomad.hcl` (web ×3, cache ×1) with
/// `extra` appended (operations, limits, more workloads).
fn shop_scenario(tag: &str, arrivals: &str, extra: &str) -> (ScratchDir, PathBuf) {
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-shop-{tag}-{}", std::process::id())),
    )
    .expect("a scratch directory");
    std::fs::copy(fixture("jobs/shop.nomad.hcl"), dir.join("shop.nomad.hcl")).unwrap();
    let path = dir.join("s.yaml");
    std::fs::write(
        &path,
        format!("name: shop\nseed: 2\nhorizon: 1h\nnode_pools:\n  - name: linux\n    count: 2\n    resources: {{ cpu: 8000, memory: 16000, disk: 50000 }}\nworkloads:\n  - jobspec: shop.nomad.hcl\n{arrivals}    duration: 20m\n{extra}"),
    )
    .unwrap();
    (dir, path)
}

#[test]
fn a_job_of_several_groups_is_registered_and_stopped_whole() {
    // `job_stop` by the job's ID stops every group of it.
    let (_stop, s) = shop_scenario(
        "stop",
        "",
        "operations:\n  - at: 5m\n    job_stop: { job: shop }\n",
    );
    let s = s.to_str().unwrap();
    let detail = stdout_ok(&["status", s, "--at", "6m", "shop"]);
    assert!(
        detail.contains("Status        = dead (stopped)"),
        "{detail}"
    );
    let allocs: Vec<serde_json::Value> =
        serde_json::from_str(&stdout_ok(&["status", s, "--at", "6m", "shop", "--json"])).unwrap();
    assert_eq!(allocs.len(), 4);
    assert!(
        allocs.iter().all(|a| a["DesiredStatus"] == "stop"),
        "{allocs:?}"
    );
    // A job's ID is taken: a workload of that name beside it is refused.
    let (_dup, s) = shop_scenario(
        "dup",
        "",
        "  - { name: shop, arrivals: { at: [0s] }, resources: { cpu: 100, memory: 100 }, duration: 1m }\n",
    );
    let o = run(&["validate", s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("duplicate workload name \"shop\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
