//! Per-node bookkeeping: the allocs a node lists, and how many allocs a job has on each node.

use smallvec::SmallVec;

use crate::ids::{AllocId, ArenaId, IdMap};

/// The live allocs on a node, by arena slot: a live alloc's slot names it (its generation is
/// the slot's current one), so the list takes 4 bytes an alloc, and finding an alloc to remove
/// compares 16 slots at a time, starting where the last removal found its alloc. A list of
/// up to [`INLINE_ALLOCS`] lives in the node's record, in the lines an alloc's placement and
/// end read anyway (see [`super::model::Node`]): on a large cluster a list on the heap is one
/// more cache miss each time. The alloc past that moves the whole list to the heap, where it
/// stays (C2M's nodes, with about 330 allocs each, never use the room in the record).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeAllocs {
    slots: SmallVec<[u32; INLINE_ALLOCS]>,
}

/// Allocs a node lists inside its own record, before the list moves to the heap.
pub(crate) const INLINE_ALLOCS: usize = 16;

impl NodeAllocs {
    /// How many live allocs the node holds.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when the node holds no live alloc.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The allocs' arena slots, in list order.
    pub fn slots(&self) -> &[u32] {
        &self.slots
    }

    /// Adds a live alloc at the end of the list.
    pub(crate) fn push(&mut self, alloc: AllocId) {
        // The list grows by half, not double: C2M's nodes hold about 330 allocs each, which
        // doubling would keep in room for 512.
        if self.slots.len() == self.slots.capacity() {
            self.slots.reserve_exact((self.slots.len() / 2).max(4));
        }
        self.slots.push(alloc.slot() as u32);
    }

    /// Takes a live alloc off the list by swap-removal.
    ///
    /// `hint` is where the last removal found its alloc (the node keeps it in what would be
    /// padding). Allocs often end in the order they were placed (a constant run time):
    /// swap-removal then leaves each next one just past the last hole, until half the list
    /// has gone; the holes were filled from the end, newest first, so from then on each next
    /// one sits just before the last hole. The search starts half a chunk before the hint,
    /// so its first chunk holds the alloc either way instead of most of a list later.
    pub(crate) fn remove(&mut self, alloc: AllocId, hint: &mut u32) {
        let slot = alloc.slot() as u32;
        // A short list is searched whole, as it always was: the split search is kept out of
        // line, so that this path stays as small as before.
        let at = if self.slots.len() > HINTED_PAST {
            self.position_from(slot, (*hint as usize).saturating_sub(LANES / 2))
        } else {
            position_of(&self.slots, slot).expect(ON_LIST)
        };
        self.slots.swap_remove(at);
        *hint = at as u32;
    }

    /// Where `slot` is, searching from `start` to the end and then from the start. A slot is
    /// on the list once, so where the search starts changes only its cost.
    #[inline(never)]
    fn position_from(&self, slot: u32, start: usize) -> usize {
        let start = start.min(self.slots.len());
        match position_of(&self.slots[start..], slot) {
            Some(i) => start + i,
            None => position_of(&self.slots[..start], slot).expect(ON_LIST),
        }
    }
}

/// Slots [`position_of`] compares at a time.
const LANES: usize = 16;

/// Lists longer than this start their search where the last removal found its alloc.
const HINTED_PAST: usize = 64;

const ON_LIST: &str = "a live alloc is on its node's list";

/// Where `x` is in `slots`: a chunk of 16 is checked without branches (the compiler makes
/// that a few vector compares), then searched when it holds `x`.
fn position_of(slots: &[u32], x: u32) -> Option<usize> {
    let mut chunks = slots.chunks_exact(LANES);
    let mut base = 0;
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |found, &s| found | (s == x)) {
            return chunk.iter().position(|&s| s == x).map(|i| base + i);
        }
        base += LANES;
    }
    chunks
        .remainder()
        .iter()
        .position(|&s| s == x)
        .map(|i| base + i)
}

/// How many live allocs a job has on each node, for job anti-affinity and `distinct_hosts`
/// (a system job's counts remember every node it ran on). A job with few allocs keeps a hash
/// map; past `DENSE_AT` (128) nodes it switches to a bitmap over node ids, with the counts above
/// one in a map: C2M's 1,000-alloc jobs took 18 KB each in a map, 1 KB in a bitmap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeCounts {
    /// Counts by node while the job is on fewer than `DENSE_AT` nodes.
    sparse: IdMap<u32, u32>,
    /// Bit `n` is set when node `n` holds at least one alloc (once dense).
    bits: Vec<u64>,
    /// Counts of two or more by node (once dense).
    more: IdMap<u32, u32>,
    dense: bool,
}

