//! Engine throughput (events per second on a busy CI day), a busy and a saturated cluster,
//! and scenario loading.

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
            // As `nomad-sim run` does: only the report is read.
            let mut sim = Simulation::new(weekday.clone());
            sim.forget_terminal_objects();
            sim.run();
            sim.report().perf.events
        })
    });
    group.finish();
    // The same 10,000-client cluster for ten simulated minutes at 85 % and at 104 % load: a
    // saturated cluster should cost a few times a busy one, not a hundred.
    let mut group = c.benchmark_group("saturation");
    group.sample_size(10);
    for name in ["busy-10k", "saturated-10k"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(format!("{name}.yaml"));
        let mut config = nomad_sim_scenario::load_file(&path).unwrap().config;
        config.horizon_ms = 10 * 60_000;
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut sim = Simulation::new(config.clone());
                sim.forget_terminal_objects();
                sim.run_until(config.horizon_ms);
                sim.report().perf.placements
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("load");
    group.bench_function("circleci-weekday.yaml", |b| {
        b.iter(|| nomad_sim_scenario::load_file(&scenario("circleci-weekday.yaml")).unwrap())
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
