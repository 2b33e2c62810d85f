//! The event queue: a radix heap on monotone integer time that keeps a written order for same-time events.
//!
//! # Same-time order
//!
//! Events are popped by these rules, in this order:
//!
//! 1. Earlier simulated time first.
//! 2. At the same time, by [`EventClass`]: allocation endings, then node lifecycle (boot,
//!    drain deadlines, lifecycle-hook timeouts, migration checks), then operations and
//!    autoscaler ticks, then delayed evals, then arrivals.
//! 3. At the same time and class, in the order the events were pushed.
//! 4. The eval broker runs after every event of an instant has been handled (the engine's
//!    rule, not the queue's); events it pushes for that same instant run next, by rules 2–3.
//!
//! # How
//!
//! Each event's key is `time << 3 | class`. Keys only grow once popped (simulated time is
//! monotone), which is what a radix heap needs. This one works on digits of [`DIGIT_BITS`]
//! bits: an entry sits in the bucket named by the highest digit where its key differs from the
//! last popped key and by its own value of that digit. A push is O(1); a refill empties the
//! lowest bucket, and each of its entries moves to a lower digit's bucket, so an entry moves at
//! most eight times in its life, and about three when it waits a few minutes (a binary radix
//! heap moves it about once per bit, twenty times). Equal keys always share a bucket and keep
//! their push order, so rule 3 costs nothing. An event pushed for the current instant in an
//! earlier class than the one being handled (a zero-length deadline, say) has a key below the
//! last popped one; such rare entries wait in a small binary heap ordered by key then push
//! order, ahead of the rest.
//!
//! Events often come in key order: with a constant run time, each allocation ends a fixed
//! time after the one placed before it. Such a push (a key at or above every key pushed this
//! way before) is appended to a FIFO run instead, which costs no refills, and a pop takes the
//! smaller of the run's head and the radix heap's next. On equal keys the run's entry goes
//! first: an entry enters the heap rather than the run only when its key is below the run's
//! highest or below the last popped key (and neither ever falls while the queue is in radix
//! form), so any heap entry of the same key as a run entry was pushed after it.
//!
//! A radix heap pays for its buckets on every refill, which a queue of a few events (an
//! M/M/c queue on ten nodes holds about eleven) does not repay. While it holds at most
//! [`TO_RADIX`] events the queue keeps them in one vector sorted by key, latest first and, for
//! equal keys, newest first, so the next event is popped off its end. Past that size it moves
//! them to the radix heap, and back when it drops below [`TO_SMALL`]. Both forms keep the same
//! order, so the switch is never seen; the gap between the two sizes keeps it from switching
//! back and forth.
//!
//! [`EventQueue::peek_two`] names the next event and, when it can without a search, the one
//! after it: from the sorted vector, the run, the entries at the last popped key, or a lowest
//! bucket of at most [`PEEK_SCAN`] entries. The engine prefetches what they will read.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::ids::{AllocId, ArenaId, EvalId, NodeId};
use crate::state::arena::GENERATION_BITS;
use crate::time::SimTime;

/// Event classes, in the order same-time events run. Placements run after all of them
/// (the eval broker drains once every event at a time has been handled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventClass {
    /// Allocations finishing or failing: capacity is freed first.
    AllocEnd = 0,
    /// Node lifecycle: boot complete, lifecycle-hook timeouts, the ops timers' wake-up.
    NodeLifecycle = 1,
    /// Operator actions from the scenario's timeline.
    Operation = 2,
    /// Evals whose reschedule delay has passed.
    DelayedEval = 3,
    /// Workload arrivals (job registrations).
    Arrival = 4,
}

/// What happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// An allocation's task exits (successfully unless `failed`).
    AllocEnd {
        /// The allocation.
        alloc: AllocId,
        /// True when the task fails.
        failed: bool,
    },
    /// A booting node becomes ready.
    NodeReady {
        /// The node.
        node: NodeId,
    },
    /// A lifecycle hook's heartbeat timeout passes: the instance is terminated.
    LifecycleTimeout {
        /// The node.
        node: NodeId,
    },
    /// The ops timers (drainer deadlines and migrations, clients, scheduler workers) are due.
    MigrateCheck {
        /// The draining node.
        node: NodeId,
    },
    /// Operation number `index` of the timeline.
    Operation {
        /// Index into the configuration's operations.
        index: u32,
    },
    /// An eval that waited for a reschedule delay enters the broker.
    DelayedEval {
        /// The eval.
        eval: EvalId,
    },
    /// The autoscaler evaluates its policy.
    AutoscalerTick,
    /// The next arrival of workload `workload`.
    Arrival {
        /// Index into the configuration's workloads.
        workload: u32,
    },
}

