//! What a listener does after `accept` fails: pause accepting with a short exponential
//! backoff (so running out of file descriptors does not turn the accept loop into a busy
//! loop), and log each kind of failure rarely. Pure: the runtimes pass the time in, sleep
//! until [`AcceptPause::until`] without blocking anything else, and report each success with
//! [`AcceptBackoff::on_accepted`].

use std::io;
use std::time::{Duration, Instant};

/// The first pause after an accept succeeded.
pub const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// The longest pause: failures in a row double the pause up to this.
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How often at most each [`AcceptErrorKind`] is logged while it keeps happening.
pub const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// A failed `accept`, by class (a bounded label set for metrics and log deduplication).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AcceptErrorKind {
    /// The process or the system ran out of file descriptors (`EMFILE`, `ENFILE`).
    FdLimit,
    /// The kernel ran out of memory or buffers (`ENOMEM`, `ENOBUFS`).
    OutOfMemory,
    /// The connection was aborted before we accepted it (`ECONNABORTED`).
    Aborted,
    /// Anything else.
    Other,
}

/// `ENFILE` and `EMFILE`: the same numbers on Linux, the BSDs and macOS.
const ENFILE: i32 = 23;
const EMFILE: i32 = 24;
/// `ENOBUFS` on Linux.
#[cfg(any(target_os = "linux", target_os = "android"))]
const ENOBUFS: i32 = 105;
/// `ENOBUFS` on the BSDs and macOS.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const ENOBUFS: i32 = 55;

impl AcceptErrorKind {
    const ALL: [AcceptErrorKind; 4] = [
        AcceptErrorKind::FdLimit,
        AcceptErrorKind::OutOfMemory,
        AcceptErrorKind::Aborted,
        AcceptErrorKind::Other,
    ];

    /// The class of an `accept` error.
    pub fn of(error: &io::Error) -> Self {
        match error.raw_os_error() {
            Some(ENFILE | EMFILE) => return AcceptErrorKind::FdLimit,
            Some(ENOBUFS) if cfg!(unix) => return AcceptErrorKind::OutOfMemory,
            _ => {}
        }
        match error.kind() {
            io::ErrorKind::OutOfMemory => AcceptErrorKind::OutOfMemory,
            io::ErrorKind::ConnectionAborted => AcceptErrorKind::Aborted,
            _ => AcceptErrorKind::Other,
        }
    }

