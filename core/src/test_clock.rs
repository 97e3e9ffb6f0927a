//! The origin of virtual time for unit tests, compiled only in test builds. It is the one
//! place in core that reads the clock, because `Instant` has no other constructor; tests then
//! move time forward by adding durations. Production code never calls it.

use std::time::Instant;

/// A base instant for a test's virtual time.
#[allow(clippy::disallowed_methods)]
pub(crate) fn t0() -> Instant {
    Instant::now()
}
