//! Placement throughput of every algorithm on 100 to 10,000 nodes at 0, 50 and 90 %
//! utilisation. Each iteration places a burst of batch jobs on a cluster filled beforehand by
//! Nomad's binpack (the fill is untimed setup).

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use nomad_sim_benches::{filled, filled_with};
use nomad_sim_core::{Algorithm, Simulation};
use nomad_sim_report::algorithms::NAMES;

const SIZES: [u32; 3] = [100, 1_000, 10_000];
const UTILISATIONS: [f64; 3] = [0.0, 0.5, 0.9];

/// A burst of at most `cap` jobs, or half the free slots (8 per node) when fewer are free.
fn burst(nodes: u32, utilisation: f64, cap: usize) -> usize {
    let free_slots = (f64::from(nodes) * 8.0 * (1.0 - utilisation)) as usize;
    cap.min(free_slots / 2)
}

/// Checks, before timing, that `make()` places the whole burst, then times placing it.
fn bench_burst(
    group: &mut BenchmarkGroup<'_, WallTime>,
    (name, nodes): (String, u32),
    burst: usize,
    make: impl Fn() -> Simulation,
) {
    group.throughput(Throughput::Elements(burst as u64));
    let mut check = make();
    let before = check.report().allocations.placed;
    check.run_until(1);
    assert_eq!(
        check.report().allocations.placed - before,
        burst as u64,
        "{name}/{nodes}"
    );
    group.bench_function(BenchmarkId::new(name, nodes), |b| {
        b.iter_batched(
            &make,
            |mut sim| {
                sim.run_until(1);
                sim
            },
            BatchSize::LargeInput,
        );
    });
}

fn nomad(c: &mut Criterion) {
    let mut group = c.benchmark_group("placement");
    group.sample_size(20);
    for algorithm in [Algorithm::Binpack, Algorithm::Spread] {
        for nodes in SIZES {
            for utilisation in UTILISATIONS {
                let n = burst(nodes, utilisation, 1_000);
                let id = (
                    format!("{}/{}pct", algorithm.as_str(), (utilisation * 100.0) as u32),
                    nodes,
                );
                bench_burst(&mut group, id, n, || {
                    filled(nodes, utilisation, n, algorithm)
                });
            }
        }
    }
    group.finish();
}

fn baselines(c: &mut Criterion) {
    let mut group = c.benchmark_group("placement-baselines");
    group.sample_size(10);
    // Every algorithm but Nomad's own two, which `nomad` measures.
    for name in NAMES
        .iter()
        .filter(|n| !matches!(**n, "binpack" | "spread"))
    {
        for nodes in SIZES {
            for utilisation in UTILISATIONS {
                // Exhaustive algorithms score every node: smaller bursts keep the bench short.
                let n = burst(nodes, utilisation, 200);
                let id = (format!("{name}/{}pct", (utilisation * 100.0) as u32), nodes);
                bench_burst(&mut group, id, n, || {
                    filled_with(nodes, utilisation, n, name)
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, nomad, baselines);
criterion_main!(benches);
