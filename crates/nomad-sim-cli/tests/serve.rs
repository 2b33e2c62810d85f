//! `nomad-sim serve` end to end: the binary on a free loopback port, spoken to over HTTP/1.1
//! with a small client; reads in Nomad's shapes, register, plan, advance, a drain followed to
//! its end, blocking queries, bad requests, the ACL token, and a bounded load.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use nomad_sim_output::ScratchDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A running `nomad-sim serve`, stopped when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(scenario: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
            .arg("serve")
            .arg(scenario)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server says where it listens");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Server { child, addr }
    }

    fn paused(scenario: &Path) -> Server {
        Server::start(scenario, &["--paused"])
    }

    fn call(&self, method: &str, path: &str, body: Option<&str>) -> Resp {
        request(&self.addr, method, path, body, &[])
    }

    fn get(&self, path: &str) -> Value {
        let r = self.call("GET", path, None);
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        r.json()
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let r = self.call("POST", path, Some(&body.to_string()));
        assert_eq!(r.status, 200, "POST {path}: {}", r.body);
        r.json()
    }

    fn advance(&self, by: &str) {
        self.post("/v1/sim/advance", &json!({ "By": by }));
    }

    fn node_id(&self, name: &str) -> String {
        let nodes = self.get("/v1/nodes");
        nodes
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["Name"] == name)
            .map(|n| n["ID"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no node {name}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Resp {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn index(&self) -> u64 {
        self.headers
            .get("x-nomad-index")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no X-Nomad-Index in {:?}", self.headers))
    }
}

/// One HTTP/1.1 request on its own connection, read to the end (bounded by a 60 s timeout).
fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = body.unwrap_or("");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before it reads a large body; a reset then is fine.
    let _ = s.write_all(body.as_bytes());
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|t| t == "chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

// ----- shapes --------------------------------------------------------------------------------

/// Keys whose values are maps keyed by data (names, IDs), not structs: their keys are not
/// compared, only their values' types where both have the same key.
const MAPS: [&str; 17] = [
    "Attributes",
    "Meta",
    "Drivers",
    "Links",
    "HostVolumes",
    "HostNetworks",
    "TaskStates",
    "TaskResources",
    "Summary",
    "NodesAvailable",
    "Scores",
    "Config",
    "Env",
    "GetterOptions",
    "ConstraintFiltered",
    "DimensionExhausted",
    "DesiredTGUpdates",
];

/// The JSON type's name; numbers are one type (Go ints and floats both print as numbers).
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key of Nomad's published example, present in ours with the same JSON type. A null on
/// either side matches anything: Go prints nil maps, slices and pointers as null.
fn shape(theirs: &Value, ours: &Value, path: &str, problems: &mut Vec<String>) {
    if theirs.is_null() || ours.is_null() {
        return;
    }
    if kind(theirs) != kind(ours) {
        problems.push(format!(
            "{path}: Nomad has {}, ours is {}",
            kind(theirs),
            kind(ours)
        ));
        return;
    }
    match (theirs, ours) {
        (Value::Object(t), Value::Object(o)) => {
            let name = path.rsplit('.').next().unwrap_or("");
            let is_map = MAPS.contains(&name);
            for (k, tv) in t {
                match o.get(k) {
                    Some(ov) => shape(tv, ov, &format!("{path}.{k}"), problems),
                    None if is_map => {}
                    None => problems.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (Value::Array(t), Value::Array(o)) => {
            // Each of our elements has the keys of every published element.
            for ov in o {
                for tv in t {
                    shape(tv, ov, &format!("{path}[]"), problems);
                }
            }
        }
        _ => {}
    }
}

fn published(name: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap();
    // A known defect of the published allocation example: the reschedule delay is an integer
    // of nanoseconds in Nomad, printed there as a string.
    if let Some(events) = v.pointer_mut("/RescheduleTracker/Events") {
        for e in events.as_array_mut().into_iter().flatten() {
            e["Delay"] = json!(5_000_000_000u64);
        }
    }
    v
}

fn assert_shape(example: &str, ours: &Value) {
    let mut problems = Vec::new();
    shape(&published(example), ours, "$", &mut problems);
    assert!(problems.is_empty(), "{example}:\n{}", problems.join("\n"));
}

#[test]
fn reads_have_nomads_shapes_and_an_index() {
    let s = Server::paused(&fixture("views.yaml"));
    s.advance("7m");
    let nodes = s.get("/v1/nodes");
    assert_eq!(nodes.as_array().unwrap().len(), 2);
    assert_shape("nodes-list.json", &nodes);
    let n1 = s.node_id("linux-1");
    let node = s.get(&format!("/v1/node/{n1}"));
    assert_shape("node-detail.comma-fixed.json", &node);
    assert_eq!(
        node["DrainStrategy"]["Deadline"], 600_000_000_000u64,
        "flat, in ns"
    );
    assert!(node["DrainStrategy"]["ForceDeadline"].is_string());
    assert_eq!(node["LastDrain"]["Status"], "draining");
    let allocs = s.get("/v1/allocations");
    let running = allocs
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ClientStatus"] == "running")
        .unwrap();
    let alloc = s.get(&format!(
        "/v1/allocation/{}",
        running["ID"].as_str().unwrap()
    ));
    assert_shape("allocation-detail.json", &alloc);
    assert!(alloc["Metrics"]["NodesAvailable"]["dc1"].is_u64());
    assert!(alloc["AllocatedResources"]["Tasks"].is_object());
    assert!(alloc["Job"]["Version"].is_u64());
    let job = s.get("/v1/job/long-0");
    assert_shape("job-read-response.json", &job);
    assert_eq!(job["Status"], "running");
    let summary = s.get("/v1/job/waits-0/summary");
    assert_eq!(summary["Summary"]["waits"]["Queued"], 1);
    let evals = s.get("/v1/job/waits-0/evaluations");
    // The register eval completed and created the blocked eval, which names it.
    let blocked = evals
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["Status"] == "blocked")
        .expect("a blocked eval");
    assert_eq!(blocked["TriggeredBy"], "queued-allocs");
    let previous = evals
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["ID"] == blocked["PreviousEval"])
        .expect("the blocked eval's predecessor is listed");
    assert_eq!(previous["Status"], "complete");
    assert_eq!(previous["BlockedEval"], blocked["ID"]);
    assert!(blocked["FailedTGAllocs"]["waits"]["DimensionExhausted"]["cpu"].is_u64());
    let e = s.get(&format!(
        "/v1/evaluation/{}",
        blocked["ID"].as_str().unwrap()
    ));
    assert_eq!(e["JobID"], "waits-0");
    assert_eq!(
        s.get("/v1/job/long-0/allocations")
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(s.get(&format!("/v1/node/{n1}/allocations"))[0]["Job"]["ID"].is_string());
    assert_eq!(s.get("/v1/status/leader"), json!("127.0.0.1:4647"));
    let agent = s.get("/v1/agent/self");
    assert!(agent["stats"]["client"]["node_id"].is_string());
    assert_eq!(s.get("/v1/job/long-0/deployment"), Value::Null);
    assert_eq!(s.get("/v1/jobs?prefix=wa").as_array().unwrap().len(), 1);
    assert_eq!(
        s.get(&format!("/v1/nodes?prefix={}", &n1[..4]))[0]["ID"],
        n1.as_str()
    );
    let search = s.post("/v1/search", &json!({ "Prefix": "wai", "Context": "all" }));
    assert_eq!(search["Matches"]["jobs"], json!(["waits-0"]));
    assert_eq!(search["Truncations"]["jobs"], json!(false));
    // Every read carries the index.
    for path in [
        "/v1/jobs",
        "/v1/nodes",
        "/v1/allocations",
        "/v1/evaluations",
        "/v1/agent/self",
    ] {
        assert!(s.call("GET", path, None).index() >= 1, "{path}");
    }
}

fn small_job(id: &str, cpu: u64, run_for: &str) -> Value {
    json!({ "Job": { "ID": id, "Type": "batch", "Datacenters": ["dc1"],
        "TaskGroups": [{ "Name": "build", "Count": 1, "Tasks": [{
            "Name": "agent", "Driver": "mock_driver", "Config": { "run_for": run_for },
            "Resources": { "CPU": cpu, "MemoryMB": 256 } }] }] } })
}

#[test]
fn register_plan_advance_and_complete() {
    let s = Server::paused(&fixture("views.yaml"));
    // A plan is a dry run: it places on a copy and changes nothing.
    let plan = s.post("/v1/job/api-1/plan", &small_job("api-1", 300, "3m"));
    assert_eq!(plan["Annotations"]["DesiredTGUpdates"]["build"]["Place"], 1);
    assert_eq!(plan["FailedTGAllocs"], Value::Null);
    assert_eq!(plan["Diff"]["Type"], "Added");
    assert_eq!(s.call("GET", "/v1/job/api-1", None).status, 404);
    let too_big = s.post("/v1/job/huge/plan", &small_job("huge", 100_000, "1m"));
    assert!(
        too_big["FailedTGAllocs"]["build"]["NodesExhausted"]
            .as_u64()
            .unwrap()
            >= 1,
        "{too_big}"
    );
    assert_eq!(too_big["CreatedEvals"][0]["Status"], "blocked");
    // Register: placed at once, complete after its run_for.
    let r = s.post("/v1/jobs", &small_job("api-1", 300, "3m"));
    assert!(r["EvalID"].as_str().unwrap().len() == 36, "{r}");
    let allocs = s.get("/v1/job/api-1/allocations");
    assert_eq!(allocs[0]["Name"], "api-1.build[0]");
    assert_eq!(allocs[0]["ClientStatus"], "running");
    let alloc = s.get(&format!(
        "/v1/allocation/{}",
        allocs[0]["ID"].as_str().unwrap()
    ));
    assert!(alloc["TaskStates"]["agent"]["Events"].is_array());
    s.advance("2m");
    assert_eq!(s.get("/v1/job/api-1")["Status"], "running");
    s.advance("90s");
    assert_eq!(s.get("/v1/job/api-1")["Status"], "dead");
    assert_eq!(
        s.get("/v1/job/api-1/allocations")[0]["ClientStatus"],
        "complete"
    );
    // The same job again runs again; a job's Meta can set the run time instead.
    s.post("/v1/job/api-1", &small_job("api-1", 300, "3m"));
    assert_eq!(s.get("/v1/job/api-1")["Status"], "running");
    let mut meta = small_job("api-2", 300, "1m");
    meta["Job"]["TaskGroups"][0]["Tasks"][0]["Driver"] = json!("docker");
    meta["Job"]["Meta"] = json!({ "nomad_sim_duration": "30s" });
    s.post("/v1/jobs", &meta);
    s.advance("31s");
    assert_eq!(s.get("/v1/job/api-2")["Status"], "dead");
    // Nomad's published register payload: its node pool is not in the scenario, then it is.
    let mut payload = published("job-register-payload.json");
    let r = s.call("POST", "/v1/jobs", Some(&payload.to_string()));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("node pool \"prod\""), "{}", r.body);
    payload["Job"]["NodePool"] = json!("default");
    let r = s.post("/v1/jobs", &payload);
    // Its dynamic ports are simulated now (issue 11), so they draw no warning.
    assert!(
        !r["Warnings"]
            .as_str()
            .unwrap_or("")
            .contains("dynamic ports"),
        "{r}"
    );
    assert_eq!(s.get("/v1/job/cache")["Type"], "service");
    // Deregister stops the job.
    let d = s.call("DELETE", "/v1/job/api-1", None);
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(s.get("/v1/job/api-1")["Stop"], true);
    let clock = s.get("/v1/sim/clock");
    assert_eq!(clock["NowMs"], 241_000);
    assert_eq!(clock["Paused"], true);
}

#[test]
fn deregister_stops_allocations_and_purge_removes_the_job() {
    let s = Server::paused(&fixture("views.yaml"));
    s.post("/v1/jobs", &small_job("stopme", 300, "1h"));
    let allocs = s.get("/v1/job/stopme/allocations");
    assert_eq!(allocs[0]["ClientStatus"], "running");
    let node = allocs[0]["NodeID"].as_str().unwrap().to_string();
    s.advance("1m");
    // `nomad job stop`: the alloc stops now, with Nomad's desired status and description.
    let d = s.call("DELETE", "/v1/job/stopme", None);
    assert_eq!(d.status, 200, "{}", d.body);
    // Nomad answers with the job-deregister eval, which `nomad job stop` monitors.
    let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
    let eval_id = body["EvalID"].as_str().unwrap();
    let eval = s.get(&format!("/v1/evaluation/{eval_id}"));
    assert_eq!(eval["TriggeredBy"], "job-deregister");
    assert_eq!(eval["Status"], "complete");
    assert_eq!(eval["JobID"], "stopme");
    assert_eq!(body["EvalCreateIndex"], eval["CreateIndex"]);
    let job = s.get("/v1/job/stopme");
    assert_eq!(job["Stop"], true);
    assert_eq!(job["Status"], "dead");
    let a = &s.get("/v1/job/stopme/allocations")[0];
    assert_eq!(a["DesiredStatus"], "stop");
    assert_eq!(
        a["DesiredDescription"],
        "alloc not needed due to job update"
    );
    assert_eq!(a["ClientStatus"], "complete");
    let on_node = s.get(&format!("/v1/node/{node}/allocations"));
    assert!(
        on_node
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["JobID"] == "stopme")
            .all(|a| a["ClientStatus"] == "complete"),
        "{on_node}"
    );
    // `-purge`: the job is gone at once.
    s.post("/v1/jobs", &small_job("purgeme", 300, "1h"));
    let d = s.call("DELETE", "/v1/job/purgeme?purge=true", None);
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(s.call("GET", "/v1/job/purgeme", None).status, 404);
    // A sysbatch job registers: one alloc per eligible node.
    let mut sys = small_job("sweep", 100, "1m");
    sys["Job"]["Type"] = json!("sysbatch");
    let r = s.call("POST", "/v1/jobs", Some(&sys.to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    let nodes = s.get("/v1/nodes").as_array().unwrap().len();
    let placed = s.get("/v1/job/sweep/allocations").as_array().unwrap().len();
    assert!(placed > 1 && placed <= nodes, "{placed} of {nodes}");
    assert_eq!(s.get("/v1/job/sweep")["Type"], "sysbatch");
}

#[test]
fn parameterized_jobs_are_dispatched() {
    let s = Server::paused(&fixture("views.yaml"));
    let mut job = small_job("param", 300, "1m");
    job["Job"]["ParameterizedJob"] = json!({ "Payload": "forbidden", "MetaRequired": ["commit"] });
    let r = s.post("/v1/jobs", &job);
    assert_eq!(r["EvalID"], "");
    assert_eq!(s.get("/v1/job/param")["Status"], "running");
    let missing = s.call("POST", "/v1/job/param/dispatch", Some("{}"));
    assert_eq!(missing.status, 400);
    assert!(
        missing.body.contains("required meta keys"),
        "{}",
        missing.body
    );
    let d = s.post(
        "/v1/job/param/dispatch",
        &json!({ "Meta": { "commit": "abc" } }),
    );
    let child = d["DispatchedJobID"].as_str().unwrap().to_string();
    assert!(child.starts_with("param/dispatch-"), "{child}");
    let escaped = child.replace('/', "%2F");
    assert_eq!(s.get(&format!("/v1/job/{escaped}"))["ParentID"], "param");
    let not_param = s.call("POST", "/v1/job/long-0/dispatch", Some("{}"));
    assert_eq!(not_param.status, 400);
    assert!(not_param.body.contains("not a parameterized job"));
}

/// A periodic job registered over the API launches `<ID>/periodic-<unix s>` children on its
/// cron from the time it is registered, and a deregistration stops the launches. The views
/// scenario starts at 2026-01-05T09:00:00Z (Unix 1767603600): registered at 0 s with
/// `*/10 * * * *`, it launches at 10m and 20m (Unix 1767604200 and 1767604800) within 25m.
#[test]
fn periodic_jobs_launch_children_until_deregistered() {
    let s = Server::paused(&fixture("views.yaml"));
    let mut job = small_job("tick", 100, "1m");
    job["Job"]["Periodic"] = json!({ "Enabled": true, "Spec": "*/10 * * * *",
        "SpecType": "cron", "ProhibitOverlap": true, "TimeZone": "UTC" });
    let r = s.post("/v1/jobs", &job);
    assert_eq!(r["EvalID"], "", "a periodic parent is not evaluated: {r}");
    let parent = s.get("/v1/job/tick");
    assert_eq!(parent["Status"], "running");
    assert_eq!(parent["Periodic"]["Spec"], "*/10 * * * *");
    s.advance("25m");
    let children = |s: &Server| -> Vec<String> {
        let mut ids: Vec<String> = s
            .get("/v1/jobs")
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["ParentID"] == "tick")
            .map(|j| j["ID"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        children(&s),
        ["tick/periodic-1767604200", "tick/periodic-1767604800"]
    );
    let child = s.get("/v1/job/tick%2Fperiodic-1767604200");
    assert_eq!(child["Status"], "dead", "ran its 1m");
    assert_eq!(
        s.get("/v1/job/tick%2Fperiodic-1767604200/allocations")[0]["Name"],
        "tick/periodic-1767604200.build[0]"
    );
    let d = s.call("DELETE", "/v1/job/tick", None);
    assert_eq!(d.status, 200, "{}", d.body);
    s.advance("30m");
    assert_eq!(children(&s).len(), 2, "no launch after the stop");
    assert_eq!(s.get("/v1/job/tick")["Status"], "dead");
    // Nomad's rule: only batch and sysbatch jobs may be periodic.
    let mut service = job.clone();
    service["Job"]["ID"] = json!("svc-tick");
    service["Job"]["Type"] = json!("service");
    let r = s.call("POST", "/v1/jobs", Some(&service.to_string()));
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("a periodic job must be of type batch or sysbatch"),
        "{}",
        r.body
    );
}

#[test]
fn a_drain_followed_to_its_end_with_blocking_queries() {
    let s = Server::paused(&fixture("views.yaml"));
    let n0 = s.node_id("linux-0");
    let before = s.call("GET", &format!("/v1/node/{n0}"), None);
    let index = before.index();
    // A blocking query returns when the state changes, not before.
    let (addr, path) = (
        s.addr.clone(),
        format!("/v1/node/{n0}?index={index}&wait=60s"),
    );
    let waiter = std::thread::spawn(move || {
        let t = Instant::now();
        let r = request(&addr, "GET", &path, None, &[]);
        (r.index(), t.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    let drain = s.post(
        &format!("/v1/node/{n0}/drain"),
        &json!({ "DrainSpec": { "Deadline": 600_000_000_000u64, "IgnoreSystemJobs": false }, "MarkEligible": false }),
    );
    let (woke, took) = waiter.join().unwrap();
    assert!(woke > index, "the blocking query saw the change");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(30),
        "{took:?}"
    );
    assert!(drain["NodeModifyIndex"].as_u64().unwrap() >= woke);
    let node = s.get(&format!("/v1/node/{n0}"));
    assert_eq!(node["Drain"], true);
    assert_eq!(node["SchedulingEligibility"], "ineligible");
    // A blocking query with nothing changing waits out its wait.
    let r = s.call(
        "GET",
        &format!("/v1/nodes?index={}&wait=300ms", drain["Index"]),
        None,
    );
    assert_eq!(r.status, 200);
    // The deadline passes: the drain completes, the node stays ineligible, nothing runs.
    s.advance("11m");
    let node = s.get(&format!("/v1/node/{n0}"));
    assert_eq!(node["DrainStrategy"], Value::Null);
    assert_eq!(node["Drain"], false);
    assert_eq!(node["SchedulingEligibility"], "ineligible");
    assert_eq!(node["LastDrain"]["Status"], "complete");
    let allocs = s.get(&format!("/v1/node/{n0}/allocations"));
    assert!(allocs
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["ClientStatus"] != "running" && a["ClientStatus"] != "pending"));
    // Eligibility back on.
    s.post(
        &format!("/v1/node/{n0}/eligibility"),
        &json!({ "Eligibility": "eligible" }),
    );
    assert_eq!(
        s.get(&format!("/v1/node/{n0}"))["SchedulingEligibility"],
        "eligible"
    );
}

#[test]
fn bad_requests_get_nomads_codes() {
    let s = Server::start(&fixture("views.yaml"), &["--paused", "--max-body", "4096"]);
    let cases: Vec<(&str, &str, Option<String>, u16, &str)> = vec![
        (
            "POST",
            "/v1/jobs",
            Some("{not json".to_string()),
            400,
            "Failed to decode",
        ),
        (
            "POST",
            "/v1/jobs",
            Some(String::new()),
            400,
            "Request body is empty",
        ),
        (
            "POST",
            "/v1/jobs",
            Some("{}".to_string()),
            400,
            "Job must be specified",
        ),
        (
            "POST",
            "/v1/job/other",
            Some(small_job("x", 1, "1m").to_string()),
            400,
            "does not match",
        ),
        ("GET", "/v1/job/nosuch", None, 404, "job not found"),
        ("GET", "/v1/node/nosuch", None, 404, "node not found"),
        ("GET", "/v1/allocation/nosuch", None, 404, "alloc not found"),
        ("GET", "/v1/evaluation/nosuch", None, 404, "eval not found"),
        ("GET", "/v1/nosuch", None, 404, "404 page not found"),
        ("DELETE", "/v1/nodes", None, 405, "Invalid method"),
        (
            "POST",
            "/v1/jobs",
            Some(format!("{{\"Job\": \"{}\"}}", "x".repeat(5000))),
            413,
            "too large",
        ),
        ("GET", "/v1/jobs?index=abc", None, 400, "Invalid index"),
        (
            "POST",
            "/v1/sim/advance",
            Some("{\"By\": \"soon\"}".to_string()),
            400,
            "By",
        ),
        (
            "POST",
            "/v1/sim/advance",
            Some("{\"To\": \"0s\", \"By\": \"1m\"}".to_string()),
            400,
            "exactly one",
        ),
        (
            "POST",
            "/v1/node/nosuch/eligibility",
            Some("{\"Eligibility\": \"maybe\"}".to_string()),
            400,
            "invalid scheduling eligibility",
        ),
        (
            "POST",
            "/v1/jobs",
            Some(small_job("x", 1, "soon").to_string()),
            400,
            "run_for",
        ),
    ];
    for (method, path, body, status, text) in cases {
        let r = s.call(method, path, body.as_deref());
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert!(
            r.body.contains(text),
            "{method} {path}: {:?} lacks {text:?}",
            r.body
        );
    }
    // A truncated request and a garbage line close their connections without harm.
    for raw in [
        "GET /v1/jobs HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
        "\x00\x01garbage\r\n\r\n",
    ] {
        let mut c = TcpStream::connect(&s.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
        let _ = c.write_all(raw.as_bytes());
        let _ = c.shutdown(std::net::Shutdown::Write);
        let mut sink = Vec::new();
        let _ = c.read_to_end(&mut sink);
    }
    assert_eq!(
        s.call("GET", "/v1/status/leader", None).status,
        200,
        "still serving"
    );
}

#[test]
fn the_acl_token_is_checked() {
    let s = Server::start(
        &fixture("views.yaml"),
        &["--paused", "--acl-token", "s3cret"],
    );
    let r = s.call("GET", "/v1/jobs", None);
    assert_eq!((r.status, r.body.as_str()), (403, "Permission denied"));
    let ok = request(
        &s.addr,
        "GET",
        "/v1/jobs",
        None,
        &[("X-Nomad-Token", "s3cret")],
    );
    assert_eq!(ok.status, 200);
    let bearer = request(
        &s.addr,
        "GET",
        "/v1/jobs",
        None,
        &[("Authorization", "Bearer s3cret")],
    );
    assert_eq!(bearer.status, 200);
    let wrong = request(
        &s.addr,
        "GET",
        "/v1/jobs",
        None,
        &[("X-Nomad-Token", "nope")],
    );
    assert_eq!(wrong.status, 403);
}

#[test]
fn the_clock_runs_at_the_given_speed() {
    let s = Server::start(&fixture("views.yaml"), &["--speed", "600"]);
    let a = s.get("/v1/sim/clock")["NowMs"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let b = s.get("/v1/sim/clock")["NowMs"].as_u64().unwrap();
    // Half a wall second is five simulated minutes; allow for a slow machine.
    assert!(b > a + 60_000 && b < a + 3_600_000, "{a} -> {b}");
    assert_eq!(s.get("/v1/sim/clock")["Paused"], false);
}

/// Eight readers, two hundred requests each, while the clock moves: no error, and each
/// reader's X-Nomad-Index never goes back.
#[test]
fn bounded_load_while_time_advances() {
    let s = Server::paused(&fixture("views.yaml"));
    let addr = s.addr.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mover = {
        let (addr, stop) = (addr.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 400 {
                let r = request(
                    &addr,
                    "POST",
                    "/v1/sim/advance",
                    Some("{\"By\": \"15s\"}"),
                    &[],
                );
                assert_eq!(r.status, 200, "{}", r.body);
                n += 1;
            }
            n
        })
    };
    let paths = [
        "/v1/jobs",
        "/v1/nodes",
        "/v1/allocations",
        "/v1/evaluations",
        "/v1/sim/clock",
    ];
    let readers: Vec<_> = (0..8)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                for k in 0..200 {
                    let path = paths[(i + k) % paths.len()];
                    let r = request(&addr, "GET", path, None, &[]);
                    assert_eq!(r.status, 200, "{path}: {}", r.body);
                    let index = r.index();
                    assert!(
                        index >= last,
                        "{path}: index went back from {last} to {index}"
                    );
                    last = index;
                    serde_json::from_str::<Value>(&r.body).expect("JSON");
                }
                last
            })
        })
        .collect();
    for r in readers {
        assert!(r.join().expect("a reader finished") > 1);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(mover.join().expect("the clock mover finished") > 0);
}

#[test]
fn serve_refuses_bad_flags_with_exit_2() {
    for args in [
        vec!["--speed", "0"],
        vec!["--addr", "nowhere"],
        vec!["--paused", "--speed", "2"],
        vec!["--acl-token", ""],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
            .arg("serve")
            .arg(fixture("views.yaml"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn eval_lists_and_shows_evaluations() {
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let v = fixture("views.yaml");
    let v = v.to_str().unwrap();
    let list = run(&["eval", v, "--at", "5m"]);
    assert!(
        list.starts_with("ID        Priority  Triggered By   Job ID"),
        "{list}"
    );
    assert!(list.contains("blocked   N/A - In Progress"), "{list}");
    assert_eq!(list, run(&["eval", v, "--at", "5m", "list"]));
    let id = list
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let detail = run(&["eval", v, "--at", "5m", id]);
    assert!(detail.contains("Status             = blocked"), "{detail}");
    assert!(detail.contains("Failed Placements"), "{detail}");
    let json: Value = serde_json::from_str(&run(&["eval", v, "--at", "5m", id, "--json"])).unwrap();
    assert_eq!(json["Status"], "blocked");
    assert_eq!(json["JobID"], "waits-0");
    let all: Value = serde_json::from_str(&run(&["eval", v, "--at", "5m", "--json"])).unwrap();
    // Three register evals and the blocked eval waits-0's register eval created.
    assert_eq!(all.as_array().unwrap().len(), 4);
    // A job's ID lists only its evals (`nomad eval list -job waits-0`).
    let of_job = run(&["eval", v, "--at", "5m", "waits-0"]);
    assert_eq!(of_job.lines().count(), 3, "{of_job}");
    assert!(
        of_job.lines().skip(1).all(|l| l.contains(" waits-0 ")),
        "{of_job}"
    );
}

/// `import --allocs` replays what a cluster ran: the history of `views.yaml` as the API serves
/// it becomes a trace (each first allocation asked for at its job's submission, with the run
/// time it had: waits-0 5m, long-0 30m, short-0 16m until its drain stopped it) and a scenario
/// that runs and places all three again.
#[test]
fn import_allocs_replays_the_history_the_api_serves() {
    let dir = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-history-{}", std::process::id())),
    )
    .expect("a scratch directory");
    {
        let s = Server::start(&fixture("views.yaml"), &["--paused"]);
        s.advance("40m");
        for (file, path) in [
            ("nodes.json", "/v1/nodes?resources=true"),
            ("allocs.json", "/v1/allocations?resources=true"),
            ("jobs.json", "/v1/jobs"),
        ] {
            std::fs::write(dir.join(file), s.get(path).to_string()).unwrap();
        }
    }
    let nimport = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
            .current_dir(&dir)
            .args(["import", "--nodes", "nodes.json", "--allocs", "allocs.json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = nimport(&["--job-list", "jobs.json", "--out", "replay.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(dir.join("replay.allocs.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        rows,
        [
            "submit,parallelism,cpu,memory,duration",
            "0ms,1,3000,6000,300000ms",
            "0ms,1,3000,6000,1800000ms",
            "0ms,1,3000,6000,960000ms",
        ]
    );
    let scenario = std::fs::read_to_string(dir.join("replay.yaml")).unwrap();
    assert!(scenario.contains("horizon: \"35m\""), "{scenario}");
    assert!(
        scenario.contains("start: \"2026-01-05T09:00:00Z\""),
        "{scenario}"
    );
    let run = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
        .current_dir(&dir)
        .args(["run", "replay.yaml", "--json"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["perf"]["placements"], 3, "{report}");

    // Joined fetches: an allocation listed twice counts once.
    let twice: Vec<Value> = {
        let a: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("allocs.json")).unwrap())
                .unwrap();
        a.iter().chain(a.iter()).cloned().collect()
    };
    std::fs::write(dir.join("twice.json"), Value::from(twice).to_string()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
        .current_dir(&dir)
        .args(["import", "--nodes", "nodes.json", "--allocs", "twice.json"])
        .args(["--job-list", "jobs.json", "--out", "twice.yaml"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.join("twice.allocs.csv"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count(),
        4
    );

    // Without the job list, allocations are asked for when they were placed: waits-0 at 30m.
    let o = nimport(&["--out", "placed.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(dir.join("placed.allocs.csv")).unwrap();
    assert!(csv.contains("\n1800000ms,1,3000,6000,300000ms\n"), "{csv}");

    // Bad uses exit 2 and write nothing.
    let o = nimport(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--allocs needs --out"));
    let stubs: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("allocs.json"))
            .unwrap()
            .replace("\"AllocatedResources\"", "\"Other\""),
    )
    .unwrap();
    std::fs::write(dir.join("stubs.json"), stubs.to_string()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
        .current_dir(&dir)
        .args([
            "import",
            "--nodes",
            "nodes.json",
            "--allocs",
            "stubs.json",
            "--out",
            "x.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("GET /v1/allocations?resources=true"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!dir.join("x.yaml").exists() && !dir.join("x.allocs.csv").exists());

    // Nodes in a Nomad node pool of their own: the history runs wherever the nodes are.
    let nodes = std::fs::read_to_string(dir.join("nodes.json")).unwrap();
    let in_ci = nodes.replace("\"NodePool\":\"default\"", "\"NodePool\":\"ci\"");
    assert_ne!(in_ci, nodes, "the nodes name their pool");
    std::fs::write(dir.join("ci-nodes.json"), in_ci).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
        .current_dir(&dir)
        .args([
            "import",
            "--nodes",
            "ci-nodes.json",
            "--allocs",
            "allocs.json",
        ])
        .args(["--job-list", "jobs.json", "--out", "ci.yaml"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
        .current_dir(&dir)
        .args(["run", "ci.yaml", "--json"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["perf"]["placements"], 3, "{report}");
}

/// A batch job of two groups: `extract` (one alloc, 300 MHz for 2m) and `load` (two allocs,
/// 200 MHz for 4m).
fn two_group_job(id: &str) -> Value {
    let group = |name: &str, count: u32, cpu: u64, run_for: &str| {
        json!({ "Name": name, "Count": count, "Tasks": [{
            "Name": format!("{name}-task"), "Driver": "mock_driver", "Config": { "run_for": run_for },
            "Resources": { "CPU": cpu, "MemoryMB": 128 } }] })
    };
    json!({ "Job": { "ID": id, "Type": "batch", "Datacenters": ["dc1"],
        "TaskGroups": [group("extract", 1, 300, "2m"), group("load", 2, 200, "4m")] } })
}

#[test]
fn a_job_of_several_groups_registers_plans_and_stops_as_one() {
    let s = Server::paused(&fixture("views.yaml"));
    // The plan places every group.
    let plan = s.post("/v1/job/etl/plan", &two_group_job("etl"));
    let updates = &plan["Annotations"]["DesiredTGUpdates"];
    assert_eq!(
        (
            updates["extract"]["Place"].as_u64(),
            updates["load"]["Place"].as_u64()
        ),
        (Some(1), Some(2)),
        "{plan}"
    );
    let names: Vec<&str> = plan["Diff"]["TaskGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["extract", "load"]);
    // Registered: one job in the list, a summary per group, the allocs of both groups.
    s.post("/v1/jobs", &two_group_job("etl"));
    let listed: Vec<Value> = s.get("/v1/jobs?prefix=etl").as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let summary = &s.get("/v1/job/etl/summary")["Summary"];
    assert_eq!(summary["extract"]["Running"], 1, "{summary}");
    assert_eq!(summary["load"]["Running"], 2, "{summary}");
    let mut names: Vec<String> = s
        .get("/v1/job/etl/allocations")
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["etl.extract[0]", "etl.load[0]", "etl.load[1]"]);
    let job = s.get("/v1/job/etl");
    assert_eq!(job["TaskGroups"].as_array().unwrap().len(), 2);
    // The job runs while any group runs: extract ends at 2m, load at 4m.
    s.advance("3m");
    assert_eq!(s.get("/v1/job/etl")["Status"], "running");
    assert_eq!(
        s.get("/v1/job/etl/summary")["Summary"]["extract"]["Complete"],
        1
    );
    s.advance("2m");
    assert_eq!(s.get("/v1/job/etl")["Status"], "dead");
    // Registered again and stopped: every group's allocs stop.
    s.post("/v1/jobs", &two_group_job("etl"));
    assert_eq!(s.get("/v1/job/etl")["Status"], "running");
    let d = s.call("DELETE", "/v1/job/etl", None);
    assert_eq!(d.status, 200, "{}", d.body);
    let live = s
        .get("/v1/job/etl/allocations")
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["ClientStatus"] == "running")
        .count();
    assert_eq!(live, 0);
    assert_eq!(s.get("/v1/job/etl")["Status"], "dead");
    // Dispatching or launching such a job periodically is refused, saying so.
    let mut periodic = two_group_job("nightly");
    periodic["Job"]["Periodic"] =
        json!({ "Enabled": true, "Spec": "0 3 * * *", "SpecType": "cron" });
    let r = s.call("POST", "/v1/jobs", Some(&periodic.to_string()));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("has 2 task groups"), "{}", r.body);
}

/// The shipped scenario of Nomad job files.
fn job_files_scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/job-files.yaml")
}

#[test]
fn a_scenarios_job_files_are_shown_as_the_files_have_them() {
    let s = Server::paused(&job_files_scenario());
    // web.nomad.hcl: its spread, its port, its variable-set count and its task's image.
    let web = s.get("/v1/job/web");
    assert_eq!(web["Spreads"][0]["Attribute"], "${node.datacenter}");
    assert_eq!(web["Priority"], 60);
    let group = &web["TaskGroups"][0];
    assert_eq!(group["Name"], "frontend");
    assert_eq!(group["Count"], 6);
    assert_eq!(group["Networks"][0]["DynamicPorts"][0]["Label"], "http");
    assert_eq!(group["Tasks"][0]["Name"], "nginx");
    assert_eq!(group["Tasks"][0]["Config"]["image"], "nginx:1.27");
    // ci-build.nomad.hcl's parameterized block decides what a dispatch may carry.
    let parent = s.get("/v1/job/ci-build");
    assert_eq!(parent["ParameterizedJob"]["MetaOptional"][0], "branch");
    let d = s.post(
        "/v1/job/ci-build/dispatch",
        &json!({ "Meta": { "branch": "main" } }),
    );
    let child = d["DispatchedJobID"].as_str().unwrap().to_string();
    let refused = s.call(
        "POST",
        "/v1/job/ci-build/dispatch",
        Some(r#"{"Meta":{"commit":"abc"}}"#),
    );
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("not allowed"), "{}", refused.body);
    // The child's ID has a slash, sent unencoded as python-nomad does: the path's known
    // ending names the endpoint and the rest is the job.
    let job = s.get(&format!("/v1/job/{child}"));
    assert_eq!(job["ID"], child.as_str());
    assert_eq!(job["ParentID"], "ci-build");
    assert_eq!(job["ParameterizedJob"], Value::Null);
    let allocs = s.get(&format!("/v1/job/{child}/allocations"));
    assert_eq!(allocs[0]["JobID"], child.as_str());
    assert_eq!(
        s.get(&format!("/v1/job/{child}/summary"))["JobID"],
        child.as_str()
    );
    assert_eq!(s.call("GET", "/v1/job/ci-build/nope/x", None).status, 404);
    assert_eq!(
        s.call("GET", &format!("/v1/job/{child}/dispatch"), None)
            .status,
        405
    );
}

#[test]
fn validate_namespaces_and_deployments_answer_as_nomad_does() {
    let s = Server::paused(&fixture("views.yaml"));
    // `nomad job validate`: a good job validates and is not registered; a bad one lists why.
    let ok = s.post("/v1/validate/job", &small_job("checkme", 300, "1m"));
    assert_eq!(ok["Error"], "", "{ok}");
    assert_eq!(ok["DriverConfigValidated"], true);
    assert_eq!(s.call("GET", "/v1/job/checkme", None).status, 404);
    let mut bad = small_job("badpool", 300, "1m");
    bad["Job"]["NodePool"] = json!("nowhere");
    let v = s.post("/v1/validate/job", &bad);
    assert!(
        v["ValidationErrors"][0]
            .as_str()
            .unwrap()
            .contains("nowhere"),
        "{v}"
    );
    assert!(v["Error"].as_str().unwrap().starts_with("1 error occurred"));
    assert_eq!(v["DriverConfigValidated"], true);
    assert_eq!(s.call("POST", "/v1/validate/job", Some("{}")).status, 400);
    // One namespace, and no deployments.
    assert_eq!(s.get("/v1/namespaces")[0]["Name"], "default");
    assert_eq!(s.get("/v1/namespace/default")["Name"], "default");
    assert_eq!(s.call("GET", "/v1/namespace/other", None).status, 404);
    assert_eq!(s.get("/v1/deployments"), json!([]));
    assert_eq!(s.get("/v1/namespaces?prefix=zz"), json!([]));
    // Job actions that are not simulated say so; HEAD reads as GET does.
    let force = s.call("POST", "/v1/job/long-0/periodic/force", Some("{}"));
    assert_eq!(force.status, 404);
    assert!(force.body.contains("not simulated"), "{}", force.body);
    assert_eq!(s.call("HEAD", "/v1/job/long-0", None).status, 200);
}
