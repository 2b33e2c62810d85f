//! The simulation engine: the event loop, the eval broker, blocked evals and the placement stack.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cluster::{is_schedulable, CandidateKey, CandidateSet, ClassTable, ConstraintSet};
use crate::config::{Arrivals, JobType, SimConfig};
use crate::constraint::NodeProperties;
use crate::ids::{uuid_for, AllocId, EvalId, JobId, NodeId};
use crate::metrics::{self, Collector, Report};
use crate::model::{
    Alloc, ClientStatus, DesiredStatus, Eligibility, EndReason, Eval, EvalStatus, Job, Node,
    NodeCounts, NodeStatus, Trigger,
};
use crate::placement::{
    fitness, job_anti_affinity, select_limit, AllocMetric, NodeScore, ScoreParts,
    BINPACK_MAX_FIT_SCORE, MAX_SKIP, SKIP_SCORE_THRESHOLD,
};
use crate::queue::{EventKind, EventQueue};
use crate::resources::Resources;
use crate::time::{SimTime, HOUR_MS};
use crate::trace::{TraceEvent, TraceSink};
use crate::workload::ArrivalCursor;

/// Stream numbers of the seeded ChaCha streams; each consumer has its own.
mod stream {
    pub const PLACEMENT: u64 = 1;
    pub const FAILURES: u64 = 2;
    pub const WORKLOAD_BASE: u64 = 1_000;
}

/// Kinds of identifiers derived with [`uuid_for`].
mod uuid_kind {
    pub const NODE: u8 = 1;
    pub const ALLOC: u8 = 2;
    pub const EVAL: u8 = 3;
}

/// A job's status, as `nomad status` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Nothing runs and an eval waits.
    Pending,
    /// Some alloc is live.
    Running,
    /// Everything is terminal.
    Dead,
}

impl JobStatus {
    /// Nomad's word.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Dead => "dead",
        }
    }
}

/// A CircleCI job: one arrival, fanned out into `parallelism` Nomad jobs.
#[derive(Clone, Debug)]
pub struct CiJob {
    /// Submission time.
    pub submit_ms: SimTime,
    /// Allocations not yet started.
    pub to_start: u32,
    /// Allocations not yet ended.
    pub to_finish: u32,
    /// When the last allocation started.
    pub all_started_ms: Option<SimTime>,
    /// When the last allocation ended.
    pub all_finished_ms: Option<SimTime>,
}

/// Jobs that wait for the same thing: same candidate nodes, constraints, ask and priority.
///
/// Every blocked eval sits in exactly one bucket. The bucket keeps Nomad's order (priority,
/// then creation) and one fact that makes unblocking cheap: when the bucket is *clean*, no
/// candidate node fits its ask, so an eval of the bucket cannot place anything and need not run.
/// Capacity freed on a node that fits the ask makes the bucket dirty and wakes its head.
#[derive(Clone, Debug)]
struct Bucket {
    candidate_set: u32,
    constraint_set: u32,
    ask: Resources,
    /// The only job the bucket serves, for `distinct_hosts` jobs.
    job: Option<JobId>,
    /// Blocked evals, oldest first.
    queue: VecDeque<EvalId>,
    /// True while the bucket's head is in the broker.
    in_broker: bool,
    /// Nodes whose capacity grew since the bucket was last found to fit nowhere.
    dirty: Vec<NodeId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct BucketKey {
    candidate_set: u32,
    constraint_set: u32,
    ask: Resources,
    priority: u8,
    job: Option<JobId>,
}

/// Per-workload state: random streams and the arrival cursor.
#[derive(Clone, Debug)]
struct WorkloadState {
    arrivals_rng: ChaCha8Rng,
    parallelism_rng: ChaCha8Rng,
    duration_rng: ChaCha8Rng,
    cursor: ArrivalCursor,
    candidate_set: u32,
    constraint_set: u32,
    submitted: u64,
}

/// Where the lazy shuffle of one evaluation stands (Nomad's `StaticIterator` offset).
#[derive(Clone, Copy, Debug, Default)]
struct Scan {
    offset: usize,
    shuffled: usize,
}

/// A ranked option during a Select.
#[derive(Clone, Copy, Debug)]
struct RankedOption {
    node: NodeId,
    parts: (f64, Option<f64>, Option<f64>),
    score: f64,
}

/// A placement algorithm: picks a node for one allocation at a time.
///
/// Implement it to compare your own algorithm with Nomad's (see `nomad-sim-report`). The
/// engine keeps everything else (evals, blocked evals, the broker); a placer only chooses.
/// It must be work-conserving: when some candidate fits, return one that fits.
pub trait Placer {
    /// The algorithm's name in reports.
    fn name(&self) -> String;
    /// Picks a node for one allocation of the job the view describes, or `None` if none fits.
    fn select(&mut self, view: &mut ClusterView<'_>) -> Option<NodeId>;
}

/// What a [`Placer`] may see and do while placing one allocation.
pub struct ClusterView<'a> {
    sim: &'a mut Simulation,
    job: JobId,
    scan: Scan,
    evaluated: u32,
}

impl ClusterView<'_> {
    fn set(&self) -> usize {
        let j = &self.sim.jobs[self.job.index()];
        self.sim.workloads[j.workload as usize].candidate_set as usize
    }

    /// The ask of one allocation.
    pub fn ask(&self) -> Resources {
        self.sim.jobs[self.job.index()].ask
    }

    /// The job type.
    pub fn job_type(&self) -> JobType {
        let j = &self.sim.jobs[self.job.index()];
        self.sim.config.workloads[j.workload as usize].job_type
    }

    /// The number of candidate nodes (ready, eligible, not draining, in the job's pool and datacenters).
    pub fn candidate_count(&self) -> usize {
        self.sim.candidate_sets[self.set()].members.len()
    }

    /// Nodes ever created; node IDs run from 0 to this, in creation order.
    pub fn node_count(&self) -> usize {
        self.sim.nodes.len()
    }

    /// True when the node is a candidate for this job (ready, eligible, not draining, in the
    /// job's pool and datacenters). With [`ClusterView::node_count`] this gives a scan in
    /// creation order without sorting or allocating.
    pub fn is_candidate(&self, node: NodeId) -> bool {
        self.sim.candidate_sets[self.set()].contains(node)
    }

    /// The candidates in ascending node order (creation order), for deterministic scans.
    pub fn candidates_in_order(&self) -> Vec<NodeId> {
        (0..self.node_count() as u32)
            .map(NodeId)
            .filter(|&n| self.is_candidate(n))
            .collect()
    }

    /// The next candidate in a uniformly random order (each candidate once per Select),
    /// drawn lazily: a Select that looks at k nodes costs k draws, whatever the cluster size.
    pub fn next_random(&mut self) -> Option<NodeId> {
        let set = self.set();
        let n = self.sim.candidate_sets[set].members.len();
        if self.scan.offset >= n {
            return None;
        }
        let pick = self.sim.placement_rng.gen_range(self.scan.offset..n);
        self.sim.candidate_sets[set].swap(self.scan.offset, pick);
        let node = self.sim.candidate_sets[set].members[self.scan.offset];
        self.scan.offset += 1;
        Some(node)
    }

