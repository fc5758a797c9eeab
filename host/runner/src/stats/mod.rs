//! Measurements of a run, per scenario: per (method, name) an HDR histogram
//! of response times in microseconds, counts, failures grouped by message,
//! bytes; per task its runs and errors and, for arrival-rate scenarios, an HDR
//! histogram of iteration latency measured from each iteration's *intended*
//! start (free of coordinated omission); dropped iterations; a per-second
//! timeline. Knows nothing of HTTP clients or Wasm: the recorders take plain
//! values.

use crate::text::{is_printable, printable};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

mod shard;
use shard::{Named, SecondPart, Shard, TaskCounts};
use std::time::{Duration, Instant};

/// Significant digits kept by every histogram.
pub const SIGFIGS: u8 = 3;

/// Distinct request names kept (each costs a histogram, tens of KiB); later
/// new names are counted under [`OTHER_NAMES`].
pub const MAX_NAMES: usize = 1000;
/// Where requests with names past [`MAX_NAMES`] are counted.
pub const OTHER_NAMES: &str = "(other names)";
/// Distinct failure or error messages kept; later ones are counted under [`OTHER_MESSAGES`].
pub const MAX_MESSAGES: usize = 1000;
pub const OTHER_MESSAGES: &str = "(other messages)";
/// Longest request name and message kept (bytes); longer ones are cut.
pub const MAX_NAME_LEN: usize = 256;
pub const MAX_MESSAGE_LEN: usize = 512;
/// What an interrupted request is listed under in the failures.
pub const INTERRUPTED: &str = "interrupted: still in flight when the run stopped";
/// The scenario of a run that names none (k6 calls it the same).
pub const DEFAULT_SCENARIO: &str = "default";

/// Plugin text as stats keep it: printable, bounded.
fn clean(s: &str, max: usize) -> Cow<'_, str> {
    if is_printable(s, max) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(printable(s, max))
    }
}

pub fn new_histogram() -> Histogram<u64> {
    // Auto-resizing: starts small, grows to the largest value seen.
    Histogram::new(SIGFIGS).expect("3 significant figures is a valid histogram precision")
}

/// Records `v`, growing the histogram to fit (saturating only if even that fails).
fn put(h: &mut Histogram<u64>, v: u64) {
    if h.record(v).is_err() {
        h.saturating_record(v);
    }
}

/// A histogram in HdrHistogram's standard compressed form (V2 + deflate, the
/// bytes `HISTFAAA…` base64 stands for): what the JSON report carries.
pub fn encode(h: &Histogram<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and every u64 histogram is serializable.
    let _ = V2DeflateSerializer::new().serialize(h, &mut out);
    out
}

/// The inverse of [`encode`]; the result grows to fit anything added to it.
/// Bytes from elsewhere (a result file) are checked first: only wasp's own
/// precision and a bounded payload are accepted, so a crafted header cannot
/// make the decoder allocate gigabytes.
pub fn decode(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    check_header(bytes)?;
    let mut h: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).map_err(|e| format!("not an HDR histogram: {e:?}"))?;
    h.auto(true);
    Ok(h)
}

/// The V2 + deflate header: outer cookie and length, then (inflated) inner
/// cookie, payload length, normalizing offset, significant digits, lowest and
/// highest trackable values.
fn check_header(bytes: &[u8]) -> Result<(), String> {
    use std::io::Read;
    const COMPRESSED: u32 = 0x1c84_9314;
    const PLAIN: u32 = 0x1c84_9313;
    /// Far above any histogram of wasp's precision (about 1 MB at full range).
    const MAX_PAYLOAD: u32 = 4 << 20;
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let be64 = |b: &[u8]| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    if bytes.len() < 8 || be32(bytes) != COMPRESSED {
        return Err("not an HDR histogram (V2 compressed)".into());
    }
    let mut inner = [0u8; 32];
    flate2::read::ZlibDecoder::new(&bytes[8..]).read_exact(&mut inner).map_err(|e| format!("not an HDR histogram: {e}"))?;
    let (cookie, payload, digits, low, high) = (be32(&inner), be32(&inner[4..]), be32(&inner[12..]), be64(&inner[16..]), be64(&inner[24..]));
    if cookie != PLAIN {
        return Err("not an HDR histogram (inner cookie)".into());
    }
    if digits != SIGFIGS as u32 || payload > MAX_PAYLOAD || low == 0 || high > i64::MAX as u64 {
        return Err(format!("not a wasp histogram ({digits} significant digits, {payload}-byte payload, range {low}..{high})"));
    }
    Ok(())
}

#[derive(Clone, Debug)]
pub struct Entry {
    /// The scenario it belongs to (empty for totals over scenarios).
    pub scenario: String,
    pub method: String,
    pub name: String,
    pub count: u64,
    pub failures: u64,
    pub bytes: u64,
    pub sum_us: u64,
    pub min_us: u64,
    pub max_us: u64,
    pub hist: Histogram<u64>,
    /// Requests still in flight when the run stopped: listed as failures of
    /// kind `interrupted`, not in `count`, `failures` or the histogram.
    pub interrupted: u64,
}

impl Entry {
    pub fn new(method: &str, name: &str) -> Self {
        Entry {
            scenario: String::new(),
            method: method.to_string(),
            name: name.to_string(),
            count: 0,
            failures: 0,
            bytes: 0,
            sum_us: 0,
            min_us: u64::MAX,
            max_us: 0,
            hist: new_histogram(),
            interrupted: 0,
        }
    }

    pub fn record(&mut self, elapsed_us: u64, bytes: u64, failed: bool) {
        let v = elapsed_us.max(1);
        self.count += 1;
        self.failures += failed as u64;
        self.bytes += bytes;
        self.sum_us += v;
        self.min_us = self.min_us.min(v);
        self.max_us = self.max_us.max(v);
        put(&mut self.hist, v);
    }

    /// Adds another entry's samples (exact: histograms add bucket by bucket).
    pub fn merge(&mut self, other: &Entry) {
        self.count += other.count;
        self.failures += other.failures;
        self.bytes += other.bytes;
        self.sum_us += other.sum_us;
        self.min_us = self.min_us.min(other.min_us);
        self.max_us = self.max_us.max(other.max_us);
        self.interrupted += other.interrupted;
        self.hist.add(&other.hist).expect("auto-resizing histograms always add");
    }

