//! The engine: the clock, the event queue, the step loop and the observer hooks.

#[allow(unused_imports)]
use crate::prelude::*;

pub mod queue;
pub(crate) mod sources;

/// Stream numbers of the seeded ChaCha streams; each consumer has its own.
pub(crate) mod stream {
    pub(crate) const PLACEMENT: u64 = 1;
    pub(crate) const FAILURES: u64 = 2;
    pub(crate) const TASK_START: u64 = 3;
    pub(crate) const RESTARTS: u64 = 4;
    pub(crate) const HEARTBEATS: u64 = 5;
    pub(crate) const SCHEDULER: u64 = 6;
    pub(crate) const WORKLOAD_BASE: u64 = 1_000;
}

/// Kinds of identifiers derived with [`uuid_for`].
pub(crate) mod uuid_kind {
    pub(crate) const NODE: u8 = 1;
    pub(crate) const ALLOC: u8 = 2;
    pub(crate) const EVAL: u8 = 3;
}

/// The simulated cluster and everything that happens to it.
///
/// The engine owns the clock and the event queue and wires the parts together; each part keeps
/// its own state: [`ClusterState`] (what Nomad's state store holds), [`Server`] (broker, blocked
/// evals, the scheduler stack), [`OpsState`] (drainer, lifecycle, autoscaler), [`Sources`] (the
/// workloads that submit jobs) and [`Observer`] (metrics and trace).
pub struct Simulation {
    pub(crate) config: SimConfig,
    pub(crate) now: SimTime,
    pub(crate) queue: EventQueue,
    pub(crate) state: ClusterState,
    pub(crate) server: Server,
    pub(crate) ops: OpsState,
    pub(crate) sources: Sources,
    pub(crate) observe: Observer,
    /// True when arrivals stopped early because `limits.max_allocations` was reached.
    pub truncated: bool,
    /// True when [`Simulation::run`] stopped at `limits.max_time_past_horizon` with work left.
    pub stopped_at_time_limit: bool,
    /// Check the state's invariants after every event (tests).
    check_every_event: bool,
    /// The alloc whose slot [`Simulation::prefetch_upcoming`] prefetched last as the event
    /// after next.
    prefetched: Option<AllocId>,
    /// End events in the queue whose allocs ended before them (stopped, drained, preempted,
    /// lost). They do nothing when popped; when the queue holds nothing else, the run has
    /// ended, and the clock does not run on to their times.
    stale_alloc_ends: usize,
}

