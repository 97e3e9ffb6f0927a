//! External endpoint prediction: every Pong tells us the address its sender saw our Ping come
//! from; when enough distinct peers agree, that is our external endpoint and the local
//! record advertises it. A fixed external IP (`--nat extip:IP`) disables prediction.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::netutil::IpTracker;

/// Statements count this long (go-ethereum `iptrackWindow`).
const STATEMENT_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Contacts count this long (go-ethereum `iptrackContactWindow`).
const CONTACT_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Distinct peers that must agree (go-ethereum `iptrackMinStatements`).
const MIN_STATEMENTS: usize = 10;

/// Predicts our external endpoint.
#[derive(Clone, Debug)]
pub(crate) struct EndpointPredictor {
    tracker: Option<IpTracker>,
    last: Option<SocketAddr>,
}

impl EndpointPredictor {
    /// A predictor; `fixed` (an operator-given external IP) turns it off.
    pub fn new(fixed: Option<IpAddr>) -> Self {
        Self {
            tracker: fixed
                .is_none()
                .then(|| IpTracker::new(STATEMENT_WINDOW, CONTACT_WINDOW, MIN_STATEMENTS)),
            last: None,
        }
    }

    /// We sent a packet to `to`.
    pub fn on_contact(&mut self, to: IpAddr, now: Instant) {
        if let Some(t) = &mut self.tracker {
            t.add_contact(to, now);
        }
    }

    /// `from` says it sees us at `stated`; returns the new prediction if it changed.
    pub fn on_statement(
        &mut self,
        from: IpAddr,
        stated: SocketAddr,
        now: Instant,
    ) -> Option<SocketAddr> {
        let t = self.tracker.as_mut()?;
        if stated.ip().is_unspecified() || stated.port() == 0 {
            return None;
        }
        t.add_statement(from, stated, now);
        let predicted = t.predict_endpoint(now)?;
        if self.last == Some(predicted) {
            return None;
        }
        self.last = Some(predicted);
        Some(predicted)
    }
}