    pub fn avg_us(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_us as f64 / self.count as f64
        }
    }

    /// The value at quantile `q` (0..=1), in µs; 0 when empty.
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.hist.value_at_quantile(q)
        }
    }

    pub fn min(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.min_us
        }
    }
}

/// One task in one scenario.
#[derive(Clone, Debug)]
pub struct TaskEntry {
    pub scenario: String,
    pub name: String,
    pub runs: u64,
    pub errors: u64,
    /// Runs cut short at the stop (not in `runs`).
    pub interrupted: u64,
    /// Arrival-rate scenarios: each iteration's latency from its intended
    /// start to its end (µs), `failures` = iterations that errored. Empty
    /// for the other executors, where an iteration has no intended start.
    pub latency: Entry,
}

/// A request that failed, by message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub scenario: String,
    pub method: String,
    pub name: String,
    pub error: String,
    pub occurrences: u64,
    /// Wall-clock ms since the Unix epoch of the first and the last occurrence (0: not known).
    pub first_seen_unix_ms: u64,
    pub last_seen_unix_ms: u64,
}

/// How often a failure happened, and when first and last (Unix ms).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Occurrences {
    n: u64,
    first: u64,
    last: u64,
}

impl Occurrences {
    /// Adds another shard's count of the same failure.
    fn merge(&mut self, o: &Occurrences) {
        if o.n == 0 {
            return;
        }
        self.first = if self.n == 0 { o.first } else { self.first.min(o.first) };
        self.last = self.last.max(o.last);
        self.n += o.n;
    }

    fn add(&mut self) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        if self.n == 0 {
            self.first = now;
        }
        self.n += 1;
        self.last = now.max(self.last);
    }
}

/// A task, on-start, on-stop or user error (guest errors, traps, kills), by message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorEntry {
    pub scenario: String,
    /// The task's name, or `on-start`, `on-stop`, `create`, `retired`, `http`.
    pub place: String,
    pub message: String,
    pub occurrences: u64,
}

/// What one scenario did, besides its requests.
#[derive(Clone, Debug)]
pub struct ScenarioSnapshot {
    pub name: String,
    /// Users running now.
    pub users: u64,
    /// Iterations an arrival-rate scenario could not start: no free user at their time.
    pub dropped: u64,
    /// Iteration latency over all its tasks (arrival-rate scenarios).
    pub latency: Entry,
    /// Users that started in it (a user made afresh after a failure counts again).
    pub users_started: u64,
    /// The most users it had at once.
    pub peak_users: u64,
}

/// One second of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Second {
    pub requests: u64,
    pub failures: u64,
    pub users: u64,
    /// Iterations dropped in that second.
    pub dropped: u64,
}

#[derive(Clone, Debug)]
pub struct Snapshot {
    pub elapsed: Duration,
    /// Users running now, in all scenarios.
    pub users: u64,
    pub scenarios: Vec<ScenarioSnapshot>,
    /// Every scenario's entries, sorted by scenario, name, method.
    pub entries: Vec<Entry>,
    /// All requests of all scenarios.
    pub total: Entry,
    /// Sorted by occurrences (most first).
    pub failures: Vec<Failure>,
    pub tasks: Vec<TaskEntry>,
    /// Sorted by occurrences (most first).
    pub errors: Vec<ErrorEntry>,
    pub timeline: Vec<Second>,
    /// Time from the start until every planned user was running.
    pub ramp_up: Option<Duration>,
    /// Iteration latency over all arrival-rate scenarios.
    pub latency: Entry,
    pub dropped_iterations: u64,
}

impl Snapshot {
    /// Requests per second over the run so far.
    pub fn rps(&self, count: u64) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            count as f64 / secs
        } else {
            0.0
        }
    }

    /// Requests per second over the last few complete seconds (like Locust's "current RPS").
    pub fn current_rps(&self) -> f64 {
        let done = (self.elapsed.as_secs() as usize).min(self.timeline.len());
        let window = done.min(5);
        if window == 0 {
            // The first second: what it has done so far.
            let secs = self.elapsed.as_secs_f64();
            let so_far: u64 = self.timeline.iter().map(|s| s.requests).sum();
            return if secs > 0.0 { so_far as f64 / secs } else { 0.0 };
        }
        let sum: u64 = self.timeline[done - window..done].iter().map(|s| s.requests).sum();
        sum as f64 / window as f64
    }

    /// Task runs (iterations) of all scenarios.
    pub fn iterations(&self) -> u64 {
        self.tasks.iter().map(|t| t.runs).sum()
    }

    /// More than one scenario: names are shown with theirs.
    pub fn several_scenarios(&self) -> bool {
        self.scenarios.len() > 1
    }
}

struct ScenarioData {
    name: String,
    /// Indices of the plugin's tasks this scenario may run (the ones reported).
    tasks: Vec<usize>,
    /// Task runs cut short at the stop, by task.
    interrupted: HashMap<usize, u64>,
    errors: HashMap<(String, String), u64>,
    users: u64,
    /// Users that ever started in it, and the most at once.
    started: u64,
    peak: u64,
    dropped: u64,
}

/// What is shared by all shards: the bounds on names and messages, the
/// errors, users and drops, and the timeline of gathered seconds.
struct Inner {
    task_names: Vec<String>,
    scenarios: Vec<ScenarioData>,
    timeline: Vec<Second>,
    ramp_up: Option<Duration>,
    /// Request names kept, by (scenario, method, name): at most [`MAX_NAMES`] (and the overflow entry).
    names: HashSet<(usize, String, String)>,
    /// Failure messages kept, by (scenario, method, name, message).
    failure_messages: HashSet<(usize, String, String, String)>,
    /// Distinct error messages so far.
    error_kinds: usize,
    /// Warned once that names or messages overflowed.
    warned_names: bool,
    warned_messages: bool,
    /// All requests' times of the seconds still open (the newest two), by second.
    open: Vec<(usize, Histogram<u64>)>,
    /// The same for closed seconds, encoded (about a kilobyte each); index = second.
    closed: Vec<Option<Arc<[u8]>>>,
    /// p50, p95, p99 of each closed second (µs), kept so live charts need no decoding.
    closed_quantiles: Vec<Option<[u64; 3]>>,
}

