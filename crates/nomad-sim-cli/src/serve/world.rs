//! The served world: the simulation, what the API registered, the index clients block on, and
//! the log that rebuilds the same simulation for a dry run.

use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use nomad_sim_core::config::{Action, WorkloadConfig};
use nomad_sim_core::time::{format_duration_ms, SimTime};
use nomad_sim_core::{SimConfig, Simulation};

use crate::views::{Catalog, View};

/// One change made from outside the simulation, in the order it was made.
#[derive(Clone, Debug)]
pub enum Entry {
    /// The clock was moved to this time after some change at the same or an earlier time.
    Run(SimTime),
    /// A workload was added (a job registered over the API).
    AddWorkload(SimTime, Box<WorkloadConfig>),
    /// Workload `usize` registered its next job.
    Submit(SimTime, usize),
    /// An operator action (drain, eligibility).
    Apply(SimTime, Action),
    /// The job with this serial number was stopped (`DELETE /v1/job/:id`), purged if true.
    StopJob(SimTime, u64, bool),
}

/// Everything a request reads or changes, behind one lock.
pub struct World {
    /// The simulation, at its current time.
    pub sim: Simulation,
    /// What the API registered.
    pub catalog: Catalog,
    /// Wall-clock time of simulated time zero.
    pub start_unix_ms: u64,
    /// Run time of API jobs that do not say.
    pub default_duration_ms: SimTime,
    /// Simulated seconds per wall second; `None` when paused.
    pub speed: Option<f64>,
    /// The configuration the simulation started from (before any API workload).
    pub base_config: SimConfig,
    /// Changes from outside, to rebuild the simulation for a plan.
    pub log: Vec<Entry>,
    /// True when a change was logged since the clock last moved.
    changed_since_run: bool,
    /// Writes so far: each one bumps the index even when no event ran.
    writes: u64,
}

impl World {
    /// A world around a simulation already at time zero.
    pub fn new(
        sim: Simulation,
        base_config: SimConfig,
        start_unix_ms: u64,
        default_duration_ms: SimTime,
        speed: Option<f64>,
    ) -> World {
        let catalog = Catalog::with_scenario_parents(&sim, &BTreeMap::new());
        World {
            sim,
            catalog,
            start_unix_ms,
            default_duration_ms,
            speed,
            base_config,
            log: Vec::new(),
            changed_since_run: false,
            writes: 0,
        }
    }

    /// Shows the scenario's job files' jobs as the files have them (`Scenario::job_specs`).
    pub fn with_job_specs(mut self, specs: &BTreeMap<String, serde_json::Value>) -> World {
        self.catalog = Catalog::with_scenario_parents(&self.sim, specs);
        self
    }

    /// The index clients see in `X-Nomad-Index`: it grows with every event processed and every
    /// write, and never goes back.
    pub fn index(&self) -> u64 {
        1 + self.sim.events_processed() + self.writes
    }

    /// The view of the world now.
    pub fn view(&self) -> View<'_> {
        View::new(&self.sim, self.start_unix_ms, &self.catalog)
    }

    /// Moves the clock to `t` (never back), running every event up to it.
    pub fn run_to(&mut self, t: SimTime) {
        let t = t.max(self.sim.now());
        if self.changed_since_run {
            self.log.push(Entry::Run(t));
            self.changed_since_run = false;
        }
        self.sim.run_until(t);
    }

    /// Counts a write that changed what clients see.
    pub fn wrote(&mut self) {
        self.writes += 1;
    }

    /// Adds a workload, logged for replay.
    pub fn add_workload(&mut self, w: WorkloadConfig) -> usize {
        self.log
            .push(Entry::AddWorkload(self.sim.now(), Box::new(w.clone())));
        self.changed_since_run = true;
        self.sim.add_workload(w)
    }

    /// Registers workload `w`'s next job now (with the task groups that follow it, for a job
    /// of several groups), logged for replay.
    pub fn submit(&mut self, w: usize) -> bool {
        self.log.push(Entry::Submit(self.sim.now(), w));
        self.changed_since_run = true;
        self.sim.submit(w)
    }

    /// Applies an operator action now, logged for replay.
    pub fn apply(&mut self, action: Action) {
        self.log.push(Entry::Apply(self.sim.now(), action.clone()));
        self.changed_since_run = true;
        self.sim.apply(action);
    }

    /// Stops a job now (`nomad job stop`), logged for replay.
    pub fn stop_job(&mut self, job: nomad_sim_core::ids::JobId, purge: bool) {
        let Some(serial) = self.sim.job(job).map(|j| j.serial) else {
            return;
        };
        self.log.push(Entry::StopJob(self.sim.now(), serial, purge));
        self.changed_since_run = true;
        self.sim.stop_job(job, purge);
    }

    /// A copy of the simulation as it is now, rebuilt from the start and the log (the core's
    /// simulation cannot be cloned; a run is a pure function of its configuration and the
    /// changes made to it, so replaying them gives the same state).
    pub fn replica_recipe(&self) -> (SimConfig, Vec<Entry>, SimTime) {
        (self.base_config.clone(), self.log.clone(), self.sim.now())
    }
}

