//! The wording of scenario errors: plain words instead of Rust's type names, time zones that
//! are not known, and lines indented out of line with their neighbours.

use std::path::Path;

use nomad_sim_scenario::parse_str;

/// A scenario that loads, for the cases below to break one line of.
const GOOD: &str = "name: m
seed: 1
horizon: 2h
node_pools:
  - name: linux
    count: 2
    resources: { cpu: 1000, memory: 1000 }
workloads:
  - name: task
    arrivals: { poisson: { rate: 6/h } }
    resources: { cpu: 1000, memory: 1000 }
    duration: 5m
";

/// The error text of GOOD with `from` replaced by `to`, which must not load.
fn error_with(from: &str, to: &str) -> String {
    let text = GOOD.replacen(from, to, 1);
    assert_ne!(text, GOOD, "{from:?} is not in the scenario");
    match parse_str(&text, "s.yaml", Path::new(".")) {
        Ok(_) => panic!("loaded:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_base_scenario_loads() {
    parse_str(GOOD, "s.yaml", Path::new(".")).unwrap();
}

#[test]
fn type_errors_are_in_plain_words_at_their_place() {
    let cases = [
        (
            "count: 2",
            "count: abc",
            "s.yaml:6:12: node_pools[0].count: invalid type: the text \"abc\", expected a whole number from 0 to 4294967295",
        ),
        (
            "count: 2",
            "count: 4294967296",
            "s.yaml:6:12: node_pools[0].count: invalid value: 4294967296 is too large, expected a whole number from 0 to 4294967295",
        ),
        (
            "count: 2",
            "count: -3",
            "s.yaml:6:12: node_pools[0].count: invalid value: -3 is negative, expected a whole number from 0 to 4294967295",
        ),
        (
            "seed: 1",
            "seed: 99999999999999999999",
            "s.yaml:2:7: seed: invalid value: 99999999999999999999 is too large, expected a whole number from 0 to 18446744073709551615",
        ),
        (
            "count: 2",
            "count: 3.0e3",
            "s.yaml:6:12: node_pools[0].count: invalid value: 3000.0 has a decimal point or an exponent: write the whole number out, expected a whole number from 0 to 4294967295",
        ),
        (
            "seed: 1",
            "seed: 1.5",
            "s.yaml:2:7: seed: invalid value: 1.5 is not a whole number, expected a whole number",
        ),
        (
            "cpu: 1000, memory: 1000 }\nworkloads",
            "cpu: 1e300, memory: 1000 }\nworkloads",
            "s.yaml:7:23: node_pools[0].resources.cpu: invalid value: 1e300 is too large",
        ),
        (
            "name: task",
            "name: task\n    failure_rate: high",
            "s.yaml:10:19: workloads[0].failure_rate: invalid type: the text \"high\", expected a number",
        ),
        (
            "name: m",
            "name: [m]",
            "s.yaml:1:7: name: invalid type: a list, expected a string",
        ),
        (
            "  - name: linux",
            "  - 5\n  - name: linux",
            "s.yaml:5:5: node_pools[0]: invalid type: the number 5, expected a mapping of node pool keys",
        ),
        (
            "duration: 5m",
            "duration: 5m\n    restart: 5",
            "s.yaml:13:14: workloads[0].restart: invalid type: the number 5, expected a mapping of restart keys",
        ),
        (
            "arrivals: { poisson: { rate: 6/h } }",
            "arrivals: [6/h]",
            "s.yaml:10:15: workloads[0].arrivals: invalid type: a list, expected one of poisson, every, at, diurnal, trace or periodic",
        ),
        (
            "arrivals: { poisson: { rate: 6/h } }",
            "arrivals: { every: { interval: 30s, bogus: 1 } }",
            "s.yaml:10:15: workloads[0].arrivals: every takes an interval such as 30s, or { interval: 30s, start: 5m }",
        ),
        (
            "arrivals: { poisson: { rate: 6/h } }",
            "arrivals: { poisson: { rate: 6/h }, every: 30s }",
            "s.yaml:10:15: workloads[0].arrivals: invalid value: a mapping with more than one key, expected exactly one key",
        ),
        (
            "node_pools:\n  - name: linux\n    count: 2",
            "node_pools:\n  - name: linux\n    count: 2\n    meta: [rack]",
            "s.yaml:7:11: node_pools[0].meta: invalid type: a list, expected a mapping",
        ),
    ];
    for (from, to, want) in cases {
        let e = error_with(from, to);
        assert!(e.contains(want), "want {want:?}\ngot  {e}");
        for rust in [
            "u32",
            "u64",
            "u128",
            "f64",
            "struct ",
            "enum ",
            "sequence",
            "integer `",
        ] {
            assert!(!e.contains(rust), "{rust:?} in {e}");
        }
    }
}

#[test]
fn a_document_that_is_not_a_mapping_says_what_a_scenario_is() {
    let e = parse_str("- a\n- b\n", "s.yaml", Path::new("."))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "s.yaml:1:1: invalid type: a list, expected a mapping of scenario keys"
    );
}

#[test]
fn an_unknown_time_zone_is_named_with_an_accepted_form() {
    let periodic = "arrivals: { periodic: { cron: \"0 * * * *\", time_zone: ZONE } }";
    let with = |zone: &str| {
        error_with(
            "arrivals: { poisson: { rate: 6/h } }",
            &periodic.replace("ZONE", zone),
        )
    };
    let e = with("Mars/Olympus");
    assert!(
        e.contains("s.yaml:10:59: workloads[0].arrivals.periodic.time_zone: \"Mars/Olympus\" is not a known time zone name: use one such as Europe/Paris, UTC, or an offset such as +05:30"),
        "{e}"
    );
    assert!(!e.contains("database"), "{e}");
    let e = with("america/new_yrok");
    assert!(e.contains("did you mean America/New_York?"), "{e}");
    // An abbreviation a letter away from another zone's gets no guess hours off.
    let e = with("PST");
    assert!(
        e.contains("use a region name such as America/Los_Angeles"),
        "{e}"
    );
    assert!(!e.contains("did you mean"), "{e}");
    let e = with("\"+25:00\"");
    assert!(
        e.contains("\"+25:00\" is not a UTC offset: use +HH:MM from -14:00 to +14:00"),
        "{e}"
    );
    // The forms the message offers load.
    for zone in ["Europe/Paris", "UTC", "\"+05:30\"", "europe/paris"] {
        let text = GOOD.replace(
            "arrivals: { poisson: { rate: 6/h } }",
            &periodic.replace("ZONE", zone),
        );
        parse_str(&text, "s.yaml", Path::new(".")).unwrap_or_else(|e| panic!("{zone}: {e}"));
    }
}

#[test]
fn a_misindented_line_is_the_one_reported() {
    // Three spaces under `  - name: linux`, whose keys are at four.
    let e = error_with("    count: 2", "   count: 2");
    assert!(
        e.starts_with("s.yaml:6:4: this line does not line up with the list above it (it starts at line 5, column 3): check its indentation"),
        "{e}"
    );
    assert!(!e.contains("missing field"), "{e}");
    // Five spaces: the line reads as a value of `name`, which cannot hold a `key:`.
    let e = error_with("    count: 2", "     count: 2");
    assert!(
        e.starts_with("s.yaml:6:11: mapping values are not allowed in this context: check this line's indentation"),
        "{e}"
    );
    // A key of a workload at five spaces under keys at four.
    let e = error_with("    duration: 5m", "     duration: 5m");
    assert!(
        e.starts_with("s.yaml:12:6: this line does not line up with the keys above it (the mapping starts at line 9, column 5)"),
        "{e}"
    );
    // An unclosed list names where it opened.
    let e = error_with("horizon: 2h", "horizon: [2h");
    assert!(
        e.contains("did not find expected ',' or ']', while parsing a flow sequence (it starts at line 3, column 10)"),
        "{e}"
    );
}

#[test]
fn text_after_a_quoted_value_is_a_quoting_problem_not_an_indentation_one() {
    for bad in ["name: 'it's'", "name: \"say \"hi\"\"", "name: \"a\" b"] {
        let e = error_with("name: m\n", &format!("{bad}\n"));
        assert!(
            e.contains("unexpected text after a value on this line: check its quotes"),
            "{bad}: {e}"
        );
        assert!(!e.contains("indentation"), "{bad}: {e}");
    }
}

#[test]
fn a_missing_key_in_well_indented_text_is_still_reported_as_missing() {
    let e = error_with("    count: 2\n", "");
    assert!(
        e.contains("s.yaml:5:5: node_pools[0]: missing field `count`"),
        "{e}"
    );
}

#[test]
fn a_tab_in_the_indentation_is_named() {
    // A tab before a list entry, and a tab before a key of a mapping.
    for (from, to, at) in [
        ("  - name: linux", "\t- name: linux", "s.yaml:5:1:"),
        ("    count: 2", "\tcount: 2", "s.yaml:6:1:"),
    ] {
        let e = error_with(from, to);
        assert!(
            e.starts_with(at) && e.contains("a tab character here: YAML indents with spaces only"),
            "{to:?}: {e}"
        );
    }
}
