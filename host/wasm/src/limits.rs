//! The process limits that bound how many users fit in one wasp process,
//! and what wasp says when a run asks for more.
//!
//! Memory mappings are the first wall. Linux caps a process at
//! `vm.max_map_count` of them (65,530 by default). The instance pool takes 2
//! per user slot up front: a fiber stack and its guard page. Each running user
//! takes 2 more, where its memory is cut out of the pool's reserved space, and
//! 4 with a copy-on-write memory image. If the pool were sized past the limit,
//! a thread or a `malloc` would find no mapping left, and the process would
//! abort. So the pool is sized to what fits. The users past it are not
//! started, each with the same error naming the limit and how to raise it, and
//! the run goes on with the others.

use std::sync::OnceLock;

/// Mappings the instance pool takes per user slot: a fiber stack and its guard page.
pub const POOL_MAPS_PER_SLOT: u64 = 2;
/// Mappings a running user adds, with its memory copied or mapped copy-on-write.
pub const USER_MAPS_COPIED: u64 = 2;
pub const USER_MAPS_COW: u64 = 4;
/// Mappings kept free for the rest of the process: threads (a stack and a
/// guard each), the allocator's arenas, libraries, the plugin's code.
pub const RESERVED_MAPS: u64 = 2048;

/// Where the mapping limit came from, and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapLimit {
    pub value: u64,
    /// `WASP_MAX_MAP_COUNT` (a lower budget than the kernel's, e.g. to
    /// rehearse a smaller machine), else the kernel's `vm.max_map_count`.
    pub from_env: bool,
}

impl MapLimit {
    /// `WASP_MAX_MAP_COUNT` when set (a whole number from 1 to the kernel's
    /// limit; more than the kernel's is the kernel's), else
    /// `/proc/sys/vm/max_map_count`; `None` where neither says (not Linux).
    /// A value that is not such a number is refused with the reason.
    pub fn read() -> Result<Option<MapLimit>, String> {
        let kernel = std::fs::read_to_string("/proc/sys/vm/max_map_count").ok().and_then(|v| v.trim().parse().ok());
        let set = std::env::var_os("WASP_MAX_MAP_COUNT").map(|v| v.to_string_lossy().into_owned());
        MapLimit::choose(set.as_deref(), kernel)
    }

    /// The limit from `WASP_MAX_MAP_COUNT`'s value (if set) and the kernel's.
    fn choose(set: Option<&str>, kernel: Option<u64>) -> Result<Option<MapLimit>, String> {
        let Some(set) = set else {
            return Ok(kernel.map(|value| MapLimit { value, from_env: false }));
        };
        let value: u64 = set
            .trim()
            .parse()
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| format!("WASP_MAX_MAP_COUNT={}: not a whole number of memory mappings above zero", wasp_runner::text::printable(set, 64)))?;
        Ok(Some(match kernel {
            Some(k) if k <= value => MapLimit { value: k, from_env: false },
            _ => MapLimit { value, from_env: true },
        }))
    }

    pub fn name(&self) -> &'static str {
        if self.from_env {
            "WASP_MAX_MAP_COUNT"
        } else {
            "vm.max_map_count"
        }
    }

    /// How to get more room.
    fn remedy(&self) -> &'static str {
        if self.from_env {
            "raise or unset WASP_MAX_MAP_COUNT, or split the run over processes (--segment I/N)"
        } else {
            "raise it (`sysctl -w vm.max_map_count=262144`, as root) or split the run over processes (--segment I/N)"
        }
    }
}

/// The mappings this process has now: the lines of `/proc/self/maps`.
pub fn maps_in_use() -> Option<u64> {
    let maps = std::fs::read("/proc/self/maps").ok()?;
    Some(maps.iter().filter(|&&b| b == b'\n').count() as u64)
}

/// The pool's size when the mappings cap it below what the run asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capped {
    /// Instances the run asked the pool for (one per user, or room for the
    /// shared instances of its users), and those that fit.
    pub asked: u32,
    pub fits: u32,
    /// Mappings one instance costs.
    pub per_user: u64,
    pub limit: MapLimit,
    /// Users per instance: 1, or K for users sharing instances.
    pub per_instance: u32,
}

impl Capped {
    /// The warning at the start of the run.
    pub fn warning(&self) -> String {
        let (name, value, remedy) = (self.limit.name(), self.limit.value, self.limit.remedy());
        if self.per_instance > 1 {
            return format!(
                "{name} is {value}: one process holds about {} instances of this plugin ({} memory mappings each, up to {} users each), \
                 fewer than the {} the run's users may need; users that find no room are not started (an error each); {remedy}",
                self.fits, self.per_user, self.per_instance, self.asked
            );
        }
        format!(
            "{name} is {value}: one process holds about {} users of this plugin ({} memory mappings each), fewer than the {} asked; \
             the users past {} are not started (an error each); {remedy}",
            self.fits, self.per_user, self.asked, self.fits
        )
    }

