//! The HTTP side of `serve`: routes with Nomad's paths, status codes and message texts, the
//! `X-Nomad-Index` header and blocking queries, the ACL token, the body limit and the bound on
//! requests in flight.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use nomad_sim_core::config::{Action, DrainDeadline, DrainSpec, NodeTarget};
use nomad_sim_core::model::Eligibility;
use nomad_sim_core::time::{format_duration_ms, parse_duration_ms, SimTime};

use super::register::{self, ApiError};
use super::world::{Handle, World};
use super::Settings;
use crate::format::iso8601;
use crate::views::api::NOMAD_VERSION;
use crate::views::{JobRef, View};

/// Nomad's longest blocking query wait.
const MAX_WAIT_MS: u64 = 10 * 60_000;
/// Nomad's default blocking query wait.
const DEFAULT_WAIT_MS: u64 = 5 * 60_000;
/// The most connections held open at once; further clients wait to be accepted.
const MAX_CONNECTIONS: usize = 1024;

#[derive(Clone)]
struct App {
    handle: Arc<Handle>,
    settings: Arc<Settings>,
    permits: Arc<Semaphore>,
    /// Plans rebuild the simulation: one at a time.
    plans: Arc<Semaphore>,
}

/// A plain-text response, as Nomad answers errors.
fn text(status: u16, body: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, body.into()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn error(e: ApiError) -> Response {
    text(e.status, e.text)
}

fn internal(what: impl std::fmt::Display) -> Response {
    text(500, format!("internal error: {what}"))
}

/// A JSON response with the index headers every read and write carries.
fn json_response(index: u64, body: &Value, pretty: bool) -> Response {
    let bytes = if pretty {
        serde_json::to_vec_pretty(body)
    } else {
        serde_json::to_vec(body)
    };
    let Ok(bytes) = bytes else {
        return internal("the response does not serialise");
    };
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&index.to_string()) {
        h.insert("X-Nomad-Index", v);
    }
    h.insert("X-Nomad-KnownLeader", HeaderValue::from_static("true"));
    h.insert("X-Nomad-LastContact", HeaderValue::from_static("0"));
    r
}

/// What every handler reads from a request: the query, the body (within the limit), and a
/// permit that counts it among the requests in flight.
struct Req {
    query: BTreeMap<String, String>,
    body: Bytes,
    _permit: OwnedSemaphorePermit,
}

impl Req {
    fn param(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    /// A Go-style boolean parameter; absent gives `default`.
    fn flag(&self, k: &str, default: bool) -> Result<bool, ApiError> {
        match self.param(k) {
            None => Ok(default),
            // `?pretty` and `?stale` are set by their presence.
            Some("") => Ok(true),
            Some(v) => parse_bool(v).ok_or_else(|| {
                ApiError::bad(format!("Failed to parse value of {k:?} ({v:?}) as a bool"))
            }),
        }
    }

    fn pretty(&self) -> bool {
        self.param("pretty")
            .is_some_and(|v| v.is_empty() || parse_bool(v) == Some(true))
    }

    fn prefix(&self) -> String {
        self.param("prefix").unwrap_or("").to_string()
    }

    /// True when the request names a namespace the simulated cluster does not have.
    fn other_namespace(&self) -> bool {
        self.param("namespace")
            .is_some_and(|n| !n.is_empty() && n != "default" && n != "*")
    }

    /// The body as JSON; empty and malformed bodies are 400s with Nomad's texts.
    fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad("Request body is empty"));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad(format!("Failed to decode request body: {e}")))
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

impl FromRequest<App> for Req {
    type Rejection = Response;

