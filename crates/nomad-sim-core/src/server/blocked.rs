//! Blocked evals: buckets of evals waiting for the same capacity, and unblocking.

#[allow(unused_imports)]
use crate::prelude::*;
use std::sync::Arc;

/// Jobs that wait for the same thing: same candidate nodes, constraints, ask and priority.
///
/// Every blocked eval sits in exactly one bucket. The bucket keeps Nomad's order (priority,
/// then creation) and one fact that makes unblocking cheap: when the bucket is *clean*, no
/// candidate node fits its ask, so an eval of the bucket cannot place anything and need not run.
/// Capacity freed on a node that fits the ask makes the bucket dirty and wakes its head.
#[derive(Clone, Debug)]
pub(crate) struct Bucket {
    pub(crate) candidate_set: u32,
    pub(crate) constraint_set: u32,
    pub(crate) ask: Resources,
    /// The only job the bucket serves, for `distinct_hosts` jobs.
    pub(crate) job: Option<JobId>,
    /// The only workload the bucket serves, when its group asks for ports, devices or cores.
    pub(crate) hardware: Option<u32>,
    /// Blocked evals, oldest first.
    pub(crate) queue: VecDeque<EvalId>,
    /// True while the bucket's head is in the broker.
    pub(crate) in_broker: bool,
    /// Nodes whose capacity grew since the bucket was last found to fit nowhere.
    pub(crate) dirty: Vec<NodeId>,
    /// What the last full scan that found no room saw: the metrics of the bucket's blocked evals.
    pub(crate) failure: Option<Arc<AllocMetric>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct BucketKey {
    pub(crate) candidate_set: u32,
    pub(crate) constraint_set: u32,
    pub(crate) ask: Resources,
    pub(crate) priority: u8,
    pub(crate) job: Option<JobId>,
    pub(crate) hardware: Option<u32>,
}

/// The blocked evals, in buckets.
#[derive(Debug, Default)]
pub(crate) struct Blocked {
    pub(crate) buckets: Vec<Bucket>,
    pub(crate) bucket_index: BTreeMap<BucketKey, u32>,
    /// Buckets holding blocked evals.
    pub(crate) waiting_buckets: BTreeSet<u32>,
    /// Reused buffer for iterating `waiting_buckets` while waking them.
    pub(crate) scratch_buckets: Vec<u32>,
    /// Buckets of collected `distinct_hosts` jobs, for reuse.
    pub(crate) free_buckets: Vec<u32>,
}

impl Simulation {
    fn bucket_key(&self, job: JobId) -> BucketKey {
        let j = &self.state.jobs[job];
        let w = &self.sources.workloads[j.workload as usize];
        BucketKey {
            candidate_set: w.candidate_set,
            constraint_set: w.constraint_set,
            ask: j.ask,
            priority: j.priority,
            job: self.config.workloads[j.workload as usize]
                .distinct_hosts
                .then_some(job),
            hardware: w.hardware.then_some(j.workload),
        }
    }

    /// The bucket the job's evals wait in, created on first use. A bucket whose key is its
    /// workload's alone is remembered by the workload: only `distinct_hosts` buckets are ever
    /// freed, so it stays the workload's.
    pub(crate) fn bucket_of(&mut self, job: JobId) -> u32 {
        let w = self.state.jobs[job].workload as usize;
        if let Some(b) = self.sources.workloads[w].bucket {
            return b;
        }
        let key = self.bucket_key(job);
        let b = self.bucket_by_key(key);
        let per_job_ask = matches!(
            self.config.workloads[w].arrivals.timing(),
            crate::config::Arrivals::Trace(_)
        );
        if key.job.is_none() && !per_job_ask {
            self.sources.workloads[w].bucket = Some(b);
        }
        b
    }

    /// The bucket of `key`, created on first use.
    fn bucket_by_key(&mut self, key: BucketKey) -> u32 {
        if let Some(&b) = self.server.blocked.bucket_index.get(&key) {
            return b;
        }
        let bucket = Bucket {
            candidate_set: key.candidate_set,
            constraint_set: key.constraint_set,
            ask: key.ask,
            job: key.job,
            hardware: key.hardware,
            queue: VecDeque::new(),
            in_broker: false,
            dirty: Vec::new(),
            failure: None,
        };
        let blocked = &mut self.server.blocked;
        let b = match blocked.free_buckets.pop() {
            Some(b) => {
                blocked.buckets[b as usize] = bucket;
                b
            }
            None => {
                blocked.buckets.push(bucket);
                (blocked.buckets.len() - 1) as u32
            }
        };
        blocked.bucket_index.insert(key, b);
        b
    }

