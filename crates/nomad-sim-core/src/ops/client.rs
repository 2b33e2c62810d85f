//! The clients' side of an alloc: starting its task, failures and restarts, migrate health.
//!
//! Most allocs need nothing here: a batch task that starts at once and never fails runs from
//! placement to its end. An alloc is *tracked* when its task takes time to start, may fail
//! (`failure_rate`), or belongs to a service job (whose health the drainer reads). Tracked
//! allocs keep a [`ClientAlloc`] until they end; one that restarted keeps it until it is
//! garbage-collected, so `Total Restarts` can still be read.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::ops::Timer;

/// What a client knows about one of its tracked allocs.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientAlloc {
    /// When the task last started running; `None` while it starts or waits to restart.
    pub(crate) running_since: Option<SimTime>,
    /// The task's run time from each start.
    pub(crate) duration_ms: SimTime,
    /// Task restarts so far (`Total Restarts`).
    pub(crate) restarts: u32,
    /// The restart tracker: when its interval began (the first start, or a failure after the
    /// interval ended) and the failures counted in it.
    pub(crate) window_start_ms: SimTime,
    pub(crate) window_failures: u32,
    /// The migrate health: unset until the task has run `min_healthy_time`, or
    /// `healthy_deadline` passed (then unhealthy). Set once.
    pub(crate) healthy: Option<bool>,
    /// Bumped at every start of the task, so timers set for an earlier run are ignored.
    pub(crate) run: u32,
}

/// The clients' state.
#[derive(Debug)]
pub(crate) struct ClientState {
    /// Tracked allocs.
    pub(crate) allocs: crate::ids::IdMap<AllocId, ClientAlloc>,
    /// Live allocs of each service job, in placement order (the drainer's job watcher).
    pub(crate) service_allocs: BTreeMap<JobId, Vec<AllocId>>,
    /// Task start times (image pulls).
    pub(crate) start_rng: ChaCha8Rng,
    /// Restart delay jitter.
    pub(crate) restart_rng: ChaCha8Rng,
}

impl ClientState {
    pub(crate) fn new(start_rng: ChaCha8Rng, restart_rng: ChaCha8Rng) -> ClientState {
        ClientState {
            allocs: Default::default(),
            service_allocs: BTreeMap::new(),
            start_rng,
            restart_rng,
        }
    }
}

impl Simulation {
    /// A placed alloc reaches its client: the task starts now, or after `client.task_start`.
    pub(crate) fn client_receive(
        &mut self,
        alloc: AllocId,
        job: JobId,
        workload: usize,
        duration_ms: SimTime,
    ) {
        let w = &self.config.workloads[workload];
        let service = w.job_type == JobType::Service;
        let failing = w.failure_rate > 0.0;
        let healthy_deadline = w.healthy_deadline_ms;
        let start_after = match &self.config.client.task_start {
            crate::config::DurationDist::Constant(ms) => *ms,
            d => d.sample_ms(&mut self.ops.client.start_rng),
        };
        if !service && !failing && start_after == 0 {
            // Untracked: runs from now to its end.
            self.push_alloc_end(self.now + duration_ms, alloc, false);
            return;
        }
        self.ops.client.allocs.insert(
            alloc,
            ClientAlloc {
                duration_ms,
                ..ClientAlloc::default()
            },
        );
        if service {
            self.ops
                .client
                .service_allocs
                .entry(job)
                .or_default()
                .push(alloc);
            self.set_timer(self.now + healthy_deadline, Timer::HealthDeadline { alloc });
        }
        if start_after == 0 {
            self.start_task(alloc);
        } else {
            // Pulling the image: the alloc is pending and holds its resources.
            self.state.allocs[alloc].set_client(ClientStatus::Pending);
            self.set_timer(self.now + start_after, Timer::TaskStart { alloc, run: 0 });
        }
    }

    /// The task of a tracked alloc starts running: its end (or failure) is drawn and, for a
    /// service, the health timer is set.
    pub(crate) fn start_task(&mut self, alloc: AllocId) {
        let Some(a) = self.state.allocs.get(alloc) else {
            return;
        };
        if a.ended_ms().is_some() || self.client_is_silent(a.node) {
            return;
        }
        let job = a.job;
        let w = &self.config.workloads[self.state.jobs[job].workload as usize];
        let (failure_rate, service, min_healthy) = (
            w.failure_rate,
            w.job_type == JobType::Service,
            w.min_healthy_time_ms,
        );
        let now = self.now;
        let Some(c) = self.ops.client.allocs.get_mut(&alloc) else {
            return;
        };
        if c.run == 0 {
            // The restart tracker's first interval begins when the task first starts.
            c.window_start_ms = now;
        }
        c.running_since = Some(now);
        c.run += 1;
        self.state.allocs[alloc].set_client(ClientStatus::Running);
        let (run, duration, health_unset) = (c.run, c.duration_ms, c.healthy.is_none());
        let (end, failed) =
            if failure_rate > 0.0 && self.ops.failure_rng.gen::<f64>() < failure_rate {
                let part = self.ops.failure_rng.gen::<f64>();
                (now + (duration as f64 * part) as SimTime, true)
            } else {
                (now + duration, false)
            };
        self.push_alloc_end(end, alloc, failed);
        if service && health_unset {
            self.set_timer(now + min_healthy, Timer::Healthy { alloc, run });
        }
    }

