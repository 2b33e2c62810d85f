//! `nomad-sim serve`: Nomad's HTTP API over a simulated cluster, in simulated time.
//!
//! The simulation lives in a [`world::World`] behind one lock. The clock thread (with
//! `--speed`) or `POST /v1/sim/advance` (always) moves it forward a whole step at a time under
//! that lock, and every request renders under it, so no request sees a half-applied step. The
//! HTTP side (`http.rs`) is axum on tokio, kept out of the core.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use nomad_sim_core::time::SimTime;
use nomad_sim_core::{Algorithm, Simulation};

mod http;
mod register;
pub mod world;

/// The default run time of a job registered over the API, when neither the job nor the
/// scenario's `api: { default_duration }` says.
pub const DEFAULT_API_DURATION_MS: SimTime = 10 * 60_000;

/// Arguments of `nomad-sim serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The scenario file (YAML).
    scenario: PathBuf,
    /// Where to listen. Loopback by default; any other address is reachable from the network.
    #[arg(long, default_value = "127.0.0.1:4646", value_name = "HOST:PORT")]
    addr: String,
    /// Hold the simulated clock until `POST /v1/sim/advance`.
    #[arg(long, conflicts_with = "speed")]
    paused: bool,
    /// Simulated seconds per wall-clock second (default 1).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    speed: Option<f64>,
    /// Require this token in `X-Nomad-Token` (or `Authorization: Bearer`) on every request.
    #[arg(long, value_name = "T")]
    acl_token: Option<String>,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the placement algorithm: binpack or spread.
    #[arg(long)]
    algorithm: Option<String>,
    /// The largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    max_body: usize,
    /// The most requests handled at once (more get 429 at once, blocking queries included).
    #[arg(long, default_value_t = 256, value_name = "N")]
    max_requests: usize,
}

/// A failure before the server runs: bad input exits 2, a failure to listen 1.
pub struct ServeError {
    /// What went wrong.
    pub message: String,
    /// The exit code.
    pub code: u8,
}

fn input(message: impl Into<String>) -> ServeError {
    ServeError {
        message: message.into(),
        code: 2,
    }
}

/// The settings of the server that requests read.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `--acl-token`.
    pub acl_token: Option<String>,
    /// `--max-body`.
    pub max_body: usize,
    /// `--max-requests`.
    pub max_requests: usize,
    /// The address the server listens on, as clients reach it.
    pub addr: SocketAddr,
}

fn load(args: &ServeArgs) -> Result<(nomad_sim_scenario::Scenario, SimTime), ServeError> {
    let path: &Path = &args.scenario;
    let label = path.display().to_string();
    let text = nomad_sim_scenario::read_text(path, 16 * 1024 * 1024, "scenario")
        .map_err(|p| input(format!("{}: {}", p.file, p.message)))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut scenario =
        nomad_sim_scenario::parse_str(&text, &label, &base).map_err(|e| input(e.to_string()))?;
    for w in &scenario.warnings {
        nomad_sim_output::warn(&format!("nomad-sim: warning: {w}"));
    }
    if let Some(seed) = args.seed {
        scenario.config.seed = seed;
    }
    if let Some(name) = &args.algorithm {
        scenario.config.algorithm = Algorithm::parse(name).ok_or_else(|| {
            input(format!(
                "--algorithm {name:?}: unknown algorithm (Nomad's are binpack and spread)"
            ))
        })?;
    }
    let duration = scenario
        .api_default_duration_ms
        .unwrap_or(DEFAULT_API_DURATION_MS);
    Ok((scenario, duration))
}

/// Runs the server until the process is stopped (Ctrl-C).
pub fn run(args: ServeArgs) -> Result<(), ServeError> {
    let speed = match (args.paused, args.speed) {
        (true, _) => None,
        (false, Some(s)) if s.is_finite() && s > 0.0 && s <= 1e9 => Some(s),
        (false, Some(s)) => {
            return Err(input(format!(
                "--speed {s}: give a positive number of simulated seconds per second (at most 1e9)"
            )))
        }
        (false, None) => Some(1.0),
    };
    if args.max_body == 0 || args.max_requests == 0 {
        return Err(input("--max-body and --max-requests must be at least 1"));
    }
    let addr: SocketAddr = args.addr.parse().map_err(|_| {
        input(format!(
            "--addr {:?}: expected HOST:PORT with an IP address, such as 127.0.0.1:4646",
            args.addr
        ))
    })?;
    if let Some(t) = &args.acl_token {
        if t.is_empty() {
            return Err(input("--acl-token: the token is empty"));
        }
    }
    let (scenario, default_duration_ms) = load(&args)?;
    let listener = std::net::TcpListener::bind(addr).map_err(|e| ServeError {
        message: format!("--addr {addr}: cannot listen: {e}"),
        code: 1,
    })?;
    let local = listener.local_addr().map_err(|e| ServeError {
        message: format!("cannot read the listening address: {e}"),
        code: 1,
    })?;
    if !local.ip().is_loopback() {
        nomad_sim_output::warn(&format!(
            "WARNING: nomad-sim serve listens on {local}, which is not a loopback address: anyone who can reach this machine can read and change the simulated cluster{}",
            if args.acl_token.is_none() { " (no --acl-token is set)" } else { "" }
        ));
    }
    let config = scenario.config;
    let start_unix_ms = scenario.start_unix_ms;
    let job_specs = scenario.job_specs;
    let make = move || {
        let mut sim = Simulation::new(config.clone());
        sim.keep_alloc_metrics();
        sim.run_until(0);
        world::World::new(sim, config, start_unix_ms, default_duration_ms, speed)
            .with_job_specs(&job_specs)
    };
    let handle = world::start(make, speed, http::clock_json)
        .map_err(|message| ServeError { message, code: 1 })?;
    let settings = Settings {
        acl_token: args.acl_token.clone(),
        max_body: args.max_body,
        max_requests: args.max_requests,
        addr: local,
    };
    let clock = match speed {
        Some(s) => format!("running at {s} simulated seconds per second"),
        None => "paused: POST /v1/sim/advance moves it".to_string(),
    };
    let _ = nomad_sim_output::print(&format!(
        "nomad-sim serve: listening on http://{local} (simulated clock {clock})\n"
    ));
    http::serve(listener, handle, settings).map_err(|e| ServeError {
        message: e,
        code: 1,
    })
}
