//! Dense integer identifiers for nodes, jobs, allocations and evaluations.

use serde::Serialize;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub struct $name(pub u32);

        impl $name {
            /// The index of this identifier in its arena.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// A client node, by position in the cluster's node table.
    NodeId
);
id_type!(
    /// A Nomad job, by position in the job table.
    JobId
);
id_type!(
    /// An allocation, by position in the allocation table.
    AllocId
);
id_type!(
    /// An evaluation, by position in the evaluation table.
    EvalId
);

/// A deterministic, UUID-shaped identifier for object number `n` of kind `kind` in a run.
///
/// Nomad shows UUIDs; operators paste 8-character prefixes. The simulator derives them from a
/// counter and the run's seed with a fixed mixing function, so they are stable across runs.
pub fn uuid_for(seed: u64, kind: u8, n: u64) -> String {
    let a = splitmix64(seed ^ (u64::from(kind) << 56) ^ n);
    let b = splitmix64(a ^ 0x9e37_79b9_7f4a_7c15);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0x0fff) as u16,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// The SplitMix64 finaliser, used to derive identifiers and stream seeds.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_distinct() {
        let a = uuid_for(42, 1, 0);
        assert_eq!(a, uuid_for(42, 1, 0));
        assert_ne!(a, uuid_for(42, 1, 1));
        assert_ne!(a, uuid_for(43, 1, 0));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
