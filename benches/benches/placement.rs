//! Placement throughput of every algorithm on 100 to 10,000 nodes at 0, 50 and 90 %
//! utilisation. Each iteration places a burst of batch jobs on a cluster filled beforehand by
//! Nomad's binpack (the fill is untimed setup).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use nomad_sim_benches::{filled, filled_with};
use nomad_sim_core::Algorithm;

fn nomad(c: &mut Criterion) {
    let mut group = c.benchmark_group("placement");
    group.sample_size(20);
    for algorithm in [Algorithm::Binpack, Algorithm::Spread] {
        for nodes in [100u32, 1_000, 10_000] {
            for utilisation in [0.0, 0.5, 0.9] {
                // A burst of 1,000 jobs, or half the free slots when fewer are free.
                let free_slots = (f64::from(nodes) * 8.0 * (1.0 - utilisation)) as usize;
                let burst = 1_000.min(free_slots / 2);
                group.throughput(Throughput::Elements(burst as u64));
                // Check before timing that the burst is placed in full.
                let mut check = filled(nodes, utilisation, burst, algorithm);
                let before = check.report().allocations.placed;
                check.run_until(1);
                assert_eq!(check.report().allocations.placed - before, burst as u64);
                let id = BenchmarkId::new(
                    format!("{}/{}pct", algorithm.as_str(), (utilisation * 100.0) as u32),
                    nodes,
                );
                group.bench_with_input(id, &nodes, |b, &nodes| {
                    b.iter_batched(
                        || filled(nodes, utilisation, burst, algorithm),
                        |mut sim| {
                            sim.run_until(1);
                            sim
                        },
                        BatchSize::LargeInput,
                    );
                });
            }
        }
    }
    group.finish();
}

fn baselines(c: &mut Criterion) {
    let mut group = c.benchmark_group("placement-baselines");
    group.sample_size(10);
    let names = [
        "best-fit",
        "worst-fit",
        "first-fit",
        "random",
        "dot-product",
        "binpack-limit-4",
        "binpack-limit-8",
    ];
    for name in names {
        for nodes in [100u32, 1_000, 10_000] {
            for utilisation in [0.0, 0.5, 0.9] {
                // Exhaustive algorithms score every node: smaller bursts keep the bench short.
                let free_slots = (f64::from(nodes) * 8.0 * (1.0 - utilisation)) as usize;
                let burst = 200.min(free_slots / 2);
                group.throughput(Throughput::Elements(burst as u64));
                let mut check = filled_with(nodes, utilisation, burst, name);
                let before = check.report().allocations.placed;
                check.run_until(1);
                assert_eq!(
                    check.report().allocations.placed - before,
                    burst as u64,
                    "{name}"
                );
                let id =
                    BenchmarkId::new(format!("{name}/{}pct", (utilisation * 100.0) as u32), nodes);
                group.bench_function(id, |b| {
                    b.iter_batched(
                        || filled_with(nodes, utilisation, burst, name),
                        |mut sim| {
                            sim.run_until(1);
                            sim
                        },
                        BatchSize::LargeInput,
                    );
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, nomad, baselines);
criterion_main!(benches);
