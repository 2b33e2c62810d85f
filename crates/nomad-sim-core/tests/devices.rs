//! Devices and reserved cores as Nomad's scheduler handles them: the device checker filters
//! nodes without the devices, the device allocator assigns instances and reports exhaustion,
//! cores are a dimension checked before CPU, and `memory_max` is recorded only with memory
//! oversubscription on.

use std::collections::BTreeMap;

use proptest::prelude::*;

use nomad_sim_core::config::{
    Arrivals, DeviceAsk, DeviceGroup, DurationDist, PoolConfig, WorkloadConfig,
};
use nomad_sim_core::hardware::device_constraint;
use nomad_sim_core::invariants::state_violations;
use nomad_sim_core::placement::AllocMetric;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::MINUTE_MS;
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, SimConfig, Simulation};

fn job(name: &str, arrivals: Vec<u64>, ask: Resources, minutes: u64) -> WorkloadConfig {
    batch_workload(
        name,
        Arrivals::At(arrivals),
        ask,
        DurationDist::Constant(minutes * MINUTE_MS),
    )
}

fn t4(count: u32) -> DeviceGroup {
    DeviceGroup {
        vendor: "nvidia".into(),
        device_type: "gpu".into(),
        name: "Tesla T4".into(),
        count,
        attributes: BTreeMap::from([("memory_mib".to_string(), "16384".to_string())]),
    }
}

fn gpu_pool(count: u32, gpus: u32) -> PoolConfig {
    let mut p = pool("gpu", count, 16_000, 65_536);
    p.node_class = "gpu".into();
    p.hardware.devices = vec![t4(gpus)];
    p
}

fn gpu_ask(name: &str, count: u32) -> DeviceAsk {
    DeviceAsk {
        name: name.into(),
        count,
        constraints: Vec::new(),
        affinities: Vec::new(),
    }
}

fn traced(c: SimConfig) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run();
    let events = sink.events();
    (sim, events)
}

fn placed(events: &[(u64, TraceEvent)]) -> Vec<(u64, String, AllocMetric)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced { node, metrics, .. } => {
                Some((*t, node.clone(), metrics.clone()))
            }
            _ => None,
        })
        .collect()
}

fn blocked(events: &[(u64, TraceEvent)]) -> Vec<AllocMetric> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::EvalBlocked { metrics, .. } => Some(metrics.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_gpu_job_runs_only_where_gpus_are_free() {
    // Two CPU nodes (no devices) and one node with two T4s. Three jobs ask one nvidia/gpu
    // each: two land on gpu-0 and take instances 0 and 1; the third finds the CPU nodes
    // filtered (the first as `missing devices`, the second by its class) and gpu-0 exhausted
    // on devices. It runs when a GPU is given back at 10 minutes.
    let cpu = pool("cpu", 2, 16_000, 65_536);
    let mut w = job("train", vec![0, 0, 0], Resources::new(1000, 1000, 0), 10);
    w.asks.devices = vec![gpu_ask("nvidia/gpu", 1)];
    let (sim, events) = traced(config(5, MINUTE_MS, vec![cpu, gpu_pool(1, 2)], vec![w]));
    let p = placed(&events);
    assert_eq!(
        p.iter().map(|x| (x.0, x.1.as_str())).collect::<Vec<_>>(),
        vec![(0, "gpu-0"), (0, "gpu-0"), (10 * MINUTE_MS, "gpu-0")]
    );
    let b = blocked(&events);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].nodes_evaluated, 3);
    assert_eq!(b[0].nodes_filtered, 2);
    let mut reasons = b[0].constraint_filtered.clone();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            ("computed class ineligible".to_string(), 1),
            ("missing devices".to_string(), 1)
        ]
    );
    assert_eq!(b[0].nodes_exhausted, 1);
    assert_eq!(
        b[0].dimension_exhausted.entries(),
        vec![("devices: no devices match request", 1)]
    );
    let mut allocs = sim.allocs();
    allocs.sort_by_key(|(_, a)| a.serial());
    let devices: Vec<_> = allocs
        .iter()
        .map(|&(id, _)| {
            sim.alloc_extra(id)
                .hardware
                .as_ref()
                .unwrap()
                .devices
                .clone()
        })
        .collect();
    assert_eq!(
        devices,
        vec![vec![(0, vec![0])], vec![(0, vec![1])], vec![(0, vec![0])]]
    );
}

#[test]
fn a_device_constraint_filters_the_node() {
    // A job asking a GPU with at least 32 GiB of memory: the T4 (16384 MiB) does not match,
    // so the node is filtered as missing devices and the job never runs.
    let mut ask = gpu_ask("gpu", 1);
    ask.constraints
        .push(device_constraint("${device.attr.memory_mib}", ">=", "32768").unwrap());
    let mut w = job("big", vec![0], Resources::new(1000, 1000, 0), 10);
    w.asks.devices = vec![ask];
    let (sim, events) = traced(config(5, MINUTE_MS, vec![gpu_pool(1, 4)], vec![w]));
    assert!(placed(&events).is_empty());
    let b = blocked(&events);
    assert_eq!(
        b[0].constraint_filtered,
        vec![("missing devices".to_string(), 1)]
    );
    assert_eq!(b[0].nodes_exhausted, 0);
    assert_eq!(sim.report().allocations.never_placed, 1);
}