    /// A job is being collected: a bucket that served only it (`distinct_hosts`) is freed.
    pub(crate) fn forget_job(&mut self, job: JobId) {
        let workload = self.state.jobs[job].workload as usize;
        if !self.config.workloads[workload].distinct_hosts {
            return;
        }
        let key = self.bucket_key(job);
        let blocked = &mut self.server.blocked;
        if let Some(b) = blocked.bucket_index.remove(&key) {
            let bucket = &mut blocked.buckets[b as usize];
            assert!(
                bucket.queue.is_empty() && !bucket.in_broker,
                "a dead job has no eval waiting"
            );
            bucket.dirty = Vec::new();
            bucket.failure = None;
            blocked.free_buckets.push(b);
        }
    }

    /// The metrics of an eval that joins a clean bucket: what the bucket's last full scan
    /// found, since nothing fits anywhere and no node changed in a way that matters. Scanning
    /// again would cost the whole cluster per eval on a saturated cluster.
    pub(crate) fn bucket_metrics(&mut self, bucket: u32, job: JobId) -> Arc<AllocMetric> {
        let queued = self.state.jobs[job].queued;
        let metrics = match &self.server.blocked.buckets[bucket as usize].failure {
            Some(stored) => Arc::clone(stored),
            None => {
                let mut m = self.blocked_metrics(job);
                if self.observe.collect_scores {
                    m.pool = Some(self.pool_metrics(job));
                }
                Arc::new(m)
            }
        };
        with_coalesced(metrics, queued.saturating_sub(1))
    }

    /// Places a job's queued allocs for an eval of `bucket`. A woken eval scans only the
    /// bucket's dirty nodes (no other node can fit) and, if room runs out, reports the
    /// bucket's last full-scan metrics; a fresh eval scans the cluster and, on failure, leaves
    /// its metrics with the bucket.
    pub(crate) fn place_in_bucket(
        &mut self,
        job: JobId,
        eval: EvalId,
        bucket: u32,
        woken: bool,
    ) -> Option<Arc<AllocMetric>> {
        if woken && self.server.placer.is_none() {
            self.server.restrict = Some(self.server.blocked.buckets[bucket as usize].dirty.clone());
        }
        let failed = self.place_job(job, eval);
        let restricted = self.server.restrict.take().is_some();
        let metrics = failed?;
        let b = &mut self.server.blocked.buckets[bucket as usize];
        Some(match (&b.failure, restricted) {
            (Some(stored), true) => with_coalesced(Arc::clone(stored), metrics.coalesced_failures),
            _ => {
                let metrics = Arc::new(metrics);
                b.failure = Some(Arc::clone(&metrics));
                metrics
            }
        })
    }

    /// The metrics of a blocked eval that did not scan: what a full scan finds now.
    pub(crate) fn blocked_metrics(&mut self, job: JobId) -> AllocMetric {
        self.scan_all(job);
        std::mem::take(&mut self.server.metric)
    }

    /// A Select from a fresh shuffle that records no scores, leaving its metrics in
    /// `self.server.metric`: what a scan of the cluster finds now.
    pub(crate) fn scan_all(&mut self, job: JobId) -> Option<NodeId> {
        self.select_inner(job, &mut Scan::default(), None, false)
    }

    /// Blocks the job's remaining placements. A blocked eval that failed again (`reblock`)
    /// is re-blocked in place, at the front of its bucket; any other eval completes and
    /// creates a new blocked eval (trigger `queued-allocs`), which waits behind the bucket's
    /// older evals and cancels the job's older blocked eval, if any, as Nomad's leader
    /// cancels duplicate blocked evals.
    pub(crate) fn block_eval(
        &mut self,
        failed: EvalId,
        bucket: u32,
        reblock: bool,
        metrics: Arc<AllocMetric>,
    ) {
        let job = self.state.evals[failed].job;
        let eval = if reblock {
            let evals = &self.state.evals;
            if self.state.jobs[job]
                .blocked_eval
                .is_some_and(|e| e != failed && evals[e].status == EvalStatus::Blocked)
            {
                // A newer blocked eval of the job came while this one was woken: it stays,
                // with the newest failure, and this one is the duplicate.
                self.state.jobs[job].failure = Some(metrics);
                self.finish_eval(failed, EvalStatus::Canceled);
                return;
            }
            failed
        } else {
            let blocked = self.create_eval(job, Trigger::QueuedAllocs, self.now);
            let (failed_seq, blocked_seq) =
                (self.state.evals[failed].seq, self.state.evals[blocked].seq);
            self.state.evals[blocked].previous = Some(failed_seq);
            self.state.evals[failed].blocked = Some(blocked_seq);
            if let Some(older) = self.state.jobs[job].blocked_eval {
                self.cancel_blocked_eval(older, bucket);
            }
            self.complete_eval(failed);
            blocked
        };
        self.state.evals[eval].status = EvalStatus::Blocked;
        self.state.jobs[job].blocked_eval = Some(eval);
        self.state.jobs[job].failure = Some(metrics);
        let b = &mut self.server.blocked.buckets[bucket as usize];
        if reblock {
            b.queue.push_front(eval);
        } else {
            b.queue.push_back(eval);
        }
        self.server.blocked.waiting_buckets.insert(bucket);
        let queued = self.state.jobs[job].queued;
        self.emit(|s| TraceEvent::EvalBlocked {
            job: s.job_name(job),
            eval: s.eval_uuid(eval),
            queued,
            metrics: s.state.jobs[job]
                .failure
                .as_deref()
                .cloned()
                .unwrap_or_default(),
        });
    }

