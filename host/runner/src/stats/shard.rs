//! The part of the statistics the request path writes: one shard per
//! thread (threads are dealt shards in turn), each behind its own lock that
//! only its threads take on that path. Readers gather the shards: the
//! seconds of the timeline move to the run's totals, the entries are merged
//! (exactly: histograms add bucket by bucket).

use super::{new_histogram, put, Entry, Occurrences};
use hdrhistogram::Histogram;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The maps every request looks into: keyed by the run's own names and
/// numbers (bounded in number), so a fast hash serves, not std's SipHash.
pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// One request name's entry and its failures by message (as kept).
pub(super) struct Named {
    pub entry: Entry,
    pub failures: FastMap<String, Occurrences>,
}

/// A task's counts in one shard.
pub(super) struct TaskCounts {
    pub runs: u64,
    pub errors: u64,
    /// Iteration latency (arrival-rate scenarios).
    pub latency: Entry,
}

impl Default for TaskCounts {
    fn default() -> Self {
        TaskCounts { runs: 0, errors: 0, latency: Entry::new("", "") }
    }
}

/// What a shard holds for one scenario.
#[derive(Default)]
pub(super) struct Part {
    /// method → name (as kept) → entry.
    pub named: FastMap<String, FastMap<String, Named>>,
    pub tasks: FastMap<usize, TaskCounts>,
}

/// One second's requests, not yet gathered.
pub(super) struct SecondPart {
    pub idx: usize,
    pub requests: u64,
    pub failures: u64,
    pub hist: Histogram<u64>,
}

#[derive(Default)]
pub(super) struct Shard {
    pub parts: Vec<Part>,
    pub seconds: Vec<SecondPart>,
}

impl Shard {
    pub fn part(&mut self, s: usize) -> &mut Part {
        if self.parts.len() <= s {
            self.parts.resize_with(s + 1, Part::default);
        }
        &mut self.parts[s]
    }

    /// Counts a request's time in its second.
    pub fn second(&mut self, idx: usize, us: u64, failed: bool) {
        let at = match self.seconds.iter().position(|x| x.idx == idx) {
            Some(i) => i,
            None => {
                self.seconds.push(SecondPart { idx, requests: 0, failures: 0, hist: new_histogram() });
                self.seconds.len() - 1
            }
        };
        let sec = &mut self.seconds[at];
        sec.requests += 1;
        sec.failures += failed as u64;
        put(&mut sec.hist, us);
    }
}

/// How many shards: twice the threads that can run at once (so that few
/// threads share one), at most 64.
pub(super) fn count() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (2 * cores).clamp(1, 64)
}

/// The calling thread's shard among `n`.
pub(super) fn mine(n: usize) -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    MINE.with(|m| {
        if m.get() == usize::MAX {
            m.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        m.get() % n
    })
}
