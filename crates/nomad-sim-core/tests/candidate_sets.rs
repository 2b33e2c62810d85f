//! Candidate node sets, datacenter globs, schedulability, the per-class constraint cache and
//! computed node classes, worked by hand.

use std::collections::BTreeMap;

use nomad_sim_core::cluster::{
    glob_match, is_schedulable, CandidateKey, CandidateSet, ClassTable, ConstraintSet,
};
use nomad_sim_core::constraint::{Constraint, NodeProperties};
use nomad_sim_core::ids::NodeId;
use nomad_sim_core::model::{ActiveDrain, Eligibility, Node, NodeStatus};
use nomad_sim_core::testing::pool;
use nomad_sim_core::Resources;

fn node(pool: u32) -> Node {
    let r = Resources::new(4_000, 8_192, 100_000);
    Node {
        allocatable: r,
        used: Resources::default(),
        class_id: 0,
        pool,
        name: format!("p{pool}-0"),
        id: "id".to_string(),
        capacity: r,
        reserved: Resources::default(),
        status: NodeStatus::Ready,
        eligibility: Eligibility::Eligible,
        alloc_hint: 0,
        drain: None,
        allocs: Default::default(),
        create_index: 0,
        created_ms: 0,
        terminated_ms: None,
        events: Vec::new(),
        hardware: None,
    }
}

#[test]
fn globs_match_as_nomads_datacenter_patterns() {
    assert!(glob_match("*", "dc1"));
    assert!(glob_match("*", ""));
    assert!(glob_match("", ""));
    assert!(!glob_match("", "dc1"));
    assert!(!glob_match("dc1", ""));
    assert!(glob_match("dc1", "dc1"));
    assert!(!glob_match("dc1", "dc2"));
    assert!(!glob_match("dc1", "dc10"));
    assert!(!glob_match("dc10", "dc1"));
    assert!(glob_match("dc?", "dc7"));
    assert!(!glob_match("dc?", "dc"));
    assert!(!glob_match("dc?", "dc12"));
    assert!(glob_match("us-*", "us-east-1"));
    assert!(glob_match("us-*", "us-"));
    assert!(!glob_match("us-*", "eu-west-1"));
    // A star stands for any run of characters, not for anything at all.
    assert!(glob_match("*-1", "us-east-1"));
    assert!(!glob_match("*-1", "us-east-2"));
    assert!(glob_match("us-*-1", "us-east-1"));
    assert!(!glob_match("us-*-1", "us-east-2"));
    assert!(glob_match("*east*", "us-east-1"));
    assert!(!glob_match("*west*", "us-east-1"));
    assert!(glob_match("a*b*c", "aXbYbZc"));
    assert!(!glob_match("a*b*c", "aXbYbZ"));
}

/// A node group in Nomad node pool `node_pool` and datacenter `dc`.
fn group(node_pool: &str, dc: &str) -> nomad_sim_core::config::PoolConfig {
    let mut p = pool("g", 1, 4_000, 8_192);
    p.node_pool = node_pool.to_string();
    p.datacenter = dc.to_string();
    p
}

#[test]
fn a_key_selects_by_node_pool_and_datacenter() {
    let any = CandidateSet::new(CandidateKey {
        pool: None,
        datacenters: vec![],
    });
    assert!(any.matches(&group("default", "dc1")));
    assert!(any.matches(&group("gpu", "eu-west-1")));
    let gpu = CandidateSet::new(CandidateKey {
        pool: Some("gpu".to_string()),
        datacenters: vec![],
    });
    assert!(gpu.matches(&group("gpu", "dc1")));
    assert!(!gpu.matches(&group("default", "dc1")));
    // Nomad node pools are compared whole, not as prefixes or globs.
    assert!(!gpu.matches(&group("gpu-large", "dc1")));
    let dcs = CandidateSet::new(CandidateKey {
        pool: Some("gpu".to_string()),
        datacenters: vec!["dc1".to_string(), "us-*".to_string()],
    });
    assert!(dcs.matches(&group("gpu", "dc1")));
    assert!(dcs.matches(&group("gpu", "us-east-1")));
    assert!(!dcs.matches(&group("gpu", "dc2")));
    assert!(!dcs.matches(&group("default", "dc1")));
}

#[test]
fn members_and_positions_stay_consistent() {
    let mut set = CandidateSet::new(CandidateKey {
        pool: None,
        datacenters: vec![],
    });
    assert!(!set.contains(NodeId(0)));
    assert!(!set.contains(NodeId(100)));
    // Inserted out of order and with gaps.
    for i in [4, 0, 7, 2] {
        set.insert(NodeId(i));
    }
    set.insert(NodeId(7));
    assert_eq!(
        set.members,
        vec![NodeId(4), NodeId(0), NodeId(7), NodeId(2)]
    );
    for i in [0, 2, 4, 7] {
        assert!(set.contains(NodeId(i)), "node {i}");
    }
    for i in [1, 3, 5, 6, 8] {
        assert!(!set.contains(NodeId(i)), "node {i}");
    }
    // Removing node 0 moves the last member (2) into its place.
    set.remove(NodeId(0));
    assert_eq!(set.members, vec![NodeId(4), NodeId(2), NodeId(7)]);
    assert!(!set.contains(NodeId(0)));
    set.remove(NodeId(0));
    set.remove(NodeId(50));
    assert_eq!(set.members.len(), 3);
    // Removing the last member moves nothing.
    set.remove(NodeId(7));
    assert_eq!(set.members, vec![NodeId(4), NodeId(2)]);
    set.insert(NodeId(0));
    set.swap(0, 2);
    assert_eq!(set.members, vec![NodeId(0), NodeId(2), NodeId(4)]);
    set.swap(1, 1);
    assert_eq!(set.members, vec![NodeId(0), NodeId(2), NodeId(4)]);
    // Positions followed the swap: removing node 0 (now first) moves node 4 to the front.
    set.remove(NodeId(0));
    assert_eq!(set.members, vec![NodeId(4), NodeId(2)]);
    set.remove(NodeId(4));
    assert_eq!(set.members, vec![NodeId(2)]);
    set.insert(NodeId(9));
    set.insert(NodeId(1));
    assert_eq!(set.sorted_members(), vec![NodeId(1), NodeId(2), NodeId(9)]);
    assert_eq!(set.members, vec![NodeId(2), NodeId(9), NodeId(1)]);
}

