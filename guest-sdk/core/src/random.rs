//! Random helpers. Seeded from WASI randomness, so `wasp run --seed` makes
//! them reproducible: a 0.1 plugin's WASI randomness is seeded per user; in a
//! shared instance (0.2) each user has its own generator ([`UserRng`]),
//! seeded from the run's seed and its id, and the SDK makes it the one these
//! helpers use while that user's code runs.

use std::cell::RefCell;

thread_local! {
    static RNG: RefCell<fastrand::Rng> = RefCell::new(fastrand::Rng::with_seed(seed()));
}

fn seed() -> u64 {
    getrandom::u64().unwrap_or(0x5eed)
}

fn with<R>(f: impl FnOnce(&mut fastrand::Rng) -> R) -> R {
    RNG.with(|r| f(&mut r.borrow_mut()))
}

thread_local! {
    /// The instance's first draw of WASI randomness: the same in every
    /// instance of a run with `--seed`.
    static INSTANCE_SEED: u64 = seed();
}

/// One user's generator in an instance users share.
pub struct UserRng(fastrand::Rng);

impl UserRng {
    /// The generator of user `id`: the same for the same `--seed` and id,
    /// whichever instance the user is in.
    pub fn for_user(id: u64) -> UserRng {
        let base = INSTANCE_SEED.with(|s| *s);
        UserRng(fastrand::Rng::with_seed(base ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
    }

    /// Runs `f` with this generator behind the helpers of this module.
    pub fn scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        RNG.with(|r| std::mem::swap(&mut *r.borrow_mut(), &mut self.0));
        let out = f();
        RNG.with(|r| std::mem::swap(&mut *r.borrow_mut(), &mut self.0));
        out
    }
}

/// A number in `lo..=hi`.
pub fn range(lo: u64, hi: u64) -> u64 {
    with(|r| r.u64(lo..=hi))
}

/// A float in `[0, 1)`.
pub fn unit() -> f64 {
    with(|r| r.f64())
}

/// A random element, or `None` for an empty slice.
pub fn choice<T>(items: &[T]) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        Some(&items[with(|r| r.usize(..items.len()))])
    }
}

/// A random element, with weights.
pub fn weighted<'a, T>(items: &'a [(T, u32)]) -> Option<&'a T> {
    let total: u64 = items.iter().map(|(_, w)| *w as u64).sum();
    if total == 0 {
        return None;
    }
    let mut x = with(|r| r.u64(..total));
    for (item, w) in items {
        if x < *w as u64 {
            return Some(item);
        }
        x -= *w as u64;
    }
    None
}

/// A random (version 4) UUID, e.g. for session ids.
pub fn uuid_v4() -> String {
    let bytes: [u8; 16] = with(|r| std::array::from_fn(|_| r.u8(..)));
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// A time-based (version 1) UUID, like Python's `uuid.uuid1()`: the current
/// time, a random clock sequence and a random node id (multicast bit set, as
/// RFC 9562 asks when no MAC address is used).
pub fn uuid_v1() -> String {
    // 100 ns ticks since the Gregorian reform (1582-10-15).
    const GREGORIAN_TO_UNIX: u64 = 0x01B2_1DD2_1381_4000;
    let since_unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let ticks = GREGORIAN_TO_UNIX + (since_unix.as_nanos() / 100) as u64;
    let (counter, mut node) = with(|r| (r.u16(..) & 0x3fff, std::array::from_fn::<u8, 6, _>(|_| r.u8(..))));
    node[0] |= 0x01;
    uuid::Builder::from_gregorian_timestamp(ticks, counter, &node).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_stay_in_bounds() {
        for _ in 0..1000 {
            let v = range(3, 5);
            assert!((3..=5).contains(&v));
        }
        assert_eq!(choice::<u8>(&[]), None);
        assert_eq!(weighted(&[("a", 0), ("b", 5)]), Some(&"b"));
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        let t = uuid_v1();
        assert_eq!(&t[14..15], "1");
        assert_ne!(t, uuid_v1());
    }

    #[test]
    fn each_user_draws_its_own_sequence_whatever_runs_between() {
        let draws = |rng: &mut UserRng, n: usize| rng.scope(|| (0..n).map(|_| range(0, 1 << 40)).collect::<Vec<_>>());
        let (mut a, mut b) = (UserRng::for_user(1), UserRng::for_user(2));
        // Interleaved: a, b, a.
        let mut seq_a = draws(&mut a, 3);
        let seq_b = draws(&mut b, 2);
        seq_a.extend(draws(&mut a, 2));
        // Alone, from the start again: the same numbers.
        assert_eq!(seq_a, draws(&mut UserRng::for_user(1), 5));
        assert_eq!(seq_b, draws(&mut UserRng::for_user(2), 2));
        assert_ne!(seq_a[..2], seq_b[..], "users differ");
    }
}
