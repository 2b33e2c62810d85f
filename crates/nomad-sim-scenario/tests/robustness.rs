//! Malformed scenarios never panic the loader: random edits of a valid file either load or give
//! located problems. CI runs a bounded number of cases; NOMAD_SIM_PROPTEST_CASES asks for more.

use std::path::Path;

use nomad_sim_core::testing::cases;
use proptest::prelude::*;

const VALID: &str = include_str!("../../../scenarios/circleci-weekday.yaml");

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
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn edited_scenarios_load_or_fail_with_located_problems(edits in prop::collection::vec(arb_edit(), 1..4)) {
        let text = edits.iter().fold(VALID.to_string(), |t, e| apply(&t, e));
        match nomad_sim_scenario::parse_str(&text, "edited.yaml", Path::new(".")) {
            Ok(s) => prop_assert!(!s.config.workloads.is_empty()),
            Err(e) => {
                prop_assert!(!e.problems.is_empty());
                for p in &e.problems {
                    prop_assert!(p.to_string().starts_with("edited.yaml"));
                    prop_assert!(!p.message.is_empty());
                }
            }
        }
    }
}
