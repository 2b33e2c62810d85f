//! Placement throughput: Nomad binpack and spread, 100 to 10,000 nodes, at several utilisations.
//! Each iteration places a burst of batch jobs on a cluster filled beforehand (untimed).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use nomad_sim_benches::filled;
use nomad_sim_core::Algorithm;

fn placement(c: &mut Criterion) {
    let mut group = c.benchmark_group("placement");
    for algorithm in [Algorithm::Binpack, Algorithm::Spread] {
        for nodes in [100u32, 1_000, 10_000] {
            for utilisation in [0.0, 0.5, 0.9] {
                // A burst that fits in the free room: 1,000 jobs, fewer on 100 nodes (800 slots).
                let burst: usize = if nodes == 100 { 60 } else { 1_000 };
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

criterion_group!(benches, placement);
criterion_main!(benches);