impl EventKind {
    /// The class that orders this event among same-time events.
    pub fn class(&self) -> EventClass {
        match self {
            EventKind::AllocEnd { .. } => EventClass::AllocEnd,
            EventKind::NodeReady { .. }
            | EventKind::LifecycleTimeout { .. }
            | EventKind::MigrateCheck { .. } => EventClass::NodeLifecycle,
            EventKind::Operation { .. } | EventKind::AutoscalerTick => EventClass::Operation,
            EventKind::DelayedEval { .. } => EventClass::DelayedEval,
            EventKind::Arrival { .. } => EventClass::Arrival,
        }
    }
}

/// Bits of a key below the time: room for the event classes.
const CLASS_BITS: u32 = 3;

/// The largest time an event may be scheduled at (keys must fit in 64 bits).
pub const MAX_EVENT_TIME: SimTime = (1 << (64 - CLASS_BITS)) - 1;

fn key_of(time: SimTime, kind: &EventKind) -> u64 {
    assert!(
        time <= MAX_EVENT_TIME,
        "event time {time} ms is past the queue's range"
    );
    (time << CLASS_BITS) | kind.class() as u64
}

/// Bits of a packed payload above the identifier: the kind within a class of several kinds,
/// or the `failed` flag of an allocation's end.
const TAG_SHIFT: u32 = 32;

/// The arenas wrap generations within `GENERATION_BITS`, so an identifier leaves the bit
/// above them free: an alloc's end keeps its `failed` flag there.
const FAILED_BIT: u64 = 1 << (TAG_SHIFT + GENERATION_BITS);

/// The generation bits of a packed identifier.
const GENERATION_MASK: u32 = (1 << GENERATION_BITS) - 1;

fn pack_id(slot: usize, generation: u32) -> u64 {
    assert!(
        generation <= GENERATION_MASK,
        "an event's identifier has a 31-bit generation"
    );
    slot as u64 | (u64::from(generation) << TAG_SHIFT)
}

fn unpack_id<I: ArenaId>(payload: u64) -> I {
    I::from_parts(
        payload as u32,
        ((payload >> TAG_SHIFT) as u32) & GENERATION_MASK,
    )
}

/// An event in 8 bytes; its class is in the key, so the payload names the kind only within
/// a class of several kinds. With the key, an entry takes 16 bytes.
fn pack(kind: &EventKind) -> u64 {
    let tagged = |tag: u64, low: u32| (tag << TAG_SHIFT) | u64::from(low);
    match *kind {
        EventKind::AllocEnd { alloc, failed } => {
            pack_id(alloc.slot(), alloc.generation()) | if failed { FAILED_BIT } else { 0 }
        }
        EventKind::NodeReady { node } => tagged(0, node.0),
        EventKind::LifecycleTimeout { node } => tagged(1, node.0),
        EventKind::MigrateCheck { node } => tagged(2, node.0),
        EventKind::Operation { index } => tagged(0, index),
        EventKind::AutoscalerTick => tagged(1, 0),
        EventKind::DelayedEval { eval } => pack_id(eval.slot(), eval.generation()),
        EventKind::Arrival { workload } => u64::from(workload),
    }
}

/// The event a key's class and a packed payload stand for.
fn unpack(key: u64, payload: u64) -> EventKind {
    let low = payload as u32;
    let tag = payload >> TAG_SHIFT;
    match key & ((1 << CLASS_BITS) - 1) {
        0 => EventKind::AllocEnd {
            alloc: unpack_id(payload),
            failed: payload & FAILED_BIT != 0,
        },
        1 => match tag {
            0 => EventKind::NodeReady { node: NodeId(low) },
            1 => EventKind::LifecycleTimeout { node: NodeId(low) },
            _ => EventKind::MigrateCheck { node: NodeId(low) },
        },
        2 => match tag {
            0 => EventKind::Operation { index: low },
            _ => EventKind::AutoscalerTick,
        },
        3 => EventKind::DelayedEval {
            eval: unpack_id(payload),
        },
        _ => EventKind::Arrival { workload: low },
    }
}

