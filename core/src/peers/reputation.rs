//! Peer reputation (reth's model, which go-ethereum lacks): an `i32` score per peer, lowered by
//! reports of bad behaviour with configurable weights, decaying back toward zero while the
//! peer behaves. A score below the ban threshold gets the peer disconnected and banned.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::p2p::DisconnectReason;
use crate::session::FaultClass;
use crate::types::PeerId;

use super::expiring::deadline;

/// One reputation unit; weights and the threshold are multiples of it (reth's scale).
pub const REPUTATION_UNIT: i32 = 1024;
/// Default ban threshold: a score below −50 units bans the peer (DESIGN §6).
pub const BAN_THRESHOLD: i32 = -50 * REPUTATION_UNIT;
/// Default decay period: every minute a score moves toward zero by [`DECAY_PERCENT`].
pub const DECAY_INTERVAL: Duration = Duration::from_secs(60);
/// Default share of the score forgiven per [`DECAY_INTERVAL`] (at least one point).
pub const DECAY_PERCENT: u8 = 10;
/// Default cap on peers with a non-zero score remembered.
pub const MAX_REPUTATION_ENTRIES: usize = 4096;
/// Most decay periods applied at once after a long pause; enough to bring any `i32` score to
/// zero at 10 % per period.
const MAX_DECAY_STEPS: u32 = 256;

/// Something a peer did that changes its reputation; reported by protocols and the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReputationChange {
    /// A malformed or invalid message.
    BadMessage,
    /// Failed cryptography on an established session (a bad header or frame MAC).
    BadCrypto,
    /// A breach of the protocol serious enough to ban at once (e.g. wrong genesis or network
    /// in the eth Status exchange).
    BadProtocol,
    /// A request left unanswered within its timeout.
    Timeout,
    /// Invalid transactions.
    BadTransactions,
    /// An invalid block.
    BadBlock,
    /// An announcement that was not honoured (e.g. announced hashes never delivered).
    BadAnnouncement,
    /// A transaction we already had from this peer.
    AlreadySeenTransaction,
    /// The peer kept exceeding its message-rate budget.
    RateLimited,
    /// A custom change in points (positive rewards, negative penalises).
    Other(i32),
    /// Forget the peer's score.
    Reset,
}

impl ReputationChange {
    /// What a session fault of `class` costs the peer: a protocol breach is a bad message,
    /// bad crypto is [`BadCrypto`](Self::BadCrypto), a timeout is a timeout; nothing for
    /// an incompatible peer or a local failure.
    pub fn for_fault(class: FaultClass) -> Option<Self> {
        match class {
            FaultClass::ProtocolBreach => Some(ReputationChange::BadMessage),
            FaultClass::BadCrypto => Some(ReputationChange::BadCrypto),
            FaultClass::Timeout => Some(ReputationChange::Timeout),
            FaultClass::Incompatible | FaultClass::Local => None,
        }
    }

    /// The reason to send when this change pushes the peer below the ban threshold.
    pub fn disconnect_reason(self) -> DisconnectReason {
        match self {
            ReputationChange::BadMessage
            | ReputationChange::BadCrypto
            | ReputationChange::BadProtocol => DisconnectReason::ProtocolError,
            _ => DisconnectReason::SubprotocolError,
        }
    }
}

/// The points each [`ReputationChange`] costs (negative) or earns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReputationWeights {
    /// [`ReputationChange::BadMessage`]: −16 units (DESIGN §6).
    pub bad_message: i32,
    /// [`ReputationChange::BadCrypto`]: −16 units, as much as a bad message (a correct
    /// peer's MACs always verify; TCP checksums catch the network's errors).
    pub bad_crypto: i32,
    /// [`ReputationChange::BadProtocol`]: `i32::MIN`, an immediate ban.
    pub bad_protocol: i32,
    /// [`ReputationChange::Timeout`]: −4 units (DESIGN §6).
    pub timeout: i32,
    /// [`ReputationChange::BadTransactions`]: −16 units.
    pub bad_transactions: i32,
    /// [`ReputationChange::BadBlock`]: −16 units.
    pub bad_block: i32,
    /// [`ReputationChange::BadAnnouncement`]: −1 unit.
    pub bad_announcement: i32,
    /// [`ReputationChange::AlreadySeenTransaction`]: 0 (races between peers are normal).
    pub already_seen_transaction: i32,
    /// [`ReputationChange::RateLimited`]: −8 units, so a peer that keeps flooding is banned
    /// after a few penalties.
    pub rate_limited: i32,
}

impl Default for ReputationWeights {
    fn default() -> Self {
        Self {
            bad_message: -16 * REPUTATION_UNIT,
            bad_crypto: -16 * REPUTATION_UNIT,
            bad_protocol: i32::MIN,
            timeout: -4 * REPUTATION_UNIT,
            bad_transactions: -16 * REPUTATION_UNIT,
            bad_block: -16 * REPUTATION_UNIT,
            bad_announcement: -REPUTATION_UNIT,
            already_seen_transaction: 0,
            rate_limited: -8 * REPUTATION_UNIT,
        }
    }
}