/// p50, p95, p99 of a histogram, µs.
fn quantiles(h: &Histogram<u64>) -> [u64; 3] {
    [h.value_at_quantile(0.5), h.value_at_quantile(0.95), h.value_at_quantile(0.99)]
}

impl ScenarioData {
    fn new(name: String, tasks: Vec<usize>) -> Self {
        ScenarioData { name, tasks, interrupted: HashMap::new(), errors: HashMap::new(), users: 0, started: 0, peak: 0, dropped: 0 }
    }
}

impl Inner {
    fn scenario(&mut self, s: usize) -> &mut ScenarioData {
        let last = self.scenarios.len() - 1;
        &mut self.scenarios[s.min(last)]
    }

    /// The name a request is kept under: itself while fewer than
    /// [`MAX_NAMES`] names are kept (it is then kept from now on), else
    /// [`OTHER_NAMES`].
    fn kept_name<'a>(&mut self, s: usize, method: &str, name: &'a str) -> Cow<'a, str> {
        let key = (s, method.to_string(), name.to_string());
        if self.names.contains(&key) {
            return Cow::Borrowed(name);
        }
        if self.names.len() < MAX_NAMES {
            self.names.insert(key);
            return Cow::Borrowed(name);
        }
        if !self.warned_names {
            self.warned_names = true;
            tracing::warn!(
                "more than {MAX_NAMES} request names: further names are counted as \"{OTHER_NAMES}\" (name requests by route, e.g. /api/products/{{id}})"
            );
        }
        Cow::Borrowed(OTHER_NAMES)
    }

    /// The message a failure is kept under: itself while fewer than
    /// [`MAX_MESSAGES`] are kept, else [`OTHER_MESSAGES`].
    fn kept_failure<'a>(&mut self, s: usize, method: &str, name: &str, msg: &'a str) -> Cow<'a, str> {
        let key = (s, method.to_string(), name.to_string(), msg.to_string());
        if self.failure_messages.contains(&key) || self.failure_messages.len() < MAX_MESSAGES {
            self.failure_messages.insert(key);
            return Cow::Borrowed(msg);
        }
        self.warn_messages();
        Cow::Borrowed(OTHER_MESSAGES)
    }

    fn warn_messages(&mut self) {
        if !self.warned_messages {
            self.warned_messages = true;
            tracing::warn!("more than {MAX_MESSAGES} distinct failure or error messages: further ones are counted as \"{OTHER_MESSAGES}\"");
        }
    }

    /// Counts an error message at `place` in scenario `s`.
    fn error(&mut self, s: usize, place: &str, msg: &str) {
        let s = s.min(self.scenarios.len() - 1);
        let key = (clean(place, MAX_NAME_LEN).into_owned(), clean(msg, MAX_MESSAGE_LEN).into_owned());
        if let Some(n) = self.scenarios[s].errors.get_mut(&key) {
            *n += 1;
            return;
        }
        let (place, msg) = key;
        let msg = if self.error_kinds < MAX_MESSAGES {
            self.error_kinds += 1;
            msg
        } else {
            self.warn_messages();
            OTHER_MESSAGES.to_string()
        };
        *self.scenarios[s].errors.entry((place, msg)).or_insert(0) += 1;
    }

    /// Adds one second's gathered requests: to its open second, or exactly
    /// into a closed one (a late part: decoded, added, encoded again).
    fn add_second(&mut self, part: SecondPart) {
        let sec = self.second_at(part.idx);
        sec.requests += part.requests;
        sec.failures += part.failures;
        let closed = self.closed.get(part.idx).and_then(|c| c.as_ref()).and_then(|b| decode(b).ok());
        if let Some(mut h) = closed {
            let _ = h.add(&part.hist);
            self.closed_quantiles[part.idx] = Some(quantiles(&h));
            self.closed[part.idx] = Some(encode(&h).into());
        } else if let Some((_, h)) = self.open.iter_mut().find(|(i, _)| *i == part.idx) {
            let _ = h.add(&part.hist);
        } else {
            self.open.push((part.idx, part.hist));
        }
    }

    /// Closes (encodes) the open seconds older than the last two before `now`.
    fn close_seconds(&mut self, now: usize) {
        for (i, h) in std::mem::take(&mut self.open) {
            if i + 2 > now {
                self.open.push((i, h));
                continue;
            }
            if self.closed.len() <= i {
                self.closed.resize(i + 1, None);
                self.closed_quantiles.resize(i + 1, None);
            }
            self.closed_quantiles[i] = Some(quantiles(&h));
            self.closed[i] = Some(encode(&h).into());
        }
    }

    fn second_at(&mut self, idx: usize) -> &mut Second {
        if self.timeline.len() <= idx {
            let users = self.users();
            self.timeline.resize(idx + 1, Second { users, ..Default::default() });
        }
        &mut self.timeline[idx]
    }

    fn users(&self) -> u64 {
        self.scenarios.iter().map(|s| s.users).sum()
    }
}

/// A scenario as the stats know it: its name and the plugin tasks it runs.
#[derive(Clone, Debug)]
pub struct ScenarioSpec {
    pub name: String,
    pub tasks: Vec<usize>,
}

/// The shards' parts merged, per scenario.
#[derive(Default)]
struct Merged {
    entries: HashMap<(String, String), Entry>,
    failures: HashMap<(String, String, String), Occurrences>,
    tasks: HashMap<usize, TaskCounts>,
}

pub struct Stats {
    inner: Mutex<Inner>,
    shards: Box<[Mutex<Shard>]>,
    /// Scenarios (at least one), fixed at the start.
    scenarios: usize,
    /// A fixed point, and the start of the measurements (the run's start, or
    /// the last reset) as ns after it: the one record of the start, read
    /// without the shared lock.
    origin: Instant,
    start_ns: AtomicU64,
    /// The newest second whose passing was gathered (see [`Stats::request`]).
    gathered: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the counters half-updated
    // in a way that matters more than losing them: keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Stats {
    /// Stats of a run of one scenario, [`DEFAULT_SCENARIO`], running every task.
    pub fn new(task_names: &[String]) -> Self {
        let all = (0..task_names.len()).collect();
        Self::with_scenarios(task_names, &[ScenarioSpec { name: DEFAULT_SCENARIO.into(), tasks: all }])
    }