/// Events past which a queue in its small form moves them to the radix heap.
pub const TO_RADIX: usize = 128;

/// Events below which a queue in radix form moves them back to its sorted vector.
pub const TO_SMALL: usize = 32;

/// Entries of a bucket [`EventQueue::peek_two`] searches at most for the event after next.
pub const PEEK_SCAN: usize = 8;

/// Bits of a key per radix digit.
pub const DIGIT_BITS: u32 = 8;

/// Values of one digit: buckets per digit position.
const DIGITS: usize = 1 << DIGIT_BITS;

/// Digit positions in a 64-bit key.
const LEVELS: usize = 64_usize.div_ceil(DIGIT_BITS as usize);

/// Words of the occupancy bitmap per digit position.
const WORDS_PER_LEVEL: usize = DIGITS / 64;

/// Entries per chunk of a bucket (4 KiB).
const CHUNK: usize = 256;

/// Empty chunks kept for reuse at most (4 MiB); more go back to the allocator.
const MAX_FREE_CHUNKS: usize = 1 << 10;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    payload: u64,
}

/// An entry pushed below the last popped key, ordered by key then push order.
#[derive(Clone, Copy, Debug)]
struct Late {
    key: u64,
    seq: u64,
    payload: u64,
}

impl PartialEq for Late {
    fn eq(&self, other: &Self) -> bool {
        (self.key, self.seq) == (other.key, other.seq)
    }
}
impl Eq for Late {}
impl PartialOrd for Late {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Late {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and the smallest key goes first.
        (other.key, other.seq).cmp(&(self.key, self.seq))
    }
}

/// A priority queue of events: earliest time first, then class, then insertion order.
#[derive(Clone, Debug)]
pub struct EventQueue {
    /// The key of the last popped entry (the radix heap's base).
    last: u64,
    /// Payloads of the entries whose key equals `last`, in push order.
    front: VecDeque<u64>,
    /// Bucket `level * DIGITS + d` holds keys above `last` whose highest digit differing from
    /// `last` is digit `level` and whose value of that digit is `d`. Each bucket is a list of
    /// chunks of [`CHUNK`] entries, filled in push order: a bucket wastes at most one chunk,
    /// and moving a bucket down frees its chunks as it fills others.
    buckets: Vec<Vec<Vec<Entry>>>,
    /// A bit per bucket, set while it holds entries, so the lowest one is found at once.
    occupied: [u64; LEVELS * WORDS_PER_LEVEL],
    /// Bit `level` is set while some bucket of that digit position holds entries.
    levels: u64,
    /// Entries pushed with a key below `last`.
    late: BinaryHeap<Late>,
    /// Entries pushed in key order, each at or above `run_max` when pushed, in push order.
    run: VecDeque<Entry>,
    /// The least key the run takes: the highest key pushed to it so far, or, after a move to
    /// radix form, one past the highest key moved (so equal keys never favour a later push).
    run_max: u64,
    /// True while every entry is in `sorted` (a queue of few events).
    small: bool,
    /// While `small`, every entry: the next to pop last.
    sorted: Vec<Entry>,
    /// Empty chunks, so filling a bucket rarely allocates.
    free: Vec<Vec<Entry>>,
    /// An empty chunk list with room, swapped in for the bucket a refill empties.
    spare: Vec<Vec<Entry>>,
    len: usize,
    next_late_seq: u64,
}

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue {
            last: 0,
            front: VecDeque::new(),
            buckets: (0..LEVELS * DIGITS).map(|_| Vec::new()).collect(),
            occupied: [0; LEVELS * WORDS_PER_LEVEL],
            levels: 0,
            late: BinaryHeap::new(),
            run: VecDeque::new(),
            run_max: 0,
            small: true,
            sorted: Vec::new(),
            free: Vec::new(),
            spare: Vec::new(),
            len: 0,
            next_late_seq: 0,
        }
    }
}

