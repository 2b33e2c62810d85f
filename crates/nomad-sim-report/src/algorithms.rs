//! Placement algorithms to compare: Nomad's own (binpack, spread, as the core places them) and
//! baselines, each one small type implementing [`Placer`].

use nomad_sim_core::config::SimConfig;
use nomad_sim_core::ids::NodeId;
use nomad_sim_core::{Algorithm, ClusterView, Placer, Simulation};

/// Exhaustive best fit: score every feasible node with Nomad's binpack fitness, take the best.
pub struct BestFit;

impl Placer for BestFit {
    fn name(&self) -> String {
        "best-fit".to_string()
    }
    fn select(&mut self, view: &mut ClusterView<'_>) -> Option<NodeId> {
        best_by(view, |v, n| v.fitness(Algorithm::Binpack, n))
    }
}

/// Exhaustive worst fit: the feasible node with the most room left (Nomad's spread fitness).
pub struct WorstFit;

impl Placer for WorstFit {
    fn name(&self) -> String {
        "worst-fit".to_string()
    }
    fn select(&mut self, view: &mut ClusterView<'_>) -> Option<NodeId> {
        best_by(view, |v, n| v.fitness(Algorithm::Spread, n))
    }
}

/// First fit: the first feasible node in creation order.
pub struct FirstFit;

impl Placer for FirstFit {
    fn name(&self) -> String {
        "first-fit".to_string()
    }
    fn select(&mut self, view: &mut ClusterView<'_>) -> Option<NodeId> {
        (0..view.node_count() as u32)
            .map(NodeId)
            .find(|&n| view.is_candidate(n) && view.fits(n))
    }
}

/// Random: the first feasible node in a uniformly random order.
pub struct RandomFit;

impl Placer for RandomFit {
    fn name(&self) -> String {
        "random".to_string()
    }
    fn select(&mut self, view: &mut ClusterView<'_>) -> Option<NodeId> {
        while let Some(n) = view.next_random() {
            if view.fits(n) {
                return Some(n);
            }
        }
        None
    }
}

/// CPU/memory alignment (Tetris, Panigrahy et al.'s DotProduct): the feasible node maximising
/// the dot product of the ask and the node's free resources, both normalised by capacity.
pub struct DotProduct;

impl Placer for DotProduct {
    fn name(&self) -> String {
        "dot-product".to_string()
    }
    fn select(&mut self, view: &mut ClusterView<'_>) -> Option<NodeId> {
        let ask = view.ask();
        best_by(view, move |v, n| {
            let node = v.node(n);
            let cap = node.allocatable;
            let free = node.free();
            let norm = |x: u64, c: u64| if c == 0 { 0.0 } else { x as f64 / c as f64 };
            norm(ask.cpu_mhz, cap.cpu_mhz) * norm(free.cpu_mhz, cap.cpu_mhz)
                + norm(ask.memory_mb, cap.memory_mb) * norm(free.memory_mb, cap.memory_mb)
        })
    }
}

/// Nomad's binpack with another candidate limit: score the first `limit` feasible nodes of a
/// random order and take the best (Nomad uses 2 for batch jobs).
pub struct BinpackLimit {
    /// Feasible nodes scored per placement.
    pub limit: usize,
}

impl Placer for BinpackLimit {
    fn name(&self) -> String {
        format!("binpack-limit-{}", self.limit)
    }
    fn select(&mut self, view: &mut ClusterView<'_>) -> Option<NodeId> {
        let mut best: Option<(f64, NodeId)> = None;
        let mut seen = 0;
        while let Some(n) = view.next_random() {
            if !view.fits(n) {
                continue;
            }
            let score = view.fitness(Algorithm::Binpack, n);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, n));
            }
            seen += 1;
            if seen == self.limit {
                break;
            }
        }
        best.map(|(_, n)| n)
    }
}

/// The feasible node with the highest `score`, first in creation order on ties.
fn best_by(
    view: &mut ClusterView<'_>,
    score: impl Fn(&ClusterView<'_>, NodeId) -> f64,
) -> Option<NodeId> {
    let mut best: Option<(f64, NodeId)> = None;
    for n in (0..view.node_count() as u32).map(NodeId) {
        if !view.is_candidate(n) || !view.fits(n) {
            continue;
        }
        let s = score(view, n);
        if best.is_none_or(|(b, _)| s > b) {
            best = Some((s, n));
        }
    }
    best.map(|(_, n)| n)
}

/// The algorithms `nomad-sim-report` knows, by name.
pub const NAMES: [&str; 9] = [
    "binpack",
    "spread",
    "best-fit",
    "worst-fit",
    "first-fit",
    "random",
    "dot-product",
    "binpack-limit-4",
    "binpack-limit-8",
];

/// What an algorithm name means: Nomad's own stack, or a placer.
pub enum Choice {
    /// Nomad's stack with this scheduler algorithm.
    Nomad(Algorithm),
    /// A baseline placer.
    Custom(Box<dyn Placer>),
}

/// Resolves an algorithm name (`binpack-limit-N` takes any N ≥ 1).
pub fn by_name(name: &str) -> Option<Choice> {
    Some(match name {
        "binpack" => Choice::Nomad(Algorithm::Binpack),
        "spread" => Choice::Nomad(Algorithm::Spread),
        "best-fit" => Choice::Custom(Box::new(BestFit)),
        "worst-fit" => Choice::Custom(Box::new(WorstFit)),
        "first-fit" => Choice::Custom(Box::new(FirstFit)),
        "random" => Choice::Custom(Box::new(RandomFit)),
        "dot-product" => Choice::Custom(Box::new(DotProduct)),
        other => {
            let limit: usize = other.strip_prefix("binpack-limit-")?.parse().ok()?;
            if limit == 0 {
                return None;
            }
            Choice::Custom(Box::new(BinpackLimit { limit }))
        }
    })
}

/// Switches a running simulation to the algorithm `name`; false for an unknown name.
pub fn switch(sim: &mut Simulation, name: &str) -> bool {
    match by_name(name) {
        None => false,
        Some(Choice::Nomad(_)) if name == sim.config().algorithm.as_str() => {
            sim.set_placer(None);
            true
        }
        // Nomad's other algorithm is a config setting, fixed for the run: not switchable.
        Some(Choice::Nomad(_)) => false,
        Some(Choice::Custom(placer)) => {
            sim.set_placer(Some(placer));
            true
        }
    }
}

/// A simulation of `config` placed by the algorithm `name`, or `None` for an unknown name.
pub fn simulation(mut config: SimConfig, name: &str) -> Option<Simulation> {
    Some(match by_name(name)? {
        Choice::Nomad(a) => {
            config.algorithm = a;
            Simulation::new(config)
        }
        Choice::Custom(placer) => Simulation::with_placer(config, placer),
    })
}
