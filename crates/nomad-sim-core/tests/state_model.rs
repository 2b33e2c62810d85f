//! The state model's words (Nomad's status, trigger and reason strings), a node's free
//! resources, an alloc's resources, and the generational arena.

use nomad_sim_core::hardware::HardwareOffer;
use nomad_sim_core::ids::{AllocId, ArenaId, JobId, NodeId};
use nomad_sim_core::model::{
    Alloc, AllocExtra, ClientStatus, DesiredStatus, Eligibility, EndReason, JobStatus, Node,
    NodeStatus, Trigger,
};
use nomad_sim_core::state::arena::Arena;
use nomad_sim_core::Resources;

#[test]
fn statuses_use_nomads_words() {
    assert_eq!(NodeStatus::Initializing.as_str(), "initializing");
    assert_eq!(NodeStatus::Ready.as_str(), "ready");
    assert_eq!(NodeStatus::Down.as_str(), "down");
    // A terminated node shows as down until it is garbage-collected.
    assert_eq!(NodeStatus::Terminated.as_str(), "down");
    assert_eq!(Eligibility::Eligible.as_str(), "eligible");
    assert_eq!(Eligibility::Ineligible.as_str(), "ineligible");
    assert_eq!(DesiredStatus::Run.as_str(), "run");
    assert_eq!(DesiredStatus::Stop.as_str(), "stop");
    assert_eq!(DesiredStatus::Evict.as_str(), "evict");
    assert_eq!(ClientStatus::Pending.as_str(), "pending");
    assert_eq!(ClientStatus::Running.as_str(), "running");
    assert_eq!(ClientStatus::Complete.as_str(), "complete");
    assert_eq!(ClientStatus::Failed.as_str(), "failed");
    assert_eq!(ClientStatus::Lost.as_str(), "lost");
    assert_eq!(JobStatus::Pending.as_str(), "pending");
    assert_eq!(JobStatus::Running.as_str(), "running");
    assert_eq!(JobStatus::Dead.as_str(), "dead");
}

#[test]
fn triggers_and_end_reasons_use_their_trace_names() {
    assert_eq!(Trigger::JobRegister.as_str(), "job-register");
    assert_eq!(Trigger::QueuedAllocs.as_str(), "queued-allocs");
    assert_eq!(Trigger::NodeDrain.as_str(), "node-drain");
    assert_eq!(Trigger::NodeUpdate.as_str(), "node-update");
    assert_eq!(Trigger::AllocFailure.as_str(), "alloc-failure");
    assert_eq!(Trigger::Preemption.as_str(), "preemption");
    assert_eq!(EndReason::Completed.as_str(), "completed");
    assert_eq!(EndReason::Failed.as_str(), "failed");
    assert_eq!(EndReason::DrainDeadline.as_str(), "drain_deadline");
    assert_eq!(EndReason::ForceDrain.as_str(), "force_drain");
    assert_eq!(EndReason::Migrate.as_str(), "migrate");
    assert_eq!(EndReason::NodeDown.as_str(), "node_down");
    assert_eq!(EndReason::NodeTerminated.as_str(), "node_terminated");
    assert_eq!(EndReason::JobStopped.as_str(), "job_stopped");
    assert_eq!(EndReason::Preempted.as_str(), "preempted");
}

#[test]
fn complete_failed_and_lost_are_client_terminal() {
    assert!(!ClientStatus::Pending.is_terminal());
    assert!(!ClientStatus::Running.is_terminal());
    assert!(ClientStatus::Complete.is_terminal());
    assert!(ClientStatus::Failed.is_terminal());
    assert!(ClientStatus::Lost.is_terminal());
}

#[test]
fn a_nodes_free_resources_are_allocatable_minus_used() {
    let node = Node {
        allocatable: Resources::new(3_800, 7_680, 90_000),
        used: Resources::new(1_000, 2_048, 300),
        class_id: 0,
        pool: 0,
        name: "linux-0".to_string(),
        id: "id".to_string(),
        capacity: Resources::new(4_000, 8_192, 100_000),
        reserved: Resources::new(200, 512, 10_000),
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
    };
    assert_eq!(node.free(), Resources::new(2_800, 5_632, 89_700));
}