    async fn from_request(req: Request, app: &App) -> Result<Self, Response> {
        let permit = app
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| text(429, "Too many requests in flight: try again"))?;
        if let Some(token) = &app.settings.acl_token {
            let h = req.headers();
            let given = h
                .get("X-Nomad-Token")
                .and_then(|v| v.to_str().ok())
                .or_else(|| {
                    h.get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.strip_prefix("Bearer "))
                });
            if given != Some(token.as_str()) {
                return Err(text(403, "Permission denied"));
            }
        }
        let mut query = BTreeMap::new();
        if let Some(q) = req.uri().query() {
            for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                query.insert(k.into_owned(), v.into_owned());
            }
        }
        let limit = app.settings.max_body;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let too_large = || {
            text(
                413,
                format!("Request body too large: the limit is {limit} bytes"),
            )
        };
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let body = match Limited::new(req.into_body(), limit).collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
            Err(e) => return Err(text(400, format!("Failed to read request body: {e}"))),
        };
        Ok(Req {
            query,
            body,
            _permit: permit,
        })
    }
}

// ----- reads ------------------------------------------------------------------------------

/// Waits, for a blocking query (`?index=N&wait=D`), until the index passes N or the wait ends.
async fn block(app: &App, req: &Req) -> Result<(), ApiError> {
    let Some(min) = req.param("index") else {
        return Ok(());
    };
    let min: u64 = min
        .parse()
        .map_err(|_| ApiError::bad(format!("Invalid index: {min:?}")))?;
    let wait_ms = match req.param("wait") {
        None | Some("") => DEFAULT_WAIT_MS,
        Some(w) => {
            parse_duration_ms(w).map_err(|_| ApiError::bad(format!("Invalid wait time: {w:?}")))?
        }
    }
    .min(MAX_WAIT_MS);
    let mut rx = app.handle.watch_index();
    if *rx.borrow_and_update() > min {
        return Ok(());
    }
    let _ = tokio::time::timeout(Duration::from_millis(wait_ms), async {
        while rx.changed().await.is_ok() {
            if *rx.borrow_and_update() > min {
                break;
            }
        }
    })
    .await;
    Ok(())
}

/// The answer to a request that reached a stopped simulation thread.
fn gone() -> Response {
    internal("the simulation stopped after a failure")
}

/// Renders on the simulation thread, between steps; serialises here.
async fn read<F>(app: &App, req: &Req, render: F) -> Response
where
    F: FnOnce(&View) -> Result<Value, ApiError> + Send + 'static,
{
    if let Err(e) = block(app, req).await {
        return error(e);
    }
    let pretty = req.pretty();
    match app
        .handle
        .call(move |w| render(&w.view()).map(|v| (w.index(), v)))
        .await
    {
        Ok(Ok((index, v))) => json_response(index, &v, pretty),
        Ok(Err(e)) => error(e),
        Err(_) => gone(),
    }
}

/// Changes the world on the simulation thread; blocking queries wake when the index moves.
async fn write<F>(app: &App, req: &Req, change: F) -> Response
where
    F: FnOnce(&mut World) -> Result<Value, ApiError> + Send + 'static,
{
    let pretty = req.pretty();
    match app
        .handle
        .call(move |w| change(w).map(|v| (w.index(), v)))
        .await
    {
        Ok(Ok((index, v))) => json_response(index, &v, pretty),
        Ok(Err(e)) => error(e),
        Err(_) => gone(),
    }
}

fn job_of<'v>(v: &View<'v>, id: &str) -> Result<JobRef<'v>, ApiError> {
    v.job_by_id(id)
        .ok_or_else(|| ApiError::not_found("job not found"))
}

async fn jobs_list(State(app): State<App>, req: Req) -> Response {
    let (prefix, none) = (req.prefix(), req.other_namespace());
    read(&app, &req, move |v| {
        Ok(if none {
            json!([])
        } else {
            v.jobs_json(&prefix)
        })
    })
    .await
}