/// Nodes at which a job's counts switch from a hash map to a bitmap.
pub(crate) const DENSE_AT: usize = 128;

impl NodeCounts {
    /// Counts for a job of `count` allocs: a bitmap from the start when the job can reach
    /// `DENSE_AT` nodes, so its first allocs are not hashed into a map it then leaves.
    pub(crate) fn for_count(count: u32) -> Self {
        NodeCounts {
            dense: count as usize >= DENSE_AT,
            ..NodeCounts::default()
        }
    }

    /// The job's live allocs on `node`.
    pub fn get(&self, node: u32) -> u32 {
        if !self.dense {
            return self.sparse.get(&node).copied().unwrap_or(0);
        }
        if !self.has_bit(node) {
            return 0;
        }
        // Most jobs have at most one alloc on a node: the map of larger counts stays empty,
        // and is not hashed into then.
        if self.more.is_empty() {
            return 1;
        }
        self.more.get(&node).copied().unwrap_or(1)
    }

    /// True when the job has (or, for a system job, had) an alloc on `node`.
    pub fn contains(&self, node: u32) -> bool {
        self.get(node) > 0
    }

    /// Counts one more alloc on `node`.
    pub(crate) fn add(&mut self, node: u32) {
        if !self.dense {
            *self.sparse.entry(node).or_insert(0) += 1;
            if self.sparse.len() >= DENSE_AT {
                self.make_dense();
            }
            return;
        }
        if !self.has_bit(node) {
            let (word, bit) = (node as usize / 64, node % 64);
            if word >= self.bits.len() {
                self.bits.resize(word + 1, 0);
            }
            self.bits[word] |= 1 << bit;
        } else {
            *self.more.entry(node).or_insert(1) += 1;
        }
    }

    /// Counts one alloc fewer on `node`, which must hold one.
    pub(crate) fn sub(&mut self, node: u32) {
        let left = self
            .get(node)
            .checked_sub(1)
            .expect("a live alloc is counted on its node");
        if left == 0 {
            self.remove(node);
        } else if !self.dense {
            self.sparse.insert(node, left);
        } else if left == 1 {
            self.more.remove(&node);
        } else {
            self.more.insert(node, left);
        }
    }

    /// Forgets `node` altogether.
    pub(crate) fn remove(&mut self, node: u32) {
        if !self.dense {
            self.sparse.remove(&node);
            return;
        }
        if let Some(word) = self.bits.get_mut(node as usize / 64) {
            *word &= !(1 << (node % 64));
        }
        if !self.more.is_empty() {
            self.more.remove(&node);
        }
    }

    fn has_bit(&self, node: u32) -> bool {
        self.bits
            .get(node as usize / 64)
            .is_some_and(|w| w & (1 << (node % 64)) != 0)
    }