/// Rebuilds a simulation from its recipe (see [`World::replica_recipe`]).
pub fn replay(config: SimConfig, log: &[Entry], now: SimTime) -> Simulation {
    let mut sim = Simulation::new(config);
    sim.keep_alloc_metrics();
    sim.run_until(0);
    let catch_up = |sim: &mut Simulation, t: SimTime| {
        if sim.now() < t {
            sim.run_until(t);
        }
    };
    for e in log {
        match e {
            Entry::Run(t) => {
                sim.run_until(*t);
            }
            Entry::AddWorkload(t, w) => {
                catch_up(&mut sim, *t);
                sim.add_workload((**w).clone());
            }
            Entry::Submit(t, w) => {
                catch_up(&mut sim, *t);
                sim.submit(*w);
            }
            Entry::Apply(t, a) => {
                catch_up(&mut sim, *t);
                sim.apply(a.clone());
            }
            Entry::StopJob(t, serial, purge) => {
                catch_up(&mut sim, *t);
                let found = sim
                    .jobs()
                    .into_iter()
                    .find(|(_, j)| j.serial == *serial)
                    .map(|(id, _)| id);
                if let Some(job) = found {
                    sim.stop_job(job, *purge);
                }
            }
        }
    }
    catch_up(&mut sim, now);
    sim
}

/// Work for the simulation thread: a closure run against the world.
type Task = Box<dyn FnOnce(&mut World) + Send>;

/// What requests send to the simulation thread.
enum Command {
    /// Run a closure against the world (a read or a write).
    Run(Task),
    /// Move the clock forward (`POST /v1/sim/advance`), in slices so other requests go on.
    Advance {
        /// `By` (relative) or `To` (absolute), in simulated milliseconds.
        by: Option<SimTime>,
        to: Option<SimTime>,
        reply: oneshot::Sender<Result<(u64, serde_json::Value), String>>,
    },
}

/// The simulation thread has stopped (a step failed): requests get 500.
#[derive(Debug)]
pub struct Gone;

/// How requests reach the world: the simulation lives on its own thread, which runs one
/// request or one step at a time, so every request sees a whole step and the core needs no
/// locks (nor `Send`).
pub struct Handle {
    tx: mpsc::Sender<Command>,
    index_rx: watch::Receiver<u64>,
}

impl Handle {
    /// Runs `f` against the world on the simulation thread and waits for its result.
    pub async fn call<R, F>(&self, f: F) -> Result<R, Gone>
    where
        R: Send + 'static,
        F: FnOnce(&mut World) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let task: Task = Box::new(move |w| {
            let _ = tx.send(f(w));
        });
        self.tx.send(Command::Run(task)).map_err(|_| Gone)?;
        rx.await.map_err(|_| Gone)
    }

    /// Moves the clock by `by` or to `to`; answers with the index and the clock once there.
    pub async fn advance(
        &self,
        by: Option<SimTime>,
        to: Option<SimTime>,
    ) -> Result<Result<(u64, serde_json::Value), String>, Gone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Advance { by, to, reply })
            .map_err(|_| Gone)?;
        rx.await.map_err(|_| Gone)
    }

    /// A receiver of index changes, for a blocking query.
    pub fn watch_index(&self) -> watch::Receiver<u64> {
        self.index_rx.clone()
    }
}