/// `/v1/job/<id>[/<action>]`: as Nomad's job handler does, a known action at the end of the
/// path names the endpoint and the rest is the job ID (which may hold slashes); any other
/// path is the job itself.
async fn job_by_suffix(
    State(app): State<App>,
    Path(rest): Path<String>,
    method: Method,
    req: Req,
) -> Response {
    // Nomad's job actions, simulated or not, by the ending that names them.
    let (id, action) = [
        "summary",
        "allocations",
        "evaluations",
        "deployment",
        "deployments",
        "versions",
        "plan",
        "dispatch",
        "evaluate",
        "periodic/force",
        "scale",
        "revert",
        "stable",
        "services",
        "submission",
        "actions",
    ]
    .into_iter()
    .find_map(|a| {
        rest.strip_suffix(a)
            .and_then(|r| r.strip_suffix('/'))
            .filter(|id| !id.is_empty())
            .map(|id| (id.to_string(), a))
    })
    .unwrap_or_else(|| (rest.clone(), ""));
    let (state, path) = (State(app), Path(id));
    let reading = method == Method::GET || method == Method::HEAD;
    let writing = method == Method::POST || method == Method::PUT;
    match action {
        "summary" if reading => job_summary(state, path, req).await,
        "allocations" if reading => job_allocs(state, path, req).await,
        "evaluations" if reading => job_evals(state, path, req).await,
        "deployment" if reading => job_deployment(state, path, req).await,
        "deployments" if reading => job_deployments(state, path, req).await,
        "versions" if reading => job_versions(state, path, req).await,
        "plan" if writing => job_plan(state, path, req).await,
        "dispatch" if writing => job_dispatch(state, path, req).await,
        "" if reading => job_get(state, path, req).await,
        "" if writing => job_register(state, path, req).await,
        "" if method == Method::DELETE => job_delete(state, path, req).await,
        // A forced periodic launch, scaling, reverting, ...: named, not read as a job.
        "evaluate" | "periodic/force" | "scale" | "revert" | "stable" | "services"
        | "submission" | "actions" => text(404, format!("/v1/job/:id/{action} is not simulated")),
        _ => method_not_allowed(method).await,
    }
}

async fn job_get(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| Ok(v.job_json(job_of(v, &id)?))).await
}

async fn job_summary(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| Ok(v.job_summary_json(job_of(v, &id)?))).await
}

async fn job_allocs(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| Ok(v.job_allocs_json(job_of(v, &id)?))).await
}

async fn job_evals(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| Ok(v.job_evals_json(job_of(v, &id)?))).await
}

async fn job_deployment(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| job_of(v, &id).map(|_| Value::Null)).await
}

async fn job_deployments(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| job_of(v, &id).map(|_| json!([]))).await
}

async fn job_versions(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| {
        let r = job_of(v, &id)?;
        Ok(json!({ "Versions": [v.job_json(r)], "Diffs": Value::Null }))
    })
    .await
}

async fn allocs_list(State(app): State<App>, req: Req) -> Response {
    let prefix = req.prefix();
    let none = req.other_namespace();
    let resources = match req.flag("resources", false) {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    let task_states = match req.flag("task_states", true) {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    read(&app, &req, move |v| {
        Ok(if none {
            json!([])
        } else {
            v.allocs_json(&prefix, resources, task_states)
        })
    })
    .await
}

async fn alloc_get(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| {
        let a = v
            .alloc_by_id(&id)
            .ok_or_else(|| ApiError::not_found("alloc not found"))?;
        Ok(v.alloc_json(a))
    })
    .await
}

async fn evals_list(State(app): State<App>, req: Req) -> Response {
    let prefix = req.prefix();
    let status = req.param("status").map(str::to_string);
    let job = req.param("job").map(str::to_string);
    read(&app, &req, move |v| {
        let mut all = v.evals_json(&prefix);
        if let Some(list) = all.as_array_mut() {
            list.retain(|e| {
                status.as_deref().is_none_or(|s| e["Status"] == s)
                    && job.as_deref().is_none_or(|j| e["JobID"] == j)
            });
        }
        Ok(all)
    })
    .await
}

async fn eval_get(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| {
        let e = v
            .eval_by_id(&id)
            .ok_or_else(|| ApiError::not_found("eval not found"))?;
        Ok(v.eval_json(e))
    })
    .await
}

async fn eval_allocs(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| {
        let e = v
            .eval_by_id(&id)
            .and_then(|e| v.sim.eval(e))
            .ok_or_else(|| ApiError::not_found("eval not found"))?;
        let seq = e.seq;
        Ok(Value::Array(
            v.allocs_where(|a| a.eval() == seq)
                .into_iter()
                .map(|a| v.alloc_stub_json(a))
                .collect(),
        ))
    })
    .await
}