impl ReputationWeights {
    /// The points of `change`; `Reset` has none (it is handled separately).
    pub fn weight(&self, change: ReputationChange) -> i32 {
        match change {
            ReputationChange::BadMessage => self.bad_message,
            ReputationChange::BadCrypto => self.bad_crypto,
            ReputationChange::BadProtocol => self.bad_protocol,
            ReputationChange::Timeout => self.timeout,
            ReputationChange::BadTransactions => self.bad_transactions,
            ReputationChange::BadBlock => self.bad_block,
            ReputationChange::BadAnnouncement => self.bad_announcement,
            ReputationChange::AlreadySeenTransaction => self.already_seen_transaction,
            ReputationChange::RateLimited => self.rate_limited,
            ReputationChange::Other(points) => points,
            ReputationChange::Reset => 0,
        }
    }
}

/// Reputation parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReputationConfig {
    /// Points per change.
    pub weights: ReputationWeights,
    /// A score strictly below this bans the peer. Scores are also capped at its negation, so
    /// good behaviour cannot buy immunity.
    pub ban_threshold: i32,
    /// Decay period (zero disables decay).
    pub decay_interval: Duration,
    /// Percentage of the score forgiven per period, at least one point (0 disables decay).
    pub decay_percent: u8,
    /// Most peers with a non-zero score remembered; when full, the score closest to zero is
    /// forgotten.
    pub max_entries: usize,
}

impl Default for ReputationConfig {
    fn default() -> Self {
        Self {
            weights: ReputationWeights::default(),
            ban_threshold: BAN_THRESHOLD,
            decay_interval: DECAY_INTERVAL,
            decay_percent: DECAY_PERCENT,
            max_entries: MAX_REPUTATION_ENTRIES,
        }
    }
}

impl ReputationConfig {
    /// Whether `score` is bad enough for a ban.
    pub fn is_banned(&self, score: i32) -> bool {
        score < self.ban_threshold
    }

    fn max_score(&self) -> i64 {
        i64::from(self.ban_threshold).saturating_neg().max(0)
    }

    fn decays(&self) -> bool {
        !self.decay_interval.is_zero() && self.decay_percent > 0
    }
}

/// `score` one decay period later: `percent` of it forgiven, at least one point.
fn decay_step(score: i64, percent: u8) -> i64 {
    let forgiven = (score.abs() * i64::from(percent.min(100)) / 100).max(1);
    if score > 0 {
        (score - forgiven).max(0)
    } else {
        (score + forgiven).min(0)
    }
}

/// Scores of the peers that have one; a missing peer has score zero.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReputationTable {
    scores: BTreeMap<PeerId, i32>,
    next_decay: Option<Instant>,
}

impl ReputationTable {
    /// The score of `peer` (zero when unknown).
    pub(crate) fn score(&self, peer: &PeerId) -> i32 {
        self.scores.get(peer).copied().unwrap_or(0)
    }

    /// Adds `points` to the score of `peer` and returns the new score.
    pub(crate) fn apply(
        &mut self,
        now: Instant,
        peer: PeerId,
        points: i32,
        cfg: &ReputationConfig,
    ) -> i32 {
        let raw = i64::from(self.score(&peer)) + i64::from(points);
        let clamped = raw.clamp(i64::from(i32::MIN), cfg.max_score());
        let score = i32::try_from(clamped).unwrap_or(i32::MIN);
        self.set(now, peer, score, cfg);
        score
    }

    /// Forgets the score of `peer`.
    pub(crate) fn reset(&mut self, peer: &PeerId) {
        self.scores.remove(peer);
        if self.scores.is_empty() {
            self.next_decay = None;
        }
    }

    fn set(&mut self, now: Instant, peer: PeerId, score: i32, cfg: &ReputationConfig) {
        if score == 0 {
            self.reset(&peer);
            return;
        }
        if !self.scores.contains_key(&peer) && self.scores.len() >= cfg.max_entries {
            // Forget the mildest score; ties go to the smallest id, for determinism.
            let mildest = self
                .scores
                .iter()
                .min_by_key(|(id, s)| (s.unsigned_abs(), **id))
                .map(|(id, _)| *id);
            match mildest {
                Some(id) if self.score(&id).unsigned_abs() <= score.unsigned_abs() => {
                    self.scores.remove(&id);
                }
                _ => return,
            }
        }
        self.scores.insert(peer, score);
        if self.next_decay.is_none() && cfg.decays() {
            self.next_decay = Some(deadline(now, cfg.decay_interval));
        }
    }

