//! The exact histogram of integer milliseconds behind the report's pending and CI-job figures.

use super::metrics::{round_to, PendingStats, ShortStats};
use crate::time::SimTime;

/// An exact histogram of integer milliseconds: nearest-rank percentiles and an exact mean
/// without keeping every sample. Its size is the number of distinct values.
///
/// Zeros (most pending times on a cluster with room) are only counted. Other samples go to a
/// buffer that is radix-sorted and merged into a sorted run-length list when it holds a
/// quarter as many samples as the list has values, so a sample costs an append and, amortised,
/// a few passes of a radix sort and of a merge, with no pointer chasing.
///
/// The run-length list is kept in chunks of at most [`RUN_CHUNK`] runs, each with its total
/// count. A run takes eight bytes: its value as an offset from its chunk's first value, and
/// its count, both in 32 bits (a chunk ends early where an offset would not fit, and a count
/// past 32 bits is split over runs of the same value). A merge reads the old chunks by value
/// and frees each as it is passed, so it holds the list about once, not twice. Over a
/// simulated week these runs are most of a simulation's memory, and two copies of them were
/// its peak. Once the buffer is merged ([`Histogram::settle`], at the end of a run) a percentile
/// skips whole chunks by their totals instead of walking every run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    zeros: u64,
    buffer: Vec<SimTime>,
    /// Distinct values above zero with their counts, ascending, in chunks.
    runs: RunChunks,
    /// The samples in each chunk of `runs`.
    chunk_totals: Vec<u64>,
    /// The runs in all chunks.
    distinct: usize,
    n: u64,
    sum_ms: u128,
    max_ms: SimTime,
}

/// Runs per chunk of a histogram's run-length list (32 KiB).
const RUN_CHUNK: usize = 4096;

/// Runs of values within 32 bits above the first: (value - `base`, count), ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RunChunk {
    base: SimTime,
    runs: Vec<(u32, u32)>,
}

impl RunChunk {
    /// The runs as (value, count).
    fn iter(&self) -> impl Iterator<Item = (SimTime, u64)> + '_ {
        self.runs
            .iter()
            .map(|&(offset, count)| (self.base + u64::from(offset), u64::from(count)))
    }
}

/// A chunked run-length list, ascending.
type RunChunks = Vec<RunChunk>;

/// A chunked run-length list being written in ascending order.
#[derive(Default)]
struct RunsBuilder {
    chunks: RunChunks,
    totals: Vec<u64>,
    chunk: RunChunk,
    total: u64,
    distinct: usize,
}

impl RunsBuilder {
    /// Appends `count` (at least one) samples of `value`, at or above every value so far.
    #[inline]
    fn push(&mut self, value: SimTime, count: u64) {
        debug_assert!(count > 0, "a run counts samples");
        let offset = value - self.chunk.base;
        let max = u64::from(u32::MAX);
        // An empty chunk has no room, so its first run takes the slow path and sets its base;
        // so does a value equal to the last one.
        if count <= max
            && offset <= max
            && self.chunk.runs.len() < self.chunk.runs.capacity()
            && self
                .chunk
                .runs
                .last()
                .is_none_or(|&(last, _)| u64::from(last) < offset)
        {
            self.chunk.runs.push((offset as u32, count as u32));
            self.total += count;
            self.distinct += 1;
        } else {
            self.push_slow(value, count);
        }
    }

    /// [`RunsBuilder::push`] where a chunk ends, a count is split, or the value is the last
    /// one's: its last run takes what its count has room for before a new run does.
    #[cold]
    fn push_slow(&mut self, value: SimTime, mut count: u64) {
        let max = u64::from(u32::MAX);
        let base = self.chunk.base;
        if let Some(last) = self
            .chunk
            .runs
            .last_mut()
            .filter(|&&mut (offset, _)| base + u64::from(offset) == value)
        {
            let add = count.min(max - u64::from(last.1));
            last.1 += add as u32;
            self.total += add;
            count -= add;
        }
        while count > 0 {
            let part = count.min(max);
            let fits = !self.chunk.runs.is_empty()
                && self.chunk.runs.len() < self.chunk.runs.capacity()
                && value - self.chunk.base <= max;
            if !fits {
                self.next_chunk(value);
            }
            self.chunk
                .runs
                .push(((value - self.chunk.base) as u32, part as u32));
            self.total += part;
            self.distinct += 1;
            count -= part;
        }
    }

