//! Periodic jobs: cron launches (5, 6 and 7 fields, predefined specs), time zones,
//! `prohibit_overlap`, and child job IDs `<parent>/periodic-<unix seconds>`, worked by hand.

use nomad_sim_core::config::{
    Arrivals, DurationDist, PeriodicSpec, SimConfig, DEFAULT_START_UNIX_MS,
};
use nomad_sim_core::cron::{utc_offset_s, CronSpec};
use nomad_sim_core::invariants::{state_violations, trace_violations};
use nomad_sim_core::testing::{batch_workload, config, pool};
use nomad_sim_core::time::{HOUR_MS, MINUTE_MS, SECOND_MS};
use nomad_sim_core::trace::{SharedSink, TraceEvent};
use nomad_sim_core::{Resources, Simulation};

const DAY_MS: u64 = 24 * HOUR_MS;
/// 2026-01-05T00:00:00Z, a Monday: simulated time zero by default.
const START_S: u64 = DEFAULT_START_UNIX_MS / 1000;

fn periodic(
    cron: &str,
    tz: &str,
    prohibit_overlap: bool,
    run_ms: u64,
    horizon_ms: u64,
) -> SimConfig {
    let spec = PeriodicSpec {
        cron: CronSpec::parse(cron).unwrap(),
        more_crons: Vec::new(),
        utc_offset_s: utc_offset_s(tz).unwrap(),
        offset_changes: Vec::new(),
        prohibit_overlap,
    };
    config(
        1,
        horizon_ms,
        vec![pool("a", 2, 4000, 4000)],
        vec![batch_workload(
            "cleanup",
            Arrivals::Periodic(Box::new(spec)),
            Resources::new(500, 500, 0),
            DurationDist::Constant(run_ms),
        )],
    )
}

/// The children launched, by time and ID.
fn launches(c: SimConfig) -> Vec<(u64, String)> {
    let sink = SharedSink::new();
    let mut sim = Simulation::new(c);
    sim.set_trace_sink(Box::new(sink.clone()));
    sim.check_every_event(true);
    sim.run();
    let events = sink.events();
    assert_eq!(state_violations(&sim), Vec::<String>::new());
    assert_eq!(trace_violations(&sim, &events), Vec::<String>::new());
    events
        .into_iter()
        .filter_map(|(t, e)| match e {
            TraceEvent::JobSubmitted { job, .. } => Some((t, job)),
            _ => None,
        })
        .collect()
}

#[test]
fn every_minute_for_a_day_launches_1440_children_named_by_their_launch_time() {
    // Registered at 00:00:00, the dispatcher's next launch is the first match strictly after
    // now: 00:01:00. Through 24:00:00 that is minutes 1..=1440. The horizon is 24h + 1 ms
    // because arrivals stop at `t >= horizon`.
    let got = launches(periodic(
        "*/1 * * * *",
        "UTC",
        false,
        10 * SECOND_MS,
        DAY_MS + 1,
    ));
    assert_eq!(got.len(), 1440);
    assert_eq!(
        got[0],
        (MINUTE_MS, format!("cleanup/periodic-{}", START_S + 60))
    );
    assert_eq!(
        got[1439],
        (DAY_MS, format!("cleanup/periodic-{}", START_S + 86_400))
    );
}

#[test]
fn prohibit_overlap_skips_launches_while_a_child_runs() {
    // Each child runs 90 s: the one launched at minute 1 ends at 2:30, so minute 2's launch is
    // skipped and minute 3's goes ahead. Odd minutes 1..=1439 launch: 720 children.
    let got = launches(periodic(
        "* * * * *",
        "UTC",
        true,
        90 * SECOND_MS,
        DAY_MS + 1,
    ));
    assert_eq!(got.len(), 720);
    assert!(
        got.iter().all(|(t, _)| (t / MINUTE_MS) % 2 == 1),
        "{:?}",
        &got[..4]
    );
    // Without the flag, the children overlap and every minute launches.
    let got = launches(periodic(
        "* * * * *",
        "UTC",
        false,
        90 * SECOND_MS,
        DAY_MS + 1,
    ));
    assert_eq!(got.len(), 1440);
}

#[test]
fn weekday_mornings_in_a_fixed_offset_zone() {
    // 09:00 on weekdays at UTC+2 (Etc/GMT-2, whose sign is inverted as in the tz database) is
    // 07:00 UTC: five launches in the week from Monday 2026-01-05.
    let got = launches(periodic(
        "0 9 * * 1-5",
        "Etc/GMT-2",
        false,
        MINUTE_MS,
        7 * DAY_MS,
    ));
    let times: Vec<u64> = got.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        times,
        (0..5).map(|d| d * DAY_MS + 7 * HOUR_MS).collect::<Vec<_>>()
    );
    let got = launches(periodic(
        "0 9 * * MON-FRI",
        "+02:00",
        false,
        MINUTE_MS,
        7 * DAY_MS,
    ));
    assert_eq!(got.len(), 5);
    assert_eq!(got[0].0, 7 * HOUR_MS);
}

