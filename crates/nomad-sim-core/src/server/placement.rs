//! Nomad's ranking: binpack and spread fitness, job anti-affinity, the reschedule penalty, the limit.
//!
//! Over 600 lines because of its unit tests (from line 418), which work each formula and
//! name out against Nomad's by hand; the code itself is about 400 lines.

use std::cell::Cell;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{Algorithm, JobType};
use crate::resources::{Dimension, Resources};

/// Nomad's `binPackingMaxFitScore`: fitness is divided by it to normalise into [0, 1].
pub const BINPACK_MAX_FIT_SCORE: f64 = 18.0;

/// Nomad's limit iterator puts aside at most this many low-scoring options per Select.
pub const MAX_SKIP: usize = 3;

/// Options scoring at or below this are put aside by the limit iterator.
pub const SKIP_SCORE_THRESHOLD: f64 = 0.0;

/// Nomad's default `NodeLimitForFeasibilityChecks`: the least limit of a Select whose job has
/// spreads or affinities.
pub const NODE_LIMIT_FOR_FEASIBILITY_CHECKS: usize = 100;

pub use crate::server::affinity::NodeAffinityScorer;
pub use crate::server::spread::{even_spread_boost, target_spread_boost, SpreadScorer};

/// The raw fitness (0..=18) of a node after adding the ask, for either algorithm.
///
/// `allocatable` is node capacity minus reserved; `used_after` includes the new ask.
/// Binpack is `20 - (10^free_cpu + 10^free_mem)`, spread is `(10^free_cpu + 10^free_mem) - 2`,
/// both clamped to [0, 18], where `free_x = 1 - used_x / allocatable_x`.
pub fn fitness(algorithm: Algorithm, allocatable: Resources, used_after: Resources) -> f64 {
    let free_cpu = free_fraction(used_after.cpu_mhz, allocatable.cpu_mhz);
    let free_mem = free_fraction(used_after.memory_mb, allocatable.memory_mb);
    fitness_of(algorithm, 10f64.powf(free_cpu) + 10f64.powf(free_mem))
}

/// A memo of `10^x` for the fitness formula: a direct-mapped table keyed by the exact bits of
/// `x`, so a hit returns what `powf` returned for the same `x` and scores stay bit-identical.
///
/// Nodes of one shape asked for one size see a few hundred distinct free fractions, so nearly
/// every Select hits; `powf` was a tenth of C2M's instructions.
///
/// A second table keeps whole binpack scores keyed by the exact CPU and memory figures they
/// were computed from, so a hit skips the three divisions as well ([`Pow10Memo::score`]).
#[derive(Clone, Debug)]
pub struct Pow10Memo {
    slots: Box<[Cell<(u64, f64)>]>,
    scores: Box<[Cell<ScoreSlot>]>,
}

/// A memoised binpack score: the algorithm, the node's allocatable and used-after CPU and
/// memory (each pair packed in 64 bits), and the score.
#[derive(Clone, Copy, Debug)]
struct ScoreSlot {
    algorithm: Option<Algorithm>,
    allocatable: u64,
    used_after: u64,
    score: f64,
}

/// Slots of the score table (32 KiB).
const SCORE_BITS: u32 = 10;

/// Slots of a `Pow10Memo` (64 KiB). C2M sees about 800 distinct exponents: with a quarter of
/// this, one lookup in eight still missed.
const POW10_SLOTS: usize = 1 << POW10_BITS;
const POW10_BITS: u32 = 12;
/// Bits of an empty slot: a NaN, which `free_fraction` never returns; its value is a NaN too,
/// so even a NaN of these bits gets what `powf` gives a NaN.
const POW10_EMPTY: u64 = u64::MAX;

impl Default for Pow10Memo {
    fn default() -> Self {
        let empty = ScoreSlot {
            algorithm: None,
            allocatable: 0,
            used_after: 0,
            score: f64::NAN,
        };
        Pow10Memo {
            slots: vec![Cell::new((POW10_EMPTY, f64::NAN)); POW10_SLOTS].into_boxed_slice(),
            scores: vec![Cell::new(empty); 1 << SCORE_BITS].into_boxed_slice(),
        }
    }
}