    /// Stats of a run of these scenarios (at least one); scenario `i` of the
    /// recorders is `scenarios[i]`.
    pub fn with_scenarios(task_names: &[String], scenarios: &[ScenarioSpec]) -> Self {
        let mut scenarios: Vec<ScenarioData> = scenarios.iter().map(|s| ScenarioData::new(s.name.clone(), s.tasks.clone())).collect();
        if scenarios.is_empty() {
            scenarios.push(ScenarioData::new(DEFAULT_SCENARIO.into(), (0..task_names.len()).collect()));
        }
        let inner = Inner {
            task_names: task_names.to_vec(),
            scenarios,
            timeline: vec![],
            ramp_up: None,
            names: HashSet::new(),
            failure_messages: HashSet::new(),
            error_kinds: 0,
            warned_names: false,
            warned_messages: false,
            open: vec![],
            closed: vec![],
            closed_quantiles: vec![],
        };
        let shards = (0..shard::count()).map(|_| Mutex::new(Shard::default())).collect();
        let scenarios = inner.scenarios.len();
        Stats { inner: Mutex::new(inner), shards, scenarios, origin: Instant::now(), start_ns: AtomicU64::new(0), gathered: AtomicUsize::new(0) }
    }

    /// When the measurements began: the run's start, or the last reset.
    pub fn start(&self) -> Instant {
        self.origin + Duration::from_nanos(self.start_ns.load(Ordering::Relaxed))
    }

    /// Zeroes every count, histogram and the timeline, as Locust's "reset
    /// stats": the users go on, the clock restarts.
    pub fn reset(&self) {
        for shard in self.shards.iter() {
            *lock(shard) = Shard::default();
        }
        let mut g = self.lock();
        self.start_ns.store(self.origin.elapsed().as_nanos() as u64, Ordering::Relaxed);
        for s in &mut g.scenarios {
            s.interrupted.clear();
            s.errors.clear();
            s.dropped = 0;
        }
        g.timeline.clear();
        g.ramp_up = None;
        g.names.clear();
        g.failure_messages.clear();
        g.error_kinds = 0;
        g.open.clear();
        g.closed.clear();
        g.closed_quantiles.clear();
        self.gathered.store(0, Ordering::Relaxed);
    }

