//! The memory of one store, guest and host together: what the guest's linear
//! memories take, and what its calls made the host hold for it (baggage,
//! span text, and the cookies servers gave its users). Both count against the same cap (`--max-user-memory` for a
//! user's own instance, `--max-instance-memory` for a shared one), so a
//! plugin cannot make the process hold more than its cap by handing state to
//! the host instead of keeping it.

use std::sync::atomic::{AtomicUsize, Ordering};

/// A store's memory account.
#[derive(Debug)]
pub struct Ledger {
    max: usize,
    option: &'static str,
    guest: AtomicUsize,
    host: AtomicUsize,
}

/// Memory past a store's cap: the guest's growth, or state handed to the host.
#[derive(Debug)]
pub struct MemoryLimit {
    pub max: usize,
    pub option: &'static str,
    /// What the host held for the guest then.
    pub host: usize,
}

impl std::fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let max = crate::user::bytes_text(self.max as u64);
        if self.host == 0 {
            write!(f, "memory limit exceeded: the guest's memory would pass {max} ({})", self.option)
        } else {
            let host = crate::user::bytes_text(self.host as u64);
            write!(f, "memory limit exceeded: the guest's memory and the {host} it made the host hold would pass {max} ({})", self.option)
        }
    }
}
impl std::error::Error for MemoryLimit {}

impl Ledger {
    pub fn new(max: usize, option: &'static str) -> Ledger {
        Ledger { max, option, guest: AtomicUsize::new(0), host: AtomicUsize::new(0) }
    }

    /// A ledger with no cap, for host state outside any store (tests, describe).
    pub fn unbounded() -> Ledger {
        Ledger::new(usize::MAX, "no limit")
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// The error of a growth or charge past the cap.
    pub fn exceeded(&self) -> MemoryLimit {
        MemoryLimit { max: self.max, option: self.option, host: self.host.load(Ordering::Relaxed) }
    }

    /// A guest memory grows from `current` to `desired` bytes: taken if the
    /// store stays within its cap.
    pub fn grow(&self, current: usize, desired: usize) -> Result<(), MemoryLimit> {
        let more = desired.saturating_sub(current);
        let guest = self.guest.load(Ordering::Relaxed).saturating_add(more);
        if guest.saturating_add(self.host.load(Ordering::Relaxed)) > self.max {
            return Err(self.exceeded());
        }
        self.guest.store(guest, Ordering::Relaxed);
        Ok(())
    }

    /// The host takes `bytes` more for the guest; refused past the cap.
    pub fn charge(&self, bytes: usize) -> Result<(), MemoryLimit> {
        let host = self.host.fetch_add(bytes, Ordering::Relaxed).saturating_add(bytes);
        if host.saturating_add(self.guest.load(Ordering::Relaxed)) > self.max {
            self.host.fetch_sub(bytes, Ordering::Relaxed);
            return Err(self.exceeded());
        }
        Ok(())
    }

    /// The host let go of `bytes` it held for the guest.
    pub fn release(&self, bytes: usize) {
        let _ = self.host.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |h| Some(h.saturating_sub(bytes)));
    }

    /// (guest, host) bytes now.
    pub fn usage(&self) -> (usize, usize) {
        (self.guest.load(Ordering::Relaxed), self.host.load(Ordering::Relaxed))
    }
}

/// A user's cookies take their bytes from its store's account: past the cap
/// a new cookie is refused (and counted), and the run goes on.
impl wasp_http::Allowance for Ledger {
    fn take(&self, bytes: usize) -> bool {
        self.charge(bytes).is_ok()
    }

    fn give(&self, bytes: usize) {
        self.release(bytes)
    }

    fn setting(&self) -> &str {
        self.option
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_and_host_share_one_cap() {
        let l = Ledger::new(1 << 20, "--max-user-memory");
        l.grow(0, 768 << 10).unwrap();
        l.charge(200 << 10).unwrap();
        // 768 + 200 KiB taken: 64 KiB more of either passes 1 MiB.
        let e = l.grow(768 << 10, 832 << 10).unwrap_err();
        assert_eq!(e.to_string(), "memory limit exceeded: the guest's memory and the 200 KiB it made the host hold would pass 1 MiB (--max-user-memory)");
        assert!(l.charge(64 << 10).is_err());
        assert_eq!(l.usage(), (768 << 10, 200 << 10), "a refused charge or growth takes nothing");
        l.release(200 << 10);
        l.grow(768 << 10, 832 << 10).unwrap();
        l.charge(64 << 10).unwrap();
        l.release(1 << 30);
        assert_eq!(l.usage(), (832 << 10, 0), "releasing more than held leaves nothing, never wraps");
        let e = Ledger::new(64 << 10, "--max-instance-memory").grow(0, 128 << 10).unwrap_err();
        assert_eq!(e.to_string(), "memory limit exceeded: the guest's memory would pass 64 KiB (--max-instance-memory)");
    }
}