    /// The metric label: `"fd_limit"`, `"out_of_memory"`, `"aborted"` or `"other"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AcceptErrorKind::FdLimit => "fd_limit",
            AcceptErrorKind::OutOfMemory => "out_of_memory",
            AcceptErrorKind::Aborted => "aborted",
            AcceptErrorKind::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What to do after a failed `accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptPause {
    /// The failure's class.
    pub kind: AcceptErrorKind,
    /// Do not call `accept` again before this (keep serving everything else meanwhile).
    pub until: Instant,
    /// How long the pause is.
    pub delay: Duration,
    /// `Some(n)`: log this failure now; `n` failures of this kind happened since the last
    /// line about it (this one included). `None`: stay quiet, it was logged recently.
    pub log: Option<u64>,
}

/// Per-kind log state.
#[derive(Clone, Copy, Debug, Default)]
struct LogSlot {
    last: Option<Instant>,
    unlogged: u64,
}

/// The accept backoff of one listener: failures in a row pause accepting for
/// [`ACCEPT_BACKOFF_MIN`], then twice as long each time up to [`ACCEPT_BACKOFF_MAX`]; a
/// success starts over. Each kind of failure is logged at most once per
/// [`ACCEPT_LOG_INTERVAL`] (successes in between do not reset that, so a listener that
/// alternates between success and failure does not flood the log either).
#[derive(Clone, Debug)]
pub struct AcceptBackoff {
    min: Duration,
    max: Duration,
    delay: Option<Duration>,
    until: Option<Instant>,
    logs: [LogSlot; AcceptErrorKind::ALL.len()],
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        Self::new(ACCEPT_BACKOFF_MIN, ACCEPT_BACKOFF_MAX)
    }
}

impl AcceptBackoff {
    /// A backoff from `min` doubling up to `max` (`max` is raised to `min` if smaller).
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            delay: None,
            until: None,
            logs: [LogSlot::default(); AcceptErrorKind::ALL.len()],
        }
    }

    /// `accept` failed at `now` with `error`: how long to pause, and whether to log it.
    pub fn on_error(&mut self, now: Instant, error: &io::Error) -> AcceptPause {
        self.on_error_kind(now, AcceptErrorKind::of(error))
    }

    /// As [`on_error`](Self::on_error), with the failure already classified.
    pub fn on_error_kind(&mut self, now: Instant, kind: AcceptErrorKind) -> AcceptPause {
        let delay = match self.delay {
            None => self.min,
            Some(d) => d.saturating_mul(2).min(self.max),
        };
        self.delay = Some(delay);
        let until = now + delay;
        self.until = Some(until);
        // Every kind has its slot (`logs` is sized by `AcceptErrorKind::ALL`).
        let log = self.logs.get_mut(kind.index()).and_then(|slot| {
            slot.unlogged += 1;
            let due = slot
                .last
                .is_none_or(|t| now.saturating_duration_since(t) >= ACCEPT_LOG_INTERVAL);
            due.then(|| {
                slot.last = Some(now);
                std::mem::take(&mut slot.unlogged)
            })
        });
        AcceptPause {
            kind,
            until,
            delay,
            log,
        }
    }

    /// `accept` succeeded: the next failure pauses for the minimum again.
    pub fn on_accepted(&mut self) {
        self.delay = None;
        self.until = None;
    }

    /// Until when accepting is paused at `now`; `None` when `accept` may be called.
    pub fn paused_until(&self, now: Instant) -> Option<Instant> {
        self.until.filter(|&u| u > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_clock::t0;

    fn emfile() -> io::Error {
        io::Error::from_raw_os_error(EMFILE)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn errors_are_classified_into_a_fixed_label_set() {
        assert_eq!(AcceptErrorKind::of(&emfile()), AcceptErrorKind::FdLimit);
        let enfile = io::Error::from_raw_os_error(ENFILE);
        assert_eq!(AcceptErrorKind::of(&enfile), AcceptErrorKind::FdLimit);
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(AcceptErrorKind::of(&aborted), AcceptErrorKind::Aborted);
        let oom = io::Error::from(io::ErrorKind::OutOfMemory);
        assert_eq!(AcceptErrorKind::of(&oom), AcceptErrorKind::OutOfMemory);
        let other = io::Error::other("weird");
        assert_eq!(AcceptErrorKind::of(&other), AcceptErrorKind::Other);
        let labels: Vec<&str> = AcceptErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(labels, ["fd_limit", "out_of_memory", "aborted", "other"]);
    }

    #[test]
    fn failures_in_a_row_double_the_pause_up_to_the_cap() {
        let t0 = t0();
        let mut b = AcceptBackoff::default();
        let mut now = t0;
        let mut delays = Vec::new();
        for _ in 0..10 {
            let p = b.on_error(now, &emfile());
            assert_eq!(p.until, now + p.delay);
            delays.push(p.delay.as_millis());
            now = p.until;
        }
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
    }

    #[test]
    fn a_success_starts_the_backoff_over() {
        let t0 = t0();
        let mut b = AcceptBackoff::default();
        for _ in 0..5 {
            b.on_error(t0, &emfile());
        }
        b.on_accepted();
        assert_eq!(b.paused_until(t0), None);
        assert_eq!(b.on_error(t0, &emfile()).delay, ACCEPT_BACKOFF_MIN);
    }

    #[test]
    fn accepting_is_paused_until_the_pause_ends() {
        let t0 = t0();
        let mut b = AcceptBackoff::new(ms(10), ms(100));
        assert_eq!(b.paused_until(t0), None);
        let p = b.on_error(t0, &emfile());
        assert_eq!(b.paused_until(t0), Some(t0 + ms(10)));
        assert_eq!(b.paused_until(t0 + ms(9)), Some(p.until));
        assert_eq!(b.paused_until(t0 + ms(10)), None);
    }

    #[test]
    fn each_kind_is_logged_once_per_interval_with_the_count_it_stood_for() {
        let t0 = t0();
        let mut b = AcceptBackoff::default();
        assert_eq!(b.on_error(t0, &emfile()).log, Some(1));
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        // Another kind is logged on its own schedule.
        assert_eq!(b.on_error(t0 + ms(1), &aborted).log, Some(1));
        let mut now = t0;
        for _ in 0..4 {
            now += ms(500);
            assert_eq!(b.on_error(now, &emfile()).log, None);
        }
        // A success in between does not make the next failure loud again.
        b.on_accepted();
        assert_eq!(b.on_error(now + ms(1), &emfile()).log, None);
        // Once the interval passed, the next failure is logged with those it stood for.
        let later = t0 + ACCEPT_LOG_INTERVAL;
        assert_eq!(b.on_error(later, &emfile()).log, Some(6));
        assert_eq!(b.on_error(later + ms(1), &emfile()).log, None);
    }

    #[test]
    fn a_max_below_the_min_is_raised_to_it() {
        let t0 = t0();
        let mut b = AcceptBackoff::new(ms(50), ms(5));
        assert_eq!(b.on_error(t0, &emfile()).delay, ms(50));
        assert_eq!(b.on_error(t0, &emfile()).delay, ms(50));
    }
}
