//! Dense integer identifiers for nodes, jobs, allocations and evaluations.

use serde::Serialize;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub struct $name(pub u32);

        impl $name {
            /// The index of this identifier in its table.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// A client node, by position in the cluster's node table (nodes are never reused).
    NodeId
);

/// An identifier of an object in an [`Arena`](crate::state::arena::Arena): a slot and the
/// generation of the object in it, so an identifier kept after its object was garbage-collected
/// never reaches the slot's next occupant.
pub trait ArenaId: Copy {
    /// Builds an identifier; only the arena does this.
    fn from_parts(slot: u32, generation: u32) -> Self;
    /// The slot in the arena.
    fn slot(self) -> usize;
    /// The generation of the object in the slot.
    fn generation(self) -> u32;
}

macro_rules! arena_id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name {
            slot: u32,
            generation: u32,
        }

        impl ArenaId for $name {
            fn from_parts(slot: u32, generation: u32) -> Self {
                $name { slot, generation }
            }
            fn slot(self) -> usize {
                self.slot as usize
            }
            fn generation(self) -> u32 {
                self.generation
            }
        }
    };
}

arena_id_type!(
    /// A Nomad job in the state's job arena.
    JobId
);
arena_id_type!(
    /// An allocation in the state's allocation arena.
    AllocId
);
arena_id_type!(
    /// An evaluation in the state's evaluation arena.
    EvalId
);
arena_id_type!(
    /// A CircleCI job (one arrival, fanned out) in the state's arena.
    CiJobId
);

/// A deterministic, UUID-shaped identifier for object number `n` of kind `kind` in a run.
///
/// Nomad shows UUIDs; operators paste 8-character prefixes. The simulator derives them from a
/// counter and the run's seed with a fixed mixing function, so they are stable across runs.
/// The seed is mixed before the counter joins it: joined raw, seeds 1 and 5 gave the same IDs
/// four serials apart.
pub fn uuid_for(seed: u64, kind: u8, n: u64) -> String {
    let a = splitmix64(splitmix64(seed) ^ (u64::from(kind) << 56) ^ n);
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

/// A hasher for maps keyed by identifiers and serials: a multiply-rotate mix (the shape of
/// rustc's Fx hash), several times cheaper than SipHash on a 4- or 8-byte key. The keys come
/// from the simulation, not from an adversary, and no map keyed this way is iterated into an
/// output, so neither flooding nor order matters.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher {
    hash: u64,
}

impl IdHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.hash
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

/// A hash map keyed by identifiers or serials, hashed with [`IdHasher`].
pub type IdMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    #[test]
    fn uuids_are_stable_and_distinct() {
        let a = uuid_for(42, 1, 0);
        assert_eq!(a, uuid_for(42, 1, 0));
        assert_ne!(a, uuid_for(42, 1, 1));
        assert_ne!(a, uuid_for(43, 1, 0));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn runs_with_different_seeds_share_no_ids() {
        let ids = |seed: u64| -> std::collections::BTreeSet<String> {
            (0..2_000).map(|n| uuid_for(seed, 2, n)).collect()
        };
        for (s1, s2) in [(1, 5), (0, 1), (3, 7), (42, 43)] {
            let shared = ids(s1).intersection(&ids(s2)).count();
            assert_eq!(shared, 0, "seeds {s1} and {s2} share {shared} IDs");
        }
    }

    #[test]
    fn the_id_hasher_spreads_neighbouring_keys() {
        let build = BuildHasherDefault::<IdHasher>::default();
        let hashes: std::collections::BTreeSet<u64> =
            (0..10_000u32).map(|k| build.hash_one(k)).collect();
        assert_eq!(hashes.len(), 10_000, "distinct keys hash apart");
        // hashbrown takes its 7-bit tag from the top bits: neighbours must differ there too.
        let tags: std::collections::BTreeSet<u64> =
            (0..1_000u32).map(|k| build.hash_one(k) >> 57).collect();
        assert!(tags.len() > 100, "only {} distinct tags", tags.len());
        let a = build.hash_one(AllocId::from_parts(1, 2));
        assert_ne!(a, build.hash_one(AllocId::from_parts(2, 1)));
        assert_eq!(a, build.hash_one(AllocId::from_parts(1, 2)));
    }
}
