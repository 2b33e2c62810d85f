//! The event queue on its own: a steady state of live alloc endings, one popped and one pushed
//! per step, with run times that arrive in key order (a constant run time, as in C2M) and that
//! do not (exponential, as in the busy clusters).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use nomad_sim_core::ids::{AllocId, ArenaId};
use nomad_sim_core::queue::{EventKind, EventQueue};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Events in the queue throughout (a busy 1,000-node cluster holds about 14,000).
const LIVE: u32 = 100_000;
/// Pops and pushes per measured iteration.
const STEPS: u32 = 100_000;
/// The run time, or its mean: five minutes.
const RUN_MS: f64 = 300_000.0;

fn run_time(rng: &mut ChaCha8Rng, constant: bool) -> u64 {
    if constant {
        RUN_MS as u64
    } else {
        (-(1.0 - rng.gen::<f64>()).ln() * RUN_MS) as u64
    }
}

fn end(n: u32) -> EventKind {
    EventKind::AllocEnd {
        alloc: AllocId::from_parts(n, 0),
        failed: false,
    }
}

/// A queue holding `LIVE` endings, started one millisecond apart, as after a warm-up.
fn filled(constant: bool) -> (EventQueue, ChaCha8Rng) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut q = EventQueue::new();
    for n in 0..LIVE {
        q.push(u64::from(n) + run_time(&mut rng, constant), end(n));
    }
    (q, rng)
}

/// Each step ends the earliest alloc and starts another at that time.
fn steps(q: &mut EventQueue, rng: &mut ChaCha8Rng, constant: bool) -> u64 {
    let mut last = 0;
    for n in 0..STEPS {
        let (t, _) = q.pop().expect("the queue stays full");
        q.push(t + run_time(rng, constant), end(LIVE + n));
        last = t;
    }
    last
}

fn queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue");
    group.throughput(Throughput::Elements(u64::from(STEPS)));
    for (name, constant) in [("constant-run-time", true), ("exponential-run-time", false)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || filled(constant),
                |(mut q, mut rng)| steps(&mut q, &mut rng, constant),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, queue);
criterion_main!(benches);