#[test]
fn device_affinity_is_scored_as_devices() {
    // One affinity of weight 50 that the T4 matches: Nomad appends 50/50 = 1 as the
    // `devices` score, and the final score is the mean of binpack and it.
    let mut ask = gpu_ask("gpu", 1);
    ask.affinities.push((
        device_constraint("${device.model}", "=", "Tesla T4").unwrap(),
        50,
    ));
    let mut w = job("aff", vec![0], Resources::new(4000, 16_384, 0), 10);
    w.asks.devices = vec![ask];
    let (_, events) = traced(config(5, MINUTE_MS, vec![gpu_pool(1, 1)], vec![w]));
    let p = placed(&events);
    let s = &p[0].2.scores[0];
    assert_eq!(s.scores.devices, Some(1.0));
    // binpack: 20 - (10^0.75 + 10^0.75) over 18.
    let binpack = (20.0 - 2.0 * 10f64.powf(0.75)) / 18.0;
    assert!((s.scores.binpack - binpack).abs() < 1e-12);
    assert!((s.norm_score - (binpack + 1.0) / 2.0).abs() < 1e-12);
}

#[test]
fn cores_are_exhausted_before_cpu() {
    // A node of 4000 MHz and 4 cores (1000 MHz each). `pinned` reserves 3 cores and so takes
    // 3000 MHz. `more` asks 2 cores: only one is free, so the node is exhausted on `cores`
    // (checked before CPU, though 2000 MHz would not fit either). `small` asks 1000 MHz of
    // CPU only and fits beside `pinned`.
    let mut p = pool("linux", 1, 4000, 16_000);
    p.hardware.cores = 4;
    p.hardware.core_mhz = 1000;
    let mut pinned = job("pinned", vec![0], Resources::new(0, 1000, 0), 60);
    pinned.asks.cores = 3;
    let mut more = job("more", vec![MINUTE_MS], Resources::new(0, 1000, 0), 10);
    more.asks.cores = 2;
    let small = job(
        "small",
        vec![2 * MINUTE_MS],
        Resources::new(1000, 1000, 0),
        10,
    );
    let (sim, events) = traced(config(
        5,
        10 * MINUTE_MS,
        vec![p],
        vec![pinned, more, small],
    ));
    let b = blocked(&events);
    assert_eq!(b[0].dimension_exhausted.entries(), vec![("cores", 1)]);
    let p = placed(&events);
    assert_eq!(
        p.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![0, 2 * MINUTE_MS, 60 * MINUTE_MS]
    );
    let mut allocs = sim.allocs();
    allocs.sort_by_key(|(_, a)| a.serial());
    let first = sim.alloc_extra(allocs[0].0).hardware.as_ref().unwrap();
    assert_eq!(
        (first.cores.clone(), first.core_cpu_mhz),
        (vec![0, 1, 2], 3000)
    );
    let last = sim.alloc_extra(allocs[2].0).hardware.as_ref().unwrap();
    assert_eq!((last.cores.clone(), last.core_cpu_mhz), (vec![0, 1], 2000));
}

#[test]
fn cores_take_cpu_on_the_node() {
    let mut p = pool("linux", 1, 4000, 16_000);
    p.hardware.cores = 4;
    p.hardware.core_mhz = 1000;
    let mut pinned = job("pinned", vec![0], Resources::new(0, 1000, 0), 60);
    pinned.asks.cores = 2;
    let mut sim = Simulation::new(config(5, MINUTE_MS, vec![p], vec![pinned]));
    sim.check_every_event(true);
    sim.run_until(MINUTE_MS);
    assert_eq!(sim.nodes()[0].used, Resources::new(2000, 1000, 0));
    sim.run();
    assert_eq!(sim.nodes()[0].used, Resources::default());
}

#[test]
fn memory_max_is_recorded_only_with_oversubscription() {
    // memory 1000, memory_max 4000 on a node of 1500 MB: placement uses memory, so it fits
    // either way; the alloc records memory_max only when oversubscription is on.
    for on in [false, true] {
        let mut w = job("m", vec![0], Resources::new(100, 1000, 0), 10);
        w.asks.memory_max_mb = Some(4000);
        let mut c = config(5, MINUTE_MS, vec![pool("linux", 1, 4000, 1500)], vec![w]);
        c.scheduler.memory_oversubscription = on;
        let (sim, _) = traced(c);
        let allocs = sim.allocs();
        assert_eq!(allocs.len(), 1);
        let max = sim
            .alloc_extra(allocs[0].0)
            .hardware
            .as_ref()
            .and_then(|h| h.memory_max_mb);
        assert_eq!(max, on.then_some(4000));
    }
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(64))]

    #[test]
    fn no_device_instance_or_core_is_over_committed(
        nodes in 1u32..4,
        gpus in 0u32..4,
        cores in 0u32..6,
        jobs in prop::collection::vec((0u64..30, 1u32..3, 0u32..3, 1u64..20), 1..12),
    ) {
        let mut p = pool("gpu", nodes, 12_000, 65_536);
        p.hardware.devices = vec![t4(gpus)];
        p.hardware.cores = cores;
        p.hardware.core_mhz = if cores > 0 { 12_000 / u64::from(cores) } else { 0 };
        let workloads: Vec<WorkloadConfig> = jobs
            .iter()
            .enumerate()
            .map(|(i, &(at, n_gpu, n_cores, minutes))| {
                let mut w = job(&format!("w{i}"), vec![at * MINUTE_MS], Resources::new(0, 1000, 0), minutes);
                w.asks.devices = vec![gpu_ask("gpu", n_gpu)];
                w.asks.cores = n_cores;
                w
            })
            .collect();
        let mut sim = Simulation::new(config(3, 40 * MINUTE_MS, vec![p], workloads));
        sim.check_every_event(true);
        sim.run();
        let v = state_violations(&sim);
        prop_assert!(v.is_empty(), "{v:#?}");
        for n in sim.nodes() {
            prop_assert!(n.hardware.as_ref().is_none_or(|h| h.is_empty()));
            prop_assert_eq!(n.used, Resources::default());
        }
    }
}