    fn make_dense(&mut self) {
        let sparse = std::mem::take(&mut self.sparse);
        self.dense = true;
        for (node, count) in sparse {
            self.add(node);
            if count > 1 {
                self.more.insert(node, count);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_list_finds_each_alloc_in_any_chunk_and_removes_by_swap() {
        let mut list = NodeAllocs::default();
        let mut hint = 0;
        let ids: Vec<AllocId> = (0..40).map(|s| AllocId::from_parts(s * 3, 7)).collect();
        for &id in &ids {
            list.push(id);
        }
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(position_of(list.slots(), id.slot() as u32), Some(i));
        }
        assert_eq!(position_of(list.slots(), 1), None);
        // Removing the 20th (in the second chunk) moves the last into its place.
        list.remove(ids[20], &mut hint);
        assert_eq!(list.len(), 39);
        assert_eq!(list.slots()[20], ids[39].slot() as u32);
        // The remainder past the last full chunk is searched too.
        list.remove(ids[33], &mut hint);
        assert!(!list.slots().contains(&(ids[33].slot() as u32)));
        assert_eq!(list.len(), 38);
    }

    #[test]
    fn removals_from_the_hint_leave_the_list_a_plain_swap_removal_leaves() {
        // In placement order (the hint's good case), in reverse, and interleaved, against a
        // vector searched from its start.
        let orders: [Vec<u32>; 3] = [
            (0..100).collect(),
            (0..100).rev().collect(),
            (0..100).map(|i| (i * 37) % 100).collect(),
        ];
        for order in orders {
            let mut list = NodeAllocs::default();
            let mut hint = 0;
            let mut reference: Vec<u32> = Vec::new();
            for s in 0..100 {
                list.push(AllocId::from_parts(s, 0));
                reference.push(s);
            }
            for (k, &s) in order.iter().enumerate() {
                list.remove(AllocId::from_parts(s, 0), &mut hint);
                let at = reference
                    .iter()
                    .position(|&r| r == s)
                    .expect("the reference holds every listed slot");
                reference.swap_remove(at);
                assert_eq!(
                    list.slots(),
                    &reference[..],
                    "after removal {k} of slot {s}"
                );
                if k == 50 {
                    // New allocs arrive between removals.
                    list.push(AllocId::from_parts(1000, 0));
                    reference.push(1000);
                }
            }
        }
    }

    #[test]
    fn a_node_keeps_a_short_list_in_its_record_and_a_long_one_on_the_heap() {
        let mut list = NodeAllocs::default();
        let mut hint = 0;
        let mut reference: Vec<u32> = Vec::new();
        let push = |list: &mut NodeAllocs, reference: &mut Vec<u32>, s: u32| {
            list.push(AllocId::from_parts(s, 0));
            reference.push(s);
        };
        for s in 0..INLINE_ALLOCS as u32 {
            push(&mut list, &mut reference, s);
        }
        assert!(
            !list.slots.spilled(),
            "{INLINE_ALLOCS} allocs fit in the record"
        );
        push(&mut list, &mut reference, 99);
        assert!(list.slots.spilled(), "one more moves the list to the heap");
        // Removals and pushes after the move leave what a swap-removing vector leaves.
        for s in [3, 99, 0, 15, 7] {
            list.remove(AllocId::from_parts(s, 0), &mut hint);
            let at = reference.iter().position(|&r| r == s).expect("listed");
            reference.swap_remove(at);
            assert_eq!(list.slots(), &reference[..], "after removing slot {s}");
        }
        for s in 200..220 {
            push(&mut list, &mut reference, s);
        }
        assert_eq!(list.slots(), &reference[..]);
        assert_eq!(list.len(), INLINE_ALLOCS + 1 - 5 + 20);
    }

    #[test]
    #[should_panic(expected = "a live alloc is on its node's list")]
    fn removing_an_alloc_the_node_does_not_hold_panics() {
        let mut list = NodeAllocs::default();
        let mut hint = 0;
        list.push(AllocId::from_parts(1, 0));
        list.remove(AllocId::from_parts(2, 0), &mut hint);
    }

    #[test]
    fn node_counts_agree_with_a_map_before_and_after_turning_dense() {
        // From an empty map, and from a bitmap as a job of many allocs starts.
        assert!(!NodeCounts::for_count(2).dense);
        assert!(NodeCounts::for_count(DENSE_AT as u32).dense);
        for start in [NodeCounts::default(), NodeCounts::for_count(1_000)] {
            node_counts_agree_with_a_map(start);
        }
    }

    fn node_counts_agree_with_a_map(mut counts: NodeCounts) {
        let mut want: std::collections::BTreeMap<u32, u32> = Default::default();
        // Nodes far apart and close together, several allocs on some, some leaving.
        let mut node = 7u32;
        for step in 0..2_000u32 {
            node = (node * 1_103 + 12_345) % 5_000;
            if step % 5 == 4 {
                if let Some((&n, _)) = want.iter().nth((step as usize) % want.len().max(1)) {
                    counts.sub(n);
                    let c = want.get_mut(&n).expect("the node was picked from the map");
                    *c -= 1;
                    if *c == 0 {
                        want.remove(&n);
                    }
                }
            } else {
                counts.add(node);
                counts.add(node % 40);
                *want.entry(node).or_insert(0) += 1;
                *want.entry(node % 40).or_insert(0) += 1;
            }
            if step % 97 == 0 {
                for n in 0..5_100 {
                    assert_eq!(
                        counts.get(n),
                        want.get(&n).copied().unwrap_or(0),
                        "node {n}"
                    );
                }
            }
        }
        assert!(
            counts.dense,
            "past {DENSE_AT} nodes the counts are a bitmap"
        );
        counts.remove(3);
        want.remove(&3);
        for n in 0..5_100 {
            assert_eq!(counts.contains(n), want.contains_key(&n), "node {n}");
        }
    }

    #[test]
    #[should_panic(expected = "a live alloc is counted on its node")]
    fn counting_down_a_node_without_allocs_panics() {
        NodeCounts::default().sub(4);
    }
}