#[test]
fn schedulable_means_ready_eligible_and_not_draining() {
    assert!(is_schedulable(&node(0)));
    for status in [
        NodeStatus::Initializing,
        NodeStatus::Down,
        NodeStatus::Terminated,
    ] {
        let mut n = node(0);
        n.status = status;
        assert!(!is_schedulable(&n), "{status:?}");
    }
    let mut n = node(0);
    n.eligibility = Eligibility::Ineligible;
    assert!(!is_schedulable(&n));
    let mut n = node(0);
    n.drain = Some(ActiveDrain {
        started_ms: 0,
        deadline_ms: None,
        ignore_system: false,
        record: 0,
        terminate_when_done: false,
    });
    assert!(!is_schedulable(&n));
}

fn props<'a>(
    node_class: &'a str,
    name: &'a str,
    empty: &'a BTreeMap<String, String>,
) -> NodeProperties<'a> {
    NodeProperties {
        id: name,
        name,
        datacenter: "dc1",
        node_class,
        pool: "linux",
        attributes: empty,
        meta: empty,
    }
}

fn c(l: &str, op: &str, r: &str) -> Constraint {
    Constraint::spelled(l, op, r).unwrap()
}

#[test]
fn the_first_verdict_of_a_class_is_reused() {
    let empty = BTreeMap::new();
    let big = props("big", "a", &empty);
    let small = props("small", "b", &empty);
    // Nomad's computed class: nodes of one class share the verdict of constraints that do
    // not name a unique property. Here the class-0 verdict comes from "big" and is reused for
    // the "small" properties given under the same class (as a cache, by construction).
    let mut set = ConstraintSet::new(vec![
        c("${node.datacenter}", "=", "dc1"),
        c("${node.class}", "=", "big"),
    ]);
    assert!(!set.escaped);
    assert_eq!(set.check(0, &big), None);
    assert_eq!(set.check(0, &small), None, "class 0 is feasible");
    assert_eq!(set.check(1, &small), Some(1));
    assert_eq!(set.check(1, &big), Some(1), "class 1 fails constraint 1");
    // A class seen first with a failure on constraint 0.
    let mut first = ConstraintSet::new(vec![
        c("${node.class}", "=", "big"),
        c("${node.datacenter}", "=", "dc1"),
    ]);
    assert_eq!(first.check(3, &small), Some(0));
    assert_eq!(first.check(3, &big), Some(0), "class 3 fails constraint 0");
    assert_eq!(first.check(0, &big), None);
    assert_eq!(first.check(0, &small), None);
}

#[test]
fn a_unique_constraint_is_checked_on_every_node() {
    let empty = BTreeMap::new();
    let a = props("big", "a", &empty);
    let b = props("big", "b", &empty);
    let mut set = ConstraintSet::new(vec![c("${node.unique.name}", "=", "a")]);
    assert!(set.escaped);
    assert_eq!(set.check(0, &a), None);
    assert_eq!(set.check(0, &b), Some(0));
    assert_eq!(set.check(0, &a), None);
    let mut none = ConstraintSet::new(vec![]);
    assert!(!none.escaped);
    assert_eq!(none.check(0, &a), None);
}

#[test]
fn classes_ignore_unique_keys_only() {
    let mut table = ClassTable::default();
    let base = pool("linux", 1, 4_000, 8_192);
    assert_eq!(table.class_of(&base, "dc1"), 0);
    assert_eq!(table.class_of(&base, "dc1"), 0);
    assert_eq!(table.class_of(&base, "dc2"), 1);
    let mut unique = base.clone();
    unique
        .attributes
        .insert("unique.hostname".to_string(), "h1".to_string());
    unique
        .meta
        .insert("unique.serial".to_string(), "s1".to_string());
    assert_eq!(table.class_of(&unique, "dc1"), 0);
    let mut attr = base.clone();
    attr.attributes
        .insert("kernel.name".to_string(), "linux".to_string());
    assert_eq!(table.class_of(&attr, "dc1"), 2);
    let mut meta = base.clone();
    meta.meta.insert("rack".to_string(), "r1".to_string());
    assert_eq!(table.class_of(&meta, "dc1"), 3);
    let mut class = base.clone();
    class.node_class = "gpu".to_string();
    assert_eq!(table.class_of(&class, "dc1"), 4);
    let other = pool("windows", 1, 4_000, 8_192);
    assert_eq!(table.class_of(&other, "dc1"), 5);
    assert_eq!(table.class_of(&attr, "dc1"), 2);
}