    /// Per second from `since`: p50, p95, p99 of the requests' times (µs),
    /// None for seconds without requests. Cheap: closed seconds keep theirs.
    pub fn second_quantiles(&self, since: usize) -> Vec<(usize, Option<[u64; 3]>)> {
        self.gather();
        let g = self.lock();
        let len = g.timeline.len().max(g.closed_quantiles.len());
        (since..len)
            .map(|i| {
                let q = g.open.iter().find(|(s, _)| *s == i).map(|(_, h)| quantiles(h)).or_else(|| g.closed_quantiles.get(i).copied().flatten());
                (i, q)
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// The calling thread's shard.
    fn shard(&self) -> std::sync::MutexGuard<'_, Shard> {
        lock(&self.shards[shard::mine(self.shards.len())])
    }

    /// Moves every shard's seconds into the timeline and closes the seconds
    /// no request can still fall in. Shards are locked one at a time, never
    /// while the shared part is.
    fn gather(&self) {
        let mut seconds = vec![];
        for shard in self.shards.iter() {
            seconds.append(&mut lock(shard).seconds);
        }
        let mut g = self.lock();
        for part in seconds {
            g.add_second(part);
        }
        let now = self.second_index(Instant::now());
        g.close_seconds(now);
    }

    /// Every shard's parts, merged (scenario index → merged).
    fn merged(&self) -> Vec<Merged> {
        let mut out: Vec<Merged> = vec![];
        for shard in self.shards.iter() {
            let shard = lock(shard);
            if out.len() < shard.parts.len() {
                out.resize_with(shard.parts.len(), Merged::default);
            }
            for (part, m) in shard.parts.iter().zip(out.iter_mut()) {
                for (method, by_name) in &part.named {
                    for (name, n) in by_name {
                        match m.entries.get_mut(&(method.clone(), name.clone())) {
                            Some(e) => e.merge(&n.entry),
                            None => {
                                m.entries.insert((method.clone(), name.clone()), n.entry.clone());
                            }
                        }
                        for (msg, o) in &n.failures {
                            m.failures.entry((method.clone(), name.clone(), msg.clone())).or_default().merge(o);
                        }
                    }
                }
                for (i, t) in &part.tasks {
                    let mt = m.tasks.entry(*i).or_default();
                    mt.runs += t.runs;
                    mt.errors += t.errors;
                    mt.latency.merge(&t.latency);
                }
            }
        }
        out
    }

    /// The entry of (scenario, method, name) in this thread's shard, made if
    /// new (its name kept as [`Inner::kept_name`] says; the shared part is
    /// asked only then). Names come from plugins: printable and bounded.
    fn with_named<R>(&self, s: usize, method: &str, name: &str, second: Option<(usize, u64, bool)>, f: impl FnOnce(&mut Named, &Stats) -> R) -> R {
        let name = clean(name, MAX_NAME_LEN);
        let s = s.min(self.scenarios - 1);
        let mut shard = self.shard();
        if let Some((idx, us, failed)) = second {
            shard.second(idx, us, failed);
        }
        let part = shard.part(s);
        if let Some(n) = part.named.get_mut(method).and_then(|m| m.get_mut(name.as_ref())) {
            return f(n, self);
        }
        let (kept, scenario) = {
            let mut g = self.lock();
            let kept = g.kept_name(s, method, &name).into_owned();
            (kept, g.scenarios[s].name.clone())
        };
        let by_name = part.named.entry(method.to_string()).or_default();
        let n = by_name.entry(kept).or_insert_with_key(|kept| {
            let mut entry = Entry::new(method, kept);
            entry.scenario = scenario;
            Named { entry, failures: Default::default() }
        });
        f(n, self)
    }

    /// The second of the run `at` falls in (from the start or the last reset).
    fn second_index(&self, at: Instant) -> usize {
        let since = Duration::from_nanos(self.start_ns.load(Ordering::Relaxed));
        (at.saturating_duration_since(self.origin).saturating_sub(since)).as_secs() as usize
    }

    /// Records one request of scenario `s` that got an answer or an error.
    /// `failure` is the message it is counted under when it failed. Names and
    /// messages come from plugins: they are kept printable and bounded (see
    /// [`MAX_NAMES`]). Takes only this thread's shard lock, but for a name or
    /// message the shard has not seen, and once a second to gather.
    pub fn request(&self, s: usize, method: &str, name: &str, elapsed_us: u64, bytes: u64, failure: Option<&str>, at: Instant) {
        let idx = self.second_index(at);
        let us = elapsed_us.max(1);
        self.with_named(s, method, name, Some((idx, us, failure.is_some())), |n, stats| {
            n.entry.record(elapsed_us, bytes, failure.is_some());
            if let Some(msg) = failure {
                stats.count_failure(n, s, method, msg);
            }
        });
        let seen = self.gathered.load(Ordering::Relaxed);
        if idx > seen && self.gathered.compare_exchange(seen, idx, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            // A new second began: the ones before it are gathered, once, by whoever saw it first.
            self.gather();
        }
    }

    /// Counts a failure message of a named entry (the shared part decides a new message's kept form).
    fn count_failure(&self, n: &mut Named, s: usize, method: &str, msg: &str) {
        let msg = clean(msg, MAX_MESSAGE_LEN);
        if let Some(o) = n.failures.get_mut(msg.as_ref()) {
            o.add();
            return;
        }
        let kept = self.lock().kept_failure(s, method, &n.entry.name, &msg).into_owned();
        n.failures.entry(kept).or_default().add();
    }

    /// Records a request that was still in flight when the run stopped: a
    /// failure of kind `interrupted`, outside the counts and the histograms.
    pub fn interrupted(&self, s: usize, method: &str, name: &str) {
        self.with_named(s, method, name, None, |n, stats| {
            n.entry.interrupted += 1;
            stats.count_failure(n, s, method, INTERRUPTED);
        });
    }

    /// Per second of the run, the histogram of every request's time (None for
    /// seconds without requests).
    pub fn second_histograms(&self) -> Vec<Option<Histogram<u64>>> {
        self.gather();
        let g = self.lock();
        let mut out: Vec<Option<Histogram<u64>>> = g.closed.iter().map(|b| b.as_ref().and_then(|b| decode(b).ok())).collect();
        for (i, h) in &g.open {
            if out.len() <= *i {
                out.resize(*i + 1, None);
            }
            out[*i] = Some(h.clone());
        }
        out
    }

    /// Records a finished task run of scenario `s`; `error` is the guest's
    /// error, trap or kill message.
    pub fn task(&self, s: usize, index: usize, error: Option<&str>) {
        let s = s.min(self.scenarios - 1);
        {
            let mut shard = self.shard();
            let t = shard.part(s).tasks.entry(index).or_default();
            t.runs += 1;
            t.errors += error.is_some() as u64;
        }
        if let Some(msg) = error {
            let mut g = self.lock();
            let task = g.task_names.get(index).cloned().unwrap_or_else(|| format!("#{index}"));
            g.error(s, &task, msg);
        }
    }

    /// Records an arrival-rate iteration's latency: from its intended start
    /// to its end. (The run itself is counted by [`Stats::task`].)
    pub fn iteration(&self, s: usize, index: usize, latency_us: u64, failed: bool) {
        let s = s.min(self.scenarios - 1);
        self.shard().part(s).tasks.entry(index).or_default().latency.record(latency_us, 0, failed);
    }

    /// A user of scenario `s` started.
    pub fn user_started(&self, s: usize) {
        self.lock().scenario(s).started += 1;
    }

    /// Counts iterations an arrival-rate scenario had to drop: no free user.
    pub fn dropped(&self, s: usize, n: u64) {
        let mut g = self.lock();
        g.scenario(s).dropped += n;
        let idx = self.second_index(Instant::now());
        g.second_at(idx).dropped += n;
    }

    /// Records a task run cut short by the stop.
    pub fn task_interrupted(&self, s: usize, index: usize) {
        *self.lock().scenario(s).interrupted.entry(index).or_insert(0) += 1;
    }

    /// Records an error outside a task (on-start, on-stop, instantiation, refused requests).
    pub fn user_error(&self, s: usize, place: &str, message: &str) {
        self.lock().error(s, place, message);
    }

    /// Sets the users running now in scenario `s`.
    pub fn set_users(&self, s: usize, users: u64) {
        let mut g = self.lock();
        let sc = g.scenario(s);
        sc.users = users;
        sc.peak = sc.peak.max(users);
        let all = g.users();
        let idx = self.second_index(Instant::now());
        let sec = g.second_at(idx);
        sec.users = sec.users.max(all);
    }

    /// Users running now, in all scenarios.
    pub fn users(&self) -> u64 {
        self.lock().users()
    }

    /// Runs and errors per scenario and task so far.
    pub fn tasks(&self) -> Vec<TaskEntry> {
        let merged = self.merged();
        Self::snapshot_tasks(&merged, &self.lock())
    }

    /// (name, dropped iterations) of each scenario, cheaply (no histograms copied).
    pub fn snapshot_scenarios(&self) -> Vec<(String, u64)> {
        self.lock().scenarios.iter().map(|s| (s.name.clone(), s.dropped)).collect()
    }

    /// Iterations dropped so far, in all scenarios.
    pub fn dropped_iterations(&self) -> u64 {
        self.lock().scenarios.iter().map(|s| s.dropped).sum()
    }

    pub fn set_ramp_up(&self, took: Duration) {
        self.lock().ramp_up = Some(took);
    }

    fn snapshot_tasks(merged: &[Merged], g: &Inner) -> Vec<TaskEntry> {
        let mut out = vec![];
        for (si, sc) in g.scenarios.iter().enumerate() {
            let m = merged.get(si);
            let mut indices = sc.tasks.clone();
            let mut extra: Vec<usize> = m.map(|m| m.tasks.keys().copied().collect()).unwrap_or_default();
            extra.extend(sc.interrupted.keys());
            extra.sort_unstable();
            extra.dedup();
            indices.extend(extra.into_iter().filter(|i| !sc.tasks.contains(i)));
            for i in indices {
                let name = g.task_names.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
                let (runs, errors, mut latency) = match m.and_then(|m| m.tasks.get(&i)) {
                    Some(t) => (t.runs, t.errors, t.latency.clone()),
                    None => (0, 0, Entry::new("", "")),
                };
                let interrupted = sc.interrupted.get(&i).copied().unwrap_or(0);
                latency.scenario = sc.name.clone();
                latency.name = name.clone();
                out.push(TaskEntry { scenario: sc.name.clone(), name, runs, errors, interrupted, latency });
            }
        }
        out
    }

    pub fn snapshot(&self) -> Snapshot {
        self.gather();
        let merged = self.merged();
        let g = self.lock();
        let elapsed = self.start().elapsed();
        let mut entries: Vec<Entry> = merged.iter().flat_map(|m| m.entries.values().cloned()).collect();
        entries.sort_by(|a, b| (&a.scenario, &a.name, &a.method).cmp(&(&b.scenario, &b.name, &b.method)));
        let mut total = Entry::new("", "Aggregated");
        for e in &entries {
            total.merge(e);
        }
        let mut failures: Vec<Failure> = merged
            .iter()
            .enumerate()
            .flat_map(|(si, m)| {
                let scenario = g.scenarios.get(si).map(|s| s.name.clone()).unwrap_or_default();
                m.failures.iter().map(move |((method, n, e), c)| Failure {
                    scenario: scenario.clone(),
                    method: method.clone(),
                    name: n.clone(),
                    error: e.clone(),
                    occurrences: c.n,
                    first_seen_unix_ms: c.first,
                    last_seen_unix_ms: c.last,
                })
            })
            .collect();
        failures.sort_by(|a, b| {
            b.occurrences.cmp(&a.occurrences).then_with(|| (&a.scenario, &a.name, &a.method, &a.error).cmp(&(&b.scenario, &b.name, &b.method, &b.error)))
        });
        let mut errors: Vec<ErrorEntry> = g
            .scenarios
            .iter()
            .flat_map(|s| {
                s.errors.iter().map(move |((p, m), c)| ErrorEntry { scenario: s.name.clone(), place: p.clone(), message: m.clone(), occurrences: *c })
            })
            .collect();
        errors.sort_by(|a, b| b.occurrences.cmp(&a.occurrences).then_with(|| (&a.scenario, &a.place, &a.message).cmp(&(&b.scenario, &b.place, &b.message))));
        let tasks = Self::snapshot_tasks(&merged, &g);
        let scenarios: Vec<ScenarioSnapshot> = g
            .scenarios
            .iter()
            .map(|s| {
                let mut latency = Entry::new("", "Iterations");
                latency.scenario = s.name.clone();
                for t in tasks.iter().filter(|t| t.scenario == s.name) {
                    latency.merge(&t.latency);
                }
                ScenarioSnapshot { name: s.name.clone(), users: s.users, dropped: s.dropped, latency, users_started: s.started, peak_users: s.peak }
            })
            .collect();
        let mut latency = Entry::new("", "Iterations");
        for s in &scenarios {
            latency.merge(&s.latency);
        }
        // Seconds with no event still had users: carry the count forward.
        let mut timeline = g.timeline.clone();
        let mut last = 0;
        for s in &mut timeline {
            if s.users == 0 {
                s.users = last
            } else {
                last = s.users
            }
        }
        Snapshot {
            elapsed,
            users: g.users(),
            dropped_iterations: scenarios.iter().map(|s| s.dropped).sum(),
            scenarios,
            entries,
            total,
            failures,
            tasks,
            errors,
            timeline,
            ramp_up: g.ramp_up,
            latency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_failures_and_percentiles() {
        let s = Stats::new(&["t".into()]);
        let now = Instant::now();
        for v in 1..=1000u64 {
            s.request(0, "GET", "/a", v * 1000, 10, None, now);
        }
        s.request(0, "GET", "/a", 5_000, 0, Some("HTTP 500"), now);
        s.request(0, "POST", "/a", 7_000, 0, Some("HTTP 500"), now);
        let snap = s.snapshot();
        assert_eq!(snap.entries.len(), 2);
        let get = snap.entries.iter().find(|e| e.method == "GET").unwrap();
        assert_eq!(get.count, 1001);
        assert_eq!(get.failures, 1);
        assert_eq!(get.bytes, 10_000);
        assert_eq!(get.min(), 1000);
        assert_eq!(get.max_us, 1_000_000);
        // 3 significant digits: within 0.1 %.
        let p50 = get.quantile_us(0.5) as f64;
        assert!((p50 - 500_000.0).abs() <= 500.0, "p50 {p50}");
        assert_eq!(snap.total.count, 1002);
        assert_eq!(snap.failures.len(), 2);
        assert!(snap.failures.iter().all(|f| f.error == "HTTP 500" && f.occurrences == 1));
        assert_eq!(snap.timeline[0].requests, 1002);
        assert_eq!(snap.timeline[0].failures, 2);
    }

    #[test]
    fn merge_equals_one_histogram_of_all_samples() {
        let mut a = Entry::new("GET", "/");
        let mut b = Entry::new("GET", "/");
        let mut all = Entry::new("GET", "/");
        for v in 0..5000u64 {
            let x = (v * 7919) % 100_000 + 1;
            if v % 3 == 0 {
                a.record(x, 0, false)
            } else {
                b.record(x, 0, false)
            }
            all.record(x, 0, false);
        }
        a.merge(&b);
        for q in [0.5, 0.9, 0.99, 0.999] {
            assert_eq!(a.quantile_us(q), all.quantile_us(q));
        }
        assert_eq!((a.count, a.sum_us, a.min_us, a.max_us), (all.count, all.sum_us, all.min_us, all.max_us));
    }

    #[test]
    fn tasks_and_errors_are_grouped() {
        let s = Stats::new(&["a".into(), "b".into()]);
        s.task(0, 0, None);
        s.task(0, 0, Some("boom"));
        s.task(0, 1, Some("boom"));
        s.task(0, 1, Some("boom"));
        s.user_error(0, "on-start", "nope");
        let snap = s.snapshot();
        let counts = |t: &TaskEntry| (t.name.clone(), t.runs, t.errors, t.interrupted);
        assert_eq!(counts(&snap.tasks[0]), ("a".into(), 2, 1, 0));
        assert_eq!(counts(&snap.tasks[1]), ("b".into(), 2, 2, 0));
        assert_eq!((snap.errors[0].place.as_str(), snap.errors[0].message.as_str(), snap.errors[0].occurrences), ("b", "boom", 2));
        assert_eq!(snap.errors.len(), 3);
    }

    #[test]
    fn plugin_names_and_messages_are_bounded_and_printable() {
        let s = Stats::new(&["t".into()]);
        let now = Instant::now();
        for i in 0..(MAX_NAMES + 500) {
            s.request(0, "GET", &format!("/u/{i}"), 10, 0, Some(&format!("HTTP 500 #{i}")), now);
        }
        s.request(0, "GET", "/a\nwasp: error: forged", 10, 0, None, now);
        s.task(0, 0, Some("bad\n=== wasp summary: forged ==="));
        for i in 0..(MAX_MESSAGES + 10) {
            s.user_error(0, "on-start", &format!("unique {i}"));
        }
        let snap = s.snapshot();
        assert_eq!(snap.entries.len(), MAX_NAMES + 1, "the names past the cap share one entry");
        let other = snap.entries.iter().find(|e| e.name == OTHER_NAMES).expect("overflow entry");
        assert_eq!(other.count, 501, "later names, the forged one included, are counted, not lost");
        assert_eq!(snap.total.count, (MAX_NAMES + 501) as u64);
        assert!(snap.failures.len() <= MAX_MESSAGES + 1);
        assert_eq!(snap.failures.iter().map(|f| f.occurrences).sum::<u64>(), (MAX_NAMES + 500) as u64);
        assert!(snap.errors.len() <= MAX_MESSAGES + 1);
        assert_eq!(snap.errors.iter().map(|e| e.occurrences).sum::<u64>(), (MAX_MESSAGES + 11) as u64);
        let all_text = snap.entries.iter().map(|e| e.name.clone()).chain(snap.errors.iter().map(|e| e.message.clone()));
        assert!(all_text.clone().all(|t| !t.contains('\n')));
        assert!(snap.errors.iter().any(|e| e.message == "bad\\n=== wasp summary: forged ==="));
        assert!(Stats::new(&[]).snapshot().entries.is_empty());
        let long = "x".repeat(10_000);
        let s = Stats::new(&[]);
        s.request(0, "GET", &long, 1, 0, None, now);
        assert!(s.snapshot().entries[0].name.len() <= MAX_NAME_LEN + 3);
    }

    #[test]
    fn decoding_refuses_crafted_headers_before_allocating() {
        let mut h = new_histogram();
        for v in [1u64, 50, 10_000, 7_000_000] {
            h.record(v).unwrap();
        }
        let good = encode(&h);
        assert_eq!(decode(&good).unwrap().len(), 4);
        // Five significant digits and the full range: the decoder would allocate ~50 MB.
        let mut wide = Histogram::<u64>::new_with_bounds(1, u64::MAX / 2, 5).unwrap();
        wide.record(3).unwrap();
        assert!(decode(&encode(&wide)).unwrap_err().contains("significant digits"));
        // An inner payload length of 4 GB.
        let mut inner = Vec::new();
        for part in [0x1c84_9313u32.to_be_bytes(), u32::MAX.to_be_bytes(), 0u32.to_be_bytes(), 3u32.to_be_bytes()] {
            inner.extend_from_slice(&part);
        }
        inner.extend_from_slice(&1u64.to_be_bytes());
        inner.extend_from_slice(&1000u64.to_be_bytes());
        inner.extend_from_slice(&1f64.to_be_bytes());
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, &inner).unwrap();
        let body = z.finish().unwrap();
        let mut crafted = 0x1c84_9314u32.to_be_bytes().to_vec();
        crafted.extend_from_slice(&(body.len() as u32).to_be_bytes());
        crafted.extend_from_slice(&body);
        assert!(decode(&crafted).unwrap_err().contains("payload"));
        for junk in [&b""[..], b"abc", b"\x1c\x84\x93\x14\0\0\0\x05xxxxx"] {
            assert!(decode(junk).is_err());
        }
    }

    #[test]
    fn interrupted_requests_are_failures_outside_the_counts() {
        let s = Stats::new(&["t".into()]);
        let now = Instant::now();
        s.request(0, "GET", "/a", 1000, 0, None, now);
        s.interrupted(0, "GET", "/a");
        s.interrupted(0, "GET", "/hang");
        s.task_interrupted(0, 0);
        let snap = s.snapshot();
        let a = snap.entries.iter().find(|e| e.name == "/a").unwrap();
        assert_eq!((a.count, a.failures, a.interrupted), (1, 0, 1));
        assert_eq!(snap.total.count, 1);
        assert_eq!(snap.total.interrupted, 2);
        assert_eq!(snap.failures.iter().filter(|f| f.error == INTERRUPTED).map(|f| f.occurrences).sum::<u64>(), 2);
        assert_eq!(snap.tasks[0].interrupted, 1);
        assert_eq!(snap.tasks[0].runs, 0);
    }

    #[test]
    fn scenarios_are_kept_apart_and_totalled_with_iteration_latency_and_drops() {
        let names = ["browse".to_string(), "buy".to_string()];
        let specs = [ScenarioSpec { name: "shop".into(), tasks: vec![0] }, ScenarioSpec { name: "checkout".into(), tasks: vec![1] }];
        let s = Stats::with_scenarios(&names, &specs);
        let now = Instant::now();
        s.request(0, "GET", "/a", 1000, 0, None, now);
        s.request(1, "GET", "/a", 3000, 0, Some("HTTP 500"), now);
        s.task(0, 0, None);
        s.task(1, 1, None);
        s.iteration(1, 1, 250_000, false);
        s.iteration(1, 1, 750_000, true);
        s.dropped(1, 3);
        s.set_users(0, 2);
        s.set_users(1, 5);
        let snap = s.snapshot();
        assert_eq!(snap.entries.len(), 2, "the same name in two scenarios is two entries");
        assert_eq!(snap.entries.iter().map(|e| e.scenario.as_str()).collect::<Vec<_>>(), ["checkout", "shop"]);
        assert_eq!((snap.total.count, snap.total.failures), (2, 1));
        assert_eq!(snap.failures[0].scenario, "checkout");
        assert_eq!(snap.tasks.iter().map(|t| (t.scenario.as_str(), t.name.as_str())).collect::<Vec<_>>(), [("shop", "browse"), ("checkout", "buy")]);
        let checkout = &snap.scenarios[1];
        assert_eq!((checkout.latency.count, checkout.latency.failures, checkout.dropped, checkout.users), (2, 1, 3, 5));
        assert_eq!(snap.latency.count, 2);
        assert!((snap.latency.quantile_us(0.99) as i64 - 750_000).abs() < 1000);
        assert_eq!(snap.dropped_iterations, 3);
        assert_eq!(snap.users, 7);
        assert_eq!(snap.timeline[0].dropped, 3);
        assert_eq!(snap.iterations(), 2);
    }

    #[test]
    fn a_reset_zeroes_the_counts_but_not_the_users() {
        let s = Stats::new(&["t".into()]);
        let now = Instant::now();
        s.set_users(0, 4);
        s.request(0, "GET", "/a", 1000, 0, Some("HTTP 500"), now);
        s.task(0, 0, Some("boom"));
        s.reset();
        let snap = s.snapshot();
        assert_eq!((snap.total.count, snap.failures.len(), snap.errors.len(), snap.iterations()), (0, 0, 0, 0));
        assert_eq!(snap.users, 4, "users go on");
        s.request(0, "GET", "/a", 2000, 0, None, Instant::now());
        assert_eq!(s.snapshot().total.count, 1);
        let q = s.second_quantiles(0);
        assert_eq!(q.len(), 1);
        assert!((q[0].1.unwrap()[0] as i64 - 2000).abs() <= 2);
    }

    #[test]
    fn threads_record_into_their_shards_and_snapshots_add_up_exactly() {
        let s = Arc::new(Stats::new(&["t".into()]));
        let now = Instant::now();
        let threads: Vec<_> = (0..8u64)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..2_000u64 {
                        let failure = (i % 10 == 0).then_some("HTTP 500 Internal Server Error");
                        s.request(0, "GET", &format!("/n{}", i % 5), 100 + t * 1000 + i, 3, failure, now);
                        s.task(0, 0, None);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let snap = s.snapshot();
        assert_eq!(snap.total.count, 16_000);
        assert_eq!(snap.total.failures, 1_600);
        assert_eq!(snap.total.bytes, 48_000);
        assert_eq!(snap.entries.len(), 5, "one entry per name, whatever the shards");
        assert!(snap.entries.iter().all(|e| e.count == 3_200));
        assert_eq!(snap.entries.iter().map(|e| e.failures).sum::<u64>(), 1_600);
        assert_eq!(snap.failures.len(), 1, "every 10th request is a /n0 and fails");
        assert_eq!(snap.failures.iter().map(|f| f.occurrences).sum::<u64>(), 1_600);
        assert_eq!(snap.tasks[0].runs, 16_000);
        assert_eq!((snap.timeline[0].requests, snap.timeline[0].failures), (16_000, 1_600));
        assert_eq!(s.second_histograms()[0].as_ref().unwrap().len(), 16_000);
        // The merged histogram is the one histogram of all samples.
        let mut all = Entry::new("", "");
        for t in 0..8u64 {
            for i in 0..2_000u64 {
                all.record(100 + t * 1000 + i, 0, false);
            }
        }
        for q in [0.5, 0.9, 0.99, 0.999] {
            assert_eq!(snap.total.quantile_us(q), all.quantile_us(q));
        }
    }

    #[test]
    fn a_known_names_request_never_waits_for_the_shared_lock() {
        let s = Arc::new(Stats::new(&["t".into()]));
        let now = Instant::now();
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let (go, go_rx) = std::sync::mpsc::channel::<()>();
        let (done_tx, done) = std::sync::mpsc::channel();
        let s2 = s.clone();
        std::thread::spawn(move || {
            // The first record of a name (or a failure message) in this thread's shard asks the shared part.
            s2.request(0, "GET", "/a", 10, 0, Some("HTTP 500"), now);
            ready_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            s2.request(0, "GET", "/a", 20, 0, None, now);
            s2.request(0, "GET", "/a", 30, 0, None, now);
            s2.request(0, "GET", "/a", 40, 0, Some("HTTP 500"), now);
            done_tx.send(()).unwrap();
        });
        ready.recv().unwrap();
        let held = s.lock();
        go.send(()).unwrap();
        let finished = done.recv_timeout(Duration::from_secs(30)).is_ok();
        drop(held);
        assert!(finished, "recording a known name (and a known failure, after its first) waited for the shared lock");
        let snap = s.snapshot();
        assert_eq!((snap.total.count, snap.total.failures), (4, 2));
    }

    #[test]
    fn a_late_part_of_a_closed_second_is_added_to_it_exactly() {
        let s = Stats::new(&["t".into()]);
        let part = |v: u64| {
            let mut hist = new_histogram();
            put(&mut hist, v);
            SecondPart { idx: 0, requests: 1, failures: 0, hist }
        };
        let mut g = s.lock();
        g.add_second(part(1_000));
        g.close_seconds(5);
        assert!(g.open.is_empty() && g.closed[0].is_some());
        g.add_second(part(3_000));
        assert!(g.open.is_empty(), "the late part went into its own second");
        assert_eq!(decode(g.closed[0].as_ref().unwrap()).unwrap().len(), 2);
        assert_eq!(g.timeline[0].requests, 2);
        assert!((g.closed_quantiles[0].unwrap()[2] as i64 - 3_000).abs() <= 3);
    }
}
