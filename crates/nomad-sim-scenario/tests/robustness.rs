//! Malformed scenarios and traces never panic the loader: random edits of every shipped
//! scenario and of a trace CSV either load or give located problems. CI runs a bounded number
//! of cases; NOMAD_SIM_PROPTEST_CASES asks for more.

use std::path::Path;

use proptest::prelude::*;

const VALID: &str = include_str!("../../../scenarios/circleci-weekday.yaml");

/// Every shipped scenario, to mutate.
const SHIPPED: [&str; 9] = [
    include_str!("../../../scenarios/circleci-weekday.yaml"),
    include_str!("../../../scenarios/autoscaler-weekday.yaml"),
    include_str!("../../../scenarios/c2m.yaml"),
    include_str!("../../../scenarios/circleci-scale-down.yaml"),
    include_str!("../../../scenarios/drain-deadline-tradeoff.yaml"),
    include_str!("../../../scenarios/mmc-10-rho80.yaml"),
    include_str!("../../../scenarios/mmc-10-rho90.yaml"),
    include_str!("../../../scenarios/mmc-20-rho80.yaml"),
    include_str!("../../../scenarios/trace-replay.yaml"),
];

const TRACE: &str = include_str!("../../../scenarios/traces/ci-sample.csv");

/// One edit: delete a span, insert text, or duplicate a line.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    let junk = prop_oneof![
        Just("-".to_string()),
        Just(":".to_string()),
        Just("{".to_string()),
        Just("]".to_string()),
        Just(" ".to_string()),
        Just("\n".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("0s".to_string()),
        Just("\"".to_string()),
        Just("&a *a".to_string()),
        Just("!!binary".to_string()),
        Just("\u{FEFF}".to_string()),
        Just("\0".to_string()),
        Just("\r".to_string()),
        Just("\n---\n".to_string()),
        Just("[[[[[[[[".to_string()),
        Just(",\"".to_string()),
        Just("1e300".to_string()),
        Just("linux-01".to_string()),
        Just("2026-02-31T00:00:00Z".to_string()),
        "[a-z_]{1,8}",
    ];
    prop_oneof![
        (0usize..5000, 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (0usize..5000, junk).prop_map(|(at, s)| Edit::Insert(at, s)),
        (0usize..80).prop_map(Edit::DuplicateLine),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let clamp = |i: usize| {
        let mut i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match edit {
        Edit::Delete(at, n) => {
            let a = clamp(*at);
            let b = clamp(at + n);
            format!("{}{}", &text[..a], &text[b..])
        }
        Edit::Insert(at, s) => {
            let a = clamp(*at);
            format!("{}{}{}", &text[..a], s, &text[a..])
        }
        Edit::DuplicateLine(i) => {
            let lines: Vec<&str> = text.lines().collect();
            let i = i % lines.len().max(1);
            let mut out: Vec<&str> = lines[..=i].to_vec();
            out.extend(&lines[i..]);
            out.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(256))]

    #[test]
    fn edited_scenarios_load_or_fail_with_located_problems(edits in prop::collection::vec(arb_edit(), 1..4)) {
        let text = edits.iter().fold(VALID.to_string(), |t, e| apply(&t, e));
        match nomad_sim_scenario::parse_str(&text, "edited.yaml", Path::new(".")) {
            Ok(s) => prop_assert!(!s.config.workloads.is_empty()),
            Err(e) => {
                prop_assert!(!e.problems.is_empty());
                for p in &e.problems {
                    prop_assert!(p.to_string().starts_with("edited.yaml"));
                    prop_assert!(p.position.is_some(), "unlocated: {}", p);
                    prop_assert!(!p.message.is_empty());
                }
            }
        }
    }

    #[test]
    fn every_shipped_scenario_edited_loads_or_fails_located(
        which in 0..SHIPPED.len(),
        edits in prop::collection::vec(arb_edit(), 1..4),
    ) {
        let text = edits.iter().fold(SHIPPED[which].to_string(), |t, e| apply(&t, e));
        // Trace files resolve against the shipped scenarios' directory.
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        if let Err(e) = nomad_sim_scenario::parse_str(&text, "edited.yaml", &base) {
            for p in &e.problems {
                prop_assert!(p.to_string().starts_with("edited.yaml:"), "unlocated: {}", p);
            }
        }
    }

    #[test]
    fn edited_traces_parse_or_fail_with_file_line_and_column(
        edits in prop::collection::vec(arb_edit(), 1..4),
    ) {
        let text = edits.iter().fold(TRACE.to_string(), |t, e| apply(&t, e));
        if let Err(errors) = nomad_sim_scenario::trace_csv::parse(&text, "t.csv") {
            prop_assert!(!errors.is_empty());
            for e in &errors {
                let mut parts = e.splitn(4, ':');
                prop_assert_eq!(parts.next(), Some("t.csv"));
                let located = parts.next().is_some_and(|l| l.parse::<usize>().is_ok())
                    && parts.next().is_some_and(|c| c.parse::<usize>().is_ok());
                prop_assert!(located || e.contains("empty"), "unlocated: {}", e);
            }
        }
    }
}
