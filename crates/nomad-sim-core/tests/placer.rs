//! Custom placers: what a `ClusterView` shows of the cluster, and what the engine does with a
//! placer's choice.

use std::cell::RefCell;
use std::rc::Rc;

use nomad_sim_core::config::{Arrivals, DurationDist, SimConfig, WorkloadConfig};
use nomad_sim_core::ids::NodeId;
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Algorithm, ClusterView, JobType, Placer, Resources, Simulation};
use rand::Rng;

/// What one Select's view showed.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    ask: Resources,
    job_type: JobType,
    candidate_count: usize,
    node_count: usize,
    in_order: Vec<NodeId>,
    is_candidate: Vec<bool>,
    /// Per node in creation order: (name, used CPU, collisions).
    nodes: Vec<(String, u64, u32)>,
}

/// First fit over the candidates in creation order, recording what the view showed, the
/// binpack and spread fitness of the node it picked, and one draw from the placement stream.
struct Recorder {
    seen: Rc<RefCell<Vec<Seen>>>,
    fitness: Rc<RefCell<Vec<(f64, f64)>>>,
    draws: Rc<RefCell<Vec<u64>>>,
}

impl Placer for Recorder {
    fn name(&self) -> String {
        "recorder".to_string()
    }
    fn select(&mut self, view: &mut ClusterView<'_>) -> Option<NodeId> {
        let all: Vec<NodeId> = (0..view.node_count() as u32).map(NodeId).collect();
        self.seen.borrow_mut().push(Seen {
            ask: view.ask(),
            job_type: view.job_type(),
            candidate_count: view.candidate_count(),
            node_count: view.node_count(),
            in_order: view.candidates_in_order(),
            is_candidate: all.iter().map(|&n| view.is_candidate(n)).collect(),
            nodes: all
                .iter()
                .map(|&n| {
                    let node = view.node(n);
                    (node.name.clone(), node.used.cpu_mhz, view.collisions(n))
                })
                .collect(),
        });
        let draw = view.rng().gen::<u64>();
        self.draws.borrow_mut().push(draw);
        let chosen = view
            .candidates_in_order()
            .into_iter()
            .find(|&n| view.fits(n))?;
        self.fitness.borrow_mut().push((
            view.fitness(Algorithm::Binpack, chosen),
            view.fitness(Algorithm::Spread, chosen),
        ));
        Some(chosen)
    }
}

fn job(name: &str, at_ms: u64, cpu_mhz: u64, pool: Option<&str>) -> WorkloadConfig {
    let mut w = batch_workload(
        name,
        Arrivals::At(vec![at_ms]),
        Resources::new(cpu_mhz, cpu_mhz, 0),
        DurationDist::Constant(HOUR_MS),
    );
    w.node_pool = pool.map(str::to_string);
    w
}

fn run(mut sim: Simulation) -> (Simulation, Vec<(u64, TraceEvent)>) {
    let sink = SharedSink::new();
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run();
    let events = sink.events();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    (sim, events)
}

/// (time, job, node, nodes evaluated) of each placement.
fn placements(events: &[(u64, TraceEvent)]) -> Vec<(u64, String, String, u32)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::AllocPlaced {
                job, node, metrics, ..
            } => Some((*t, job.clone(), node.clone(), metrics.nodes_evaluated)),
            _ => None,
        })
        .collect()
}

fn two_pools(workloads: Vec<WorkloadConfig>) -> SimConfig {
    config(
        1,
        HOUR_MS,
        vec![in_pool("a", 2, 4000), in_pool("b", 1, 2000)],
        workloads,
    )
}