    /// The error of each user that is not started.
    pub fn user_error(&self) -> String {
        let (name, value, remedy) = (self.limit.name(), self.limit.value, self.limit.remedy());
        if self.per_instance > 1 {
            return format!("not started: {name} = {value} fits {} instances ({} users each) in one process; {remedy}", self.fits, self.per_instance);
        }
        format!("not started: {name} = {value} fits {} users in one process; {remedy}", self.fits)
    }
}

/// How many instances (of `per_instance` users each) fit under `limit` with
/// `in_use` mappings taken already; `Some` when that is fewer than `asked`.
pub fn cap(asked: u32, cow: bool, limit: MapLimit, in_use: u64, per_instance: u32) -> Option<Capped> {
    let fits = users_that_fit(cow, limit, in_use).min(u32::MAX as u64) as u32;
    (fits < asked).then_some(Capped { asked, fits, per_user: maps_per_user(cow), limit, per_instance })
}

/// Mappings one user costs, pool slot included.
pub fn maps_per_user(cow: bool) -> u64 {
    POOL_MAPS_PER_SLOT + if cow { USER_MAPS_COW } else { USER_MAPS_COPIED }
}

/// How many users fit under `limit` with `in_use` mappings taken already.
pub fn users_that_fit(cow: bool, limit: MapLimit, in_use: u64) -> u64 {
    limit.value.saturating_sub(in_use).saturating_sub(RESERVED_MAPS) / maps_per_user(cow)
}

static CAPPED: OnceLock<Capped> = OnceLock::new();

/// Remembers the cap of this process's pool (the first one set stays).
pub fn set_capped(c: Capped) {
    let _ = CAPPED.set(c);
}

/// The cap of this process's pool, if the mappings set one.
pub fn capped() -> Option<&'static Capped> {
    CAPPED.get()
}

/// The one line a user gets when its instance cannot be made: the mapping
/// limit's message when the pool was capped to it and is full, else the cause.
pub(crate) fn instantiate_error(e: &wasmtime::Error) -> String {
    match capped() {
        Some(c) if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>().is_some() => c.user_error(),
        _ => format!("instantiating the plugin: {}", crate::error::root(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KERNEL: MapLimit = MapLimit { value: 65_530, from_env: false };

    #[test]
    fn the_pool_is_capped_where_the_mappings_run_out() {
        // 65,530 - 130 in use - 2,048 kept = 63,352 for users: 15,838 at 4
        // mappings (copied memories), 10,558 at 6 (copy-on-write images).
        assert_eq!(cap(30_000, false, KERNEL, 130, 1).map(|c| c.fits), Some(15_838));
        assert_eq!(cap(30_000, true, KERNEL, 130, 1).map(|c| c.fits), Some(10_558));
        assert_eq!(cap(10_000, false, KERNEL, 130, 1), None, "10,000 users fit");
        assert_eq!(cap(1, false, MapLimit { value: 100, from_env: true }, 130, 1).map(|c| c.fits), Some(0), "nothing fits");
    }

    #[test]
    fn the_messages_name_the_limit_and_the_remedy() {
        let c = cap(30_000, false, KERNEL, 130, 1).unwrap();
        let w = c.warning();
        assert!(w.starts_with("vm.max_map_count is 65530: one process holds about 15838 users"), "{w}");
        assert!(w.contains("sysctl -w vm.max_map_count="), "{w}");
        let e = cap(500, false, MapLimit { value: 3000, from_env: true }, 100, 1).unwrap().user_error();
        assert!(e.starts_with("not started: WASP_MAX_MAP_COUNT = 3000 fits 213 users"), "{e}");
        // Users sharing instances: the pool counts instances, and says so.
        let shared = cap(500, false, MapLimit { value: 3000, from_env: true }, 100, 64).unwrap();
        assert!(shared.warning().contains("about 213 instances of this plugin (4 memory mappings each, up to 64 users each)"), "{}", shared.warning());
        assert!(shared.user_error().starts_with("not started: WASP_MAX_MAP_COUNT = 3000 fits 213 instances (64 users each)"), "{}", shared.user_error());
    }

    #[test]
    fn the_variable_lowers_the_kernels_limit_and_absurd_values_are_refused() {
        assert_eq!(MapLimit::choose(None, Some(65_530)), Ok(Some(KERNEL)));
        assert_eq!(MapLimit::choose(Some("3000"), Some(65_530)), Ok(Some(MapLimit { value: 3000, from_env: true })));
        assert_eq!(MapLimit::choose(Some("99999999"), Some(65_530)), Ok(Some(KERNEL)), "never above the kernel's");
        assert_eq!(MapLimit::choose(Some("3000"), None), Ok(Some(MapLimit { value: 3000, from_env: true })));
        assert_eq!(MapLimit::choose(None, None), Ok(None));
        for bad in ["", "0", "-1", "lots", "1e9", "18446744073709551616", "3000\u{0}"] {
            let e = MapLimit::choose(Some(bad), Some(65_530)).unwrap_err();
            assert!(e.starts_with("WASP_MAX_MAP_COUNT=") && e.ends_with("not a whole number of memory mappings above zero"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn this_process_has_mappings() {
        if cfg!(target_os = "linux") {
            assert!(maps_in_use().unwrap() > 10);
            assert!(MapLimit::read().unwrap().unwrap().value > 0);
        }
    }
}
