//! The system scheduler: one alloc per eligible node, new nodes included.

#[allow(unused_imports)]
use crate::prelude::*;

impl Simulation {
    /// True for jobs of a `system` workload.
    pub(crate) fn is_system(&self, job: JobId) -> bool {
        self.config.workloads[self.state.jobs[job].workload as usize].job_type == JobType::System
    }

    /// True for jobs the system scheduler places, one alloc per node: system and sysbatch.
    pub(crate) fn is_per_node(&self, job: JobId) -> bool {
        self.config.workloads[self.state.jobs[job].workload as usize]
            .job_type
            .is_per_node()
    }

    /// True when the system job may run on the node and has never had an alloc there.
    pub(crate) fn system_wants(&mut self, job: JobId, node: NodeId) -> bool {
        let j = &self.state.jobs[job];
        let set = self.sources.workloads[j.workload as usize].candidate_set as usize;
        let cs = self.sources.workloads[j.workload as usize].constraint_set;
        let placed_before = j.node_counts.as_ref().is_some_and(|c| c.contains(node.0));
        !placed_before
            && self.server.candidate_sets[set].contains(node)
            && self.constraint_check(cs, node).is_none()
    }

    /// Nomad's system scheduler on one node: place the job's alloc there, or note that it
    /// waits for room on that node.
    pub(crate) fn place_system_on(&mut self, job: JobId, node: NodeId, eval: EvalId) {
        if !self.system_wants(job, node) {
            return;
        }
        let room = self.room_for(job, node);
        let ask = self.state.jobs[job].ask;
        let waiting = self.server.system_waiting.entry(job).or_default();
        waiting.retain(|&n| n != node);
        let mut victims = Vec::new();
        let mut preemption = None;
        if !room {
            // The system stack preempts on the node when the configuration lets it (issue 11).
            match self
                .preemption_enabled(job)
                .then(|| self.find_victims(job, node))
                .flatten()
            {
                Some((v, score)) => {
                    victims = v;
                    preemption = Some(score);
                }
                None => {
                    self.server
                        .system_waiting
                        .entry(job)
                        .or_default()
                        .push(node);
                    return;
                }
            }
        }
        if self
            .server
            .system_waiting
            .get(&job)
            .is_some_and(Vec::is_empty)
        {
            self.server.system_waiting.remove(&job);
        }
        let j = &mut self.state.jobs[job];
        let index = j.count;
        j.count += 1;
        j.queued += 1;
        j.next_index = j.count;
        self.state.queued_allocs += 1;
        let mut metrics = AllocMetric {
            nodes_evaluated: 1,
            ..AllocMetric::default()
        };
        if self.observe.collect_scores {
            self.server.tally.clear();
            metrics.pool = Some(self.pool_metrics(job));
            if let Some(score) = preemption {
                let n = &self.state.nodes[node.index()];
                let binpack = fitness(self.config.algorithm, n.allocatable, n.used.plus(ask))
                    / BINPACK_MAX_FIT_SCORE;
                let scores = ScoreParts {
                    allocation_spread: None,
                    binpack,
                    devices: None,
                    job_anti_affinity: None,
                    node_affinity: None,
                    node_reschedule_penalty: None,
                    preemption: Some(score),
                };
                metrics.scores = vec![NodeScore {
                    node: n.name.clone(),
                    norm_score: scores.final_score(),
                    scores,
                }];
            }
        }
        if !victims.is_empty() {
            self.evict(&victims, self.state.next_alloc_serial);
        }
        self.server.metric = metrics;
        self.place_alloc(job, index, node, None, eval);
    }

    /// A node gained room or became schedulable: each system job that waits there, or has
    /// never run there, gets an eval for that node (Nomad's node-update eval), which goes
    /// through the broker by priority like every other eval. So capacity is offered to the
    /// waiting evals in priority order, system jobs' included.
    pub(crate) fn system_capacity(&mut self, node: NodeId) {
        for i in 0..self.server.system_jobs.len() {
            let job = self.server.system_jobs[i];
            if !self.system_wants(job, node) {
                continue;
            }
            // Nomad creates node evals for system jobs only: a sysbatch job reaches a node
            // only where its own evaluation found no room (its blocked eval, here the waiting
            // list), never a node that joined after it was evaluated.
            if !self.is_system(job)
                && !self
                    .server
                    .system_waiting
                    .get(&job)
                    .is_some_and(|w| w.contains(&node))
            {
                continue;
            }
            // A job that may preempt gets its eval when evictions would make room.
            if !self.room_for(job, node)
                && (!self.preemption_enabled(job) || self.find_victims(job, node).is_none())
            {
                let waiting = self.server.system_waiting.entry(job).or_default();
                if !waiting.contains(&node) {
                    waiting.push(node);
                }
                continue;
            }
            if !self.server.system_pending.insert((job, node)) {
                // An eval for this job and node is already in the broker.
                continue;
            }
            let eval = self.create_eval(job, Trigger::NodeUpdate, self.now);
            self.server.system_eval_node.insert(eval, node);
            self.enqueue_eval(eval, false);
        }
    }

    /// Runs a system job's eval: on its node for a node-update eval, else on every node.
    pub(crate) fn process_system_eval(&mut self, job: JobId, eval: EvalId) {
        if !self.server.plan_preemptions.is_empty() {
            self.server.plan_preemptions.clear();
        }
        if let Some(node) = self.server.system_eval_node.remove(&eval) {
            self.server.system_pending.remove(&(job, node));
            if !self.state.jobs[job].stopped {
                self.place_system_on(job, node, eval);
            }
        } else if self.state.jobs[job].stopped {
            // A stopped job's eval places nothing.
        } else {
            let set = self.sources.workloads[self.state.jobs[job].workload as usize].candidate_set;
            let nodes = self.server.candidate_sets[set as usize].sorted_members();
            for node in nodes {
                self.place_system_on(job, node, eval);
            }
        }
        self.complete_eval(eval);
    }
}
