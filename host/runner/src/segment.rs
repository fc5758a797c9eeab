//! Segments: one shard's part of a run spread over several processes
//! (`--segment I/N`). The shards run one plan; each takes its share of every
//! scenario so that together they run exactly the unsegmented plan.
//!
//! Things that come one by one — users of a closed pool, iterations of a
//! shared budget, arrivals of an open model — are dealt out in turn, like
//! cards: the `k`-th of them (counting from 0) goes to shard
//! `(k + salt) mod N`, the salt being the scenario's index so that the
//! shards do not all take the first user of every scenario. Whatever the
//! total, the shares sum to it exactly, no two differ by more than one, and a
//! shard's share never falls while the total rises: a ramp moves each shard's
//! users one way, as the whole run's move.

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (0-based, as an Indexed Job numbers its pods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    pub index: u32,
    pub count: u32,
}

/// The most shards a run may be split into.
pub const MAX_SHARDS: u32 = 10_000;

impl Default for Segment {
    fn default() -> Self {
        Segment::WHOLE
    }
}

impl Segment {
    /// The whole run, in one process.
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    pub fn new(index: u32, count: u32) -> Result<Segment, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{count} shards: a run is split into 1 to {MAX_SHARDS}"));
        }
        if index >= count {
            return Err(format!("shard {index} of {count}: shards are numbered 0 to {}", count - 1));
        }
        Ok(Segment { index, count })
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// The first of the things this shard takes (0-based), for this salt.
    pub fn first(&self, salt: u64) -> u64 {
        let n = self.count as u64;
        (self.index as u64 + n - salt % n) % n
    }

    /// This shard's share of `total` things dealt out in turn.
    pub fn share(&self, total: u64, salt: u64) -> u64 {
        let r = self.first(salt);
        if total > r {
            (total - r - 1) / self.count as u64 + 1
        } else {
            0
        }
    }

    /// A shared budget of `iterations` run by `users` users: this shard's part,
    /// dealt out only among the shards that have users (a shard without users
    /// could not run its iterations).
    pub fn shared_iterations(&self, users: u64, iterations: u64, salt: u64) -> u64 {
        let mine = self.share(users, salt);
        if mine == 0 {
            return 0;
        }
        // The shards with users are those whose first user is among the first
        // `with_users` users; this one is number `first` among them.
        let with_users = users.min(self.count as u64);
        let r = self.first(salt);
        if iterations > r {
            (iterations - r - 1) / with_users + 1
        } else {
            0
        }
    }

    /// A seed of its own for this shard (the whole run keeps the seed as given),
    /// so that a seeded distributed run is reproducible shard by shard.
    pub fn seed(&self, seed: u64) -> u64 {
        if self.is_whole() {
            seed
        } else {
            seed ^ (self.index as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)
        }
    }

    /// A user id unique across the shards: this shard's `local`-th user (from 1).
    pub fn user_id(&self, local: u64) -> u64 {
        (local - 1) * self.count as u64 + self.index as u64 + 1
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Segment {
    type Err = String;

    /// `I/N`: shard I (from 0) of N.
    fn from_str(s: &str) -> Result<Segment, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("'{s}' is not a segment: write I/N, shard I (from 0) of N, e.g. 0/4"))?;
        let num = |x: &str, what: &str| x.trim().parse::<u32>().map_err(|_| format!("'{s}': {what} '{}' is not a whole number", x.trim()));
        Segment::new(num(i, "the shard")?, num(n, "the number of shards")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_refuses_with_reasons() {
        assert_eq!("2/4".parse::<Segment>().unwrap(), Segment { index: 2, count: 4 });
        assert_eq!(" 0 / 1 ".parse::<Segment>().unwrap(), Segment::WHOLE);
        for (bad, why) in [("4/4", "numbered 0 to 3"), ("1/0", "1 to"), ("a/4", "not a whole number"), ("3", "write I/N"), ("-1/2", "not a whole")] {
            let e = bad.parse::<Segment>().unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert_eq!(Segment::new(3, 8).unwrap().to_string(), "3/8");
    }

    #[test]
    fn every_split_up_to_64_shards_and_1000_things_sums_exactly() {
        for n in 1..=64u32 {
            for salt in [0u64, 1, 5, 63] {
                let shards: Vec<Segment> = (0..n).map(|i| Segment::new(i, n).unwrap()).collect();
                let mut before = vec![0u64; n as usize];
                for total in 0..=1000u64 {
                    let shares: Vec<u64> = shards.iter().map(|s| s.share(total, salt)).collect();
                    assert_eq!(shares.iter().sum::<u64>(), total, "n {n} salt {salt} total {total}");
                    let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
                    assert!(hi - lo <= 1, "even: {shares:?}");
                    for (b, s) in before.iter().zip(&shares) {
                        assert!(s >= b && s - b <= 1, "a shard's share only rises, by one at a time");
                    }
                    before = shares;
                }
            }
        }
    }

    #[test]
    fn ids_are_unique_across_shards() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..7 {
            let s = Segment::new(i, 7).unwrap();
            for local in 1..=100 {
                assert!(seen.insert(s.user_id(local)));
            }
        }
        assert_eq!(seen.len(), 700);
        assert_eq!(*seen.iter().min().unwrap(), 1);
        assert_eq!(Segment::WHOLE.user_id(5), 5, "unsegmented ids are as before");
    }

    proptest! {
        #[test]
        fn shared_iterations_sum_exactly_and_only_to_shards_with_users(n in 1u32..=64, users in 0u64..200, iterations in 0u64..5000, salt in 0u64..10) {
            let shards: Vec<Segment> = (0..n).map(|i| Segment::new(i, n).unwrap()).collect();
            let parts: Vec<u64> = shards.iter().map(|s| s.shared_iterations(users, iterations, salt)).collect();
            if users > 0 {
                prop_assert_eq!(parts.iter().sum::<u64>(), iterations);
            }
            for (s, p) in shards.iter().zip(&parts) {
                if s.share(users, salt) == 0 {
                    prop_assert_eq!(*p, 0);
                }
            }
        }

        #[test]
        fn shares_sum_for_any_size(n in 1u32..=MAX_SHARDS, total in 0u64..10_000_000, salt in any::<u64>()) {
            let sum: u64 = (0..n).map(|i| Segment::new(i, n).unwrap().share(total, salt)).sum();
            prop_assert_eq!(sum, total);
        }
    }
}