#[test]
fn predefined_specs_and_the_seconds_and_year_fields() {
    assert_eq!(
        launches(periodic("@hourly", "UTC", false, MINUTE_MS, DAY_MS + 1)).len(),
        24
    );
    let daily = launches(periodic("@daily", "UTC", false, MINUTE_MS, 7 * DAY_MS + 1));
    assert_eq!(daily.len(), 7);
    assert_eq!(daily[0].0, DAY_MS);
    // @weekly is midnight between Saturday and Sunday: Sunday 2026-01-11 is day 6.
    let weekly = launches(periodic("@weekly", "UTC", false, MINUTE_MS, 14 * DAY_MS));
    assert_eq!(
        weekly.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        vec![6 * DAY_MS, 13 * DAY_MS]
    );
    // Seven fields begin with seconds: every 30 s for 10 minutes.
    assert_eq!(
        launches(periodic(
            "*/30 * * * * * *",
            "UTC",
            false,
            SECOND_MS,
            10 * MINUTE_MS + 1
        ))
        .len(),
        20
    );
    // Six fields end with a year (cronexpr's rule): nothing launches in 2026.
    assert!(launches(periodic(
        "0 0 * * * 2027",
        "UTC",
        false,
        SECOND_MS,
        7 * DAY_MS
    ))
    .is_empty());
    let spec = CronSpec::parse("0 0 * * * 2027").unwrap();
    // 2027-01-01T00:00:00Z.
    assert_eq!(spec.next_after_s(START_S as i64, 0), Some(1_798_761_600));
}

#[test]
fn bad_specs_and_zones_are_refused_with_a_reason() {
    for bad in [
        "",
        "* * * *",
        "61 * * * *",
        "* * * * * * * *",
        "@every 1h",
        "@reboot",
        "0 0 L * *",
        "*/0 * * * *",
    ] {
        assert!(CronSpec::parse(bad).is_err(), "{bad:?} parsed");
    }
    let e = utc_offset_s("America/New_York").unwrap_err();
    assert!(e.contains("time zone database"), "{e}");
    assert_eq!(utc_offset_s("UTC"), Ok(0));
    assert_eq!(utc_offset_s("Etc/GMT+5"), Ok(-5 * 3600));
    assert_eq!(utc_offset_s("-08:00"), Ok(-8 * 3600));
    assert_eq!(utc_offset_s("+05:30"), Ok(5 * 3600 + 1800));
}

/// Europe/Paris in 2026: UTC+1, +2 from 2026-03-29T01:00:00Z (Unix 1774746000), +1 again from
/// 2026-10-25T01:00:00Z (1792890000). Wall-clock times the clock skips do not launch, and a
/// wall-clock time it repeats launches once, as Go's cron library does for Nomad.
fn paris(cron: &str) -> PeriodicSpec {
    PeriodicSpec {
        cron: CronSpec::parse(cron).unwrap(),
        more_crons: Vec::new(),
        utc_offset_s: 3600,
        offset_changes: vec![(1_774_746_000, 7200), (1_792_890_000, 3600)],
        prohibit_overlap: false,
    }
}

#[test]
fn daylight_saving_skips_and_repeats_as_the_wall_clock_does() {
    let daily = paris("30 2 * * *");
    // 02:30 CET on 28 March (01:30Z); 02:30 does not exist on the 29th, so the next launch
    // is 02:30 CEST on the 30th, 00:30Z.
    assert_eq!(daily.next_after_s(1_774_661_400), Some(1_774_830_600));
    // 02:30 CEST on 25 October (00:30Z) comes again at 02:30 CET (01:30Z): it launched once,
    // so the next launch is 02:30 CET on the 26th, 01:30Z.
    assert_eq!(daily.next_after_s(1_792_888_200), Some(1_792_978_200));
    let hourly = paris("0 * * * *");
    // 01:00 CET on 29 March (00:00Z): the next hour on the wall clock is 03:00 CEST, 01:00Z.
    assert_eq!(hourly.next_after_s(1_774_742_400), Some(1_774_746_000));
    // 02:00 CEST on 25 October (00:00Z): the wall clock's next new hour is 03:00 CET, 02:00Z
    // (02:00 comes round again at 01:00Z and is not launched twice).
    assert_eq!(hourly.next_after_s(1_792_886_400), Some(1_792_893_600));
    // Away from the changes the offset is the one in force: 2026-01-05T00:00Z is 01:00 CET,
    // so the next 02:30 is 01:30Z.
    assert_eq!(daily.next_after_s(1_767_571_200), Some(1_767_576_600));
    assert_eq!(daily.offset_at(1_774_745_999), 3600);
    assert_eq!(daily.offset_at(1_774_746_000), 7200);
}