    /// Appends the runs `runs` of a chunk based at `base`, above every value so far: as many
    /// as fit in the chunk at a time, each offset moved to the chunk's base by one addition.
    fn extend(&mut self, base: SimTime, mut runs: &[(u32, u32)]) {
        let max = u64::from(u32::MAX);
        // First runs of the last value pushed (a count split over chunks) join that value.
        while let Some(&(offset, count)) = runs.first() {
            let value = base + u64::from(offset);
            let last = self
                .chunk
                .runs
                .last()
                .map(|&(o, _)| self.chunk.base + u64::from(o));
            if last != Some(value) {
                break;
            }
            self.push_slow(value, u64::from(count));
            runs = &runs[1..];
        }
        while let Some(&(first, _)) = runs.first() {
            let room = self.chunk.runs.capacity() - self.chunk.runs.len();
            if room == 0 || base + u64::from(first) - self.chunk.base > max {
                self.next_chunk(base + u64::from(first));
                continue;
            }
            // The runs that fit: the chunk's room, and values within 32 bits of its base.
            let fits =
                |&(offset, _): &(u32, u32)| base + u64::from(offset) - self.chunk.base <= max;
            let mut take = room.min(runs.len());
            if !fits(&runs[take - 1]) {
                take = runs[..take].partition_point(fits);
            }
            // The true offset is below 2^32, so 32-bit wrapping arithmetic gives it exactly.
            let shift = base.wrapping_sub(self.chunk.base) as u32;
            let mut total = 0;
            self.chunk
                .runs
                .extend(runs[..take].iter().map(|&(offset, count)| {
                    total += u64::from(count);
                    (offset.wrapping_add(shift), count)
                }));
            self.total += total;
            self.distinct += take;
            runs = &runs[take..];
        }
    }

    /// Closes the chunk, if it holds runs, and starts the next at `base`.
    #[cold]
    fn next_chunk(&mut self, base: SimTime) {
        if !self.chunk.runs.is_empty() {
            self.chunks.push(std::mem::take(&mut self.chunk));
            self.totals.push(std::mem::take(&mut self.total));
        }
        self.chunk.base = base;
        self.chunk.runs.reserve_exact(RUN_CHUNK);
    }

    /// The chunks, their totals and the runs they hold.
    fn finish(mut self) -> (RunChunks, Vec<u64>, usize) {
        if !self.chunk.runs.is_empty() {
            self.chunks.push(self.chunk);
            self.totals.push(self.total);
        }
        (self.chunks, self.totals, self.distinct)
    }
}

/// The chunked run-length list `runs` with the sorted samples `fresh` merged in, the samples
/// in each of its chunks, and its runs. The old runs between two fresh values are appended
/// as one slice; the runs of a value that has fresh samples are summed and appended with
/// them. Each old chunk is freed once the merge has passed it.
fn merge(runs: RunChunks, fresh: &[SimTime]) -> (RunChunks, Vec<u64>, usize) {
    let mut out = RunsBuilder::default();
    let mut i = 0;
    // The next value of `fresh` with how many times it comes.
    let take_equal = |i: &mut usize| {
        let v = fresh[*i];
        let from = *i;
        while *i < fresh.len() && fresh[*i] == v {
            *i += 1;
        }
        (v, (*i - from) as u64)
    };
    for chunk in runs {
        let mut rest = &chunk.runs[..];
        while !rest.is_empty() {
            // The old runs below the next fresh value, found by a scan: a merge has about
            // four of them between two fresh values.
            let below = match fresh.get(i) {
                None => rest.len(),
                Some(&f) if f < chunk.base => 0,
                Some(&f) => {
                    let limit = f - chunk.base;
                    rest.iter()
                        .position(|&(offset, _)| u64::from(offset) >= limit)
                        .unwrap_or(rest.len())
                }
            };
            out.extend(chunk.base, &rest[..below]);
            rest = &rest[below..];
            let Some(&(offset, _)) = rest.first() else {
                break;
            };
            let (v, mut count) = take_equal(&mut i);
            if chunk.base + u64::from(offset) == v {
                while let Some(&(_, c)) = rest.first().filter(|r| r.0 == offset) {
                    count += u64::from(c);
                    rest = &rest[1..];
                }
            }
            out.push(v, count);
        }
    }
    while i < fresh.len() {
        let (v, count) = take_equal(&mut i);
        out.push(v, count);
    }
    out.finish()
}