impl Pow10Memo {
    /// `10f64.powf(x)`, from the table when `x` was seen last in its slot.
    pub fn pow10(&self, x: f64) -> f64 {
        let bits = x.to_bits();
        let slot =
            &self.slots[(bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - POW10_BITS)) as usize];
        let (key, value) = slot.get();
        if key == bits {
            return value;
        }
        let value = 10f64.powf(x);
        slot.set((bits, value));
        value
    }

    /// The binpack scorer's score, `fitness(..) / BINPACK_MAX_FIT_SCORE`, from the score table
    /// when the same figures were scored last in their slot. Figures of 2^32 or more are
    /// scored without the table.
    pub fn score(
        &self,
        algorithm: Algorithm,
        allocatable: Resources,
        used_after: Resources,
    ) -> f64 {
        let pack = |r: Resources| {
            let (cpu, mem) = (
                u32::try_from(r.cpu_mhz).ok()?,
                u32::try_from(r.memory_mb).ok()?,
            );
            Some(u64::from(cpu) << 32 | u64::from(mem))
        };
        let direct = || self.fitness(algorithm, allocatable, used_after) / BINPACK_MAX_FIT_SCORE;
        let (Some(a), Some(u)) = (pack(allocatable), pack(used_after)) else {
            return direct();
        };
        let hash = (a.rotate_left(29) ^ u).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = &self.scores[(hash >> (64 - SCORE_BITS)) as usize];
        let s = slot.get();
        if s.allocatable == a && s.used_after == u && s.algorithm == Some(algorithm) {
            return s.score;
        }
        let score = direct();
        slot.set(ScoreSlot {
            algorithm: Some(algorithm),
            allocatable: a,
            used_after: u,
            score,
        });
        score
    }

    /// `fitness(algorithm, allocatable, used_after)`, with its powers from the memo.
    pub fn fitness(
        &self,
        algorithm: Algorithm,
        allocatable: Resources,
        used_after: Resources,
    ) -> f64 {
        let free_cpu = free_fraction(used_after.cpu_mhz, allocatable.cpu_mhz);
        let free_mem = free_fraction(used_after.memory_mb, allocatable.memory_mb);
        fitness_of(algorithm, self.pow10(free_cpu) + self.pow10(free_mem))
    }
}

fn fitness_of(algorithm: Algorithm, total: f64) -> f64 {
    let raw = match algorithm {
        Algorithm::Binpack => 20.0 - total,
        Algorithm::Spread => total - 2.0,
    };
    raw.clamp(0.0, BINPACK_MAX_FIT_SCORE)
}

fn free_fraction(used: u64, available: u64) -> f64 {
    if available == 0 {
        return 0.0;
    }
    1.0 - used as f64 / available as f64
}

/// Job anti-affinity: `-(collisions + 1) / count`, appended only when collisions > 0.
pub fn job_anti_affinity(collisions: u32, count: u32) -> Option<f64> {
    if collisions == 0 {
        return None;
    }
    Some(-(f64::from(collisions) + 1.0) / f64::from(count.max(1)))
}

/// The limit iterator's limit: batch 2, service `max(2, ceil(log2 n))` for `n` candidate nodes.
pub fn select_limit(job_type: JobType, candidates: usize) -> usize {
    match job_type {
        JobType::Batch | JobType::System | JobType::Sysbatch => 2,
        JobType::Service => {
            let mut log = 0usize;
            while (1usize << log) < candidates {
                log += 1;
            }
            log.max(2)
        }
    }
}

/// The limit when the job has spreads or affinities: Nomad scores `max(count, 100)` options
/// then, whatever the job type, so that preferences see most of the cluster.
pub fn preference_limit(count: u32) -> usize {
    (count as usize).max(NODE_LIMIT_FOR_FEASIBILITY_CHECKS)
}

/// The scores of one ranked node, named as Nomad names them in `AllocMetric.ScoreMetaData`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeScore {
    /// The node's name.
    pub node: String,
    /// Each scorer that applied, by Nomad's name.
    pub scores: ScoreParts,
    /// The mean of the scores that applied.
    pub norm_score: f64,
}