    /// Applies every decay period due at `now`.
    pub(crate) fn decay(&mut self, now: Instant, cfg: &ReputationConfig) {
        let Some(due) = self.next_decay else { return };
        if now < due {
            return;
        }
        if !cfg.decays() {
            self.next_decay = None;
            return;
        }
        let interval = cfg.decay_interval.as_nanos().max(1);
        let behind = now.saturating_duration_since(due).as_nanos() / interval;
        let periods = u32::try_from(behind.saturating_add(1)).unwrap_or(u32::MAX);
        let steps = periods.min(MAX_DECAY_STEPS);
        self.scores.retain(|_, score| {
            let mut s = i64::from(*score);
            for _ in 0..steps {
                if s == 0 {
                    break;
                }
                s = decay_step(s, cfg.decay_percent);
            }
            *score = i32::try_from(s).unwrap_or(0);
            *score != 0
        });
        self.next_decay = if self.scores.is_empty() {
            None
        } else {
            Some(deadline(due, cfg.decay_interval.saturating_mul(periods)))
        };
    }

    /// When the next decay period is due, if any score is non-zero.
    pub(crate) fn next_decay(&self) -> Option<Instant> {
        self.next_decay
    }

    /// Number of peers with a non-zero score.
    pub(crate) fn len(&self) -> usize {
        self.scores.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_clock::t0;

    fn peer(b: u8) -> PeerId {
        PeerId([b; 64])
    }

    #[test]
    fn four_bad_messages_cross_the_default_threshold() {
        let cfg = ReputationConfig::default();
        let mut t = ReputationTable::default();
        let now = t0();
        let w = cfg.weights.weight(ReputationChange::BadMessage);
        for _ in 0..3 {
            let s = t.apply(now, peer(1), w, &cfg);
            assert!(!cfg.is_banned(s));
        }
        assert!(cfg.is_banned(t.apply(now, peer(1), w, &cfg)));
    }

    #[test]
    fn bad_protocol_bans_at_once_without_overflow() {
        let cfg = ReputationConfig::default();
        let mut t = ReputationTable::default();
        let now = t0();
        let w = cfg.weights.weight(ReputationChange::BadProtocol);
        assert_eq!(t.apply(now, peer(1), w, &cfg), i32::MIN);
        assert_eq!(t.apply(now, peer(1), w, &cfg), i32::MIN);
        assert!(cfg.is_banned(t.score(&peer(1))));
    }

    #[test]
    fn scores_decay_toward_zero_by_ten_percent_a_minute() {
        let cfg = ReputationConfig::default();
        let mut t = ReputationTable::default();
        let now = t0();
        t.apply(now, peer(1), -10_000, &cfg);
        t.apply(now, peer(2), 5_000, &cfg);
        t.decay(now + Duration::from_secs(59), &cfg);
        assert_eq!(t.score(&peer(1)), -10_000);
        t.decay(now + Duration::from_secs(60), &cfg);
        assert_eq!(t.score(&peer(1)), -9_000);
        assert_eq!(t.score(&peer(2)), 4_500);
        t.decay(now + Duration::from_secs(180), &cfg);
        assert_eq!(t.score(&peer(1)), -7_290);
        assert_eq!(t.next_decay(), Some(now + Duration::from_secs(240)));
    }

    #[test]
    fn any_score_reaches_zero_and_is_forgotten() {
        let cfg = ReputationConfig::default();
        let mut t = ReputationTable::default();
        let now = t0();
        t.apply(now, peer(1), i32::MIN, &cfg);
        t.apply(now, peer(2), 3, &cfg);
        t.decay(now + Duration::from_secs(24 * 3600), &cfg);
        assert_eq!(t.score(&peer(1)), 0);
        assert_eq!(t.len(), 0);
        assert_eq!(t.next_decay(), None);
    }

    #[test]
    fn positive_scores_are_capped_at_the_threshold_magnitude() {
        let cfg = ReputationConfig::default();
        let mut t = ReputationTable::default();
        assert_eq!(t.apply(t0(), peer(1), i32::MAX, &cfg), -BAN_THRESHOLD);
    }

    #[test]
    fn full_table_forgets_the_mildest_score() {
        let cfg = ReputationConfig {
            max_entries: 2,
            ..ReputationConfig::default()
        };
        let mut t = ReputationTable::default();
        let now = t0();
        t.apply(now, peer(1), -100, &cfg);
        t.apply(now, peer(2), -5, &cfg);
        t.apply(now, peer(3), -50, &cfg);
        assert_eq!(t.len(), 2);
        assert_eq!(t.score(&peer(2)), 0);
        // A milder newcomer than everything stored is not remembered.
        t.apply(now, peer(4), -1, &cfg);
        assert_eq!(t.score(&peer(4)), 0);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn disabled_decay_keeps_scores() {
        let cfg = ReputationConfig {
            decay_percent: 0,
            ..ReputationConfig::default()
        };
        let mut t = ReputationTable::default();
        let now = t0();
        t.apply(now, peer(1), -100, &cfg);
        assert_eq!(t.next_decay(), None);
        t.decay(now + Duration::from_secs(3600), &cfg);
        assert_eq!(t.score(&peer(1)), -100);
    }
}
