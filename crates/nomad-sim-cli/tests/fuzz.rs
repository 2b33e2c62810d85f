//! A fuzz-style harness for `nomad-sim import`: random edits of Nomad's published node and
//! job payloads either import into a scenario that loads, or exit 2 with a message naming
//! the file; never a panic. Each case runs the binary, so CI runs few cases by default;
//! NOMAD_SIM_PROPTEST_CASES asks for more.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;

use nomad_sim_output::ScratchDir;

const NODE: &str = include_str!("fixtures/node-detail.comma-fixed.json");
const JOB: &str = include_str!("fixtures/job-register-payload.json");

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    let junk = prop_oneof![
        Just("\"".to_string()),
        Just("\\n".to_string()),
        Just("\\u2028".to_string()),
        Just("-1".to_string()),
        Just("1e300".to_string()),
        Just("18446744073709551616".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just(",".to_string()),
        Just("# x".to_string()),
        Just("\\\"\\nworkloads: []\\n".to_string()),
        Just("&a *a".to_string()),
        "[a-zA-Z0-9_:]{1,6}",
    ];
    prop_oneof![
        (0usize..8000, 1usize..30).prop_map(|(at, n)| Edit::Delete(at, n)),
        (0usize..8000, junk).prop_map(|(at, s)| Edit::Insert(at, s)),
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
        Edit::Delete(at, n) => format!("{}{}", &text[..clamp(*at)], &text[clamp(at + n)..]),
        Edit::Insert(at, s) => format!("{}{}{}", &text[..clamp(*at)], s, &text[clamp(*at)..]),
    }
}

fn dir() -> ScratchDir {
    ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-cli-fuzz-{}", std::process::id())),
    )
    .expect("a scratch directory")
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(24))]

    #[test]
    fn edited_payloads_import_or_fail_with_exit_2(
        node_edits in prop::collection::vec(arb_edit(), 0..3),
        job_edits in prop::collection::vec(arb_edit(), 0..3),
    ) {
        let d = dir();
        let nodes = d.join("nodes.json");
        let job = d.join("job.json");
        std::fs::write(&nodes, node_edits.iter().fold(NODE.to_string(), |t, e| apply(&t, e))).unwrap();
        std::fs::write(&job, job_edits.iter().fold(JOB.to_string(), |t, e| apply(&t, e))).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
            .args(["import", "--nodes", nodes.to_str().unwrap(), "--jobs", job.to_str().unwrap(), "--horizon", "2h"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        prop_assert!(!err.contains("panicked"), "{}", err);
        match o.status.code() {
            Some(0) => {
                let text = String::from_utf8(o.stdout).unwrap();
                let loaded = nomad_sim_scenario::parse_str(&text, "imported.yaml", Path::new("."));
                prop_assert!(loaded.is_ok(), "{:?}\n{}", loaded.err(), text);
            }
            Some(2) => {
                let named = err.contains("nodes.json") || err.contains("job.json") || err.contains("imported scenario");
                prop_assert!(named, "{}", err);
                prop_assert!(o.stdout.is_empty());
            }
            other => prop_assert!(false, "exit {:?}: {}", other, err),
        }
    }
}