    /// Cancels a job's blocked eval (superseded by a newer one, or its job stopped) and takes
    /// it out of its bucket. An eval already woken (in the broker) is left to run: it finds
    /// the work done or blocks again.
    pub(crate) fn cancel_blocked_eval(&mut self, older: EvalId, bucket: u32) {
        if self.state.evals[older].status != EvalStatus::Blocked {
            return;
        }
        let b = &mut self.server.blocked.buckets[bucket as usize];
        let at = b
            .queue
            .iter()
            .position(|&e| e == older)
            .expect("a blocked eval waits in its job's bucket");
        b.queue.remove(at);
        if b.queue.is_empty() {
            self.server.blocked.waiting_buckets.remove(&bucket);
        }
        self.finish_eval(older, EvalStatus::Canceled);
    }

    /// After a woken eval placed everything, wakes the next one while dirty nodes remain; it
    /// checks them on arrival (`process_eval`) and goes back to waiting if none fits.
    pub(crate) fn wake_next_if_dirty(&mut self, bucket: u32) {
        if !self.server.blocked.buckets[bucket as usize]
            .dirty
            .is_empty()
        {
            self.wake_head(bucket);
        }
    }

    pub(crate) fn wake_head(&mut self, bucket: u32) {
        let b = &mut self.server.blocked.buckets[bucket as usize];
        if b.in_broker {
            return;
        }
        let Some(eval) = b.queue.pop_front() else {
            return;
        };
        if b.queue.is_empty() {
            self.server.blocked.waiting_buckets.remove(&bucket);
        }
        b.in_broker = true;
        self.state.evals[eval].status = EvalStatus::Pending;
        self.enqueue_eval(eval, true);
    }

    /// True when the node is a candidate for the bucket and has room for its ask.
    pub(crate) fn bucket_fits(&mut self, bucket: u32, node: NodeId) -> bool {
        let b = &self.server.blocked.buckets[bucket as usize];
        let (set, cs, ask, job) = (b.candidate_set, b.constraint_set, b.ask, b.job);
        let hardware = b.hardware;
        self.node_fits(set, cs, ask, job, hardware, node)
    }

    /// True when `node` is in the candidate set, has room for `ask` (and for the ports,
    /// devices and cores of workload `hardware`, if any), holds no alloc of the
    /// `distinct_hosts` job `distinct` (if any) and passes the constraint set.
    pub(crate) fn node_fits(
        &mut self,
        candidate_set: u32,
        constraint_set: u32,
        ask: Resources,
        distinct: Option<JobId>,
        hardware: Option<u32>,
        node: NodeId,
    ) -> bool {
        if !self.server.candidate_sets[candidate_set as usize].contains(node)
            || !self.state.nodes[node.index()].free().covers(ask)
        {
            return false;
        }
        if let Some(w) = hardware {
            if !self.hardware_fits(w as usize, ask, node) {
                return false;
            }
        }
        if let Some(job) = distinct {
            let counts = self.state.jobs[job].node_counts.as_ref();
            if counts.is_some_and(|c| c.contains(node.0)) {
                return false;
            }
        }
        self.constraint_check(constraint_set, node).is_none()
    }

    /// Capacity grew on `node` (an alloc ended, or the node became schedulable): Nomad unblocks
    /// the evals of the node's class. Only buckets whose ask now fits on the node are woken.
    pub(crate) fn capacity_freed(&mut self, node: NodeId) {
        if !is_schedulable(&self.state.nodes[node.index()]) {
            return;
        }
        self.system_capacity(node);
        if self.server.blocked.waiting_buckets.is_empty() {
            return;
        }
        let mut waiting = std::mem::take(&mut self.server.blocked.scratch_buckets);
        waiting.clear();
        waiting.extend(self.server.blocked.waiting_buckets.iter().copied());
        for &bucket in &waiting {
            if self.bucket_fits(bucket, node) {
                let b = &mut self.server.blocked.buckets[bucket as usize];
                if !b.dirty.contains(&node) {
                    b.dirty.push(node);
                }
                self.wake_head(bucket);
            }
        }
        self.server.blocked.scratch_buckets = waiting;
    }
}

/// Failure metrics with `coalesced` placements not attempted. Evals of a bucket share one
/// copy of its last scan's metrics; a copy is made only for a different count.
fn with_coalesced(mut metrics: Arc<AllocMetric>, coalesced: u32) -> Arc<AllocMetric> {
    if metrics.coalesced_failures != coalesced {
        Arc::make_mut(&mut metrics).coalesced_failures = coalesced;
    }
    metrics
}
