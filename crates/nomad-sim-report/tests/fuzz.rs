//! A fuzz-style harness for the files `nomad-sim-report` reads back: random edits of a real
//! shard and a real baseline either still read (and merge or compare) or fail with a message
//! that names the file, line and column; never a panic. NOMAD_SIM_PROPTEST_CASES asks for
//! more cases than CI runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use nomad_sim_report::baseline::{self, Thresholds};
use nomad_sim_report::shard;
use nomad_sim_report::summary;
use proptest::prelude::*;

use nomad_sim_output::ScratchDir;

/// A real shard (1 of 2) and a real baseline of a small sweep, made once.
fn files() -> &'static (String, String, String) {
    static FILES: OnceLock<(String, String, String)> = OnceLock::new();
    FILES.get_or_init(|| {
        // The files are read into memory, so the directory goes when this returns.
        let d = ScratchDir::create(
            std::env::temp_dir().join(format!("nomad-sim-report-fuzz-{}", std::process::id())),
        )
.expect("a scratch directory");
        let s = d.join("s.yaml");
        std::fs::write(
            &s,
            "name: s\nseed: 1\nhorizon: 1h\nnode_pools:\n  - { name: n, count: 2, resources: { cpu: 2000, memory: 2000 } }\n\
             workloads:\n  - name: w\n    arrivals: { poisson: { rate: 30/h } }\n    resources: { cpu: 1000, memory: 1000 }\n    duration: 5m\n",
        )
        .unwrap();
        let bin = env!("CARGO_BIN_EXE_nomad-sim-report");
        let common = ["--scenarios", s.to_str().unwrap(), "--algorithms", "binpack,random", "--seeds", "2", "--no-timing"];
        for i in 0..2 {
            let shard = format!("{i}/2");
            let mut args = common.to_vec();
            args.extend(["--shard", &shard, "--out", d.to_str().unwrap()]);
            assert!(Command::new(bin).args(&args).status().unwrap().success());
        }
        let base = d.join("base.json");
        let mut args = common.to_vec();
        args.extend(["--save-baseline", base.to_str().unwrap()]);
        assert!(Command::new(bin).args(&args).status().unwrap().success());
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        (
            read(d.join("shard-0-of-2.json")),
            read(d.join("shard-1-of-2.json")),
            read(base),
        )
    })
}

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    let junk = prop_oneof![
        Just("9223372036854775808".to_string()),
        Just("18446744073709551615".to_string()),
        Just("4294967295".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just("0".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("\"".to_string()),
        Just(",".to_string()),
        "[a-z0-9]{1,4}",
    ];
    prop_oneof![
        (0usize..20_000, 1usize..20).prop_map(|(at, n)| Edit::Delete(at, n)),
        (0usize..20_000, junk).prop_map(|(at, s)| Edit::Insert(at, s)),
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

/// `label:line:column: ...`
fn located(e: &str, label: &str) -> bool {
    let mut parts = e.splitn(4, ':');
    parts.next() == Some(label)
        && parts.next().is_some_and(|l| l.parse::<usize>().is_ok())
        && parts.next().is_some_and(|c| c.parse::<usize>().is_ok())
}

proptest! {
    #![proptest_config(nomad_sim_core::testing::proptest_config(256))]

    #[test]
    fn edited_shards_read_and_merge_or_fail_located(edits in prop::collection::vec(arb_edit(), 1..4)) {
        let (a, b, _) = files();
        let text = edits.iter().fold(b.clone(), |t, e| apply(&t, e));
        match shard::parse(&text, "edited.json") {
            Err(e) => prop_assert!(located(&e, "edited.json"), "{}", e),
            Ok(p) => {
                let first = shard::parse(a, "a.json").unwrap();
                if let Ok(runs) = shard::merge(vec![("a.json".into(), first), ("edited.json".into(), p)]) {
                    // Whatever merged renders.
                    let results = summary::Results::new(runs);
                    let _ = summary::markdown(&results.rows);
                    let _ = summary::html(&results, "fuzz");
                }
            }
        }
    }

    #[test]
    fn edited_baselines_read_and_compare_or_fail_located(edits in prop::collection::vec(arb_edit(), 1..4)) {
        let (_, _, base) = files();
        let text = edits.iter().fold(base.clone(), |t, e| apply(&t, e));
        match baseline::parse(&text, "edited.json") {
            Err(e) => prop_assert!(located(&e, "edited.json"), "{}", e),
            Ok(b) => {
                let original = baseline::parse(base, "base.json").unwrap();
                let rows: Vec<summary::Row> = Vec::new();
                let _ = baseline::check(&b, &original.fingerprint, &rows, Thresholds::default());
                let _ = baseline::check(&original, &b.fingerprint, &rows, Thresholds::default());
            }
        }
    }
}

#[test]
fn the_untouched_files_read_back() {
    let (a, b, base) = files();
    let runs = shard::merge(vec![
        ("a".into(), shard::parse(a, "a").unwrap()),
        ("b".into(), shard::parse(b, "b").unwrap()),
    ])
    .unwrap();
    assert_eq!(runs.len(), 4);
    assert!(baseline::parse(base, "base").is_ok());
    assert!(Path::new(env!("CARGO_BIN_EXE_nomad-sim-report")).exists());
}
