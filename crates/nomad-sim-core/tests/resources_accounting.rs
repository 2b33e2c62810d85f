//! Resource arithmetic and the fit check, with hand-worked amounts (Nomad's `ComparableResources`).

use nomad_sim_core::resources::{Dimension, Resources};

#[test]
fn dimensions_are_named_as_nomad_names_them() {
    // Nomad's `Superset` reports the exhausted dimension as "cpu", "memory" or "disk".
    assert_eq!(Dimension::Cpu.as_str(), "cpu");
    assert_eq!(Dimension::Memory.as_str(), "memory");
    assert_eq!(Dimension::Disk.as_str(), "disk");
}

#[test]
fn plus_adds_each_dimension() {
    let a = Resources::new(500, 256, 300);
    let b = Resources::new(1_000, 1_024, 150);
    // 500 + 1000, 256 + 1024, 300 + 150: a product or a difference would differ in each.
    assert_eq!(a.plus(b), Resources::new(1_500, 1_280, 450));
    assert_eq!(b.plus(a), Resources::new(1_500, 1_280, 450));
    assert_eq!(a.plus(Resources::default()), a);
}

#[test]
#[should_panic(expected = "resource sum overflows")]
fn plus_overflow_is_an_accounting_bug() {
    let _ = Resources::new(u64::MAX, 0, 0).plus(Resources::new(1, 0, 0));
}

#[test]
fn minus_takes_each_dimension_away() {
    let total = Resources::new(4_000, 8_192, 10_000);
    let used = Resources::new(1_500, 3_072, 2_500);
    assert_eq!(total.minus(used), Resources::new(2_500, 5_120, 7_500));
    assert_eq!(total.minus(total), Resources::default());
}

#[test]
#[should_panic(expected = "memory accounting underflows: 100 - 200")]
fn minus_below_zero_is_an_accounting_bug() {
    let _ = Resources::new(10, 100, 10).minus(Resources::new(5, 200, 5));
}

#[test]
fn saturating_minus_stops_at_zero_per_dimension() {
    // A node of 2000 MHz, 4096 MB, 500 MB disk with 3000 MHz, 1024 MB, 100 MB reserved.
    let capacity = Resources::new(2_000, 4_096, 500);
    let reserved = Resources::new(3_000, 1_024, 100);
    assert_eq!(
        capacity.saturating_minus(reserved),
        Resources::new(0, 3_072, 400)
    );
}

#[test]
fn first_short_follows_nomads_order_and_edges() {
    let free = Resources::new(1_000, 2_048, 500);
    // An exact fit is a fit in every dimension.
    assert_eq!(free.first_short(free), None);
    assert_eq!(free.first_short(Resources::new(999, 2_047, 499)), None);
    assert_eq!(
        free.first_short(Resources::new(1_001, 2_048, 500)),
        Some(Dimension::Cpu)
    );
    assert_eq!(
        free.first_short(Resources::new(1_000, 2_049, 500)),
        Some(Dimension::Memory)
    );
    assert_eq!(
        free.first_short(Resources::new(1_000, 2_048, 501)),
        Some(Dimension::Disk)
    );
    // Short in all three: CPU is named, as Nomad checks it first.
    assert_eq!(
        free.first_short(Resources::new(5_000, 5_000, 5_000)),
        Some(Dimension::Cpu)
    );
    // Short in memory and disk: memory comes before disk.
    assert_eq!(
        free.first_short(Resources::new(10, 5_000, 5_000)),
        Some(Dimension::Memory)
    );
}

#[test]
fn covers_needs_every_dimension() {
    let free = Resources::new(1_000, 2_048, 500);
    assert!(free.covers(free));
    assert!(free.covers(Resources::new(999, 2_047, 499)));
    assert!(free.covers(Resources::default()));
    // Enough CPU alone is not a fit; nor CPU and memory without disk.
    assert!(!free.covers(Resources::new(500, 4_096, 500)));
    assert!(!free.covers(Resources::new(500, 1_024, 501)));
    assert!(!free.covers(Resources::new(1_001, 1_024, 100)));
    assert!(!free.covers(Resources::new(1_001, 4_096, 501)));
}