/// Nomad's name for the device affinity score.
pub const DEVICES_SCORE: &str = "devices";

/// Nomad's name for the preemption score.
pub const PREEMPTION_SCORE: &str = "preemption";

/// The scorers of `ScoreMetaData`; absent scorers did not apply. Fields are in the order of
/// Nomad's JSON (sorted names).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ScoreParts {
    /// The spread blocks' boost, when the job has spreads and the boost is not 0.
    #[serde(rename = "allocation-spread", skip_serializing_if = "Option::is_none")]
    pub allocation_spread: Option<f64>,
    /// Binpack (or spread) fitness / 18.
    pub binpack: f64,
    /// Device affinity: Σ weights of the matched device affinities / Σ |weights|, when the
    /// group's devices have affinities.
    #[serde(rename = "devices", skip_serializing_if = "Option::is_none")]
    pub devices: Option<f64>,
    /// Job anti-affinity, when the node already runs allocs of the task group.
    #[serde(rename = "job-anti-affinity", skip_serializing_if = "Option::is_none")]
    pub job_anti_affinity: Option<f64>,
    /// The node affinity score, whenever the job has affinities (0 included).
    #[serde(rename = "node-affinity", skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<f64>,
    /// The node reschedule penalty, when a replacement avoids the node its predecessor failed on.
    #[serde(
        rename = "node-reschedule-penalty",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_reschedule_penalty: Option<f64>,
    /// The preemption score, when the node needs evictions to fit the ask.
    #[serde(rename = "preemption", skip_serializing_if = "Option::is_none")]
    pub preemption: Option<f64>,
}

/// What a scorer sees of one feasible node for one allocation.
#[derive(Clone, Copy, Debug)]
pub struct ScoreInput {
    /// The node's capacity minus reserved.
    pub allocatable: Resources,
    /// The node's use with the ask added.
    pub used_after: Resources,
    /// Allocs of the same task group already on the node.
    pub collisions: u32,
    /// The task group's count.
    pub count: u32,
    /// True when a replacement's predecessor failed on this node.
    pub penalized: bool,
}

/// One of the scheduler's rankers: scores a feasible node, or does not apply to it. Nomad's
/// final score is the mean of the scores that applied.
pub trait Scorer {
    /// Nomad's name for the score in `ScoreMetaData`.
    const NAME: &'static str;
    /// The node's score, or `None` when the scorer does not apply to this node.
    fn score(&self, input: &ScoreInput) -> Option<f64>;
}

/// Binpack or spread fitness, normalised to [0, 1]; Nomad names both `binpack`.
#[derive(Clone, Copy, Debug)]
pub struct FitnessScorer<'a> {
    /// Binpack or spread.
    pub algorithm: Algorithm,
    /// Where the powers of ten are remembered between nodes and Selects.
    pub memo: &'a Pow10Memo,
}

impl Scorer for FitnessScorer<'_> {
    const NAME: &'static str = "binpack";

    fn score(&self, input: &ScoreInput) -> Option<f64> {
        Some(
            self.memo
                .score(self.algorithm, input.allocatable, input.used_after),
        )
    }
}

/// Job anti-affinity: applies when the node already runs allocs of the task group.
#[derive(Clone, Copy, Debug)]
pub struct JobAntiAffinityScorer;

impl Scorer for JobAntiAffinityScorer {
    const NAME: &'static str = "job-anti-affinity";

    fn score(&self, input: &ScoreInput) -> Option<f64> {
        job_anti_affinity(input.collisions, input.count)
    }
}

/// The node reschedule penalty: -1 on the node a replacement's predecessor failed on.
#[derive(Clone, Copy, Debug)]
pub struct ReschedulePenaltyScorer;

impl Scorer for ReschedulePenaltyScorer {
    const NAME: &'static str = "node-reschedule-penalty";

    fn score(&self, input: &ScoreInput) -> Option<f64> {
        input.penalized.then_some(-1.0)
    }
}