    /// A tracked alloc's task failed: the restart policy decides (Nomad's restart tracker). A
    /// failure after the current interval ended begins a new one; within `attempts` failures
    /// of an interval the task restarts after `delay` plus up to a quarter of it; past them,
    /// mode `fail` fails the alloc and mode `delay` waits for the interval to end. Returns
    /// true when the task restarts (the alloc stays, pending, holding its resources).
    pub(crate) fn client_task_failed(&mut self, alloc: AllocId) -> bool {
        let job = self.state.allocs[alloc].job;
        let policy = self.config.workloads[self.state.jobs[job].workload as usize].restart_policy();
        let now = self.now;
        let Some(c) = self.ops.client.allocs.get_mut(&alloc) else {
            return false;
        };
        if policy.attempts == 0 {
            return false;
        }
        if now > c.window_start_ms.saturating_add(policy.interval_ms) {
            c.window_start_ms = now;
            c.window_failures = 0;
        }
        c.window_failures += 1;
        let delay = if c.window_failures <= policy.attempts {
            let d = policy.delay_ms.max(1);
            d + (self.ops.client.restart_rng.gen_range(0..d) as f64 * 0.25) as SimTime
        } else if policy.mode == crate::config::RestartMode::Fail {
            return false;
        } else {
            // At least a millisecond: a run that fails the instant it starts at the interval's
            // very end would otherwise restart at the same instant forever (real clocks move).
            (c.window_start_ms + policy.interval_ms)
                .saturating_sub(now)
                .max(1)
        };
        c.restarts += 1;
        c.running_since = None;
        let (restarts, run) = (c.restarts, c.run);
        self.state.allocs[alloc].set_client(ClientStatus::Pending);
        self.set_timer(now + delay, Timer::TaskStart { alloc, run });
        let node = self.state.allocs[alloc].node;
        self.emit(|s| TraceEvent::AllocRestarting {
            job: s.job_name(job),
            alloc: s.alloc_uuid(alloc),
            node: s.node_name(node).to_string(),
            restarts,
            delay_ms: delay,
        });
        true
    }

    /// A timer of a task's start fired.
    pub(crate) fn on_task_start_timer(&mut self, alloc: AllocId, run: u32) {
        let current = self.ops.client.allocs.get(&alloc).map(|c| c.run);
        if current == Some(run) && self.alloc_is_live(alloc) {
            self.start_task(alloc);
        }
    }

    /// The task has run `min_healthy_time` without a restart: the alloc is healthy.
    pub(crate) fn on_healthy_timer(&mut self, alloc: AllocId, run: u32) {
        if !self.alloc_is_live(alloc) || self.client_is_silent(self.state.allocs[alloc].node) {
            return;
        }
        let Some(c) = self.ops.client.allocs.get_mut(&alloc) else {
            return;
        };
        if c.run != run || c.running_since.is_none() || c.healthy.is_some() {
            return;
        }
        c.healthy = Some(true);
        let job = self.state.allocs[alloc].job;
        self.drainer_job_update(job);
    }

    /// `healthy_deadline` passed: an alloc not yet healthy is marked unhealthy.
    pub(crate) fn on_health_deadline_timer(&mut self, alloc: AllocId) {
        if !self.alloc_is_live(alloc) || self.client_is_silent(self.state.allocs[alloc].node) {
            return;
        }
        let Some(c) = self.ops.client.allocs.get_mut(&alloc) else {
            return;
        };
        if c.healthy.is_some() {
            return;
        }
        c.healthy = Some(false);
        let job = self.state.allocs[alloc].job;
        self.drainer_job_update(job);
    }

    /// True while the alloc is held and not client-terminal.
    pub(crate) fn alloc_is_live(&self, alloc: AllocId) -> bool {
        self.state
            .allocs
            .get(alloc)
            .is_some_and(|a| a.ended_ms().is_none())
    }

    /// An alloc ended (called by `end_alloc`): the client forgets it, unless it restarted
    /// (its restarts stay readable until it is collected).
    pub(crate) fn client_alloc_ended(&mut self, alloc: AllocId, job: JobId) {
        // Most runs track nothing: skip the hashing.
        if self.ops.client.allocs.is_empty() {
            return;
        }
        let Some(c) = self.ops.client.allocs.get(&alloc) else {
            return;
        };
        if c.restarts == 0 {
            self.ops.client.allocs.remove(&alloc);
        }
        if let Some(list) = self.ops.client.service_allocs.get_mut(&job) {
            list.retain(|&a| a != alloc);
            if list.is_empty() {
                self.ops.client.service_allocs.remove(&job);
            }
        }
    }

    /// An alloc is being collected: nothing of it is kept.
    pub(crate) fn client_alloc_collected(&mut self, alloc: AllocId) {
        if !self.ops.client.allocs.is_empty() {
            self.ops.client.allocs.remove(&alloc);
        }
        if !self.server.trackers.is_empty() {
            self.server.trackers.remove(&alloc);
        }
    }

    /// How many times the alloc's task was restarted (`Total Restarts`).
    pub fn alloc_restarts(&self, alloc: AllocId) -> u32 {
        self.ops.client.allocs.get(&alloc).map_or(0, |c| c.restarts)
    }

    /// When the alloc's task started running (its last start, after restarts); `None` while it
    /// starts, waits to restart, or if it ended before it ran. Untracked allocs run from
    /// placement.
    pub fn alloc_running_since(&self, alloc: AllocId) -> Option<SimTime> {
        let a = self.state.allocs.get(alloc)?;
        if a.ended_ms().is_some() {
            return None;
        }
        match self.ops.client.allocs.get(&alloc) {
            Some(c) => c.running_since,
            None => Some(a.placed_ms()),
        }
    }

    /// The alloc's migrate health, as the drainer reads it: `None` until set.
    pub fn alloc_healthy(&self, alloc: AllocId) -> Option<bool> {
        self.ops.client.allocs.get(&alloc).and_then(|c| c.healthy)
    }
}
