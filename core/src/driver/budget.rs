//! The node-wide memory budget: what all connections together may hold in buffers.
//!
//! Each session task keeps a [`BudgetShare`] and reports after every pass the bytes its
//! driver holds ([`SessionDriver::held_bytes`](super::SessionDriver::held_bytes): read and
//! write buffers, queued and held sends). While the total is over the budget, a session holding
//! more than its fair part (the budget divided by the sessions) stops reading its peer until
//! the total is back under: the peers that cost the most are slowed down by TCP, the others
//! go on. Counters only (atomics), no lock; nothing here touches a clock or a socket.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Default budget of a node: the sum of every connection's buffers (48 MiB).
pub const DEFAULT_MEMORY_BUDGET: usize = 48 * 1024 * 1024;

#[derive(Debug)]
struct Totals {
    limit: usize,
    used: AtomicUsize,
    sessions: AtomicUsize,
}

/// A memory budget shared by the sessions of one node; cheap to clone.
#[derive(Clone, Debug)]
pub struct MemoryBudget(Arc<Totals>);

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self(Arc::new(Totals {
            limit,
            used: AtomicUsize::new(0),
            sessions: AtomicUsize::new(0),
        }))
    }

    /// The budget in bytes.
    pub fn limit(&self) -> usize {
        self.0.limit
    }

    /// Bytes all sessions hold now, as last reported.
    pub fn used(&self) -> usize {
        self.0.used.load(Ordering::Relaxed)
    }

    /// Sessions holding a share now.
    pub fn sessions(&self) -> usize {
        self.0.sessions.load(Ordering::Relaxed)
    }

    /// A share for a new session (released when dropped).
    pub fn share(&self) -> BudgetShare {
        self.0.sessions.fetch_add(1, Ordering::Relaxed);
        BudgetShare {
            budget: self.clone(),
            held: 0,
        }
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        Self::new(DEFAULT_MEMORY_BUDGET)
    }
}

/// One session's part of a [`MemoryBudget`].
#[derive(Debug)]
pub struct BudgetShare {
    budget: MemoryBudget,
    held: usize,
}

impl BudgetShare {
    /// Reports the bytes this session holds now; returns whether it must stop reading (the
    /// budget is exceeded and this session holds more than its fair part of it).
    #[must_use]
    pub fn report(&mut self, held: usize) -> bool {
        let totals = &self.budget.0;
        if held >= self.held {
            totals.used.fetch_add(held - self.held, Ordering::Relaxed);
        } else {
            totals.used.fetch_sub(self.held - held, Ordering::Relaxed);
        }
        self.held = held;
        let used = totals.used.load(Ordering::Relaxed);
        let fair = totals.limit / totals.sessions.load(Ordering::Relaxed).max(1);
        used > totals.limit && held > fair
    }
}

impl Drop for BudgetShare {
    fn drop(&mut self) {
        let totals = &self.budget.0;
        totals.used.fetch_sub(self.held, Ordering::Relaxed);
        totals.sessions.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_the_budget_nobody_is_held_back() {
        let budget = MemoryBudget::new(1000);
        let mut a = budget.share();
        let mut b = budget.share();
        assert!(!a.report(900));
        assert!(!b.report(100));
        assert_eq!(budget.used(), 1000);
    }

    #[test]
    fn over_the_budget_only_the_sessions_above_their_part_stop() {
        let budget = MemoryBudget::new(1000);
        let mut big = budget.share();
        let mut small = budget.share();
        assert!(!small.report(100));
        // 1,100 > 1,000: the one holding more than 500 stops, the small one goes on.
        assert!(big.report(1000));
        assert!(!small.report(100));
        // The big one consumed its frame: everyone reads again.
        assert!(!big.report(10));
        assert_eq!(budget.used(), 110);
    }

    #[test]
    fn a_share_gives_its_bytes_back_when_dropped() {
        let budget = MemoryBudget::new(1000);
        let mut a = budget.share();
        let _ = a.report(700);
        drop(a);
        assert_eq!((budget.used(), budget.sessions()), (0, 0));
    }
}