impl Simulation {
    /// Builds the cluster at time zero and schedules the first arrivals and the operations.
    pub fn new(config: SimConfig) -> Simulation {
        let seed = config.seed;
        let stream_rng = |n: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(n);
            rng
        };
        let mut sim = Simulation {
            now: 0,
            queue: EventQueue::new(),
            state: ClusterState {
                live_nodes: vec![0; config.pools.len()],
                nodes_created: vec![0; config.pools.len()],
                ..ClusterState::default()
            },
            server: Server {
                broker: BinaryHeap::new(),
                blocked: Blocked::default(),
                candidate_sets: Vec::new(),
                constraint_sets: Vec::new(),
                preferences: Vec::new(),
                classes: ClassTable::default(),
                placement_rng: stream_rng(stream::PLACEMENT),
                placer: None,
                system_jobs: Vec::new(),
                system_waiting: BTreeMap::new(),
                restrict: None,
                system_eval_node: BTreeMap::new(),
                system_pending: BTreeSet::new(),
                trackers: Default::default(),
                reschedule_at: Default::default(),
                penalty_nodes: Vec::new(),
                preempting: false,
                preempt_options: Vec::new(),
                plan_preemptions: Vec::new(),
                pow10: crate::placement::Pow10Memo::default(),
                metric: crate::placement::AllocMetric::default(),
                candidacy_version: 0,
                tally: Default::default(),
                nodes_by_dc: Vec::new(),
                workers: crate::server::broker::Workers::new(stream_rng(stream::SCHEDULER)),
            },
            ops: OpsState {
                autoscaler_cooldown_until_ms: 0,
                failure_rng: stream_rng(stream::FAILURES),
                timers: crate::ops::Timers::default(),
                client: crate::ops::client::ClientState::new(
                    stream_rng(stream::TASK_START),
                    stream_rng(stream::RESTARTS),
                ),
                deadlines: Default::default(),
                heartbeat: crate::ops::heartbeat::HeartbeatState::new(stream_rng(
                    stream::HEARTBEATS,
                )),
            },
            sources: Sources {
                workloads: Vec::new(),
                allocs_budget_left: config.limits.max_allocations,
            },
            observe: Observer {
                collector: Collector {
                    node_ms_area: vec![0.0; config.pools.len()],
                    ..Collector::default()
                },
                sink: None,
                collect_scores: false,
                alloc_metrics: None,
            },
            truncated: false,
            stopped_at_time_limit: false,
            stale_alloc_ends: 0,
            check_every_event: false,
            prefetched: None,
            config,
        };
        for w in 0..sim.config.workloads.len() {
            sim.attach_workload(w);
        }
        for pool in 0..sim.config.pools.len() {
            for _ in 0..sim.config.pools[pool].count {
                // Initial nodes turn ready at time zero, as events, so the trace shows them.
                let node = sim.create_node(pool as u32);
                sim.queue.push(0, EventKind::NodeReady { node });
            }
        }
        for w in 0..sim.sources.workloads.len() {
            // A job's later groups arrive with its first.
            if !sim.config.workloads[w].follows_first_group() {
                sim.schedule_next_arrival(w);
            }
        }
        for (i, op) in sim.config.operations.iter().enumerate() {
            sim.queue
                .push(op.at_ms, EventKind::Operation { index: i as u32 });
        }
        if let Some(autoscaler) = &sim.config.autoscaler {
            sim.queue
                .push(autoscaler.evaluation_interval_ms, EventKind::AutoscalerTick);
        }
        sim
    }

    /// Builds a simulation whose placements are made by `placer` instead of Nomad's stack.
    pub fn with_placer(config: SimConfig, placer: Box<dyn Placer>) -> Simulation {
        let mut sim = Simulation::new(config);
        sim.server.placer = Some(placer);
        sim
    }

    /// Replaces the placement algorithm from now on (`None`: Nomad's stack again).
    pub fn set_placer(&mut self, placer: Option<Box<dyn Placer>>) {
        self.server.placer = placer;
    }

    /// The name of the placement algorithm in use.
    pub fn algorithm_name(&self) -> String {
        match &self.server.placer {
            Some(p) => p.name(),
            None => self.config.algorithm.as_str().to_string(),
        }
    }

    /// Sends trace events to `sink` from now on, with per-node scores in `alloc_placed`.
    pub fn set_trace_sink(&mut self, sink: Box<dyn TraceSink>) {
        self.observe.sink = Some(sink);
        self.observe.collect_scores = true;
    }

    /// Takes the trace sink back.
    pub fn take_trace_sink(&mut self) -> Option<Box<dyn TraceSink>> {
        self.observe.collect_scores = self.observe.alloc_metrics.is_some();
        self.observe.sink.take()
    }

    /// The configuration the run was built from.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Runs until nothing is left to happen, or until `limits.max_time_past_horizon` after the
    /// horizon (a service that fails forever is rescheduled forever, as in Nomad); then
    /// [`Simulation::stopped_at_time_limit`] is set.
    pub fn run(&mut self) {
        let bound = self.time_limit();
        if !self.run_events(bound, false) {
            self.stopped_at_time_limit = true;
        }
    }

    /// When [`Simulation::run`] stops at the latest.
    pub fn time_limit(&self) -> SimTime {
        self.config
            .horizon_ms
            .saturating_add(self.config.limits.max_time_past_horizon_ms)
            .min(crate::time::MAX_SIM_TIME_MS)
    }

    /// Runs every event at or before `until`, then stops with the clock at `until`
    /// (or at the last event, when the run ends sooner). Returns true when the run has ended.
    pub fn run_until(&mut self, until: SimTime) -> bool {
        self.run_events(until, until != SimTime::MAX)
    }

    /// Runs every event at or before `until`. When events remain past it, the clock stops at
    /// `until`; when none remain, it stays at the last event (as [`Simulation::run`] leaves
    /// it), so time integrals end there. Returns true when the run has ended. One call does
    /// what a `run_until` per event time up to `until` would.
    pub fn run_through(&mut self, until: SimTime) -> bool {
        let ended = self.run_events(until, false);
        if ended {
            self.collect_garbage_until(self.now);
        }
        ended
    }

    /// Runs every event at or before `until`; when events remain past it, stops with the clock
    /// at `until`. When none remain, the clock stays at the last event unless `to_until`.
    fn run_events(&mut self, until: SimTime, to_until: bool) -> bool {
        let until = until.min(crate::time::MAX_SIM_TIME_MS);
        while self.queue.len() > self.stale_alloc_ends {
            let t = self.queue.peek_time().expect("the queue is not empty");
            if t > until {
                self.advance_to(until);
                self.collect_garbage_until(until);
                return false;
            }
            self.advance_to(t);
            self.collect_garbage_until(t);
            while self.queue.peek_time() == Some(t) {
                let (_, kind) = self.queue.pop().expect("peeked");
                self.observe.collector.events += 1;
                self.prefetch_upcoming();
                self.handle(kind);
                self.check_after_event();
            }
            self.drain_broker();
            self.check_after_event();
        }
        // Nothing is left to run: the report reads settled histograms.
        self.observe.collector.settle();
        if to_until {
            self.advance_to(until.max(self.now));
            self.collect_garbage_until(until);
        }
        true
    }

    /// Pushes the end event of `alloc` (a failure when `failed`) for time `end_ms`.
    pub(crate) fn push_alloc_end(&mut self, end_ms: SimTime, alloc: AllocId, failed: bool) {
        self.state.allocs[alloc].set_end_queued();
        self.queue
            .push(end_ms, EventKind::AllocEnd { alloc, failed });
    }

    /// Counts the end event of an alloc that ends before it (the event stays queued).
    pub(crate) fn alloc_end_left_queued(&mut self) {
        self.stale_alloc_ends += 1;
        debug_assert!(self.stale_alloc_ends <= self.queue.len());
    }

    /// Accounts for a popped end event whose alloc had already ended.
    pub(crate) fn stale_alloc_end_popped(&mut self) {
        self.stale_alloc_ends = self
            .stale_alloc_ends
            .checked_sub(1)
            .expect("a stale end event was counted when its alloc ended");
    }

    /// Asks the CPU to load what the next events will read while the current one runs. On a
    /// large cluster each alloc's end otherwise waits on a cache miss for its alloc, then
    /// another for its job and node. An alloc ending after next has its slot prefetched. The
    /// next one, if its slot was prefetched that way an event ago, has its job and node
    /// prefetched (reading its slot is then no miss); otherwise its slot. Only hints: nothing
    /// here changes what the simulation computes.
    fn prefetch_upcoming(&mut self) {
        let (next, after) = self.queue.peek_two();
        if let Some(EventKind::AllocEnd { alloc, .. }) = next {
            if self.prefetched == Some(alloc) {
                if let Some(a) = self.state.allocs.get(alloc) {
                    self.state.jobs.prefetch(a.job);
                    if let Some(n) = self.state.nodes.get(a.node.index()) {
                        crate::prefetch::prefetch_head(n, crate::state::model::NODE_ALLOC_BYTES);
                    }
                }
            } else {
                self.state.allocs.prefetch(alloc);
            }
        }
        self.prefetched = match after {
            Some(EventKind::AllocEnd { alloc, .. }) => {
                self.state.allocs.prefetch(alloc);
                Some(alloc)
            }
            _ => None,
        };
    }

    /// Checks the state's invariants after every event from now on, and panics with the
    /// violations at the first event that breaks one. Meant for tests: each check walks the
    /// whole state.
    pub fn check_every_event(&mut self, on: bool) {
        self.check_every_event = on;
    }

    fn check_after_event(&self) {
        if self.check_every_event {
            let violations = crate::invariants::state_violations(self);
            assert!(
                violations.is_empty(),
                "at t={} ms: {}",
                self.now,
                violations.join("; ")
            );
        }
    }

    /// True when no event is left that would do anything (end events of allocs that ended
    /// first do nothing).
    pub fn is_finished(&self) -> bool {
        self.queue.len() == self.stale_alloc_ends
    }

    pub(crate) fn advance_to(&mut self, t: SimTime) {
        if t <= self.observe.collector.last_ms {
            self.now = self.now.max(t);
            return;
        }
        let dt = (t - self.observe.collector.last_ms) as f64;
        let c = &mut self.observe.collector;
        c.cpu_used_area += self.state.used_total.cpu_mhz as f64 * dt;
        c.cpu_avail_area += self.state.avail_total.cpu_mhz as f64 * dt;
        c.mem_used_area += self.state.used_total.memory_mb as f64 * dt;
        c.mem_avail_area += self.state.avail_total.memory_mb as f64 * dt;
        for (area, live) in c.node_ms_area.iter_mut().zip(&self.state.live_nodes) {
            *area += f64::from(*live) * dt;
        }
        c.queued_area += self.state.queued_allocs as f64 * dt;
        c.running_area += self.state.running_allocs as f64 * dt;
        c.last_ms = t;
        self.now = t;
    }

    pub(crate) fn handle(&mut self, kind: EventKind) {
        match kind {
            EventKind::AllocEnd { alloc, failed } => self.on_alloc_end(alloc, failed),
            EventKind::NodeReady { node } => {
                if self.state.nodes[node.index()].status == NodeStatus::Initializing {
                    self.make_ready(node);
                }
            }
            EventKind::Arrival { workload } => self.on_arrival(workload as usize),
            EventKind::DelayedEval { eval } => self.enqueue_eval(eval, false),
            EventKind::Operation { index } => self.on_operation(index as usize),
            EventKind::LifecycleTimeout { node } => self.on_lifecycle_timeout(node),
            // The wake-up of the ops timers (drainer, clients, scheduler workers).
            EventKind::MigrateCheck { .. } => self.on_timer_wake(),
            EventKind::AutoscalerTick => self.on_autoscaler_tick(),
        }
    }

    /// Emits an event about a node: it joins the node's event list (the read model) whether or
    /// not a trace is recorded, and goes to the trace sink if there is one.
    pub(crate) fn emit_node(
        &mut self,
        node: NodeId,
        event: impl FnOnce(&Simulation) -> TraceEvent,
    ) {
        let ev = event(self);
        let now = self.now;
        if let Some((subsystem, message)) = crate::observe::node_event_text(&ev) {
            let events = &mut self.state.nodes[node.index()].events;
            if events.len() == crate::model::MAX_NODE_EVENTS {
                events.remove(0);
            }
            events.push(crate::model::NodeEvent {
                t_ms: now,
                subsystem,
                message,
            });
        }
        if let Some(sink) = self.observe.sink.as_mut() {
            sink.record(now, &ev);
        }
    }

    pub(crate) fn emit(&mut self, event: impl FnOnce(&Simulation) -> TraceEvent) {
        if self.observe.sink.is_some() {
            let ev = event(self);
            let now = self.now;
            if let Some(sink) = self.observe.sink.as_mut() {
                sink.record(now, &ev);
            }
        }
    }
}