    /// True when the node passes every check for this allocation (counts as evaluated).
    pub fn fits(&mut self, node: NodeId) -> bool {
        self.evaluated += 1;
        self.sim.fits(self.job, node)
    }

    /// A node, to read its capacity and use.
    pub fn node(&self, node: NodeId) -> &Node {
        &self.sim.nodes[node.index()]
    }

    /// Allocs of this job already on the node.
    pub fn collisions(&self, node: NodeId) -> u32 {
        self.sim.jobs[self.job.index()]
            .node_counts
            .as_ref()
            .map_or(0, |c| c.get(&node.0).copied().unwrap_or(0))
    }

    /// Nomad's normalised fitness (0..1) of the node after adding the ask.
    pub fn fitness(&self, algorithm: crate::Algorithm, node: NodeId) -> f64 {
        let n = &self.sim.nodes[node.index()];
        fitness(algorithm, n.allocatable, n.used.plus(self.ask())) / BINPACK_MAX_FIT_SCORE
    }

    /// The placement random stream, for algorithms that draw.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.sim.placement_rng
    }
}

/// The simulated cluster and everything that happens to it.
pub struct Simulation {
    pub(crate) config: SimConfig,
    pub(crate) now: SimTime,
    pub(crate) nodes: Vec<Node>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) allocs: Vec<Alloc>,
    pub(crate) evals: Vec<Eval>,
    pub(crate) ci_jobs: Vec<CiJob>,
    /// Run time of every alloc index of every job.
    durations: Vec<SimTime>,
    pub(crate) queue: EventQueue,
    /// The eval broker: highest priority first, then creation order.
    broker: BinaryHeap<Reverse<(u8, u64, u32, bool)>>,
    buckets: Vec<Bucket>,
    bucket_index: BTreeMap<BucketKey, u32>,
    /// Buckets holding blocked evals.
    waiting_buckets: BTreeSet<u32>,
    /// Reused buffer for iterating `waiting_buckets` while waking them.
    scratch_buckets: Vec<u32>,
    pub(crate) candidate_sets: Vec<CandidateSet>,
    constraint_sets: Vec<ConstraintSet>,
    classes: ClassTable,
    workloads: Vec<WorkloadState>,
    placement_rng: ChaCha8Rng,
    failure_rng: ChaCha8Rng,
    pub(crate) collector: Collector,
    /// Allocated resources on ready nodes, and what those nodes can give.
    used_total: Resources,
    avail_total: Resources,
    /// Nodes that cost money now, per pool.
    pub(crate) live_nodes: Vec<u32>,
    queued_allocs: u64,
    running_allocs: u64,
    next_eval_seq: u64,
    pub(crate) nodes_created: Vec<u32>,
    allocs_budget_left: u64,
    /// True when arrivals stopped early because `limits.max_allocations` was reached.
    pub truncated: bool,
    pub(crate) collect_scores: bool,
    pub(crate) sink: Option<Box<dyn TraceSink>>,
    autoscaler_cooldown_until_ms: SimTime,
    /// A placement algorithm that replaces Nomad's stack, if one was given.
    placer: Option<Box<dyn Placer>>,
    /// Registered system jobs: every node that becomes schedulable gets one of their allocs.
    system_jobs: Vec<JobId>,
    /// Nodes where a system job's alloc waits for room, by job.
    system_waiting: BTreeMap<JobId, Vec<NodeId>>,
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
            nodes: Vec::new(),
            jobs: Vec::new(),
            allocs: Vec::new(),
            evals: Vec::new(),
            ci_jobs: Vec::new(),
            durations: Vec::new(),
            queue: EventQueue::new(),
            broker: BinaryHeap::new(),
            buckets: Vec::new(),
            bucket_index: BTreeMap::new(),
            waiting_buckets: BTreeSet::new(),
            scratch_buckets: Vec::new(),
            candidate_sets: Vec::new(),
            constraint_sets: Vec::new(),
            classes: ClassTable::default(),
            workloads: Vec::new(),
            placement_rng: stream_rng(stream::PLACEMENT),
            failure_rng: stream_rng(stream::FAILURES),
            collector: Collector {
                node_ms_area: vec![0.0; config.pools.len()],
                ..Collector::default()
            },
            used_total: Resources::default(),
            avail_total: Resources::default(),
            live_nodes: vec![0; config.pools.len()],
            queued_allocs: 0,
            running_allocs: 0,
            next_eval_seq: 0,
            nodes_created: vec![0; config.pools.len()],
            allocs_budget_left: config.limits.max_allocations,
            truncated: false,
            collect_scores: false,
            sink: None,
            autoscaler_cooldown_until_ms: 0,
            placer: None,
            system_jobs: Vec::new(),
            system_waiting: BTreeMap::new(),
            config,
        };
        for (w, workload) in sim.config.workloads.clone().iter().enumerate() {
            let key = CandidateKey {
                pool: workload
                    .node_pool
                    .as_ref()
                    .and_then(|p| sim.config.pools.iter().position(|q| &q.name == p))
                    .map(|i| i as u32),
                datacenters: workload.datacenters.clone(),
            };
            let candidate_set = match sim.candidate_sets.iter().position(|s| s.key == key) {
                Some(i) => i as u32,
                None => {
                    sim.candidate_sets.push(CandidateSet::new(key));
                    (sim.candidate_sets.len() - 1) as u32
                }
            };
            sim.constraint_sets
                .push(ConstraintSet::new(workload.constraints.clone()));
            let base = stream::WORKLOAD_BASE + 4 * w as u64;
            sim.workloads.push(WorkloadState {
                arrivals_rng: stream_rng(base),
                parallelism_rng: stream_rng(base + 1),
                duration_rng: stream_rng(base + 2),
                cursor: ArrivalCursor::new(),
                candidate_set,
                constraint_set: (sim.constraint_sets.len() - 1) as u32,
                submitted: 0,
            });
        }
        for pool in 0..sim.config.pools.len() {
            for _ in 0..sim.config.pools[pool].count {
                // Initial nodes turn ready at time zero, as events, so the trace shows them.
                let node = sim.create_node(pool as u32);
                sim.queue.push(0, EventKind::NodeReady { node });
            }
        }
        for w in 0..sim.workloads.len() {
            sim.schedule_next_arrival(w);
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
        sim.placer = Some(placer);
        sim
    }

    /// Replaces the placement algorithm from now on (`None`: Nomad's stack again).
    pub fn set_placer(&mut self, placer: Option<Box<dyn Placer>>) {
        self.placer = placer;
    }

    /// The name of the placement algorithm in use.
    pub fn algorithm_name(&self) -> String {
        match &self.placer {
            Some(p) => p.name(),
            None => self.config.algorithm.as_str().to_string(),
        }
    }

    /// Sends trace events to `sink` from now on, with per-node scores in `alloc_placed`.
    pub fn set_trace_sink(&mut self, sink: Box<dyn TraceSink>) {
        self.sink = Some(sink);
        self.collect_scores = true;
    }

    /// Takes the trace sink back.
    pub fn take_trace_sink(&mut self) -> Option<Box<dyn TraceSink>> {
        self.collect_scores = false;
        self.sink.take()
    }

    /// The configuration the run was built from.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Runs until nothing is left to happen.
    pub fn run(&mut self) {
        self.run_until(SimTime::MAX);
    }

    /// Runs every event at or before `until`, then stops with the clock at `until`
    /// (or at the last event, when the run ends sooner). Returns true when the run has ended.
    pub fn run_until(&mut self, until: SimTime) -> bool {
        while let Some(t) = self.queue.peek_time() {
            if t > until {
                self.advance_to(until);
                return false;
            }
            self.advance_to(t);
            while self.queue.peek_time() == Some(t) {
                let (_, kind) = self.queue.pop().expect("peeked");
                self.collector.events += 1;
                self.handle(kind);
            }
            self.drain_broker();
        }
        if until != SimTime::MAX {
            self.advance_to(until.max(self.now));
        }
        true
    }

    /// True when no event is left.
    pub fn is_finished(&self) -> bool {
        self.queue.is_empty()
    }

    fn advance_to(&mut self, t: SimTime) {
        if t <= self.collector.last_ms {
            self.now = self.now.max(t);
            return;
        }
        let dt = (t - self.collector.last_ms) as f64;
        let c = &mut self.collector;
        c.cpu_used_area += self.used_total.cpu_mhz as f64 * dt;
        c.cpu_avail_area += self.avail_total.cpu_mhz as f64 * dt;
        c.mem_used_area += self.used_total.memory_mb as f64 * dt;
        c.mem_avail_area += self.avail_total.memory_mb as f64 * dt;
        for (area, live) in c.node_ms_area.iter_mut().zip(&self.live_nodes) {
            *area += f64::from(*live) * dt;
        }
        c.queued_area += self.queued_allocs as f64 * dt;
        c.running_area += self.running_allocs as f64 * dt;
        c.last_ms = t;
        self.now = t;
    }

    fn handle(&mut self, kind: EventKind) {
        match kind {
            EventKind::AllocEnd { alloc, failed } => self.on_alloc_end(alloc, failed),
            EventKind::NodeReady { node } => {
                if self.nodes[node.index()].status == NodeStatus::Initializing {
                    self.make_ready(node);
                }
            }
            EventKind::Arrival { workload } => self.on_arrival(workload as usize),
            EventKind::DelayedEval { eval } => self.enqueue_eval(EvalId(eval), false),
            EventKind::Operation { index } => self.on_operation(index as usize),
            EventKind::DrainDeadline { node, record } => self.on_drain_deadline(node, record),
            EventKind::LifecycleTimeout { node } => self.on_lifecycle_timeout(node),
            EventKind::MigrateCheck { node } => self.migrate_next_batch(node),
            EventKind::AutoscalerTick => self.on_autoscaler_tick(),
        }
    }

    pub(crate) fn emit(&mut self, event: impl FnOnce(&Simulation) -> TraceEvent) {
        if self.sink.is_some() {
            let ev = event(self);
            let now = self.now;
            if let Some(sink) = self.sink.as_mut() {
                sink.record(now, &ev);
            }
        }
    }

    // ----- names -------------------------------------------------------------------------------

    /// The Nomad job ID: `<workload>-<arrival>`, with `-<index>` when the workload fans out.
    pub fn job_name(&self, job: JobId) -> String {
        let j = &self.jobs[job.index()];
        let w = &self.config.workloads[j.workload as usize].name;
        match j.fan_index {
            Some(i) => format!("{w}-{}-{i}", j.arrival),
            None => format!("{w}-{}", j.arrival),
        }
    }

    /// The task group name (the workload's name).
    pub fn group_name(&self, job: JobId) -> &str {
        &self.config.workloads[self.jobs[job.index()].workload as usize].name
    }

    /// The alloc name, `<job>.<group>[<index>]`.
    pub fn alloc_name(&self, alloc: AllocId) -> String {
        let a = &self.allocs[alloc.index()];
        format!(
            "{}.{}[{}]",
            self.job_name(a.job),
            self.group_name(a.job),
            a.index
        )
    }

    /// The alloc's UUID-shaped ID.
    pub fn alloc_uuid(&self, alloc: AllocId) -> String {
        uuid_for(self.config.seed, uuid_kind::ALLOC, alloc.0 as u64)
    }

    /// The eval's UUID-shaped ID.
    pub fn eval_uuid(&self, eval: EvalId) -> String {
        uuid_for(self.config.seed, uuid_kind::EVAL, eval.0 as u64)
    }

    /// The node's name.
    pub fn node_name(&self, node: NodeId) -> &str {
        &self.nodes[node.index()].name
    }

    // ----- nodes -------------------------------------------------------------------------------

    pub(crate) fn create_node(&mut self, pool: u32) -> NodeId {
        let p = &self.config.pools[pool as usize];
        let index = self.nodes_created[pool as usize];
        self.nodes_created[pool as usize] += 1;
        let id = NodeId(self.nodes.len() as u32);
        let class_id = self.classes.class_of(p, &p.datacenter);
        let node = Node {
            name: format!("{}-{}", p.name, index),
            id: uuid_for(self.config.seed, uuid_kind::NODE, id.0 as u64),
            pool,
            capacity: p.resources,
            reserved: p.reserved,
            allocatable: p.allocatable(),
            used: Resources::default(),
            status: NodeStatus::Initializing,
            eligibility: Eligibility::Eligible,
            drain: None,
            class_id,
            allocs: Vec::new(),
            create_index: id.0 as u64 + 1,
            created_ms: self.now,
            terminated_ms: None,
        };
        self.nodes.push(node);
        self.live_nodes[pool as usize] += 1;
        id
    }

    pub(crate) fn make_ready(&mut self, node: NodeId) {
        let n = &mut self.nodes[node.index()];
        n.status = NodeStatus::Ready;
        self.avail_total = self.avail_total.plus(n.allocatable);
        self.used_total = self.used_total.plus(n.used);
        self.emit(|s| TraceEvent::NodeReady {
            node: s.node_name(node).to_string(),
        });
        self.refresh_candidacy(node);
    }

    /// Takes a node out of the ready totals when it stops being ready.
    pub(crate) fn leave_ready(&mut self, node: NodeId) {
        let n = &self.nodes[node.index()];
        if n.status == NodeStatus::Ready {
            self.avail_total = self.avail_total.minus(n.allocatable);
            self.used_total = self.used_total.minus(n.used);
        }
    }

    /// Puts the node in or out of every candidate set after a change of status, eligibility or
    /// drain; a node that becomes schedulable is new capacity and may wake blocked evals.
    pub(crate) fn refresh_candidacy(&mut self, node: NodeId) {
        let schedulable = is_schedulable(&self.nodes[node.index()]);
        let mut joined = false;
        for set in &mut self.candidate_sets {
            let n = &self.nodes[node.index()];
            let dc = &self.config.pools[n.pool as usize].datacenter;
            if schedulable && set.matches(n, dc) {
                if !set.contains(node) {
                    set.insert(node);
                    joined = true;
                }
            } else {
                set.remove(node);
            }
        }
        if joined {
            self.capacity_freed(node);
        }
    }

    // ----- arrivals ----------------------------------------------------------------------------

    fn schedule_next_arrival(&mut self, w: usize) {
        let horizon = self.config.horizon_ms;
        let state = &mut self.workloads[w];
        let arrivals = &self.config.workloads[w].arrivals;
        if let Some(t) = arrivals.next_ms(&mut state.cursor, &mut state.arrivals_rng, horizon) {
            self.queue
                .push(t, EventKind::Arrival { workload: w as u32 });
        }
    }

    fn on_arrival(&mut self, w: usize) {
        let workload = &self.config.workloads[w];
        let arrival = self.workloads[w].submitted;
        self.workloads[w].submitted += 1;
        let (parallelism, ask, fixed_duration) = match &workload.arrivals {
            Arrivals::Trace(rows) => {
                let row = rows[arrival as usize];
                (
                    row.parallelism.max(1),
                    Resources::new(row.cpu_mhz, row.memory_mb, workload.resources.disk_mb),
                    Some(row.duration_ms),
                )
            }
            _ => (
                workload
                    .parallelism
                    .sample(&mut self.workloads[w].parallelism_rng),
                workload.resources,
                None,
            ),
        };
        let system = workload.job_type == JobType::System;
        // A system job's count is its number of nodes, known only when it is placed.
        let count = if system { 0 } else { workload.count };
        let needed = u64::from(parallelism) * u64::from(count);
        if needed > self.allocs_budget_left {
            self.truncated = true;
            return;
        }
        self.allocs_budget_left -= needed;
        let fans_out = !workload.parallelism.is_always_one()
            || matches!(workload.arrivals, Arrivals::Trace(_));
        let ci_job = self.ci_jobs.len() as u32;
        self.ci_jobs.push(CiJob {
            submit_ms: self.now,
            to_start: parallelism * count,
            to_finish: parallelism * count,
            all_started_ms: None,
            all_finished_ms: None,
        });
        let priority = workload.priority;
        let distinct = workload.distinct_hosts;
        let keep_counts = count > 1 || distinct;
        for fan in 0..parallelism {
            let durations_offset = self.durations.len() as u32;
            for _ in 0..count {
                let d = match fixed_duration {
                    Some(d) => d,
                    None => self.config.workloads[w]
                        .duration
                        .sample_ms(&mut self.workloads[w].duration_rng),
                };
                self.durations.push(d);
            }
            let job = JobId(self.jobs.len() as u32);
            if system {
                self.system_jobs.push(job);
            }
            self.jobs.push(Job {
                workload: w as u32,
                arrival,
                fan_index: fans_out.then_some(fan),
                ci_job,
                submit_ms: self.now,
                priority,
                ask,
                count,
                durations_offset,
                queued: count,
                live: 0,
                complete: 0,
                failed: 0,
                lost: 0,
                pending_indexes: Vec::new(),
                next_index: 0,
                blocked_eval: None,
                open_evals: 0,
                node_counts: (keep_counts || system).then(|| Box::new(NodeCounts::new())),
                failure: None,
            });
            self.queued_allocs += u64::from(count);
            self.emit(|s| TraceEvent::JobSubmitted {
                job: s.job_name(job),
                count,
                ci_job,
            });
            let eval = self.create_eval(job, Trigger::JobRegister, self.now);
            self.enqueue_eval(eval, false);
        }
        self.schedule_next_arrival(w);
    }

    // ----- evals and the broker ----------------------------------------------------------------

    pub(crate) fn create_eval(
        &mut self,
        job: JobId,
        trigger: Trigger,
        wait_until_ms: SimTime,
    ) -> EvalId {
        let id = EvalId(self.evals.len() as u32);
        self.evals.push(Eval {
            job,
            seq: self.next_eval_seq,
            status: EvalStatus::Pending,
            trigger,
            wait_until_ms,
        });
        self.next_eval_seq += 1;
        self.jobs[job.index()].open_evals += 1;
        id
    }

    /// Puts an eval in the broker, or schedules it for its `wait_until` time.
    pub(crate) fn enqueue_eval(&mut self, eval: EvalId, from_bucket: bool) {
        let e = &self.evals[eval.index()];
        if e.wait_until_ms > self.now {
            self.queue
                .push(e.wait_until_ms, EventKind::DelayedEval { eval: eval.0 });
            return;
        }
        let priority = self.jobs[e.job.index()].priority;
        self.broker
            .push(Reverse((u8::MAX - priority, e.seq, eval.0, from_bucket)));
    }

    fn drain_broker(&mut self) {
        while let Some(Reverse((_, _, eval, from_bucket))) = self.broker.pop() {
            self.process_eval(EvalId(eval), from_bucket);
        }
    }

    fn bucket_of(&mut self, job: JobId) -> u32 {
        let j = &self.jobs[job.index()];
        let w = &self.workloads[j.workload as usize];
        let key = BucketKey {
            candidate_set: w.candidate_set,
            constraint_set: w.constraint_set,
            ask: j.ask,
            priority: j.priority,
            job: self.config.workloads[j.workload as usize]
                .distinct_hosts
                .then_some(job),
        };
        if let Some(&b) = self.bucket_index.get(&key) {
            return b;
        }
        let b = self.buckets.len() as u32;
        self.buckets.push(Bucket {
            candidate_set: key.candidate_set,
            constraint_set: key.constraint_set,
            ask: key.ask,
            job: key.job,
            queue: VecDeque::new(),
            in_broker: false,
            dirty: Vec::new(),
        });
        self.bucket_index.insert(key, b);
        b
    }

    fn process_eval(&mut self, eval: EvalId, from_bucket: bool) {
        let job = self.evals[eval.index()].job;
        if self.is_system(job) {
            let nodes = self.candidate_sets
                [self.workloads[self.jobs[job.index()].workload as usize].candidate_set as usize]
                .sorted_members();
            for node in nodes {
                self.place_system_on(job, node, eval);
            }
            self.complete_eval(eval);
            return;
        }
        let bucket = self.bucket_of(job);
        if from_bucket {
            self.buckets[bucket as usize].in_broker = false;
            // Other evals woken at the same moment may have taken the room: check the dirty
            // nodes before paying for a scan, and go back to waiting quietly if none fits.
            let dirty = std::mem::take(&mut self.buckets[bucket as usize].dirty);
            let still: Vec<NodeId> = dirty
                .into_iter()
                .filter(|&n| self.bucket_fits(bucket, n))
                .collect();
            let Some(&node) = still.first() else {
                self.evals[eval.index()].status = EvalStatus::Blocked;
                self.buckets[bucket as usize].queue.push_front(eval);
                self.waiting_buckets.insert(bucket);
                return;
            };
            self.buckets[bucket as usize].dirty = still;
            self.emit(|s| TraceEvent::EvalUnblocked {
                job: s.job_name(job),
                eval: s.eval_uuid(eval),
                node: s.node_name(node).to_string(),
            });
        }
        if self.jobs[job.index()].queued == 0 {
            self.complete_eval(eval);
            if from_bucket {
                self.wake_next_if_dirty(bucket);
            }
            return;
        }
        if !from_bucket && !self.buckets[bucket as usize].queue.is_empty() {
            // The bucket is clean: nothing fits anywhere, so this eval blocks without a scan.
            let metrics = self.blocked_metrics(job);
            self.block_eval(eval, bucket, false, metrics);
            return;
        }
        match self.place_job(job, eval) {
            None => {
                self.complete_eval(eval);
                if from_bucket {
                    self.wake_next_if_dirty(bucket);
                }
            }
            Some(metrics) => {
                self.buckets[bucket as usize].dirty.clear();
                self.block_eval(eval, bucket, from_bucket, metrics);
            }
        }
    }

    fn complete_eval(&mut self, eval: EvalId) {
        let e = &mut self.evals[eval.index()];
        if e.status != EvalStatus::Complete {
            e.status = EvalStatus::Complete;
            let job = &mut self.jobs[e.job.index()];
            job.open_evals -= 1;
            if job.blocked_eval == Some(eval.0) {
                job.blocked_eval = None;
                job.failure = None;
            }
        }
    }

    /// The metrics of a blocked eval that did not scan: what a full scan finds now.
    fn blocked_metrics(&mut self, job: JobId) -> AllocMetric {
        let mut scan = Scan::default();
        match self.select_inner(job, &mut scan, None, false) {
            Err(m) => m,
            Ok((_, m)) => m,
        }
    }

    fn block_eval(&mut self, eval: EvalId, bucket: u32, front: bool, metrics: AllocMetric) {
        let job = self.evals[eval.index()].job;
        self.evals[eval.index()].status = EvalStatus::Blocked;
        self.jobs[job.index()].blocked_eval = Some(eval.0);
        self.jobs[job.index()].failure = Some(Box::new(metrics));
        let b = &mut self.buckets[bucket as usize];
        if front {
            b.queue.push_front(eval);
        } else {
            b.queue.push_back(eval);
        }
        self.waiting_buckets.insert(bucket);
        let queued = self.jobs[job.index()].queued;
        self.emit(|s| TraceEvent::EvalBlocked {
            job: s.job_name(job),
            eval: s.eval_uuid(eval),
            queued,
            metrics: s.jobs[job.index()]
                .failure
                .as_deref()
                .cloned()
                .unwrap_or_default(),
        });
    }

    /// After a woken eval placed everything, wakes the next one while dirty nodes remain; it
    /// checks them on arrival (`process_eval`) and goes back to waiting if none fits.
    fn wake_next_if_dirty(&mut self, bucket: u32) {
        if !self.buckets[bucket as usize].dirty.is_empty() {
            self.wake_head(bucket);
        }
    }

    fn wake_head(&mut self, bucket: u32) {
        let b = &mut self.buckets[bucket as usize];
        if b.in_broker {
            return;
        }
        let Some(eval) = b.queue.pop_front() else {
            return;
        };
        if b.queue.is_empty() {
            self.waiting_buckets.remove(&bucket);
        }
        b.in_broker = true;
        self.evals[eval.index()].status = EvalStatus::Pending;
        self.enqueue_eval(eval, true);
    }

    /// True when the node is a candidate for the bucket and has room for its ask.
    fn bucket_fits(&mut self, bucket: u32, node: NodeId) -> bool {
        let b = &self.buckets[bucket as usize];
        let (set, cs, ask, job) = (b.candidate_set, b.constraint_set, b.ask, b.job);
        self.node_fits(set, cs, ask, job, node)
    }

    /// True when `node` is in the candidate set, has room for `ask`, holds no alloc of the
    /// `distinct_hosts` job `distinct` (if any) and passes the constraint set.
    fn node_fits(
        &mut self,
        candidate_set: u32,
        constraint_set: u32,
        ask: Resources,
        distinct: Option<JobId>,
        node: NodeId,
    ) -> bool {
        if !self.candidate_sets[candidate_set as usize].contains(node)
            || !self.nodes[node.index()].free().covers(ask)
        {
            return false;
        }
        if let Some(job) = distinct {
            let counts = self.jobs[job.index()].node_counts.as_ref();
            if counts.is_some_and(|c| c.get(&node.0).copied().unwrap_or(0) > 0) {
                return false;
            }
        }
        self.constraint_check(constraint_set, node).is_none()
    }

    /// Capacity grew on `node` (an alloc ended, or the node became schedulable): Nomad unblocks
    /// the evals of the node's class. Only buckets whose ask now fits on the node are woken.
    pub(crate) fn capacity_freed(&mut self, node: NodeId) {
        if !is_schedulable(&self.nodes[node.index()]) {
            return;
        }
        self.system_capacity(node);
        if self.waiting_buckets.is_empty() {
            return;
        }
        let mut waiting = std::mem::take(&mut self.scratch_buckets);
        waiting.clear();
        waiting.extend(self.waiting_buckets.iter().copied());
        for &bucket in &waiting {
            if self.bucket_fits(bucket, node) {
                let b = &mut self.buckets[bucket as usize];
                if !b.dirty.contains(&node) {
                    b.dirty.push(node);
                }
                self.wake_head(bucket);
            }
        }
        self.scratch_buckets = waiting;
    }

    // ----- system jobs -------------------------------------------------------------------------

    /// True for jobs of a `system` workload.
    pub(crate) fn is_system(&self, job: JobId) -> bool {
        self.config.workloads[self.jobs[job.index()].workload as usize].job_type == JobType::System
    }

    /// True when the system job may run on the node and has never had an alloc there.
    fn system_wants(&mut self, job: JobId, node: NodeId) -> bool {
        let j = &self.jobs[job.index()];
        let set = self.workloads[j.workload as usize].candidate_set as usize;
        let cs = self.workloads[j.workload as usize].constraint_set;
        let placed_before = j
            .node_counts
            .as_ref()
            .is_some_and(|c| c.contains_key(&node.0));
        !placed_before
            && self.candidate_sets[set].contains(node)
            && self.constraint_check(cs, node).is_none()
    }

    /// Nomad's system scheduler on one node: place the job's alloc there, or note that it
    /// waits for room on that node.
    fn place_system_on(&mut self, job: JobId, node: NodeId, eval: EvalId) {
        if !self.system_wants(job, node) {
            return;
        }
        let ask = self.jobs[job.index()].ask;
        let waiting = self.system_waiting.entry(job).or_default();
        waiting.retain(|&n| n != node);
        if !self.nodes[node.index()].free().covers(ask) {
            waiting.push(node);
            return;
        }
        if waiting.is_empty() {
            self.system_waiting.remove(&job);
        }
        let j = &mut self.jobs[job.index()];
        let index = j.count;
        j.count += 1;
        j.queued += 1;
        j.next_index = j.count;
        self.queued_allocs += 1;
        let metrics = AllocMetric {
            nodes_evaluated: 1,
            ..AllocMetric::default()
        };
        self.place_alloc(job, index, node, None, eval, metrics);
    }

    /// A node gained room or became schedulable: system jobs that wait there, or have never
    /// run there, place their alloc (with an eval of their own, as Nomad's node update does).
    fn system_capacity(&mut self, node: NodeId) {
        for i in 0..self.system_jobs.len() {
            let job = self.system_jobs[i];
            if !self.system_wants(job, node) {
                continue;
            }
            if !self.nodes[node.index()]
                .free()
                .covers(self.jobs[job.index()].ask)
            {
                let waiting = self.system_waiting.entry(job).or_default();
                if !waiting.contains(&node) {
                    waiting.push(node);
                }
                continue;
            }
            let eval = self.create_eval(job, Trigger::NodeUpdate, self.now);
            self.place_system_on(job, node, eval);
            self.complete_eval(eval);
        }
    }

    // ----- placement ---------------------------------------------------------------------------

    fn constraint_check(&mut self, constraint_set: u32, node: NodeId) -> Option<usize> {
        // Most jobs have no constraints: answer before touching the node's properties.
        if self.constraint_sets[constraint_set as usize]
            .constraints
            .is_empty()
        {
            return None;
        }
        let n = &self.nodes[node.index()];
        let pool = &self.config.pools[n.pool as usize];
        let props = NodeProperties {
            id: &n.id,
            name: &n.name,
            datacenter: &pool.datacenter,
            node_class: &pool.node_class,
            pool: &pool.name,
            attributes: &pool.attributes,
            meta: &pool.meta,
        };
        self.constraint_sets[constraint_set as usize].check(n.class_id, &props)
    }

    /// Places the job's queued allocs; returns the failure metrics if some could not be placed.
    fn place_job(&mut self, job: JobId, eval: EvalId) -> Option<AllocMetric> {
        let mut scan = Scan::default();
        while self.jobs[job.index()].queued > 0 {
            let (index, previous) = {
                let j = &mut self.jobs[job.index()];
                match j.pending_indexes.first().copied() {
                    Some(entry) => entry,
                    None => (j.next_index, None),
                }
            };
            let penalty = previous.and_then(|p| {
                let a = &self.allocs[p.index()];
                (a.client == ClientStatus::Failed).then_some(a.node)
            });
            let selected = if self.placer.is_some() {
                self.select_with_placer(job)
            } else {
                self.select_inner(job, &mut scan, penalty, true)
            };
            match selected {
                Ok((node, metrics)) => {
                    let j = &mut self.jobs[job.index()];
                    if j.pending_indexes.is_empty() {
                        j.next_index += 1;
                    } else {
                        j.pending_indexes.remove(0);
                    }
                    self.place_alloc(job, index, node, previous, eval, metrics);
                }
                Err(mut metrics) => {
                    metrics.coalesced_failures = self.jobs[job.index()].queued - 1;
                    return Some(metrics);
                }
            }
        }
        None
    }

    /// One Select by a custom placer; a refusal is reported with a full scan's metrics.
    fn select_with_placer(&mut self, job: JobId) -> Result<(NodeId, AllocMetric), AllocMetric> {
        let mut placer = self.placer.take().expect("a placer is set");
        let mut view = ClusterView {
            sim: self,
            job,
            scan: Scan::default(),
            evaluated: 0,
        };
        let chosen = placer.select(&mut view);
        let evaluated = view.evaluated;
        self.placer = Some(placer);
        match chosen {
            Some(node) if self.fits(job, node) => {
                let metrics = AllocMetric {
                    nodes_evaluated: evaluated,
                    ..AllocMetric::default()
                };
                Ok((node, metrics))
            }
            // A placer that refuses, or picks a node without room, fails the placement.
            _ => Err(self.blocked_metrics(job)),
        }
    }

    /// True when `node` is a candidate for the job and passes every check: constraints,
    /// `distinct_hosts` and resources.
    fn fits(&mut self, job: JobId, node: NodeId) -> bool {
        let j = &self.jobs[job.index()];
        let ws = &self.workloads[j.workload as usize];
        let distinct = self.config.workloads[j.workload as usize]
            .distinct_hosts
            .then_some(job);
        let (set, cs, ask) = (ws.candidate_set, ws.constraint_set, j.ask);
        self.node_fits(set, cs, ask, distinct, node)
    }

    /// One Select: Nomad's iterator chain over the lazily shuffled candidates.
    fn select_inner(
        &mut self,
        job: JobId,
        scan: &mut Scan,
        penalty: Option<NodeId>,
        record_scores: bool,
    ) -> Result<(NodeId, AllocMetric), AllocMetric> {
        let j = &self.jobs[job.index()];
        let workload = &self.config.workloads[j.workload as usize];
        let job_type = workload.job_type;
        let distinct = workload.distinct_hosts;
        let algorithm = self.config.algorithm;
        let ask = j.ask;
        let count = j.count;
        let ws = &self.workloads[j.workload as usize];
        let (set_id, cs_id) = (ws.candidate_set as usize, ws.constraint_set);
        let n = self.candidate_sets[set_id].members.len();
        let limit = select_limit(job_type, n);
        let collect = record_scores && self.collect_scores;
        let mut metrics = AllocMetric::default();
        let mut skipped: [Option<RankedOption>; MAX_SKIP] = [None; MAX_SKIP];
        let mut n_skipped = 0usize;
        let mut returned = 0usize;
        let mut best: Option<RankedOption> = None;
        let mut ranked: Vec<RankedOption> = Vec::new();
        let mut seen = 0usize;
        let consider =
            |opt: RankedOption, best: &mut Option<RankedOption>, ranked: &mut Vec<RankedOption>| {
                if collect {
                    ranked.push(opt);
                }
                if best.is_none_or(|b| opt.score > b.score) {
                    *best = Some(opt);
                }
            };
        while seen < n && returned < limit {
            if scan.offset >= n {
                scan.offset = 0;
            }
            if scan.offset == scan.shuffled {
                let pick = self.placement_rng.gen_range(scan.offset..n);
                self.candidate_sets[set_id].swap(scan.offset, pick);
                scan.shuffled += 1;
            }
            let node = self.candidate_sets[set_id].members[scan.offset];
            scan.offset += 1;
            seen += 1;
            metrics.nodes_evaluated += 1;
            if let Some(i) = self.constraint_check(cs_id, node) {
                let reason = self.constraint_sets[cs_id as usize].constraints[i].describe();
                metrics.filter(&reason);
                continue;
            }
            let collisions = self.jobs[job.index()]
                .node_counts
                .as_ref()
                .map_or(0, |c| c.get(&node.0).copied().unwrap_or(0));
            if distinct && collisions > 0 {
                metrics.filter("distinct_hosts");
                continue;
            }
            let nd = &self.nodes[node.index()];
            let used_after = nd.used.plus(ask);
            if let Some(dim) = nd.allocatable.first_short(used_after) {
                metrics.nodes_exhausted += 1;
                metrics.dimension_exhausted.add(dim);
                continue;
            }
            let fit = fitness(algorithm, nd.allocatable, used_after) / BINPACK_MAX_FIT_SCORE;
            let anti = job_anti_affinity(collisions, count);
            let pen = (penalty == Some(node)).then_some(-1.0);
            let parts = ScoreParts {
                binpack: fit,
                job_anti_affinity: anti,
                node_reschedule_penalty: pen,
            };
            let opt = RankedOption {
                node,
                parts: (fit, anti, pen),
                score: parts.final_score(),
            };
            if n_skipped < MAX_SKIP && opt.score <= SKIP_SCORE_THRESHOLD {
                skipped[n_skipped] = Some(opt);
                n_skipped += 1;
                continue;
            }
            consider(opt, &mut best, &mut ranked);
            returned += 1;
        }
        for opt in skipped.iter().take(n_skipped).flatten() {
            if returned >= limit {
                break;
            }
            consider(*opt, &mut best, &mut ranked);
            returned += 1;
        }
        if collect {
            metrics.scores = ranked
                .iter()
                .map(|o| NodeScore {
                    node: self.nodes[o.node.index()].name.clone(),
                    scores: ScoreParts {
                        binpack: o.parts.0,
                        job_anti_affinity: o.parts.1,
                        node_reschedule_penalty: o.parts.2,
                    },
                    norm_score: o.score,
                })
                .collect();
        }
        match best {
            Some(opt) => Ok((opt.node, metrics)),
            None => Err(metrics),
        }
    }

    fn place_alloc(
        &mut self,
        job: JobId,
        index: u32,
        node: NodeId,
        previous: Option<AllocId>,
        eval: EvalId,
        metrics: AllocMetric,
    ) {
        let id = AllocId(self.allocs.len() as u32);
        let now = self.now;
        let system = self.is_system(job);
        let (ask, duration, submit_ms, ci_job, workload) = {
            let j = &self.jobs[job.index()];
            let w = j.workload as usize;
            let duration = if system {
                self.config.workloads[w]
                    .duration
                    .sample_ms(&mut self.workloads[w].duration_rng)
            } else {
                self.durations[(j.durations_offset + index) as usize]
            };
            (j.ask, duration, j.submit_ms, j.ci_job, j.workload)
        };
        let n = &mut self.nodes[node.index()];
        n.used = n.used.plus(ask);
        n.allocs.push(id);
        let slot = (n.allocs.len() - 1) as u32;
        if n.status == NodeStatus::Ready {
            self.used_total = self.used_total.plus(ask);
        }
        let reschedules = previous.map_or(0, |p| {
            let a = &self.allocs[p.index()];
            a.reschedules + u16::from(a.client == ClientStatus::Failed)
        });
        self.allocs.push(Alloc {
            job,
            index,
            node,
            desired: DesiredStatus::Run,
            client: ClientStatus::Running,
            placed_ms: now,
            ended_ms: None,
            end_reason: None,
            slot,
            previous,
            reschedules,
            eval: eval.0,
        });
        let j = &mut self.jobs[job.index()];
        j.queued -= 1;
        j.live += 1;
        if let Some(counts) = j.node_counts.as_mut() {
            *counts.entry(node.0).or_insert(0) += 1;
        }
        self.queued_allocs -= 1;
        self.running_allocs += 1;
        self.collector.counts.placed += 1;
        if previous.is_none() && !system {
            self.collector.pending.push((submit_ms, now - submit_ms));
            let ci = &mut self.ci_jobs[ci_job as usize];
            ci.to_start -= 1;
            if ci.to_start == 0 {
                ci.all_started_ms = Some(now);
            }
        }
        if let Some(p) = previous {
            let prev = &self.allocs[p.index()];
            if prev.end_reason == Some(EndReason::Migrate) {
                let old_node = prev.node;
                self.queue.push(
                    now + crate::ops::MIGRATE_MIN_HEALTHY_MS,
                    EventKind::MigrateCheck { node: old_node },
                );
            }
        }
        let failure_rate = self.config.workloads[workload as usize].failure_rate;
        let (end, failed) = if failure_rate > 0.0 && self.failure_rng.gen::<f64>() < failure_rate {
            let part = self.failure_rng.gen::<f64>();
            (now + (duration as f64 * part) as SimTime, true)
        } else {
            (now + duration, false)
        };
        self.queue
            .push(end, EventKind::AllocEnd { alloc: id, failed });
        self.emit(|s| TraceEvent::AllocPlaced {
            job: s.job_name(job),
            alloc: s.alloc_uuid(id),
            name: s.alloc_name(id),
            node: s.node_name(node).to_string(),
            pending_ms: now - submit_ms,
            metrics,
        });
    }

    // ----- alloc endings -----------------------------------------------------------------------

    /// Ends a live alloc: frees its resources and updates the counters. Returns false if it had ended.
    pub(crate) fn end_alloc(
        &mut self,
        alloc: AllocId,
        client: ClientStatus,
        reason: EndReason,
    ) -> bool {
        let a = &self.allocs[alloc.index()];
        if a.ended_ms.is_some() {
            return false;
        }
        let (job, node, slot) = (a.job, a.node, a.slot as usize);
        let ask = self.jobs[job.index()].ask;
        let a = &mut self.allocs[alloc.index()];
        a.client = client;
        a.ended_ms = Some(self.now);
        a.end_reason = Some(reason);
        if !matches!(reason, EndReason::Completed | EndReason::Failed) {
            a.desired = DesiredStatus::Stop;
        }
        let n = &mut self.nodes[node.index()];
        n.used = n.used.minus(ask);
        n.allocs.swap_remove(slot);
        if let Some(&moved) = n.allocs.get(slot) {
            self.allocs[moved.index()].slot = slot as u32;
        }
        if self.nodes[node.index()].status == NodeStatus::Ready {
            self.used_total = self.used_total.minus(ask);
        }
        let j = &mut self.jobs[job.index()];
        j.live -= 1;
        match client {
            ClientStatus::Failed => j.failed += 1,
            ClientStatus::Lost => j.lost += 1,
            _ => j.complete += 1,
        }
        let keeps_history = self.config.workloads[j.workload as usize].job_type == JobType::System;
        if let Some(counts) = j.node_counts.as_mut().filter(|_| !keeps_history) {
            if let Some(c) = counts.get_mut(&node.0) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(&node.0);
                }
            }
        }
        self.running_allocs -= 1;
        true
    }

    /// Records that an alloc slot will not run again (for CircleCI makespans).
    pub(crate) fn finish_slot(&mut self, job: JobId) {
        if self.is_system(job) {
            return;
        }
        let ci_job = self.jobs[job.index()].ci_job;
        let ci = &mut self.ci_jobs[ci_job as usize];
        ci.to_finish = ci.to_finish.saturating_sub(1);
        if ci.to_finish == 0 {
            ci.all_finished_ms = Some(self.now);
        }
    }

    /// Queues a replacement for an alloc slot and creates an eval for it.
    pub(crate) fn queue_replacement(
        &mut self,
        alloc: AllocId,
        trigger: Trigger,
        wait_until_ms: SimTime,
    ) {
        let a = &self.allocs[alloc.index()];
        let (job, index) = (a.job, a.index);
        let j = &mut self.jobs[job.index()];
        j.queued += 1;
        j.pending_indexes.push((index, Some(alloc)));
        self.queued_allocs += 1;
        let eval = self.create_eval(job, trigger, wait_until_ms);
        self.enqueue_eval(eval, false);
    }

    fn on_alloc_end(&mut self, alloc: AllocId, failed: bool) {
        let client = if failed {
            ClientStatus::Failed
        } else {
            ClientStatus::Complete
        };
        let reason = if failed {
            EndReason::Failed
        } else {
            EndReason::Completed
        };
        if !self.end_alloc(alloc, client, reason) {
            return;
        }
        let a = &self.allocs[alloc.index()];
        let (job, node) = (a.job, a.node);
        if failed {
            self.collector.counts.failed += 1;
            self.emit(|s| TraceEvent::AllocFailed {
                job: s.job_name(job),
                alloc: s.alloc_uuid(alloc),
                node: s.node_name(node).to_string(),
            });
            if !self.reschedule_failed(alloc) {
                self.finish_slot(job);
            }
        } else {
            self.collector.counts.completed += 1;
            self.emit(|s| TraceEvent::AllocCompleted {
                job: s.job_name(job),
                alloc: s.alloc_uuid(alloc),
                node: s.node_name(node).to_string(),
            });
            self.finish_slot(job);
        }
        self.after_alloc_left(node);
        self.capacity_freed(node);
    }

    /// Applies the job type's reschedule policy to a failed alloc; true if a replacement is queued.
    fn reschedule_failed(&mut self, alloc: AllocId) -> bool {
        let a = &self.allocs[alloc.index()];
        let job_type = self.config.workloads[self.jobs[a.job.index()].workload as usize].job_type;
        match job_type {
            // Batch: one attempt within 24h, after 5s.
            JobType::Batch => {
                if a.reschedules >= 1 {
                    return false;
                }
                let at = self.now + 5_000;
                self.queue_replacement(alloc, Trigger::AllocFailure, at);
                true
            }
            // Service: unlimited, exponential from 30s, capped at 1h.
            JobType::Service => {
                let delay = (30_000u64 << a.reschedules.min(7)).min(HOUR_MS);
                let at = self.now + delay;
                self.queue_replacement(alloc, Trigger::AllocFailure, at);
                true
            }
            JobType::System => false,
        }
    }

    // ----- results -----------------------------------------------------------------------------

    /// The contract's report for the run so far.
    pub fn report(&self) -> Report {
        let c = &self.collector;
        let mut counts = c.counts;
        counts.never_placed = self.queued_allocs;
        let pending: Vec<f64> = c.pending.iter().map(|&(_, p)| p as f64 / 1000.0).collect();
        let waited = c.pending.iter().filter(|&&(_, p)| p > 0).count();
        let waited_fraction = if c.pending.is_empty() {
            0.0
        } else {
            waited as f64 / c.pending.len() as f64
        };
        let start_all: Vec<f64> = self
            .ci_jobs
            .iter()
            .filter_map(|j| j.all_started_ms.map(|t| (t - j.submit_ms) as f64 / 1000.0))
            .collect();
        let makespan: Vec<f64> = self
            .ci_jobs
            .iter()
            .filter_map(|j| j.all_finished_ms.map(|t| (t - j.submit_ms) as f64 / 1000.0))
            .collect();
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let node_hours: f64 = c.node_ms_area.iter().sum::<f64>() / HOUR_MS as f64;
        let cost: f64 = c
            .node_ms_area
            .iter()
            .zip(&self.config.pools)
            .map(|(ms, p)| ms / HOUR_MS as f64 * p.cost_per_hour)
            .sum();
        Report {
            schema_version: 1,
            scenario: self.config.name.clone(),
            seed: self.config.seed,
            algorithm: self.algorithm_name(),
            nomad_version: self.config.nomad_version.to_string(),
            allocations: counts,
            pending_s: metrics::pending_stats(pending),
            waited_fraction: metrics::round_to(waited_fraction, 6),
            ci_jobs: metrics::CiJobStats {
                count: self.ci_jobs.len() as u64,
                start_all_s: metrics::short_stats(start_all),
                makespan_s: metrics::short_stats(makespan),
            },
            utilization: metrics::Utilization {
                cpu_mean: metrics::round_to(ratio(c.cpu_used_area, c.cpu_avail_area), 6),
                memory_mean: metrics::round_to(ratio(c.mem_used_area, c.mem_avail_area), 6),
            },
            node_hours: metrics::round_to(node_hours, 3),
            cost: metrics::round_to(cost, 2),
            wasted_alloc_s: metrics::round_to(c.wasted_ms / 1000.0, 3),
            drains: c.drains.clone(),
            perf: metrics::Perf {
                events: c.events,
                placements: c.counts.placed,
                wall_s: None,
            },
        }
    }

    /// Per-allocation pending samples: (job submission time, pending time), in placement order.
    pub fn pending_samples(&self) -> &[(SimTime, SimTime)] {
        &self.collector.pending
    }

    /// Time-averaged number of queued allocations so far (Little's `Lq`).
    pub fn mean_queued_allocs(&self) -> f64 {
        if self.collector.last_ms == 0 {
            return 0.0;
        }
        self.collector.queued_area / self.collector.last_ms as f64
    }

    /// Time-averaged number of running allocations so far.
    pub fn mean_running_allocs(&self) -> f64 {
        if self.collector.last_ms == 0 {
            return 0.0;
        }
        self.collector.running_area / self.collector.last_ms as f64
    }

    /// The nodes, in creation order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The jobs, in submission order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// The allocations, in placement order.
    pub fn allocs(&self) -> &[Alloc] {
        &self.allocs
    }

    /// The evaluations, in creation order.
    pub fn evals(&self) -> &[Eval] {
        &self.evals
    }

    /// The CircleCI jobs, in arrival order.
    pub fn ci_jobs(&self) -> &[CiJob] {
        &self.ci_jobs
    }

    /// The job's status as Nomad derives it: `running` while any alloc is live, `pending` while
    /// an eval is pending or blocked, `dead` when everything is terminal.
    pub fn job_status(&self, job: JobId) -> JobStatus {
        let j = &self.jobs[job.index()];
        if j.live > 0 {
            JobStatus::Running
        } else if j.open_evals > 0 || j.queued > 0 {
            JobStatus::Pending
        } else {
            JobStatus::Dead
        }
    }

    /// Allocated over available CPU and memory on ready nodes, now.
    pub fn utilization_now(&self) -> (f64, f64) {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        (
            ratio(self.used_total.cpu_mhz, self.avail_total.cpu_mhz),
            ratio(self.used_total.memory_mb, self.avail_total.memory_mb),
        )
    }

    /// Fragmentation now: the share of free CPU and memory (averaged) on schedulable nodes that
    /// sits on nodes where `ask` no longer fits, so it cannot serve the typical request.
    pub fn stranded_fraction(&self, ask: Resources) -> f64 {
        let (mut free_cpu, mut free_mem, mut stranded_cpu, mut stranded_mem) =
            (0u64, 0u64, 0u64, 0u64);
        for n in self.nodes.iter().filter(|n| is_schedulable(n)) {
            let free = n.free();
            free_cpu += free.cpu_mhz;
            free_mem += free.memory_mb;
            if !free.covers(ask) {
                stranded_cpu += free.cpu_mhz;
                stranded_mem += free.memory_mb;
            }
        }
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        (ratio(stranded_cpu, free_cpu) + ratio(stranded_mem, free_mem)) / 2.0
    }

    /// Allocations waiting for placement, across all jobs.
    pub fn queued_allocs_total(&self) -> u64 {
        self.queued_allocs
    }

    /// True while allocations are queued or running.
    pub fn has_outstanding_work(&self) -> bool {
        self.queued_allocs > 0 || self.running_allocs > 0
    }

    pub(crate) fn autoscaler_cooldown_until(&self) -> SimTime {
        self.autoscaler_cooldown_until_ms
    }

    pub(crate) fn set_autoscaler_cooldown(&mut self, until: SimTime) {
        self.autoscaler_cooldown_until_ms = until;
    }
}