/// One advance in progress: its target and who waits for it.
struct Advancing {
    target: SimTime,
    reply: oneshot::Sender<Result<(u64, serde_json::Value), String>>,
}

/// Starts the simulation thread. `make` builds the world on that thread (the simulation never
/// crosses threads); `clock` renders `GET /v1/sim/clock` for advances' answers.
pub fn start<M>(
    make: M,
    speed: Option<f64>,
    clock: fn(&World) -> serde_json::Value,
) -> Result<Handle, String>
where
    M: FnOnce() -> World + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Command>();
    let (index_tx, index_rx) = watch::channel(0u64);
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("nomad-sim-world".to_string())
        .spawn(move || {
            let mut world = make();
            index_tx.send_replace(world.index());
            let _ = ready_tx.send(());
            sim_loop(&mut world, &rx, &index_tx, speed, clock);
        })
        .map_err(|e| format!("cannot start the simulation thread: {e}"))?;
    ready_rx
        .recv()
        .map_err(|_| "the simulation failed to start".to_string())?;
    Ok(Handle { tx, index_rx })
}

/// How often the clock moves with `--speed`, and how long one advance slice may be.
const TICK: Duration = Duration::from_millis(50);
const ADVANCE_SLICE_MS: SimTime = 60_000;

fn sim_loop(
    world: &mut World,
    rx: &mpsc::Receiver<Command>,
    index_tx: &watch::Sender<u64>,
    speed: Option<f64>,
    clock: fn(&World) -> serde_json::Value,
) {
    let mut last = Instant::now();
    // Simulated milliseconds owed to `--speed` but not yet run (fractions carry over).
    let mut owed = 0.0f64;
    let max_step = speed.map_or(1.0, |s| (s * 250.0).max(1.0));
    let mut advancing: VecDeque<Advancing> = VecDeque::new();
    let mut broken = false;
    loop {
        let wait = if advancing.is_empty() && owed < 1.0 {
            TICK
        } else {
            Duration::ZERO
        };
        let first = match rx.recv_timeout(wait) {
            Ok(c) => Some(c),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        // Every command that is waiting, then one step of the clock.
        let mut commands: Vec<Command> = first.into_iter().collect();
        while commands.len() < 256 {
            match rx.try_recv() {
                Ok(c) => commands.push(c),
                Err(_) => break,
            }
        }
        for c in commands {
            match c {
                Command::Run(task) => {
                    if broken {
                        continue;
                    }
                    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        task(world);
                    }));
                    if done.is_err() {
                        // A half-applied step must not be served: stop serving the world.
                        broken = true;
                    }
                }
                Command::Advance { by, to, reply } => {
                    let now = world.sim.now();
                    let target = match (by, to) {
                        (Some(b), None) => now.saturating_add(b),
                        (None, Some(t)) if t >= now => t,
                        (None, Some(t)) => {
                            let _ = reply.send(Err(format!(
                                "To {} is before the simulated clock ({})",
                                format_duration_ms(t),
                                format_duration_ms(now)
                            )));
                            continue;
                        }
                        _ => {
                            let _ = reply.send(Err(
                                "give exactly one of By (a duration) or To (a time from the start)"
                                    .to_string(),
                            ));
                            continue;
                        }
                    };
                    world.wrote();
                    advancing.push_back(Advancing { target, reply });
                }
            }
        }
        if broken {
            advancing.clear();
            continue;
        }
        let stepped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if let Some(s) = speed {
                let now = Instant::now();
                owed += now.duration_since(last).as_secs_f64() * 1000.0 * s;
                last = now;
                if owed >= 1.0 {
                    let step = owed.min(max_step).floor();
                    owed -= step;
                    let target = world.sim.now().saturating_add(step as SimTime);
                    world.run_to(target);
                }
            }
            if let Some(a) = advancing.front() {
                let now = world.sim.now();
                let next = a.target.min(now.saturating_add(ADVANCE_SLICE_MS));
                world.run_to(next);
            }
            while advancing
                .front()
                .is_some_and(|a| world.sim.now() >= a.target)
            {
                if let Some(a) = advancing.pop_front() {
                    let _ = a.reply.send(Ok((world.index(), clock(world))));
                }
            }
        }));
        if stepped.is_err() {
            broken = true;
            advancing.clear();
            continue;
        }
        let index = world.index();
        index_tx.send_if_modified(|old| {
            if index > *old {
                *old = index;
                true
            } else {
                false
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::Catalog;
    use nomad_sim_core::config::{
        Arrivals, CountDist, DrainDeadline, DrainSpec, DurationDist, NodeTarget,
    };
    use nomad_sim_core::{JobType, Resources};

    const SCENARIO: &str = "name: t\nseed: 7\nhorizon: 2h\nnode_pools:\n  - name: linux\n    count: 3\n    datacenter: dc1\n    node_class: c\n    resources: { cpu: 4000, memory: 8192, disk: 10000 }\nworkloads:\n  - name: ci\n    arrivals: { poisson: { rate: 30/h } }\n    resources: { cpu: 1500, memory: 2000 }\n    duration: { exponential: { mean: 20m } }\n";

    fn workload(cpu: u64) -> WorkloadConfig {
        WorkloadConfig {
            name: "api".to_string(),
            job_type: JobType::Batch,
            priority: 50,
            arrivals: Arrivals::At(Vec::new()),
            parallelism: CountDist::Fixed(1),
            count: 2,
            resources: Resources::new(cpu, 512, 0),
            duration: DurationDist::Constant(600_000),
            datacenters: Vec::new(),
            node_pool: None,
            constraints: Vec::new(),
            distinct_hosts: false,
            failure_rate: 0.0,
            max_parallel: 1,
            min_healthy_time_ms: 10_000,
            healthy_deadline_ms: 300_000,
            restart: None,
            reschedule: None,
            disconnect: None,
            spreads: Vec::new(),
            affinities: Vec::new(),
            asks: Default::default(),
            identity: None,
        }
    }

    /// What a client can see of a simulation: the clock, the events so far, every alloc.
    fn fingerprint(sim: &Simulation) -> (SimTime, u64, Vec<(String, String, &'static str)>) {
        let catalog = Catalog::default();
        let v = View::new(sim, 0, &catalog);
        let allocs = sim
            .allocs()
            .into_iter()
            .map(|(id, a)| {
                (
                    v.alloc_uuid(id),
                    sim.nodes()[a.node.index()].name.clone(),
                    a.client().as_str(),
                )
            })
            .collect();
        (sim.now(), sim.events_processed(), allocs)
    }

    #[test]
    fn a_replay_of_the_log_is_the_same_simulation() {
        let scenario =
            nomad_sim_scenario::parse_str(SCENARIO, "t.yaml", std::path::Path::new(".")).unwrap();
        let mut sim = Simulation::new(scenario.config.clone());
        sim.keep_alloc_metrics();
        sim.run_until(0);
        let mut w = World::new(sim, scenario.config, 0, 600_000, None);
        // Changes at odd moments, twice at one instant, with clock steps of every size between.
        w.run_to(90_000);
        let a = w.add_workload(workload(1000));
        w.submit(a);
        w.submit(a);
        w.run_to(90_000);
        w.apply(Action::NodeDrain {
            target: NodeTarget::Names(vec!["linux-1".to_string()]),
            spec: DrainSpec {
                deadline: DrainDeadline::After(300_000),
                ignore_system: false,
            },
        });
        for t in (100_000..2_000_000).step_by(77_777) {
            w.run_to(t);
        }
        let b = w.add_workload(workload(3900));
        w.submit(b);
        w.run_to(3_000_000);
        let (config, log, now) = w.replica_recipe();
        let copy = replay(config, &log, now);
        assert_eq!(fingerprint(&copy), fingerprint(&w.sim));
    }
}
