//! Engine throughput (events per second on a busy CI day) and scenario loading.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nomad_sim_core::Simulation;

fn scenario(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

fn engine(c: &mut Criterion) {
    let weekday = nomad_sim_scenario::load_file(&scenario("circleci-weekday.yaml"))
        .unwrap()
        .config;
    let mut probe = Simulation::new(weekday.clone());
    probe.run();
    let events = probe.report().perf.events;
    assert!(events > 1_000);
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(events));
    group.bench_function("circleci-weekday", |b| {
        b.iter(|| {
            let mut sim = Simulation::new(weekday.clone());
            sim.run();
            sim.report().perf.events
        })
    });
    group.finish();
    let mut group = c.benchmark_group("load");
    group.bench_function("circleci-weekday.yaml", |b| {
        b.iter(|| nomad_sim_scenario::load_file(&scenario("circleci-weekday.yaml")).unwrap())
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