impl ScoreParts {
    /// Runs the generic stack's scorers on one node that apply to every job: fitness, job
    /// anti-affinity, the reschedule penalty. Node affinity and spread are added by the stack
    /// for jobs that have them.
    pub fn rank(fitness: FitnessScorer<'_>, input: &ScoreInput) -> ScoreParts {
        ScoreParts {
            allocation_spread: None,
            binpack: fitness
                .score(input)
                .expect("fitness applies to every feasible node"),
            job_anti_affinity: JobAntiAffinityScorer.score(input),
            node_affinity: None,
            node_reschedule_penalty: ReschedulePenaltyScorer.score(input),
            devices: None,
            preemption: None,
        }
    }

    /// The scores that applied, by Nomad's names, in the order of Nomad's JSON (sorted
    /// names), as `ScoreMetaData` lists them.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        let scores = [
            (SpreadScorer::NAME, self.allocation_spread),
            (FitnessScorer::NAME, Some(self.binpack)),
            (DEVICES_SCORE, self.devices),
            (JobAntiAffinityScorer::NAME, self.job_anti_affinity),
            (NodeAffinityScorer::NAME, self.node_affinity),
            (ReschedulePenaltyScorer::NAME, self.node_reschedule_penalty),
            (PREEMPTION_SCORE, self.preemption),
        ];
        scores
            .into_iter()
            .filter_map(|(name, score)| score.map(|s| (name, s)))
            .collect()
    }

    /// The final score: the mean of the scores that applied, summed in the order Nomad's
    /// iterators append them (binpack, job anti-affinity, devices, reschedule penalty, node
    /// affinity, spread, preemption), as its ScoreNormalizationIterator does.
    pub fn final_score(&self) -> f64 {
        // Most nodes have no score but binpack: that case skips the loop's array.
        let others = [
            self.job_anti_affinity,
            self.devices,
            self.node_reschedule_penalty,
            self.node_affinity,
            self.allocation_spread,
            self.preemption,
        ];
        if others.iter().all(Option::is_none) {
            return self.binpack;
        }
        let mut sum = self.binpack;
        let mut n = 1.0;
        for s in others.into_iter().flatten() {
            sum += s;
            n += 1.0;
        }
        sum / n
    }
}

/// Nomad's `AllocMetric` for one Select: what was looked at and why nodes were passed over.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AllocMetric {
    /// Nodes pulled from the shuffled candidate list.
    pub nodes_evaluated: u32,
    /// Nodes rejected by constraints or `distinct_hosts`.
    pub nodes_filtered: u32,
    /// The job's ready nodes and the filtered and exhausted nodes by class; filled after the
    /// Select when the metrics are kept (traced, viewed, or of a failed placement). Boxed so
    /// the metrics a scan carries stay small.
    #[serde(flatten)]
    pub pool: Option<Box<PoolMetrics>>,
    /// Nodes filtered, by the constraint that rejected them (as the job wrote it), or
    /// `computed class ineligible` for a node whose class already failed in this eval.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraint_filtered: Vec<(String, u32)>,
    /// Nodes without room for the ask.
    pub nodes_exhausted: u32,
    /// Exhausted nodes by the first dimension that did not fit.
    pub dimension_exhausted: DimensionCounts,
    /// The ranked nodes, in the order the limit iterator returned them.
    pub scores: Vec<NodeScore>,
    /// Placements of the same task group not attempted after this failure.
    #[serde(skip_serializing_if = "is_zero")]
    pub coalesced_failures: u32,
}

/// The parts of `AllocMetric` about the job's nodes as a whole.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PoolMetrics {
    /// Ready nodes in the job's node pool and datacenters (Nomad's `NodesInPool`).
    pub nodes_in_pool: u32,
    /// Those nodes per datacenter (Nomad's `NodesAvailable`).
    pub nodes_available: BTreeMap<String, u32>,
    /// Filtered nodes by node class (nodes without a class are not counted).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub class_filtered: BTreeMap<String, u32>,
    /// Exhausted nodes by node class.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub class_exhausted: BTreeMap<String, u32>,
}

/// Filtered and exhausted nodes of one Select per node pool index, kept by the scheduler
/// while it scans (no strings, no allocation per node) and turned into class counts after.
#[derive(Clone, Debug, Default)]
pub(crate) struct PoolTally {
    /// (pool, filtered, exhausted).
    counts: Vec<(u32, u32, u32)>,
}