/// `count` nodes of `size` MHz and MB named `<name>-<i>`, in the Nomad node pool `name`.
fn in_pool(name: &str, count: u32, size: u64) -> nomad_sim_core::config::PoolConfig {
    let mut p = pool(name, count, size, size);
    p.node_pool = name.to_string();
    p
}
#[test]
fn the_view_shows_the_jobs_candidates_ask_and_the_nodes_use() {
    // `web` (service, count 2, 1000 MHz/MB) may use any node: pool a's two and pool b's one.
    // `etl` (batch, 500 MHz/MB, at 1m) is restricted to node pool b. First fit over the
    // candidates in creation order puts both of web's allocs on a-0 (the second sees one
    // collision there) and etl on b-0.
    let mut web = job("web", 0, 1000, None);
    web.job_type = JobType::Service;
    web.count = 2;
    let etl = job("etl", MINUTE_MS, 500, Some("b"));
    let seen = Rc::new(RefCell::new(Vec::new()));
    let fitness = Rc::new(RefCell::new(Vec::new()));
    let draws = Rc::new(RefCell::new(Vec::new()));
    let placer = Recorder {
        seen: seen.clone(),
        fitness: fitness.clone(),
        draws: draws.clone(),
    };
    let sim = Simulation::with_placer(two_pools(vec![web, etl]), Box::new(placer));
    assert_eq!(sim.algorithm_name(), "recorder");
    let (_, events) = run(sim);

    let names = ["a-0", "a-1", "b-0"].map(str::to_string);
    let all = vec![NodeId(0), NodeId(1), NodeId(2)];
    let web_seen = |a0_cpu: u64, a0_collisions: u32| Seen {
        ask: Resources::new(1000, 1000, 0),
        job_type: JobType::Service,
        candidate_count: 3,
        node_count: 3,
        in_order: all.clone(),
        is_candidate: vec![true, true, true],
        nodes: vec![
            (names[0].clone(), a0_cpu, a0_collisions),
            (names[1].clone(), 0, 0),
            (names[2].clone(), 0, 0),
        ],
    };
    assert_eq!(
        *seen.borrow(),
        vec![
            web_seen(0, 0),
            web_seen(1000, 1),
            Seen {
                ask: Resources::new(500, 500, 0),
                job_type: JobType::Batch,
                candidate_count: 1,
                node_count: 3,
                in_order: vec![NodeId(2)],
                is_candidate: vec![false, false, true],
                nodes: vec![
                    (names[0].clone(), 2000, 0),
                    (names[1].clone(), 0, 0),
                    (names[2].clone(), 0, 0),
                ],
            },
        ]
    );

    // Nomad's fitness after adding the ask, over 18: binpack 20 - (10^free_cpu + 10^free_mem),
    // spread (10^free_cpu + 10^free_mem) - 2. a-0 is 1/4 then 2/4 used; b-0 1/4.
    let at = |free: f64| {
        let total = 2.0 * 10f64.powf(free);
        ((20.0 - total) / 18.0, (total - 2.0) / 18.0)
    };
    let got = fitness.borrow().clone();
    let want = [at(0.75), at(0.5), at(0.75)];
    assert_eq!(got.len(), 3);
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.0 - w.0).abs() < 1e-12 && (g.1 - w.1).abs() < 1e-12,
            "{got:?}"
        );
    }
    // The placement stream advances with each draw.
    let d = draws.borrow().clone();
    assert_eq!(d.len(), 3);
    assert!(d[0] != d[1] && d[1] != d[2] && d[0] != d[2], "{d:?}");

    // Each Select called `fits` once: one node evaluated.
    assert_eq!(
        placements(&events),
        vec![
            (0, "web-0".to_string(), "a-0".to_string(), 1),
            (0, "web-0".to_string(), "a-0".to_string(), 1),
            (MINUTE_MS, "etl-0".to_string(), "b-0".to_string(), 1),
        ]
    );
}

/// Each Select's draws, and the draw after them.
type Orders = Rc<RefCell<Vec<(Vec<NodeId>, Option<NodeId>)>>>;

/// Draws every candidate with `next_random` (at most 10 draws), records the order and one
/// more draw, and picks the last node drawn that fits.
struct Shuffler {
    orders: Orders,
}