#[test]
fn an_alloc_takes_its_asks_plus_its_cores_cpu() {
    let ask = Resources::new(500, 256, 300);
    assert_eq!(AllocExtra::NONE.resources(ask), ask);
    assert!(AllocExtra::NONE.is_empty());
    // Two reserved cores of a 2400 MHz node: 4800 MHz on top of the ask's CPU.
    let extra = AllocExtra {
        hardware: Some(HardwareOffer {
            cores: vec![0, 1],
            core_cpu_mhz: 4_800,
            ..HardwareOffer::default()
        }),
        ..AllocExtra::default()
    };
    assert!(!extra.is_empty());
    assert_eq!(extra.previous, None);
    assert_eq!(extra.reschedules, 0);
    assert_eq!(extra.resources(ask), Resources::new(5_300, 256, 300));
}

#[test]
fn an_alloc_keeps_times_up_to_48_bits_and_serials_up_to_40() {
    let (big, serial) = ((1u64 << 48) - 2, (1u64 << 40) - 1);
    let alloc = Alloc::new(
        JobId::from_parts(0, 0),
        7,
        NodeId(3),
        big,
        serial,
        serial - 1,
    );
    assert_eq!(alloc.placed_ms(), big);
    assert_eq!(alloc.eval(), serial);
    assert_eq!(alloc.serial(), serial - 1);
    assert_eq!(alloc.ended_ms(), None);
    let alloc = Alloc::new(JobId::from_parts(0, 0), 7, NodeId(3), 0, 0, 0);
    assert_eq!((alloc.placed_ms(), alloc.eval(), alloc.serial()), (0, 0, 0));
}

#[test]
#[should_panic(expected = "does not fit in 48 bits")]
fn an_alloc_refuses_a_time_past_48_bits() {
    Alloc::new(JobId::from_parts(0, 0), 0, NodeId(0), 1 << 48, 0, 0);
}

#[test]
fn the_arena_counts_reuses_and_forgets() {
    let mut arena: Arena<AllocId, u32> = Arena::default();
    assert!(arena.is_empty());
    assert_eq!(arena.len(), 0);
    assert_eq!(arena.iter().count(), 0);
    let a = arena.insert(10);
    let b = arena.insert(20);
    let c = arena.insert(30);
    assert_eq!((a.slot(), b.slot(), c.slot()), (0, 1, 2));
    assert_eq!(arena.len(), 3);
    assert!(!arena.is_empty());
    assert!(arena.contains(b));
    assert_eq!(arena.get(b), Some(&20));
    *arena.get_mut(b).unwrap() += 1;
    arena[c] += 2;
    assert_eq!(arena[b], 21);
    assert_eq!(arena.remove(b), 21);
    assert_eq!(arena.len(), 2);
    assert!(!arena.contains(b));
    assert_eq!(arena.get(b), None);
    assert!(arena.get_mut(b).is_none());
    let d = arena.insert(40);
    assert_eq!(d.slot(), 1);
    assert_eq!(d.generation(), 1);
    assert_eq!(
        arena.get(b),
        None,
        "the old id does not reach the new object"
    );
    assert_eq!(arena.get(d), Some(&40));
    assert_eq!(arena.get_mut(d).copied(), Some(40));
    let live: Vec<(u32, u32)> = arena.iter().map(|(id, v)| (id.slot() as u32, *v)).collect();
    assert_eq!(live, vec![(0, 10), (1, 40), (2, 32)]);
    assert_eq!(arena.remove(a), 10);
    assert_eq!(arena.remove(d), 40);
    assert_eq!(arena.remove(c), 32);
    assert!(arena.is_empty());
    assert_eq!(arena.len(), 0);
    // Freed slots come back last freed first.
    assert_eq!(arena.insert(1).slot(), 2);
    assert_eq!(arena.insert(2).slot(), 1);
    assert_eq!(arena.insert(3).slot(), 0);
    assert_eq!(arena.insert(4).slot(), 3);
    assert_eq!(arena.len(), 4);
}

#[test]
fn an_alloc_takes_40_bytes() {
    // C2M keeps two million allocs live: each byte here is 2 MB at its peak.
    assert_eq!(std::mem::size_of::<Option<Alloc>>(), 40);
}