impl EventQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bucket of a key above `last`.
    fn bucket_of(&self, key: u64) -> usize {
        debug_assert!(key > self.last, "bucket keys are above the last popped key");
        let level = (63 - (key ^ self.last).leading_zeros()) / DIGIT_BITS;
        let digit = (key >> (level * DIGIT_BITS)) as usize & (DIGITS - 1);
        level as usize * DIGITS + digit
    }

    /// The lowest bucket that holds entries: it holds the least key.
    fn lowest_bucket(&self) -> Option<usize> {
        if self.levels == 0 {
            return None;
        }
        let level = self.levels.trailing_zeros() as usize;
        let (w, word) = self
            .level_words(level)
            .iter()
            .enumerate()
            .find(|(_, word)| **word != 0)
            .expect("an occupied level has an occupied bucket");
        Some(level * DIGITS + w * 64 + word.trailing_zeros() as usize)
    }

    /// The occupancy bits of the buckets of digit position `level`.
    fn level_words(&self, level: usize) -> &[u64] {
        &self.occupied[level * WORDS_PER_LEVEL..(level + 1) * WORDS_PER_LEVEL]
    }

    /// Schedules `kind` at `time`.
    pub fn push(&mut self, time: SimTime, kind: EventKind) {
        let key = key_of(time, &kind);
        let payload = pack(&kind);
        self.len += 1;
        if self.small {
            // Before every entry of a smaller key and every older entry of this key.
            let at = self.sorted.partition_point(|e| e.key > key);
            self.sorted.insert(at, Entry { key, payload });
            if self.len > TO_RADIX {
                self.grow_to_radix();
            }
        } else if key >= self.run_max && key >= self.last {
            self.run_max = key;
            self.run.push_back(Entry { key, payload });
        } else if key < self.last {
            let seq = self.next_late_seq;
            self.next_late_seq += 1;
            self.late.push(Late { key, seq, payload });
        } else if key == self.last {
            self.front.push_back(payload);
        } else {
            let b = self.bucket_of(key);
            self.push_to_bucket(b, Entry { key, payload });
        }
    }

    /// Appends an entry to bucket `b`, starting a chunk when its last one is full.
    #[inline]
    fn push_to_bucket(&mut self, b: usize, e: Entry) {
        self.occupied[b / 64] |= 1 << (b % 64);
        self.levels |= 1 << (b / DIGITS);
        let chunks = &mut self.buckets[b];
        match chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(e),
            _ => {
                let mut chunk = self.free.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK));
                chunk.push(e);
                chunks.push(chunk);
            }
        }
    }

    /// Moves the lowest non-empty bucket down so that `front` holds the smallest key. Kept out
    /// of line, so that the callers' common path (the front holds entries) stays small.
    #[inline(never)]
    fn refill(&mut self) {
        debug_assert!(self.front.is_empty());
        let Some(b) = self.lowest_bucket() else {
            return;
        };
        self.occupied[b / 64] &= !(1 << (b % 64));
        let level = b / DIGITS;
        if self.level_words(level).iter().all(|word| *word == 0) {
            self.levels &= !(1 << level);
        }
        // The bucket's chunk list is swapped for an empty one that kept its room, and kept
        // in turn once emptied, so moving a bucket allocates nothing.
        let mut moving = std::mem::replace(&mut self.buckets[b], std::mem::take(&mut self.spare));
        self.last = moving
            .iter()
            .flat_map(|chunk| chunk.iter().map(|e| e.key))
            .min()
            .expect("the bucket is not empty");
        for mut chunk in moving.drain(..) {
            for e in chunk.drain(..) {
                if e.key == self.last {
                    self.front.push_back(e.payload);
                } else {
                    let to = self.bucket_of(e.key);
                    debug_assert!(to < b, "an entry moves to a lower bucket");
                    self.push_to_bucket(to, e);
                }
            }
            if self.free.len() < MAX_FREE_CHUNKS {
                self.free.push(chunk);
            }
        }
        self.spare = moving;
    }

    /// The time of the next event.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        if self.small {
            return self.sorted.last().map(|e| e.key >> CLASS_BITS);
        }
        let heap = self.heap_key();
        let run = self.run.front().map(|e| e.key);
        let key = match (heap, run) {
            (Some(h), Some(r)) => h.min(r),
            (h, r) => h.or(r)?,
        };
        Some(key >> CLASS_BITS)
    }

    /// The key the radix heap (with its late entries) would pop next.
    #[inline]
    fn heap_key(&mut self) -> Option<u64> {
        if let Some(l) = self.late.peek() {
            return Some(l.key);
        }
        if self.front.is_empty() {
            self.refill();
        }
        (!self.front.is_empty()).then_some(self.last)
    }

    /// Removes and returns the next event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, EventKind)> {
        let (key, payload) = self.pop_entry()?;
        if !self.small && self.len < TO_SMALL {
            self.shrink_to_small();
        }
        Some((key >> CLASS_BITS, unpack(key, payload)))
    }

    /// The next two events, without removing them: the next, and the one after it when the
    /// queue can tell without a search (`None` when it cannot, or when there is none). Unless
    /// something is pushed in between, they are what the next two [`EventQueue::pop`]s
    /// return. The engine prefetches what they will read.
    #[inline]
    pub fn peek_two(&mut self) -> (Option<EventKind>, Option<EventKind>) {
        let kind = |e: Option<Entry>| e.map(|e| unpack(e.key, e.payload));
        if self.small {
            let n = self.sorted.len();
            let at = |i: Option<usize>| i.and_then(|i| self.sorted.get(i).copied());
            return (kind(at(n.checked_sub(1))), kind(at(n.checked_sub(2))));
        }
        let heap_first = self.heap_key().map(|key| Entry {
            key,
            payload: match self.late.peek() {
                Some(l) => l.payload,
                None => self.front[0],
            },
        });
        let (run_first, run_second) = (self.run.front().copied(), self.run.get(1).copied());
        match (run_first, heap_first) {
            (Some(r), h) if self.run_goes_first(h.map(|h| h.key)) => {
                let second = match (run_second, h) {
                    (Some(r2), Some(h)) if r2.key > h.key => Some(h),
                    (r2, h) => r2.or(h),
                };
                (kind(Some(r)), kind(second))
            }
            (r, Some(h)) => {
                let second = match (r, self.heap_second()) {
                    (_, None) => None,
                    (Some(r), Some(Some(h2))) if r.key <= h2.key => Some(r),
                    (r, Some(h2)) => h2.or(r),
                };
                (kind(Some(h)), kind(second))
            }
            (_, None) => (None, None),
        }
    }

    /// True when the run's head pops before the radix heap's next (whose key is `heap`): on
    /// equal keys the run's entry was pushed first (see the module doc).
    fn run_goes_first(&self, heap: Option<u64>) -> bool {
        self.run
            .front()
            .is_some_and(|r| heap.is_none_or(|h| r.key <= h))
    }

    /// The radix heap's entry after its next (`Some(None)` when it has no other), or `None`
    /// when finding it would take a search: the next is a late entry, or the lowest bucket
    /// holds more than [`PEEK_SCAN`] entries. Call after [`EventQueue::heap_key`].
    fn heap_second(&self) -> Option<Option<Entry>> {
        if !self.late.is_empty() {
            return None;
        }
        if let Some(&payload) = self.front.get(1) {
            return Some(Some(Entry {
                key: self.last,
                payload,
            }));
        }
        let Some(b) = self.lowest_bucket() else {
            return Some(None);
        };
        match self.buckets[b].as_slice() {
            // Of equal least keys, the first was pushed first.
            [chunk] if chunk.len() <= PEEK_SCAN => {
                Some(chunk.iter().min_by_key(|e| e.key).copied())
            }
            _ => None,
        }
    }

    /// Removes the next entry: its key and payload.
    fn pop_entry(&mut self) -> Option<(u64, u64)> {
        if self.small {
            let e = self.sorted.pop()?;
            self.len -= 1;
            return Some((e.key, e.payload));
        }
        let heap = self.heap_key();
        if self.run_goes_first(heap) {
            let e = self.run.pop_front().expect("the run has a head");
            self.len -= 1;
            return Some((e.key, e.payload));
        }
        heap?;
        self.len -= 1;
        if let Some(l) = self.late.pop() {
            return Some((l.key, l.payload));
        }
        let payload = self.front.pop_front().expect("the heap's next is in front");
        Some((self.last, payload))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Moves every entry of the sorted vector into the radix heap, based at the smallest key.
    /// Entries go in in order, so equal keys keep their push order.
    fn grow_to_radix(&mut self) {
        debug_assert!(self.small && self.levels == 0 && self.front.is_empty());
        debug_assert!(self.late.is_empty() && self.run.is_empty());
        self.small = false;
        let mut sorted = std::mem::take(&mut self.sorted);
        if let Some(first) = sorted.last() {
            self.last = first.key;
        }
        if let Some(highest) = sorted.first() {
            self.run_max = highest.key + 1;
        }
        for e in sorted.drain(..).rev() {
            if e.key == self.last {
                self.front.push_back(e.payload);
            } else {
                let b = self.bucket_of(e.key);
                self.push_to_bucket(b, e);
            }
        }
        // The vector keeps its room for the next time the queue is small.
        self.sorted = sorted;
    }

    /// Moves every entry back into the sorted vector, in the order they would pop.
    fn shrink_to_small(&mut self) {
        let mut sorted = std::mem::take(&mut self.sorted);
        let len = self.len;
        while let Some((key, payload)) = self.pop_entry() {
            sorted.push(Entry { key, payload });
        }
        sorted.reverse();
        self.sorted = sorted;
        self.small = true;
        self.len = len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_time_events_run_by_class_then_insertion() {
        let mut q = EventQueue::new();
        q.push(10, EventKind::Arrival { workload: 0 });
        q.push(10, EventKind::Operation { index: 0 });
        q.push(
            10,
            EventKind::AllocEnd {
                alloc: AllocId::from_parts(1, 0),
                failed: false,
            },
        );
        q.push(5, EventKind::Arrival { workload: 1 });
        q.push(
            10,
            EventKind::AllocEnd {
                alloc: AllocId::from_parts(2, 0),
                failed: false,
            },
        );
        q.push(10, EventKind::NodeReady { node: NodeId(0) });
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (5, EventKind::Arrival { workload: 1 }),
                (
                    10,
                    EventKind::AllocEnd {
                        alloc: AllocId::from_parts(1, 0),
                        failed: false
                    }
                ),
                (
                    10,
                    EventKind::AllocEnd {
                        alloc: AllocId::from_parts(2, 0),
                        failed: false
                    }
                ),
                (10, EventKind::NodeReady { node: NodeId(0) }),
                (10, EventKind::Operation { index: 0 }),
                (10, EventKind::Arrival { workload: 0 }),
            ]
        );
    }

    #[test]
    fn every_kind_comes_back_as_it_was_pushed() {
        let big = (1 << 31) - 1;
        let kinds = [
            EventKind::AllocEnd {
                alloc: AllocId::from_parts(u32::MAX, big),
                failed: true,
            },
            EventKind::AllocEnd {
                alloc: AllocId::from_parts(7, big),
                failed: false,
            },
            EventKind::NodeReady {
                node: NodeId(u32::MAX),
            },
            EventKind::LifecycleTimeout { node: NodeId(5) },
            EventKind::MigrateCheck { node: NodeId(6) },
            EventKind::Operation { index: u32::MAX },
            EventKind::AutoscalerTick,
            EventKind::DelayedEval {
                eval: EvalId::from_parts(9, big),
            },
            EventKind::Arrival { workload: u32::MAX },
        ];
        let mut q = EventQueue::new();
        for (t, k) in kinds.iter().enumerate() {
            q.push(t as u64, *k);
        }
        let popped: Vec<EventKind> = std::iter::from_fn(|| q.pop()).map(|(_, k)| k).collect();
        assert_eq!(popped, kinds);
    }

    #[test]
    #[should_panic(expected = "31-bit generation")]
    fn an_identifier_past_31_generation_bits_is_refused() {
        EventQueue::new().push(
            0,
            EventKind::DelayedEval {
                eval: EvalId::from_parts(0, 1 << 31),
            },
        );
    }
}
