//! Dial cool-down after failures, graded by severity (reth's low/medium/high model): the base
//! delay of the failure's kind is multiplied by the number of consecutive failures and capped.

use std::time::Duration;

use crate::p2p::DisconnectReason;

/// How bad a failure was, which sets the base of the cool-down before the next dial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BackoffKind {
    /// The peer is fine but busy or leaving (too many peers, client quitting).
    Low,
    /// The peer is unreachable or slow: connection refused, timeouts, network errors.
    Medium,
    /// The peer misbehaved or cannot talk to us: protocol breach, wrong identity, useless.
    High,
}

impl BackoffKind {
    /// The severity of a session that ended with `reason`, whichever side sent it.
    pub fn for_disconnect(reason: DisconnectReason) -> Self {
        use DisconnectReason::*;
        match reason {
            Requested | TooManyPeers | AlreadyConnected | ClientQuitting => BackoffKind::Low,
            NetworkError | ReadTimeout => BackoffKind::Medium,
            ProtocolError | UselessPeer | IncompatibleVersion | InvalidIdentity
            | UnexpectedIdentity | SelfConnection | SubprotocolError => BackoffKind::High,
            _ => BackoffKind::Medium,
        }
    }
}

/// Why a dial failed, as reported by the host through
/// [`PeerManager::on_dial_failed`](super::PeerManager::on_dial_failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialFailure {
    /// The TCP connection could not be opened (refused, unreachable, reset).
    Connect,
    /// No answer within the dial or handshake timeout.
    Timeout,
    /// The RLPx handshake or the Hello exchange failed (bad crypto, malformed messages,
    /// incompatible version).
    Handshake,
    /// The remote sent Disconnect before the session was admitted.
    Disconnected(DisconnectReason),
}

impl DialFailure {
    /// The severity of this failure: the one place failures map to cool-downs.
    pub fn backoff_kind(self) -> BackoffKind {
        match self {
            DialFailure::Connect | DialFailure::Timeout => BackoffKind::Medium,
            DialFailure::Handshake => BackoffKind::High,
            DialFailure::Disconnected(reason) => BackoffKind::for_disconnect(reason),
        }
    }
}

/// Base cool-down of a low-severity failure (reth's default).
pub const LOW_BACKOFF: Duration = Duration::from_secs(30);
/// Base cool-down of a medium-severity failure (reth's default).
pub const MEDIUM_BACKOFF: Duration = Duration::from_secs(3 * 60);
/// Base cool-down of a high-severity failure (reth's default).
pub const HIGH_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Longest cool-down of a discovered peer.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);
/// Longest cool-down of a static peer: the operator asked for it, so it is retried sooner.
pub const MAX_STATIC_BACKOFF: Duration = Duration::from_secs(5 * 60);
/// Consecutive failures after which a discovered peer is forgotten (reth's default).
pub const MAX_DIAL_FAILURES: u32 = 5;

/// Cool-down parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackoffConfig {
    /// Base delay of a [`BackoffKind::Low`] failure.
    pub low: Duration,
    /// Base delay of a [`BackoffKind::Medium`] failure.
    pub medium: Duration,
    /// Base delay of a [`BackoffKind::High`] failure.
    pub high: Duration,
    /// Cap on the delay of a discovered peer; also how long a forgotten peer stays ignored.
    pub max: Duration,
    /// Cap on the delay of a static peer.
    pub max_static: Duration,
    /// Consecutive failures after which a discovered (non-static) peer is forgotten.
    pub max_failures: u32,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            low: LOW_BACKOFF,
            medium: MEDIUM_BACKOFF,
            high: HIGH_BACKOFF,
            max: MAX_BACKOFF,
            max_static: MAX_STATIC_BACKOFF,
            max_failures: MAX_DIAL_FAILURES,
        }
    }
}

impl BackoffConfig {
    /// The base delay of `kind`.
    pub fn base(&self, kind: BackoffKind) -> Duration {
        match kind {
            BackoffKind::Low => self.low,
            BackoffKind::Medium => self.medium,
            BackoffKind::High => self.high,
        }
    }

    /// The delay after the `failures`-th consecutive failure of `kind` (at least one), capped.
    pub fn delay(&self, kind: BackoffKind, failures: u32, is_static: bool) -> Duration {
        let cap = if is_static { self.max_static } else { self.max };
        self.base(kind).saturating_mul(failures.max(1)).min(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_with_consecutive_failures_and_is_capped() {
        let cfg = BackoffConfig::default();
        assert_eq!(cfg.delay(BackoffKind::Low, 1, false), LOW_BACKOFF);
        assert_eq!(cfg.delay(BackoffKind::Low, 3, false), LOW_BACKOFF * 3);
        assert_eq!(cfg.delay(BackoffKind::Medium, 2, false), MEDIUM_BACKOFF * 2);
        assert_eq!(cfg.delay(BackoffKind::High, 5, false), MAX_BACKOFF);
        assert_eq!(cfg.delay(BackoffKind::High, u32::MAX, false), MAX_BACKOFF);
        assert_eq!(cfg.delay(BackoffKind::Medium, 0, false), MEDIUM_BACKOFF);
    }

    #[test]
    fn static_peers_have_a_shorter_cap() {
        let cfg = BackoffConfig::default();
        assert_eq!(cfg.delay(BackoffKind::High, 1, true), MAX_STATIC_BACKOFF);
        assert_eq!(cfg.delay(BackoffKind::Low, 2, true), LOW_BACKOFF * 2);
    }

    #[test]
    fn severity_follows_the_failure() {
        assert_eq!(DialFailure::Connect.backoff_kind(), BackoffKind::Medium);
        assert_eq!(DialFailure::Timeout.backoff_kind(), BackoffKind::Medium);
        assert_eq!(DialFailure::Handshake.backoff_kind(), BackoffKind::High);
        assert_eq!(
            DialFailure::Disconnected(DisconnectReason::TooManyPeers).backoff_kind(),
            BackoffKind::Low
        );
        assert_eq!(
            BackoffKind::for_disconnect(DisconnectReason::UselessPeer),
            BackoffKind::High
        );
        assert_eq!(
            BackoffKind::for_disconnect(DisconnectReason::Unknown(0x42)),
            BackoffKind::Medium
        );
    }
}