impl PoolTally {
    /// Starts a new Select.
    pub(crate) fn clear(&mut self) {
        self.counts.clear();
    }

    fn entry(&mut self, pool: u32) -> &mut (u32, u32, u32) {
        let i = match self.counts.iter().position(|e| e.0 == pool) {
            Some(i) => i,
            None => {
                self.counts.push((pool, 0, 0));
                self.counts.len() - 1
            }
        };
        &mut self.counts[i]
    }

    /// Counts a filtered node of `pool`.
    pub(crate) fn filtered(&mut self, pool: u32) {
        self.entry(pool).1 += 1;
    }

    /// Counts an exhausted node of `pool`.
    pub(crate) fn exhausted(&mut self, pool: u32) {
        self.entry(pool).2 += 1;
    }

    /// Adds the counts to `m` by class, given each pool's node class (empty classes are left
    /// out, as Nomad leaves out nodes without one).
    pub(crate) fn count_classes(&self, m: &mut PoolMetrics, class_of_pool: impl Fn(u32) -> String) {
        for &(pool, filtered, exhausted) in &self.counts {
            let class = class_of_pool(pool);
            if class.is_empty() {
                continue;
            }
            if filtered > 0 {
                *m.class_filtered.entry(class.clone()).or_insert(0) += filtered;
            }
            if exhausted > 0 {
                *m.class_exhausted.entry(class).or_insert(0) += exhausted;
            }
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Exhausted-node counts per dimension; zero counts are left out of the JSON, which is one
/// map of [`DimensionCounts::entries`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DimensionCounts {
    /// Nodes short of CPU.
    pub cpu: u32,
    /// Nodes short of memory.
    pub memory: u32,
    /// Nodes short of disk.
    pub disk: u32,
    /// Nodes short of ports, devices or cores, by Nomad's dimension string
    /// (`network: reserved port collision http=7234`, `devices: no devices match request`,
    /// `cores`), sorted by it. A vector, not a map: every Select makes and drops one of these,
    /// and an empty vector costs nothing to drop.
    pub other: Vec<(String, u32)>,
}

impl Serialize for DimensionCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let entries = self.entries();
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (dimension, n) in entries {
            map.serialize_entry(dimension, &n)?;
        }
        map.end()
    }
}

impl DimensionCounts {
    /// Counts one exhausted node.
    pub fn add(&mut self, dimension: Dimension) {
        match dimension {
            Dimension::Cpu => self.cpu += 1,
            Dimension::Memory => self.memory += 1,
            Dimension::Disk => self.disk += 1,
        }
    }

    /// Counts one node exhausted in a dimension named by its string.
    pub fn add_named(&mut self, dimension: &str) {
        match self
            .other
            .binary_search_by(|(name, _)| name.as_str().cmp(dimension))
        {
            Ok(i) => self.other[i].1 += 1,
            Err(i) => self.other.insert(i, (dimension.to_string(), 1)),
        }
    }

    /// The non-zero counts: cpu, memory and disk in Nomad's order, then the named ones sorted.
    pub fn entries(&self) -> Vec<(&str, u32)> {
        let mut out: Vec<(&str, u32)> = [
            ("cpu", self.cpu),
            ("memory", self.memory),
            ("disk", self.disk),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
        out.extend(self.other.iter().map(|(k, n)| (k.as_str(), *n)));
        out
    }
}

impl AllocMetric {
    /// Makes it what `AllocMetric::default()` is, keeping the room its lists have.
    pub(crate) fn reset(&mut self) {
        let AllocMetric {
            nodes_evaluated,
            nodes_filtered,
            pool,
            constraint_filtered,
            nodes_exhausted,
            dimension_exhausted,
            scores,
            coalesced_failures,
        } = self;
        *nodes_evaluated = 0;
        *nodes_filtered = 0;
        *pool = None;
        constraint_filtered.clear();
        *nodes_exhausted = 0;
        let DimensionCounts {
            cpu,
            memory,
            disk,
            other,
        } = dimension_exhausted;
        (*cpu, *memory, *disk) = (0, 0, 0);
        other.clear();
        scores.clear();
        *coalesced_failures = 0;
    }