/// Sorts `values` with a least-significant-digit radix sort on bytes, skipping the bytes
/// every value shares: a buffer of pending times takes three or four passes.
fn radix_sort(values: &mut Vec<SimTime>) {
    const SMALL: usize = 256;
    if values.len() < SMALL {
        values.sort_unstable();
        return;
    }
    let mut counts = [[0usize; 256]; 8];
    for &v in values.iter() {
        for (d, c) in counts.iter_mut().enumerate() {
            c[((v >> (8 * d)) & 0xff) as usize] += 1;
        }
    }
    let n = values.len();
    let mut from = std::mem::take(values);
    let mut to = vec![0; n];
    for (d, c) in counts.iter().enumerate() {
        if c.contains(&n) {
            continue;
        }
        let mut next = [0usize; 256];
        let mut sum = 0;
        for (slot, &k) in next.iter_mut().zip(c) {
            *slot = sum;
            sum += k;
        }
        for &v in &from {
            let digit = ((v >> (8 * d)) & 0xff) as usize;
            to[next[digit]] = v;
            next[digit] += 1;
        }
        std::mem::swap(&mut from, &mut to);
    }
    *values = from;
}

/// Sorted run-length counts and sorted samples, merged as they are read.
struct MergedCounts<R: Iterator<Item = (SimTime, u64)>, F: Iterator<Item = SimTime>> {
    runs: std::iter::Peekable<R>,
    fresh: std::iter::Peekable<F>,
}

impl<R: Iterator<Item = (SimTime, u64)>, F: Iterator<Item = SimTime>> Iterator
    for MergedCounts<R, F>
{
    type Item = (SimTime, u64);

    fn next(&mut self) -> Option<(SimTime, u64)> {
        let v = match (self.runs.peek(), self.fresh.peek()) {
            (None, None) => return None,
            (Some(&(r, _)), Some(&f)) => r.min(f),
            (Some(&(r, _)), None) => r,
            (None, Some(&f)) => f,
        };
        let mut count = 0;
        while let Some((_, c)) = self.runs.next_if(|&(r, _)| r == v) {
            count += c;
        }
        while self.fresh.next_if_eq(&v).is_some() {
            count += 1;
        }
        Some((v, count))
    }
}

/// Samples buffered before they are merged into the sorted runs.
const HISTOGRAM_BUFFER: usize = 1 << 14;

impl Histogram {
    /// Adds one sample.
    pub fn record(&mut self, ms: SimTime) {
        self.n += 1;
        self.sum_ms += u128::from(ms);
        self.max_ms = self.max_ms.max(ms);
        if ms == 0 {
            self.zeros += 1;
            return;
        }
        self.buffer.push(ms);
        // The buffer grows with the runs (to a quarter of them), so a merge, which costs
        // both, stays amortised O(1) per sample however many distinct values there are,
        // for two bytes per distinct value.
        if self.buffer.len() >= HISTOGRAM_BUFFER && self.buffer.len() >= self.distinct() / 4 {
            self.settle();
        }
    }

    /// Merges the buffered samples into the runs, so that percentiles skip whole chunks. The
    /// engine settles its histograms when a run ends; the figures are the same either way.
    pub fn settle(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        radix_sort(&mut self.buffer);
        (self.runs, self.chunk_totals, self.distinct) =
            merge(std::mem::take(&mut self.runs), &self.buffer);
        self.buffer.clear();
    }