impl Placer for Shuffler {
    fn name(&self) -> String {
        "shuffler".to_string()
    }
    fn select(&mut self, view: &mut ClusterView<'_>) -> Option<NodeId> {
        let mut order = Vec::new();
        while order.len() < 10 {
            match view.next_random() {
                Some(n) => order.push(n),
                None => break,
            }
        }
        let after = view.next_random();
        let chosen = order.iter().rev().copied().find(|&n| view.fits(n));
        self.orders.borrow_mut().push((order, after));
        chosen
    }
}

#[test]
fn next_random_draws_each_candidate_once_per_select() {
    // Four nodes in pool a, one in pool b; the job may use pool a only. Each Select draws the
    // four candidates of pool a once each, in some order, then nothing; the next Select
    // starts over.
    let mut w = job("x", 0, 1000, Some("a"));
    w.count = 3;
    let c = config(
        5,
        HOUR_MS,
        vec![in_pool("a", 4, 4000), in_pool("b", 1, 4000)],
        vec![w],
    );
    let orders = Rc::new(RefCell::new(Vec::new()));
    let sim = Simulation::with_placer(
        c,
        Box::new(Shuffler {
            orders: orders.clone(),
        }),
    );
    let (_, events) = run(sim);
    let orders = orders.borrow().clone();
    assert_eq!(orders.len(), 3);
    for (order, after) in &orders {
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..4).map(NodeId).collect::<Vec<_>>(), "{orders:?}");
        assert_eq!(*after, None);
    }
    // The last node drawn fits on the first try: one node evaluated per placement.
    let placed = placements(&events);
    assert_eq!(placed.len(), 3);
    assert!(placed.iter().all(|p| p.3 == 1), "{placed:?}");
}

/// Always picks the first node, whether it fits or not, or refuses when `refuse` is set.
struct Stubborn {
    refuse: bool,
}

impl Placer for Stubborn {
    fn name(&self) -> String {
        "stubborn".to_string()
    }
    fn select(&mut self, _view: &mut ClusterView<'_>) -> Option<NodeId> {
        (!self.refuse).then_some(NodeId(0))
    }
}

#[test]
fn a_pick_without_room_fails_the_placement_until_room_is_freed() {
    // One 4000 MHz node. `big` (3000 MHz, 1h) is placed at 0; `late` (2000 MHz) arrives at
    // 1m and the placer picks the same node, which has no room: the placement fails and the
    // job waits, blocked, until big ends at 1h frees the node. The placer never called
    // `fits`: zero nodes evaluated.
    let c = config(
        1,
        2 * HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![
            job("big", 0, 3000, None),
            job("late", MINUTE_MS, 2000, None),
        ],
    );
    let sim = Simulation::with_placer(c, Box::new(Stubborn { refuse: false }));
    let (_, events) = run(sim);
    assert_eq!(
        placements(&events),
        vec![
            (0, "big-0".to_string(), "a-0".to_string(), 0),
            (HOUR_MS, "late-0".to_string(), "a-0".to_string(), 0),
        ]
    );
}

#[test]
fn a_placer_that_refuses_places_nothing() {
    let c = config(
        1,
        HOUR_MS,
        vec![pool("a", 1, 4000, 4000)],
        vec![job("x", 0, 1000, None)],
    );
    let sim = Simulation::with_placer(c, Box::new(Stubborn { refuse: true }));
    let (sim, events) = run(sim);
    assert_eq!(placements(&events), vec![]);
    assert_eq!(sim.queued_allocs_total(), 1);
    // The blocked eval reports what a full scan of Nomad's stack finds: one node evaluated,
    // with room (neither filtered nor exhausted); the scan ranks nothing for the metrics.
    let blocked: Vec<_> = events
        .iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::EvalBlocked { metrics, .. } => Some(metrics.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(blocked.len(), 1);
    let m = &blocked[0];
    assert_eq!(
        (m.nodes_evaluated, m.nodes_filtered, m.nodes_exhausted),
        (1, 0, 0)
    );
    assert!(m.scores.is_empty(), "{:?}", m.scores);
}