    /// Ready nodes of the job's pool and datacenters, when filled.
    pub fn nodes_in_pool(&self) -> Option<u32> {
        self.pool.as_ref().map(|p| p.nodes_in_pool)
    }

    /// Counts a node filtered by the constraint described by `reason`.
    pub fn filter(&mut self, reason: &str) {
        self.nodes_filtered += 1;
        if let Some(entry) = self
            .constraint_filtered
            .iter_mut()
            .find(|(r, _)| r == reason)
        {
            entry.1 += 1;
        } else {
            self.constraint_filtered.push((reason.to_string(), 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_metric_is_a_default_one_with_its_room_kept() {
        let mut m = AllocMetric {
            nodes_evaluated: 7,
            nodes_filtered: 2,
            pool: Some(Box::default()),
            nodes_exhausted: 3,
            coalesced_failures: 4,
            ..AllocMetric::default()
        };
        m.filter("${attr.kernel.name} = linux");
        m.dimension_exhausted
            .add(crate::resources::Dimension::Memory);
        m.dimension_exhausted.add_named("network: port collision");
        m.scores.push(NodeScore {
            node: "n1".to_string(),
            scores: ScoreParts {
                allocation_spread: None,
                binpack: 0.5,
                devices: None,
                job_anti_affinity: None,
                node_affinity: None,
                node_reschedule_penalty: None,
                preemption: None,
            },
            norm_score: 0.5,
        });
        assert_ne!(m, AllocMetric::default());
        m.reset();
        assert_eq!(m, AllocMetric::default());
        assert!(m.scores.capacity() > 0 && m.constraint_filtered.capacity() > 0);
    }

    const NODE: Resources = Resources::new(4000, 8000, 100_000);

    #[test]
    fn perfect_fit_scores_one() {
        let s = fitness(Algorithm::Binpack, NODE, NODE);
        assert_eq!(s, 18.0);
        assert_eq!(s / BINPACK_MAX_FIT_SCORE, 1.0);
    }

    #[test]
    fn empty_node_with_zero_ask_scores_zero() {
        assert_eq!(fitness(Algorithm::Binpack, NODE, Resources::default()), 0.0);
        assert_eq!(fitness(Algorithm::Spread, NODE, NODE), 0.0);
        assert_eq!(fitness(Algorithm::Spread, NODE, Resources::default()), 18.0);
    }

    #[test]
    fn binpack_plus_spread_is_eighteen_when_unclamped() {
        for (cpu, mem) in [(1000, 2000), (2000, 2000), (3999, 100), (500, 7000)] {
            let used = Resources::new(cpu, mem, 0);
            let b = fitness(Algorithm::Binpack, NODE, used);
            let s = fitness(Algorithm::Spread, NODE, used);
            assert!((b + s - 18.0).abs() < 1e-9, "{cpu} {mem}: {b} + {s}");
        }
    }

    #[test]
    fn binpack_matches_the_formula() {
        let used = Resources::new(1000, 6000, 0);
        let expected = 20.0 - (10f64.powf(0.75) + 10f64.powf(0.25));
        assert!((fitness(Algorithm::Binpack, NODE, used) - expected).abs() < 1e-12);
        // A fuller node scores higher under binpack, lower under spread.
        let fuller = Resources::new(3000, 7000, 0);
        assert!(
            fitness(Algorithm::Binpack, NODE, fuller) > fitness(Algorithm::Binpack, NODE, used)
        );
        assert!(fitness(Algorithm::Spread, NODE, fuller) < fitness(Algorithm::Spread, NODE, used));
    }

    #[test]
    fn anti_affinity_and_final_score() {
        assert_eq!(job_anti_affinity(0, 4), None);
        assert_eq!(job_anti_affinity(1, 4), Some(-0.5));
        assert_eq!(job_anti_affinity(3, 4), Some(-1.0));
        let parts = ScoreParts {
            allocation_spread: None,
            binpack: 0.8,
            job_anti_affinity: Some(-0.5),
            node_affinity: None,
            node_reschedule_penalty: Some(-1.0),
            devices: None,
            preemption: None,
        };
        assert!((parts.final_score() - (0.8 - 0.5 - 1.0) / 3.0).abs() < 1e-12);
        let alone = ScoreParts {
            job_anti_affinity: None,
            node_reschedule_penalty: None,
            ..parts
        };
        assert_eq!(alone.final_score(), 0.8);
        // Node affinity and spread join the mean when they apply.
        let preferred = ScoreParts {
            node_affinity: Some(0.5),
            allocation_spread: Some(-0.25),
            ..alone
        };
        assert_eq!(preferred.final_score(), (0.8 + 0.5 - 0.25) / 3.0);
    }

    #[test]
    fn score_metadata_names_are_nomads() {
        let every = ScoreParts {
            allocation_spread: Some(-0.25),
            binpack: 0.8,
            devices: Some(0.5),
            job_anti_affinity: Some(-0.5),
            node_affinity: Some(1.0),
            node_reschedule_penalty: Some(-1.0),
            preemption: Some(0.1),
        };
        // Nomad's ScoreMetaData keys, sorted as its JSON prints them.
        assert_eq!(
            every.named(),
            vec![
                ("allocation-spread", -0.25),
                ("binpack", 0.8),
                ("devices", 0.5),
                ("job-anti-affinity", -0.5),
                ("node-affinity", 1.0),
                ("node-reschedule-penalty", -1.0),
                ("preemption", 0.1),
            ]
        );
        // The same names as the serialised scores.
        let json = serde_json::to_value(every).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let names: Vec<&str> = every.named().iter().map(|(n, _)| *n).collect();
        assert_eq!(keys, names);
        // Scorers that did not apply are left out.
        let binpack_only = ScoreParts {
            allocation_spread: None,
            devices: None,
            job_anti_affinity: None,
            node_affinity: None,
            node_reschedule_penalty: None,
            preemption: None,
            ..every
        };
        assert_eq!(binpack_only.named(), vec![("binpack", 0.8)]);
    }

    #[test]
    fn the_reschedule_penalty_is_minus_one_on_the_failed_node_only() {
        let input = |penalized| ScoreInput {
            allocatable: NODE,
            used_after: Resources::new(1000, 1000, 0),
            collisions: 0,
            count: 1,
            penalized,
        };
        assert_eq!(ReschedulePenaltyScorer.score(&input(true)), Some(-1.0));
        assert_eq!(ReschedulePenaltyScorer.score(&input(false)), None);
        let memo = Pow10Memo::default();
        let fitness = FitnessScorer {
            algorithm: Algorithm::Binpack,
            memo: &memo,
        };
        let parts = ScoreParts::rank(fitness, &input(true));
        assert_eq!(parts.node_reschedule_penalty, Some(-1.0));
        assert!(parts.final_score() < parts.binpack);
    }

    #[test]
    fn the_memo_returns_the_bits_powf_and_fitness_return_on_hits_misses_and_evictions() {
        // More distinct exponents than slots, twice over, so slots are evicted and refilled.
        let memo = Pow10Memo::default();
        let allocatable = Resources::new(15_500, 31_744, 0);
        for pass in 0..2 {
            for k in 0..(2 * POW10_SLOTS as u64) {
                let used = Resources::new(k * 7 % 15_500, k * 13 % 31_744, 0);
                for algorithm in [Algorithm::Binpack, Algorithm::Spread] {
                    let memoised = memo.fitness(algorithm, allocatable, used);
                    let direct = fitness(algorithm, allocatable, used);
                    assert_eq!(memoised.to_bits(), direct.to_bits(), "pass {pass}, k {k}");
                }
            }
        }
        // Scores too, keyed by all four figures: more keys than the table's slots, twice
        // over, varying one figure at a time (so a key that left one out would collide), and
        // figures past 32 bits, which bypass the table.
        let huge = Resources::new(1 << 33, 1 << 34, 0);
        let keys = (0..(2u64 << SCORE_BITS)).flat_map(|k| {
            let base = Resources::new(15_000, 31_744, 0);
            let used = Resources::new(1_000, 2_000, 0);
            [
                (Resources::new(15_000 + k, 31_744, 0), used),
                (Resources::new(15_000, 31_744 + k, 0), used),
                (base, Resources::new(k * 7 % 15_000, 2_000, 0)),
                (base, Resources::new(1_000, k * 13 % 31_744, 0)),
                // (1, 0) and (0, 2^16): figures a narrower packing would confuse.
                (base, Resources::new(k % 2, (1 - k % 2) << 16, 0)),
                (huge, Resources::new(k, 5, 0)),
                (base, Resources::new(1 << 32, k, 0)),
            ]
        });
        let keys: Vec<_> = keys.collect();
        for algorithm in [Algorithm::Binpack, Algorithm::Spread, Algorithm::Binpack] {
            for pass in 0..2 {
                for (i, &(a, u)) in keys.iter().enumerate() {
                    let memoised = memo.score(algorithm, a, u);
                    let direct = fitness(algorithm, a, u) / BINPACK_MAX_FIT_SCORE;
                    assert_eq!(memoised.to_bits(), direct.to_bits(), "pass {pass}, key {i}");
                }
            }
        }
        for x in [0.0, 1.0, -0.0, 0.5, 1.0 / 3.0] {
            assert_eq!(memo.pow10(x).to_bits(), 10f64.powf(x).to_bits());
            assert_eq!(memo.pow10(x).to_bits(), 10f64.powf(x).to_bits());
        }
    }

    #[test]
    fn class_counts_leave_out_classes_with_no_node_counted() {
        // Pool 0 (class c5) had one node filtered, none exhausted; pool 1 (class m5) one
        // exhausted, none filtered; pool 2 has no class and is left out as Nomad leaves out
        // nodes without one.
        let mut tally = PoolTally::default();
        tally.filtered(0);
        tally.exhausted(1);
        tally.exhausted(1);
        tally.filtered(2);
        let mut m = PoolMetrics::default();
        let class = |p: u32| ["c5", "m5", ""][p as usize].to_string();
        tally.count_classes(&mut m, class);
        assert_eq!(m.class_filtered, BTreeMap::from([("c5".to_string(), 1)]));
        assert_eq!(m.class_exhausted, BTreeMap::from([("m5".to_string(), 2)]));
        tally.clear();
        let mut empty = PoolMetrics::default();
        tally.count_classes(&mut empty, class);
        assert_eq!(empty, PoolMetrics::default());
    }

    #[test]
    fn exhausted_dimensions_print_only_the_short_ones() {
        let mut d = DimensionCounts::default();
        assert_eq!(serde_json::to_string(&d).unwrap(), "{}");
        d.add(Dimension::Memory);
        d.add(Dimension::Memory);
        assert_eq!(serde_json::to_string(&d).unwrap(), r#"{"memory":2}"#);
        d.add(Dimension::Cpu);
        d.add(Dimension::Disk);
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"cpu":1,"memory":2,"disk":1}"#
        );
        let mut short = DimensionCounts::default();
        short.add(Dimension::Memory);
        short.add_named("devices: nvidia/gpu");
        short.add_named("devices: nvidia/gpu");
        short.add_named("cores");
        assert_eq!(
            short.entries(),
            vec![("memory", 1), ("cores", 1), ("devices: nvidia/gpu", 2)]
        );
        assert_eq!(
            serde_json::to_string(&short).expect("dimension counts serialize"),
            r#"{"memory":1,"cores":1,"devices: nvidia/gpu":2}"#
        );
        assert_eq!(d.entries(), vec![("cpu", 1), ("memory", 2), ("disk", 1)]);
    }

    #[test]
    fn limits_follow_nomad() {
        assert_eq!(select_limit(JobType::Batch, 10_000), 2);
        assert_eq!(select_limit(JobType::Service, 4), 2);
        assert_eq!(select_limit(JobType::Service, 8), 3);
        assert_eq!(select_limit(JobType::Service, 100), 7);
        assert_eq!(select_limit(JobType::Service, 1000), 10);
        assert_eq!(select_limit(JobType::Service, 5000), 13);
        assert_eq!(select_limit(JobType::Service, 1), 2);
        // Spreads or affinities: max(count, 100).
        assert_eq!(preference_limit(4), 100);
        assert_eq!(preference_limit(250), 250);
    }
}
