//! Parameterized jobs: each arrival dispatches a child `<parent>/dispatch-<unix s>-<8 hex>`;
//! the parent itself is never placed.

use nomad_sim_core::config::{Arrivals, DurationDist, DEFAULT_START_UNIX_MS};
use nomad_sim_core::invariants::state_violations;
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::MINUTE_MS;
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

#[test]
fn each_arrival_dispatches_one_named_child() {
    let c = config(
        3,
        MINUTE_MS * 60,
        vec![pool("a", 1, 4000, 4000)],
        vec![batch_workload(
            "build",
            Arrivals::Dispatch(Box::new(Arrivals::At(vec![0, 90_000, 90_000]))),
            Resources::new(1000, 1000, 0),
            DurationDist::Constant(MINUTE_MS),
        )],
    );
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    let names: Vec<String> = sink
        .events()
        .into_iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::JobSubmitted { job, .. } => Some(job),
            _ => None,
        })
        .collect();
    assert_eq!(names.len(), 3);
    let start_s = DEFAULT_START_UNIX_MS / 1000;
    let prefixes = [
        format!("build/dispatch-{start_s}-"),
        format!("build/dispatch-{}-", start_s + 90),
        format!("build/dispatch-{}-", start_s + 90),
    ];
    for (name, prefix) in names.iter().zip(&prefixes) {
        let hex = name
            .strip_prefix(prefix.as_str())
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(hex.len(), 8, "{name}");
        assert!(
            hex.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{name}"
        );
    }
    // Two dispatches in the same second still get distinct IDs.
    assert_ne!(names[1], names[2]);
    assert_eq!(sim.report().allocations.placed, 3);
}
