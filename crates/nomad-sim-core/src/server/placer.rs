//! Custom placement algorithms: the `Placer` trait and the view of the cluster it gets.

#[allow(unused_imports)]
use crate::prelude::*;

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
        let j = &self.sim.state.jobs[self.job];
        self.sim.sources.workloads[j.workload as usize].candidate_set as usize
    }

    /// The ask of one allocation.
    pub fn ask(&self) -> Resources {
        self.sim.state.jobs[self.job].ask
    }

    /// The job type.
    pub fn job_type(&self) -> JobType {
        let j = &self.sim.state.jobs[self.job];
        self.sim.config.workloads[j.workload as usize].job_type
    }

    /// The number of candidate nodes (ready, eligible, not draining, in the job's pool and datacenters).
    pub fn candidate_count(&self) -> usize {
        self.sim.server.candidate_sets[self.set()].members.len()
    }

    /// Nodes ever created; node IDs run from 0 to this, in creation order.
    pub fn node_count(&self) -> usize {
        self.sim.state.nodes.len()
    }

    /// True when the node is a candidate for this job (ready, eligible, not draining, in the
    /// job's pool and datacenters). With [`ClusterView::node_count`] this gives a scan in
    /// creation order without sorting or allocating.
    pub fn is_candidate(&self, node: NodeId) -> bool {
        self.sim.server.candidate_sets[self.set()].contains(node)
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
        let n = self.sim.server.candidate_sets[set].members.len();
        if self.scan.offset >= n {
            return None;
        }
        let pick = self.sim.server.placement_rng.gen_range(self.scan.offset..n);
        self.sim.server.candidate_sets[set].swap(self.scan.offset, pick);
        let node = self.sim.server.candidate_sets[set].members[self.scan.offset];
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
        &self.sim.state.nodes[node.index()]
    }

    /// Allocs of this job already on the node.
    pub fn collisions(&self, node: NodeId) -> u32 {
        self.sim.state.jobs[self.job]
            .node_counts
            .as_ref()
            .map_or(0, |c| c.get(node.0))
    }

    /// Nomad's normalised fitness (0..1) of the node after adding the ask.
    pub fn fitness(&self, algorithm: crate::Algorithm, node: NodeId) -> f64 {
        let n = &self.sim.state.nodes[node.index()];
        fitness(algorithm, n.allocatable, n.used.plus(self.ask())) / BINPACK_MAX_FIT_SCORE
    }

    /// The placement random stream, for algorithms that draw.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.sim.server.placement_rng
    }
}

impl Simulation {
    /// One Select by a custom placer; a refusal is reported with a full scan's metrics. The
    /// metrics are left in `self.server.metric`, as [`Simulation::select_inner`] leaves them.
    pub(crate) fn select_with_placer(&mut self, job: JobId) -> Option<NodeId> {
        let mut placer = self.server.placer.take().expect("a placer is set");
        let mut view = ClusterView {
            sim: self,
            job,
            scan: Scan::default(),
            evaluated: 0,
        };
        let chosen = placer.select(&mut view);
        let evaluated = view.evaluated;
        self.server.placer = Some(placer);
        match chosen {
            Some(node) if self.fits(job, node) => {
                self.server.metric.reset();
                self.server.metric.nodes_evaluated = evaluated;
                Some(node)
            }
            // A placer that refuses, or picks a node without room, fails the placement.
            _ => {
                self.scan_all(job);
                None
            }
        }
    }
}