async fn nodes_list(State(app): State<App>, req: Req) -> Response {
    let prefix = req.prefix();
    let resources = match req.flag("resources", false) {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    read(&app, &req, move |v| Ok(v.nodes_json(&prefix, resources))).await
}

fn node_of(v: &View, id: &str) -> Result<nomad_sim_core::ids::NodeId, ApiError> {
    v.node_by_id(id)
        .ok_or_else(|| ApiError::not_found("node not found"))
}

async fn node_get(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(&app, &req, move |v| Ok(v.node_json(node_of(v, &id)?))).await
}

async fn node_allocs(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    read(
        &app,
        &req,
        move |v| Ok(v.node_allocs_json(node_of(v, &id)?)),
    )
    .await
}

async fn leader(State(app): State<App>, req: Req) -> Response {
    read(&app, &req, |_| Ok(json!("127.0.0.1:4647"))).await
}

async fn peers(State(app): State<App>, req: Req) -> Response {
    read(&app, &req, |_| Ok(json!(["127.0.0.1:4647"]))).await
}

/// Nomad's one namespace: the simulator has no others.
fn default_namespace() -> Value {
    json!({
        "Name": "default", "Description": "Default shared namespace", "Quota": "",
        "Capabilities": null,
        "NodePoolConfiguration": { "Default": "default", "Allowed": null, "Denied": null },
        "VaultConfiguration": null, "ConsulConfiguration": null, "Meta": null,
        "CreateIndex": 1, "ModifyIndex": 1,
    })
}

async fn namespaces(State(app): State<App>, req: Req) -> Response {
    let prefix = req.param("prefix").unwrap_or("").to_string();
    read(&app, &req, move |_| {
        Ok(if "default".starts_with(&prefix) {
            json!([default_namespace()])
        } else {
            json!([])
        })
    })
    .await
}

async fn namespace_get(State(app): State<App>, Path(name): Path<String>, req: Req) -> Response {
    read(&app, &req, move |_| match name.as_str() {
        "default" => Ok(default_namespace()),
        _ => Err(ApiError::not_found("namespace not found")),
    })
    .await
}

/// `GET /v1/deployments`: none, for the simulator has no deployments (the `update` block is
/// kept, not run).
async fn deployments(State(app): State<App>, req: Req) -> Response {
    read(&app, &req, |_| Ok(json!([]))).await
}

/// `POST /v1/validate/job` (`nomad job validate`): the job read as a registration reads it,
/// without registering it; what a registration would refuse is in `ValidationErrors`.
async fn validate_job(State(app): State<App>, req: Req) -> Response {
    let job = match job_body(&req, None) {
        Ok(j) => j,
        Err(e) => return error(e),
    };
    read(&app, &req, move |v| {
        let config = v.sim.config();
        let pools = nomad_sim_scenario::node_pools_of(&config.pools);
        let window = register::zone_window(v.start_unix_ms, v.sim.now(), config.horizon_ms);
        // The run time a job without one would get does not change what is valid.
        match register::prepare(&job, 600_000, &pools, window) {
            Ok(p) => Ok(json!({
                "DriverConfigValidated": true, "ValidationErrors": null, "Error": "",
                "Warnings": p.warnings.join("; "),
            })),
            // Nomad always says the driver configuration was checked; false makes the CLI
            // say the agent could not be reached.
            Err(e) if e.status == 400 => Ok(json!({
                "DriverConfigValidated": true, "ValidationErrors": [e.text],
                "Error": format!("1 error occurred:\n\t* {}\n\n", e.text), "Warnings": "",
            })),
            Err(e) => Err(e),
        }
    })
    .await
}

async fn regions(State(app): State<App>, req: Req) -> Response {
    read(&app, &req, |_| Ok(json!(["global"]))).await
}

async fn agent_self(State(app): State<App>, req: Req) -> Response {
    let addr = app.settings.addr;
    let acl = app.settings.acl_token.is_some();
    read(&app, &req, move |v| {
        // The agent is a server and, for `-self`, the client of the newest node.
        let node = v.listed_nodes().into_iter().next().and_then(|n| v.sim.nodes().get(n.index()));
        let dc = node
            .and_then(|n| v.sim.config().pools.get(n.pool as usize))
            .map_or("dc1".to_string(), |p| p.datacenter.clone());
        let running = v.sim.alloc_counters().1;
        let mut stats = json!({
            "nomad": { "server": "true", "leader": "true", "leader_addr": "127.0.0.1:4647",
                       "bootstrap": "true", "known_regions": "1" },
            "raft": { "state": "Leader", "applied_index": v.at_ms.to_string() },
            "runtime": { "arch": "amd64", "os": "linux", "version": "simulated", "goroutines": "0",
                         "max_procs": "1", "cpu_count": "1" },
            "serf": { "members": "1", "failed": "0" },
        });
        if let Some(n) = node {
            stats["client"] = json!({
                "node_id": n.id, "known_servers": "127.0.0.1:4647",
                "num_allocations": running.to_string(), "last_heartbeat": "0", "heartbeat_ttl": "0",
            });
        }
        Ok(json!({
            "config": {
                "Region": "global", "Datacenter": dc, "NodeName": "nomad-sim",
                "Version": { "Version": NOMAD_VERSION, "VersionPrerelease": "", "VersionMetadata": "sim" },
                "UI": { "Enabled": false, "ShowCLIHints": false },
                "ACL": { "Enabled": acl },
                "Server": { "Enabled": true },
                "Client": { "Enabled": node.is_some() },
                "Addresses": { "HTTP": addr.ip().to_string() },
                "Ports": { "HTTP": addr.port() },
            },
            "member": {
                "Name": "nomad-sim.global", "Addr": "127.0.0.1", "Port": 4648, "Status": "alive",
                "Tags": { "region": "global", "dc": dc, "role": "nomad", "build": NOMAD_VERSION },
                "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
                "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4,
            },
            "stats": stats,
        }))
    })
    .await
}

async fn agent_members(State(app): State<App>, req: Req) -> Response {
    read(&app, &req, |_| {
        Ok(json!({ "ServerName": "nomad-sim", "ServerRegion": "global", "ServerDC": "dc1",
            "Members": [{ "Name": "nomad-sim.global", "Addr": "127.0.0.1", "Port": 4648, "Status": "alive",
                          "Tags": { "region": "global", "role": "nomad", "build": NOMAD_VERSION } }] }))
    })
    .await
}

/// `GET /v1/sim/clock`: where the simulated clock is.
pub fn clock_json(w: &World) -> Value {
    let now = w.sim.now();
    json!({
        "Now": format_duration_ms(now),
        "NowMs": now,
        "Time": iso8601(w.start_unix_ms.saturating_add(now)),
        "Paused": w.speed.is_none(),
        "Speed": w.speed.unwrap_or(0.0),
        "Index": w.index(),
        "Finished": w.sim.is_finished(),
    })
}

async fn sim_clock(State(app): State<App>, req: Req) -> Response {
    if let Err(e) = block(&app, &req).await {
        return error(e);
    }
    let pretty = req.pretty();
    match app.handle.call(|w| (w.index(), clock_json(w))).await {
        Ok((index, v)) => json_response(index, &v, pretty),
        Err(_) => gone(),
    }
}

// ----- writes -----------------------------------------------------------------------------

/// The `Job` of a register or plan body, checked against the path's ID when there is one.
fn job_body(req: &Req, path_id: Option<&str>) -> Result<Value, ApiError> {
    let body = req.json()?;
    let job = match body.get("Job") {
        Some(j) if j.is_object() => j.clone(),
        _ => return Err(ApiError::bad("Job must be specified")),
    };
    if let Some(id) = path_id {
        if job.get("ID").and_then(Value::as_str) != Some(id) {
            return Err(ApiError::bad("Job ID does not match name"));
        }
    }
    Ok(job)
}

async fn register_job(app: &App, req: &Req, path_id: Option<String>) -> Response {
    let job = match job_body(req, path_id.as_deref()) {
        Ok(j) => j,
        Err(e) => return error(e),
    };
    write(app, req, move |w| {
        let pools = nomad_sim_scenario::node_pools_of(&w.sim.config().pools);
        let window = register::zone_window(w.start_unix_ms, w.sim.now(), w.sim.config().horizon_ms);
        let p = register::prepare(&job, w.default_duration_ms, &pools, window)?;
        Ok(register::register(w, p)?.body)
    })
    .await
}

async fn jobs_register(State(app): State<App>, req: Req) -> Response {
    register_job(&app, &req, None).await
}

async fn job_register(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    register_job(&app, &req, Some(id)).await
}

async fn job_delete(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    let purge = match req.flag("purge", false) {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    write(&app, &req, move |w| register::deregister(w, &id, purge)).await
}

async fn job_plan(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    let job = match job_body(&req, Some(&id)) {
        Ok(j) => j,
        Err(e) => return error(e),
    };
    let Ok(_plan_permit) = Arc::clone(&app.plans).acquire_owned().await else {
        return internal("the planner is closed");
    };
    let pretty = req.pretty();
    // Take what the copy needs on the simulation thread; rebuild it elsewhere, so requests go on.
    let taken = app
        .handle
        .call(|w| {
            let pools = nomad_sim_scenario::node_pools_of(&w.sim.config().pools);
            (
                w.replica_recipe(),
                w.catalog.clone(),
                w.start_unix_ms,
                w.default_duration_ms,
                pools,
            )
        })
        .await;
    let Ok((recipe, catalog, start, default, pools)) = taken else {
        return gone();
    };
    let out = tokio::task::spawn_blocking(move || {
        let window = register::zone_window(start, recipe.2, recipe.0.horizon_ms);
        let p = register::prepare(&job, default, &pools, window)?;
        let v = register::plan(recipe, catalog, start, default, p)?;
        let index = v["Index"].as_u64().unwrap_or(0);
        Ok::<_, ApiError>(json_response(index, &v, pretty))
    })
    .await;
    match out {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => error(e),
        Err(e) => internal(e),
    }
}

async fn job_dispatch(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    let body = if req.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match req.json() {
            Ok(b) if b.is_object() => b,
            Ok(_) => return error(ApiError::bad("the dispatch body must be a JSON object")),
            Err(e) => return error(e),
        }
    };
    write(&app, &req, move |w| register::dispatch(w, &id, &body)).await
}

/// The node's name, for the core's actions, from its ID (or name).
fn node_name(w: &super::world::World, id: &str) -> Result<String, ApiError> {
    let v = w.view();
    let n = node_of(&v, id)?;
    Ok(w.sim.nodes()[n.index()].name.clone())
}

async fn node_drain(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    // python-nomad's legacy `drain_node(id, enable)` sends `?enable=` and no body.
    let empty = req.body.iter().all(u8::is_ascii_whitespace);
    let (spec, mark_eligible) = if empty {
        match req.param("enable").map(parse_bool) {
            Some(Some(true)) => (
                Some(DrainSpec {
                    deadline: DrainDeadline::After(3_600_000),
                    ignore_system: false,
                }),
                false,
            ),
            Some(Some(false)) => (None, true),
            _ => return error(ApiError::bad("Request body is empty")),
        }
    } else {
        let body = match req.json() {
            Ok(b) => b,
            Err(e) => return error(e),
        };
        let spec = match body.get("DrainSpec") {
            None | Some(Value::Null) => None,
            Some(s) => {
                let deadline = match s.get("Deadline") {
                    None | Some(Value::Null) => 0,
                    Some(d) => match d.as_i64() {
                        Some(n) => n,
                        None => {
                            return error(ApiError::bad(
                                "DrainSpec.Deadline must be an integer number of nanoseconds",
                            ))
                        }
                    },
                };
                let ignore_system = s
                    .get("IgnoreSystemJobs")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                Some(DrainSpec {
                    deadline: match deadline {
                        d if d < 0 => DrainDeadline::Force,
                        0 => DrainDeadline::None,
                        d => DrainDeadline::After((d as u64).div_ceil(1_000_000)),
                    },
                    ignore_system,
                })
            }
        };
        let mark = body
            .get("MarkEligible")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        (spec, mark)
    };
    write(&app, &req, move |w| {
        let name = node_name(w, &id)?;
        let draining = w
            .sim
            .nodes()
            .iter()
            .any(|n| n.name == name && n.drain.is_some());
        match spec {
            Some(spec) => {
                // A new drain strategy replaces the one in force.
                if draining {
                    w.apply(Action::NodeDrainDisable {
                        nodes: vec![name.clone()],
                        keep_ineligible: true,
                    });
                }
                w.apply(Action::NodeDrain {
                    target: NodeTarget::Names(vec![name]),
                    spec,
                });
            }
            None => w.apply(Action::NodeDrainDisable {
                nodes: vec![name],
                keep_ineligible: !mark_eligible,
            }),
        }
        w.wrote();
        let index = w.index();
        Ok(json!({ "NodeModifyIndex": index, "EvalIDs": [], "EvalCreateIndex": index, "Index": index }))
    })
    .await
}

async fn node_eligibility(State(app): State<App>, Path(id): Path<String>, req: Req) -> Response {
    let body = match req.json() {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    let want = body
        .get("Eligibility")
        .and_then(Value::as_str)
        .unwrap_or("");
    let eligible = match want {
        "eligible" => true,
        "ineligible" => false,
        other => {
            return error(ApiError::bad(format!(
                "invalid scheduling eligibility {other:?}"
            )))
        }
    };
    let id = body
        .get("NodeID")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map_or(id, str::to_string);
    write(&app, &req, move |w| {
        let name = node_name(w, &id)?;
        let node = w.sim.nodes().iter().find(|n| n.name == name);
        if eligible && node.is_some_and(|n| n.drain.is_some()) {
            return Err(ApiError::bad(
                "can not set node's scheduling eligibility to eligible while it is draining",
            ));
        }
        let already = node.is_some_and(|n| (n.eligibility == Eligibility::Eligible) == eligible);
        if !already {
            w.apply(Action::NodeEligibility {
                nodes: vec![name],
                eligible,
            });
        }
        w.wrote();
        let index = w.index();
        Ok(json!({ "NodeModifyIndex": index, "EvalIDs": [], "EvalCreateIndex": index, "Index": index }))
    })
    .await
}

async fn search(State(app): State<App>, req: Req) -> Response {
    let body = match req.json() {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    let prefix = body
        .get("Prefix")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let context = body
        .get("Context")
        .and_then(Value::as_str)
        .unwrap_or("all")
        .to_string();
    if !["all", "jobs", "nodes", "allocs", "evals"].contains(&context.as_str()) {
        return error(ApiError::bad(format!("invalid context {context:?}")));
    }
    read(&app, &req, move |v| {
        const LIMIT: usize = 20;
        let mut matches = serde_json::Map::new();
        let mut truncations = serde_json::Map::new();
        let mut add = |name: &str, ids: Vec<String>| {
            truncations.insert(name.to_string(), json!(ids.len() > LIMIT));
            matches.insert(
                name.to_string(),
                json!(ids.into_iter().take(LIMIT).collect::<Vec<_>>()),
            );
        };
        let want = |c: &str| context == "all" || context == c;
        if want("jobs") {
            add(
                "jobs",
                v.job_refs()
                    .into_iter()
                    .map(|(n, _)| n)
                    .filter(|n| n.starts_with(&prefix))
                    .collect(),
            );
        }
        if want("nodes") {
            add(
                "nodes",
                v.sim
                    .nodes()
                    .iter()
                    .map(|n| n.id.clone())
                    .filter(|n| n.starts_with(&prefix))
                    .collect(),
            );
        }
        if want("allocs") {
            add(
                "allocs",
                v.allocs_where(|_| true)
                    .into_iter()
                    .map(|a| v.alloc_uuid(a))
                    .filter(|n| n.starts_with(&prefix))
                    .collect(),
            );
        }
        if want("evals") {
            add(
                "evals",
                v.evals_where(None)
                    .into_iter()
                    .map(|e| v.eval_uuid(e))
                    .filter(|n| n.starts_with(&prefix))
                    .collect(),
            );
        }
        if context == "all" {
            add("deployment", Vec::new());
        }
        Ok(json!({ "Matches": matches, "Truncations": truncations }))
    })
    .await
}

async fn sim_advance(State(app): State<App>, req: Req) -> Response {
    let body = match req.json() {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    let field = |k: &str| -> Result<Option<SimTime>, ApiError> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_duration_ms(s)
                .map(Some)
                .map_err(|e| ApiError::bad(format!("{k} {s:?}: {e}"))),
            Some(_) => Err(ApiError::bad(format!(
                "{k} must be a duration string such as \"10m\""
            ))),
        }
    };
    let (by, to) = match (field("By"), field("To")) {
        (Ok(b), Ok(t)) => (b, t),
        (Err(e), _) | (_, Err(e)) => return error(e),
    };
    let pretty = req.pretty();
    match app.handle.advance(by, to).await {
        Ok(Ok((index, v))) => json_response(index, &v, pretty),
        Ok(Err(e)) => error(ApiError::bad(e)),
        Err(_) => gone(),
    }
}

// ----- the router and the accept loop -------------------------------------------------------

async fn not_found(req: Request) -> Response {
    let _ = req;
    text(404, "404 page not found")
}

async fn method_not_allowed(method: Method) -> Response {
    text(405, format!("Invalid method {method}"))
}

fn routes(app: App) -> Router {
    Router::new()
        .route(
            "/v1/jobs",
            get(jobs_list).post(jobs_register).put(jobs_register),
        )
        // As Nomad's job handler: the rest of the path, split by its suffix, for a job ID
        // may hold slashes (a dispatched or periodic child's, unencoded, as python-nomad
        // sends it).
        .route("/v1/job/{*rest}", any(job_by_suffix))
        .route("/v1/allocations", get(allocs_list))
        .route("/v1/allocation/{id}", get(alloc_get))
        .route("/v1/evaluations", get(evals_list))
        .route("/v1/evaluation/{id}", get(eval_get))
        .route("/v1/evaluation/{id}/allocations", get(eval_allocs))
        .route("/v1/nodes", get(nodes_list))
        .route("/v1/node/{id}", get(node_get))
        .route("/v1/node/{id}/allocations", get(node_allocs))
        .route("/v1/node/{id}/drain", post(node_drain).put(node_drain))
        .route(
            "/v1/node/{id}/eligibility",
            post(node_eligibility).put(node_eligibility),
        )
        .route("/v1/status/leader", get(leader))
        .route("/v1/status/peers", get(peers))
        .route("/v1/regions", get(regions))
        .route("/v1/namespaces", get(namespaces))
        .route("/v1/namespace/{name}", get(namespace_get))
        .route("/v1/deployments", get(deployments))
        .route("/v1/validate/job", post(validate_job).put(validate_job))
        .route("/v1/agent/self", get(agent_self))
        .route("/v1/agent/members", get(agent_members))
        .route("/v1/search", post(search).put(search))
        .route("/v1/sim/clock", get(sim_clock))
        .route("/v1/sim/advance", post(sim_advance).put(sim_advance))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

/// Serves requests on `listener` until the process ends.
pub fn serve(
    listener: std::net::TcpListener,
    handle: Handle,
    settings: Settings,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(16)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
    runtime.block_on(async move {
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot listen: {e}"))?;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| format!("cannot listen: {e}"))?;
        let app = App {
            handle: Arc::new(handle),
            permits: Arc::new(Semaphore::new(settings.max_requests)),
            settings: Arc::new(settings),
            plans: Arc::new(Semaphore::new(1)),
        };
        let router = routes(app);
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(permit) = Arc::clone(&connections).acquire_owned().await else {
                return Err("the connection limit closed".to_string());
            };
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(_) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _permit = permit;
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30));
                let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let _ = conn.await;
            });
        }
    })
}
