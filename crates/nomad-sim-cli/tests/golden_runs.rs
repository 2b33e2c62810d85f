//! Golden runs of the quick shipped scenarios: the `--json` report byte for byte and a digest of
//! the `--trace`, so a refactor that means to keep behaviour proves it does, and a change of
//! behaviour shows up as a golden update in its own commit.
//! Set NOMAD_SIM_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.

use std::path::{Path, PathBuf};
use std::process::Command;

use nomad_sim_output::ScratchDir;

/// Shipped scenarios that run in well under a second (C2M and the long M/M/c runs are measured
/// by the benchmarks instead).
const QUICK: [&str; 8] = [
    "autoscaler-weekday",
    "circleci-scale-down",
    "circleci-weekday",
    "drain-deadline-tradeoff",
    "job-files",
    "mixed-cluster",
    "night-scale-in-services",
    "trace-replay",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// FNV-1a, 64 bits: a digest that needs no extra dependency.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn quick_scenarios_match_their_golden_report_and_trace() {
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/reports");
    let update = std::env::var_os("NOMAD_SIM_UPDATE_GOLDEN").is_some();
    let tmp = ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-golden-{}", std::process::id())),
    )
    .expect("a scratch directory");
    let mut differ = Vec::new();
    for name in QUICK {
        let scenario = repo().join("scenarios").join(format!("{name}.yaml"));
        let trace = tmp.join(format!("{name}.jsonl"));
        let out = Command::new(env!("CARGO_BIN_EXE_nomad-sim"))
            .arg("run")
            .arg(&scenario)
            .arg("--json")
            .arg("--trace")
            .arg(&trace)
            .output()
            .expect("the binary runs");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = String::from_utf8(out.stdout).unwrap();
        let digest = format!("{:016x}\n", fnv64(&std::fs::read(&trace).unwrap()));
        let files = [
            (golden_dir.join(format!("{name}.json")), report),
            (golden_dir.join(format!("{name}.trace.fnv64")), digest),
        ];
        for (path, got) in files {
            if update {
                std::fs::write(&path, &got).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(got.as_str()) {
                differ.push(path.display().to_string());
            }
        }
    }
    assert!(
        differ.is_empty(),
        "these differ from their golden files (rerun with NOMAD_SIM_UPDATE_GOLDEN=1 after an intended change): {differ:#?}"
    );
}
