//! What a sweep measured, written into baselines and shards so that files from different
//! sweeps are never compared or merged: scenario names, seeds and content hashes, algorithms,
//! seed count, whether it was timed, and the version of the binary.

use serde::{Deserialize, Serialize};

/// One scenario of a sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioPrint {
    /// The scenario's name.
    pub name: String,
    /// Its first seed (the scenario's own, or as overridden).
    pub seed: u64,
    /// FNV-1a (64 bits, hex) of the scenario file and every file it reads, in order.
    pub hash: String,
}

/// What a sweep measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The version of nomad-sim-report that ran it.
    pub version: String,
    /// The scenarios, in sweep order.
    pub scenarios: Vec<ScenarioPrint>,
    /// The algorithms, in sweep order.
    pub algorithms: Vec<String>,
    /// Seeds per scenario and algorithm.
    pub seeds: u32,
    /// Whether wall-clock figures were measured.
    pub timing: bool,
}

/// This binary's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The most runs one sweep may have (scenarios × algorithms × seeds).
pub const MAX_RUNS: u64 = 1_000_000;

/// The most seeds per scenario and algorithm.
pub const MAX_SEEDS: u32 = 100_000;

impl Fingerprint {
    /// The number of runs of the sweep, or `None` past [`MAX_RUNS`].
    pub fn total_runs(&self) -> Option<usize> {
        let n = (self.scenarios.len() as u64)
            .checked_mul(self.algorithms.len() as u64)?
            .checked_mul(u64::from(self.seeds))?;
        (n <= MAX_RUNS).then_some(n as usize)
    }

    /// What the run at `index` must be: (scenario index, algorithm, seed).
    pub fn run_at(&self, index: usize) -> Option<(usize, &str, u64)> {
        let seeds = self.seeds as usize;
        let algorithms = self.algorithms.len();
        if seeds == 0 || algorithms == 0 {
            return None;
        }
        let k = index % seeds;
        let a = (index / seeds) % algorithms;
        let s = index / seeds / algorithms;
        let scenario = self.scenarios.get(s)?;
        Some((s, &self.algorithms[a], scenario.seed.wrapping_add(k as u64)))
    }

    /// Why `other` describes a different sweep, if it does (`None` when they match).
    pub fn difference(&self, other: &Fingerprint) -> Option<String> {
        if self.version != other.version {
            return Some(format!(
                "nomad-sim-report {} against {}",
                other.version, self.version
            ));
        }
        if self.seeds != other.seeds {
            return Some(format!("{} seeds against {}", other.seeds, self.seeds));
        }
        if self.algorithms != other.algorithms {
            return Some(format!(
                "algorithms {} against {}",
                other.algorithms.join(","),
                self.algorithms.join(",")
            ));
        }
        if self.timing != other.timing {
            return Some("one was timed and the other not (--no-timing)".to_string());
        }
        if self.scenarios.len() != other.scenarios.len() {
            return Some(format!(
                "{} scenarios against {}",
                other.scenarios.len(),
                self.scenarios.len()
            ));
        }
        for (a, b) in self.scenarios.iter().zip(&other.scenarios) {
            if let Some(d) = a.difference(b) {
                return Some(d);
            }
        }
        None
    }
}

impl ScenarioPrint {
    /// Why `other` is not the same scenario run the same way, if it is not.
    pub fn difference(&self, other: &ScenarioPrint) -> Option<String> {
        if self.name != other.name {
            return Some(format!("scenario {:?} against {:?}", other.name, self.name));
        }
        if self.hash != other.hash {
            return Some(format!(
                "scenario {:?} changed (content hash {} against {})",
                self.name, other.hash, self.hash
            ));
        }
        if self.seed != other.seed {
            return Some(format!(
                "scenario {:?} from seed {} against {}",
                self.name, other.seed, self.seed
            ));
        }
        None
    }
}

/// FNV-1a, 64 bits: a content hash for fingerprints (not for security).
pub fn fnv1a(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so that moving bytes between files changes the hash.
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The byte offset of the first `"key"` in a JSON text, as a line and column, for messages
/// about a value that parsed but makes no sense.
pub fn locate_key(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    let at = text.find(&needle).unwrap_or(0);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(at, |n| at - n - 1) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print() -> Fingerprint {
        Fingerprint {
            version: VERSION.to_string(),
            scenarios: vec![
                ScenarioPrint {
                    name: "a".into(),
                    seed: 1,
                    hash: fnv1a(&[b"a"]),
                },
                ScenarioPrint {
                    name: "b".into(),
                    seed: 10,
                    hash: fnv1a(&[b"b"]),
                },
            ],
            algorithms: vec!["binpack".into(), "spread".into(), "random".into()],
            seeds: 4,
            timing: false,
        }
    }

    #[test]
    fn run_indexes_follow_the_sweep_order() {
        let f = print();
        assert_eq!(f.total_runs(), Some(24));
        assert_eq!(f.run_at(0), Some((0, "binpack", 1)));
        assert_eq!(f.run_at(5), Some((0, "spread", 2)));
        assert_eq!(f.run_at(23), Some((1, "random", 13)));
        assert_eq!(f.run_at(24), None);
    }

    #[test]
    fn differences_are_named() {
        let a = print();
        let mut b = print();
        assert_eq!(a.difference(&b), None);
        b.scenarios[1].hash = fnv1a(&[b"c"]);
        assert!(a.difference(&b).unwrap().contains("\"b\" changed"));
        let mut huge = print();
        huge.seeds = u32::MAX;
        assert_eq!(huge.total_runs(), None);
    }

    #[test]
    fn hashes_separate_files() {
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
        assert_eq!(locate_key("{\n  \"x\": 1,\n  \"y\": 2}", "y"), (3, 3));
    }
}
