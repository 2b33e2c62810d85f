//! Nomad's node affinity iterator: the `node-affinity` score, cached per computed node class.

use crate::config::Affinity;
use crate::constraint::NodeProperties;
use crate::placement::{ScoreInput, Scorer};

/// The `node-affinity` scorer for one node: the sum of the weights of the affinities the node
/// satisfies over the sum of their absolute weights. Nomad appends it (0 included) whenever
/// the job has any affinity.
#[derive(Clone, Copy)]
pub struct NodeAffinityScorer<'a> {
    /// The job's, group's and tasks' affinities.
    pub affinities: &'a [Affinity],
    /// The node scored.
    pub node: &'a NodeProperties<'a>,
}

impl Scorer for NodeAffinityScorer<'_> {
    const NAME: &'static str = "node-affinity";

    fn score(&self, _input: &ScoreInput) -> Option<f64> {
        if self.affinities.is_empty() {
            return None;
        }
        let sum: f64 = self
            .affinities
            .iter()
            .map(|a| f64::from(a.weight).abs())
            .sum();
        let mut total = 0.0;
        for a in self.affinities {
            if a.constraint.check(self.node) {
                total += f64::from(a.weight);
            }
        }
        Some(total / sum)
    }
}

/// A workload's affinities with the score per computed node class (unless one names a
/// `unique.` property, when every node is scored).
#[derive(Clone, Debug)]
pub(crate) struct AffinitySet {
    affinities: Vec<Affinity>,
    escaped: bool,
    /// Per computed class: the score, or NaN when not computed yet.
    by_class: Vec<f64>,
}

impl AffinitySet {
    pub(crate) fn new(affinities: &[Affinity]) -> AffinitySet {
        AffinitySet {
            escaped: affinities.iter().any(|a| a.constraint.escapes_class()),
            affinities: affinities.to_vec(),
            by_class: Vec::new(),
        }
    }

    /// The node's `node-affinity` score.
    pub(crate) fn score(
        &mut self,
        class_id: u32,
        node: &NodeProperties<'_>,
        input: &ScoreInput,
    ) -> f64 {
        let c = class_id as usize;
        if !self.escaped {
            if let Some(&s) = self.by_class.get(c) {
                if !s.is_nan() {
                    return s;
                }
            }
        }
        let s = NodeAffinityScorer {
            affinities: &self.affinities,
            node,
        }
        .score(input)
        .expect("an affinity set is not empty");
        if !self.escaped {
            if self.by_class.len() <= c {
                self.by_class.resize(c + 1, f64::NAN);
            }
            self.by_class[c] = s;
        }
        s
    }
}
