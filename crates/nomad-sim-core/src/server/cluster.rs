//! Cluster indexes: candidate node sets with a lazy shuffle, computed node classes, the feasibility cache.

use std::collections::BTreeMap;

use crate::config::PoolConfig;
use crate::constraint::{Constraint, NodeProperties};
use crate::ids::NodeId;
use crate::model::{Eligibility, Node, NodeStatus};

const ABSENT: u32 = u32::MAX;

/// Which nodes a job may consider: its Nomad node pool (or all) and its datacenters (globs;
/// empty is all).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CandidateKey {
    /// The Nomad node pool, or `None` for every pool (Nomad's `all`).
    pub pool: Option<String>,
    /// Datacenter glob patterns; empty means `*`.
    pub datacenters: Vec<String>,
}

/// The ready, eligible, non-draining nodes matching one [`CandidateKey`].
///
/// `members` is a permutation that each evaluation shuffles lazily from the front
/// (Fisher–Yates one position at a time), so a Select costs the nodes it visits, not the cluster.
#[derive(Clone, Debug)]
pub struct CandidateSet {
    /// What the set selects.
    pub key: CandidateKey,
    /// The member nodes, in the current permutation.
    pub members: Vec<NodeId>,
    /// Each node's position in `members`, or `u32::MAX`.
    positions: Vec<u32>,
}

impl CandidateSet {
    /// An empty set for `key`.
    pub fn new(key: CandidateKey) -> Self {
        CandidateSet {
            key,
            members: Vec::new(),
            positions: Vec::new(),
        }
    }

    /// True when a node of `pool` matches the key (whatever the node's status).
    pub fn matches(&self, pool: &PoolConfig) -> bool {
        if self.key.pool.as_ref().is_some_and(|p| *p != pool.node_pool) {
            return false;
        }
        self.key.datacenters.is_empty()
            || self
                .key
                .datacenters
                .iter()
                .any(|p| glob_match(p, &pool.datacenter))
    }

    /// True when the node is a member now.
    pub fn contains(&self, node: NodeId) -> bool {
        self.positions
            .get(node.index())
            .is_some_and(|&p| p != ABSENT)
    }

    /// Adds a node (no-op if present).
    pub fn insert(&mut self, node: NodeId) {
        if self.positions.len() <= node.index() {
            self.positions.resize(node.index() + 1, ABSENT);
        }
        if self.positions[node.index()] != ABSENT {
            return;
        }
        self.positions[node.index()] = self.members.len() as u32;
        self.members.push(node);
    }

    /// Removes a node (no-op if absent).
    pub fn remove(&mut self, node: NodeId) {
        let Some(&pos) = self.positions.get(node.index()) else {
            return;
        };
        if pos == ABSENT {
            return;
        }
        let last = *self.members.last().expect("member list holds the node");
        self.members.swap_remove(pos as usize);
        if last != node {
            self.positions[last.index()] = pos;
        }
        self.positions[node.index()] = ABSENT;
    }

    /// Swaps two positions of the permutation.
    pub fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.members.swap(a, b);
        self.positions[self.members[a].index()] = a as u32;
        self.positions[self.members[b].index()] = b as u32;
    }

    /// Members in ascending node order (for order-independent views).
    pub fn sorted_members(&self) -> Vec<NodeId> {
        let mut v = self.members.clone();
        v.sort();
        v
    }
}

/// Glob matching with `*` and `?`, as Nomad matches datacenters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn rec(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => rec(&p[1..], t) || (!t.is_empty() && rec(p, &t[1..])),
            (Some(b'?'), Some(_)) => rec(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => rec(&p[1..], &t[1..]),
            _ => false,
        }
    }
    rec(pattern.as_bytes(), text.as_bytes())
}

/// True when a node may receive placements: ready, eligible, not draining.
pub fn is_schedulable(node: &Node) -> bool {
    node.status == NodeStatus::Ready
        && node.eligibility == Eligibility::Eligible
        && node.drain.is_none()
}

/// A set of constraints that jobs share, with its per-class verdict cache.
#[derive(Clone, Debug)]
pub struct ConstraintSet {
    /// The constraints.
    pub constraints: Vec<Constraint>,
    /// True when some constraint escapes the class cache and is checked on every node.
    pub escaped: bool,
    /// Per computed class: 0 unknown, 1 feasible, 2 + i filtered by constraint i.
    verdicts: Vec<u32>,
}

impl ConstraintSet {
    /// A set of constraints with an empty cache.
    pub fn new(constraints: Vec<Constraint>) -> Self {
        let escaped = constraints.iter().any(Constraint::escapes_class);
        ConstraintSet {
            constraints,
            escaped,
            verdicts: Vec::new(),
        }
    }

    /// Checks a node: `None` when feasible, else the index of the first failing constraint.
    pub fn check(&mut self, class_id: u32, props: &NodeProperties<'_>) -> Option<usize> {
        if self.constraints.is_empty() {
            return None;
        }
        if !self.escaped {
            if let Some(&v) = self.verdicts.get(class_id as usize) {
                match v {
                    0 => {}
                    1 => return None,
                    n => return Some((n - 2) as usize),
                }
            }
        }
        let result = self.constraints.iter().position(|c| !c.check(props));
        if !self.escaped {
            if self.verdicts.len() <= class_id as usize {
                self.verdicts.resize(class_id as usize + 1, 0);
            }
            self.verdicts[class_id as usize] = result.map_or(1, |i| i as u32 + 2);
        }
        result
    }
}

/// Interns computed node classes: datacenter, node class, pool, attributes and meta (without `unique.` keys).
#[derive(Clone, Debug, Default)]
pub struct ClassTable {
    classes: BTreeMap<String, u32>,
}

impl ClassTable {
    /// The class of a node of `pool` in `datacenter`.
    pub fn class_of(&mut self, pool: &PoolConfig, datacenter: &str) -> u32 {
        let mut key = format!("{datacenter}\u{1}{}\u{1}{}", pool.node_class, pool.name);
        for (k, v) in pool
            .attributes
            .iter()
            .filter(|(k, _)| !k.starts_with("unique."))
        {
            key.push_str(&format!("\u{1}a:{k}={v}"));
        }
        for (k, v) in pool.meta.iter().filter(|(k, _)| !k.starts_with("unique.")) {
            key.push_str(&format!("\u{1}m:{k}={v}"));
        }
        let next = self.classes.len() as u32;
        *self.classes.entry(key).or_insert(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "dc1"));
        assert!(glob_match("dc?", "dc1"));
        assert!(glob_match("us-*", "us-east-1"));
        assert!(!glob_match("eu-*", "us-east-1"));
        assert!(glob_match("dc1", "dc1"));
        assert!(!glob_match("dc1", "dc10"));
    }

    #[test]
    fn candidate_set_insert_remove_swap() {
        let mut set = CandidateSet::new(CandidateKey {
            pool: None,
            datacenters: vec![],
        });
        for i in 0..5 {
            set.insert(NodeId(i));
        }
        set.insert(NodeId(2));
        assert_eq!(set.members.len(), 5);
        set.remove(NodeId(1));
        set.remove(NodeId(1));
        assert!(!set.contains(NodeId(1)));
        assert_eq!(set.members.len(), 4);
        set.swap(0, 3);
        for (pos, node) in set.members.clone().iter().enumerate() {
            assert_eq!(set.positions[node.index()] as usize, pos);
        }
        assert_eq!(
            set.sorted_members(),
            vec![NodeId(0), NodeId(2), NodeId(3), NodeId(4)]
        );
    }
}