    /// Runs in all chunks: the distinct values above zero merged so far, and the extra runs
    /// of counts split at 32 bits.
    fn distinct(&self) -> usize {
        self.distinct
    }

    /// Every distinct value with its count, ascending (zeros first). The runs and the sorted
    /// buffer are merged as they are read, so the report does not copy the runs: at the end of
    /// a day of a busy cluster those copies were the run's peak memory.
    fn counts(&self) -> impl Iterator<Item = (SimTime, u64)> + '_ {
        let mut fresh = self.buffer.clone();
        radix_sort(&mut fresh);
        let zeros = (self.zeros > 0).then_some((0, self.zeros));
        zeros.into_iter().chain(MergedCounts {
            runs: self.runs.iter().flat_map(RunChunk::iter).peekable(),
            fresh: fresh.into_iter().peekable(),
        })
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Samples above `ms`.
    pub fn count_above(&self, ms: SimTime) -> u64 {
        if ms == 0 {
            return self.n - self.zeros;
        }
        self.counts().filter(|&(v, _)| v > ms).map(|(_, c)| c).sum()
    }

    /// The exact mean in milliseconds (0 when empty).
    pub fn mean_ms(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        self.sum_ms as f64 / self.n as f64
    }

    /// The nearest-rank percentiles `ps` (each 0 < p <= 100) in milliseconds, as
    /// [`percentile_sorted`] computes them on the sorted samples; 0 when empty.
    pub fn percentiles_ms(&self, ps: &[f64]) -> Vec<SimTime> {
        if self.n == 0 {
            return vec![0; ps.len()];
        }
        // One walk over the counts answers every rank, smallest rank first.
        let mut ranks: Vec<(u64, usize)> = ps
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let rank = ((p / 100.0) * self.n as f64).ceil() as u64;
                (rank.clamp(1, self.n), i)
            })
            .collect();
        ranks.sort_unstable();
        let mut out = vec![0; ps.len()];
        if self.buffer.is_empty() {
            self.settled_ranks(&ranks, &mut out);
            return out;
        }
        let mut counts = self.counts();
        let (mut seen, mut value) = (0u64, 0);
        for (rank, i) in ranks {
            while seen < rank {
                let (v, c) = counts.next().expect("the counts add up to n");
                seen += c;
                value = v;
            }
            out[i] = value;
        }
        out
    }

    /// The values at ascending `ranks` once every sample is in the runs: whole chunks are
    /// skipped by their totals, and only the chunk holding a rank is walked.
    fn settled_ranks(&self, ranks: &[(u64, usize)], out: &mut [SimTime]) {
        // Samples at or below the end of the chunk before `chunk`.
        let (mut chunk, mut before) = (0usize, self.zeros);
        for &(rank, i) in ranks {
            if rank <= self.zeros {
                out[i] = 0;
                continue;
            }
            while before + self.chunk_totals[chunk] < rank {
                before += self.chunk_totals[chunk];
                chunk += 1;
            }
            let mut seen = before;
            out[i] = self.runs[chunk]
                .iter()
                .find(|&(_, c)| {
                    seen += c;
                    seen >= rank
                })
                .expect("the chunk holds the rank")
                .0;
        }
    }

    /// One nearest-rank percentile in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> SimTime {
        self.percentiles_ms(&[p])[0]
    }

    /// The smallest sample (0 when empty).
    pub fn min_ms(&self) -> SimTime {
        if self.zeros > 0 || self.n == 0 {
            return 0;
        }
        let first_run = self.runs.first().map(|c| c.base);
        let least_buffered = self.buffer.iter().min().copied();
        first_run
            .into_iter()
            .chain(least_buffered)
            .min()
            .expect("a sample above zero is in the runs or the buffer")
    }

    /// The largest sample (0 when empty).
    pub fn max_ms(&self) -> SimTime {
        self.max_ms
    }

    /// Mean and percentiles in seconds, rounded as the report prints them.
    pub fn pending_stats(&self) -> PendingStats {
        if self.n == 0 {
            return PendingStats::default();
        }
        let s = |ms: SimTime| round_to(ms as f64 / 1000.0, 3);
        let p = self.percentiles_ms(&[50.0, 90.0, 95.0, 99.0]);
        PendingStats {
            mean: round_to(self.mean_ms() / 1000.0, 3),
            p50: s(p[0]),
            p90: s(p[1]),
            p95: s(p[2]),
            p99: s(p[3]),
            max: s(self.max_ms),
        }
    }

    /// The short form of [`Histogram::pending_stats`].
    pub fn short_stats(&self) -> ShortStats {
        self.pending_stats().short()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::percentile_sorted;

    #[test]
    fn histogram_matches_sorted_samples() {
        let samples: Vec<u64> = (0..50_000u64).map(|i| (i * 7919) % 613).collect();
        let mut h = Histogram::default();
        for &s in &samples {
            h.record(s);
        }
        let mut sorted: Vec<f64> = samples.iter().map(|&s| s as f64).collect();
        sorted.sort_by(f64::total_cmp);
        for p in [1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0] {
            assert_eq!(
                h.percentile_ms(p) as f64,
                percentile_sorted(&sorted, p),
                "p{p}"
            );
        }
        let sum: u64 = samples.iter().sum();
        assert_eq!(h.mean_ms(), sum as f64 / 50_000.0);
        assert_eq!(h.count(), 50_000);
        assert_eq!(
            h.count_above(0),
            samples.iter().filter(|&&s| s > 0).count() as u64
        );
        assert_eq!((h.min_ms(), h.max_ms()), (0, 612));
    }

    #[test]
    fn percentiles_asked_in_any_order_match_those_asked_one_by_one() {
        let mut h = Histogram::default();
        // Runs merged twice and a buffer still unmerged, with values in both.
        for i in 0..40_000u64 {
            h.record((i * 31) % 977);
        }
        let ps = [99.0, 1.0, 50.0, 100.0, 50.0, 0.5];
        let one_by_one: Vec<u64> = ps.iter().map(|&p| h.percentile_ms(p)).collect();
        assert_eq!(h.percentiles_ms(&ps), one_by_one);
        let mut sorted: Vec<f64> = (0..40_000u64).map(|i| ((i * 31) % 977) as f64).collect();
        sorted.sort_by(f64::total_cmp);
        for (&p, &v) in ps.iter().zip(&one_by_one) {
            assert_eq!(v as f64, percentile_sorted(&sorted, p), "p{p}");
        }
    }

    #[test]
    fn histogram_of_many_distinct_values_matches_sorted_samples() {
        // 150,001 distinct values: past 65,536 the buffer grows with the runs between merges.
        let samples: Vec<u64> = (0..400_000u64).map(|i| (i * 104_729) % 150_001).collect();
        let mut h = Histogram::default();
        for &s in &samples {
            h.record(s);
        }
        let mut sorted = samples.clone();
        sorted.sort_unstable();
        let ranks: Vec<f64> = (1..=100).map(f64::from).collect();
        let want: Vec<u64> = ranks
            .iter()
            .map(|&p| {
                let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
                sorted[rank.max(1) - 1]
            })
            .collect();
        assert_eq!(h.percentiles_ms(&ranks), want);
        assert_eq!(h.count(), 400_000);
        assert_eq!((h.min_ms(), h.max_ms()), (0, 150_000));
        // The merged runs fill whole chunks but for the last, and count what they hold.
        assert!(h.runs.len() > 1);
        assert!(h
            .runs
            .iter()
            .rev()
            .skip(1)
            .all(|c| c.runs.len() == RUN_CHUNK));
        assert_eq!(
            h.distinct(),
            h.runs.iter().map(|c| c.runs.len()).sum::<usize>()
        );
        let in_chunks: Vec<u64> = h.runs.iter().map(|c| c.iter().map(|r| r.1).sum()).collect();
        assert_eq!(h.chunk_totals, in_chunks);
        // Settled, the percentiles skip chunks by their totals and find the same values.
        assert!(!h.buffer.is_empty());
        let mut settled = h.clone();
        settled.settle();
        assert!(settled.buffer.is_empty());
        assert_eq!(settled.percentiles_ms(&ranks), want);
        assert_eq!(settled.runs.len(), settled.chunk_totals.len());
        assert_eq!(settled.chunk_totals.iter().sum::<u64>(), 400_000 - h.zeros);
    }

    #[test]
    fn runs_past_32_bits_start_chunks_and_split_counts() {
        let big = u64::from(u32::MAX);
        let mut b = RunsBuilder::default();
        b.push(7, 3);
        // An offset of exactly 2^32 - 1 fits; one more starts a chunk.
        b.push(7 + big, 1);
        b.push(8 + big, 2);
        // A count past 32 bits is split over runs of the same value.
        b.push(9 + big, 2 * big + 5);
        let (runs, totals, distinct) = b.finish();
        let flat: Vec<(u64, u64)> = runs.iter().flat_map(RunChunk::iter).collect();
        assert_eq!(
            flat,
            [
                (7, 3),
                (7 + big, 1),
                (8 + big, 2),
                (9 + big, big),
                (9 + big, big),
                (9 + big, 5)
            ]
        );
        assert_eq!((runs.len(), distinct), (2, 6));
        assert_eq!(totals, [4, 2 + 2 * big + 5]);
        // A histogram over those runs, with fresh samples still buffered, answers as one
        // over the same samples settled; its percentiles land on the split value's runs.
        let n = totals.iter().sum::<u64>() + 3;
        let mut h = Histogram {
            runs,
            chunk_totals: totals,
            distinct,
            n,
            buffer: vec![9 + big, 1, 10 + big],
            ..Histogram::default()
        };
        let ps = [1e-9, 50.0, 99.999_99, 100.0];
        let want = [1, 9 + big, 9 + big, 10 + big];
        assert_eq!(h.percentiles_ms(&ps), want);
        assert_eq!(h.min_ms(), 1);
        h.settle();
        assert!(h.buffer.is_empty());
        assert_eq!(h.percentiles_ms(&ps), want);
        assert_eq!(h.chunk_totals.iter().sum::<u64>(), n);
        assert_eq!(h.count_above(8 + big), 2 * big + 7);
        // The split value fills its runs before it takes another: 1, 7, 7 + 2^32 - 1,
        // 8 + 2^32 - 1, three runs of 9 + 2^32 - 1 and 10 + 2^32 - 1, however many merges
        // bring it more samples.
        assert_eq!(h.distinct(), 8);
        for _ in 0..3 {
            h.record(9 + big);
            h.settle();
            assert_eq!(h.distinct(), 8);
        }
        let runs: usize = h.runs.iter().map(|c| c.runs.len()).sum();
        assert_eq!(runs, 8);
        assert_eq!(h.count_above(8 + big), 2 * big + 10);
    }

    /// The runs a histogram of `samples` must hold, flat: each value once, or over several
    /// runs filled to 32 bits but the last.
    fn canonical_runs(samples: &std::collections::BTreeMap<u64, u64>) -> Vec<(u64, u64)> {
        let max = u64::from(u32::MAX);
        let mut runs = Vec::new();
        for (&v, &c) in samples {
            runs.extend(std::iter::repeat_n((v, max), (c / max) as usize));
            if c % max > 0 {
                runs.push((v, c % max));
            }
        }
        runs
    }

    /// Checks a merged list: its runs are `want`'s canonical runs, and it keeps what every
    /// chunked list keeps (a base its first run sits at, ascending offsets, at most
    /// `RUN_CHUNK` runs, and totals and a run count that add up).
    fn check_merged(
        runs: &RunChunks,
        totals: &[u64],
        distinct: usize,
        want: &std::collections::BTreeMap<u64, u64>,
    ) {
        let flat: Vec<(u64, u64)> = runs.iter().flat_map(RunChunk::iter).collect();
        assert_eq!(flat, canonical_runs(want));
        assert_eq!(runs.len(), totals.len());
        for (chunk, &total) in runs.iter().zip(totals) {
            assert_eq!(chunk.runs[0].0, 0, "a chunk's base is its first value");
            assert!(chunk.runs.len() <= RUN_CHUNK);
            assert!(chunk.runs.windows(2).all(|w| w[0].0 <= w[1].0));
            assert_eq!(total, chunk.iter().map(|(_, c)| c).sum::<u64>());
        }
        assert_eq!(distinct, runs.iter().map(|c| c.runs.len()).sum::<usize>());
    }

    #[test]
    fn a_merge_keeps_every_sample_in_canonical_runs() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut sorted = |n: usize, from: u64, range: u64| {
            let mut v: Vec<u64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    from + x % range
                })
                .collect();
            v.sort_unstable();
            v
        };
        // Rounds of new values and repeats: dense and sparse, below, inside and above the
        // runs so far, and past 32 bits above them.
        let rounds = [
            sorted(5_000, 1_000_000, 40_000),
            sorted(20_000, 1_000, 4_000_000),
            sorted(3_000, 1_000_000, 50),
            sorted(15_000, 30, 9_000),
            sorted(100, 1 << 33, 1 << 34),
            sorted(30_000, 1, 1 << 35),
            vec![7; 300],
        ];
        let mut want = std::collections::BTreeMap::new();
        let mut runs = Vec::new();
        for fresh in rounds {
            for &v in &fresh {
                *want.entry(v).or_insert(0) += 1;
            }
            let (merged, totals, distinct) = merge(runs, &fresh);
            runs = merged;
            check_merged(&runs, &totals, distinct, &want);
        }
    }

    #[test]
    fn a_count_split_over_two_chunks_is_merged_whole() {
        let big = u64::from(u32::MAX);
        let mut b = RunsBuilder::default();
        let mut want = std::collections::BTreeMap::new();
        for v in 1..RUN_CHUNK as u64 {
            b.push(v, 1);
            want.insert(v, 1);
        }
        // The last run of the first chunk and two in the next hold one value.
        let v = RUN_CHUNK as u64;
        b.push(v, 2 * big + 3);
        let (runs, _, _) = b.finish();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].base, v);
        let (runs, totals, distinct) = merge(runs, &[3, v, v + 1]);
        want.insert(3, 2);
        want.insert(v, 2 * big + 4);
        want.insert(v + 1, 1);
        check_merged(&runs, &totals, distinct, &want);
        // The value's runs in the next chunk come as a slice after another fresh value, and
        // still join the runs before them.
        let (runs, totals, distinct) = merge(runs, &[2, v + 2]);
        want.insert(2, 2);
        want.insert(v + 2, 1);
        check_merged(&runs, &totals, distinct, &want);
    }

    #[test]
    fn radix_sort_sorts_like_the_standard_sort() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for (len, mask) in [
            (10, u64::MAX),
            (300, 0xff),
            (5_000, (1 << 48) - 1),
            (70_000, 0xffff_ffff),
        ] {
            let mut values: Vec<u64> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x & mask
                })
                .collect();
            let mut want = values.clone();
            want.sort_unstable();
            radix_sort(&mut values);
            assert_eq!(values, want, "{len} values under {mask:#x}");
        }
    }

    #[test]
    fn min_and_max_come_from_runs_and_buffer_alike() {
        let mut h = Histogram::default();
        assert_eq!((h.min_ms(), h.max_ms()), (0, 0));
        for v in (1..=20_000u64).rev() {
            h.record(v + 5);
        }
        // Some values merged, the smallest still buffered.
        assert!(!h.runs.is_empty() && !h.buffer.is_empty());
        assert_eq!((h.min_ms(), h.max_ms()), (6, 20_005));
        h.settle();
        assert_eq!((h.min_ms(), h.max_ms()), (6, 20_005));
        h.record(0);
        assert_eq!(h.min_ms(), 0);
        assert_eq!(h.count_above(0), 20_000);
        assert_eq!(h.count_above(10_005), 10_000);
    }
}
