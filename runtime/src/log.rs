//! The log lines both the standalone listener and the host task write.

use std::io;

use paxeer_p2p_core::driver::accept::AcceptPause;
use paxeer_p2p_core::driver::host::{ConnSink, HostDriver, BACKLOG_OVERFLOW_REASON};

/// Logs a failed `accept` when the backoff says it is due (see [`AcceptPause::log`]).
pub(crate) fn accept_error(error: &io::Error, pause: &AcceptPause) {
    if let Some(count) = pause.log {
        tracing::warn!(
            error = %error,
            kind = pause.kind.as_str(),
            count,
            pause_ms = pause.delay.as_millis() as u64,
            "accept failed; pausing accepts"
        );
    }
}

/// Logs the peers the host driver disconnected because their send backlog overflowed.
pub(crate) fn overflows<S: ConnSink>(drv: &mut HostDriver<S>) {
    for o in drv.take_overflows() {
        tracing::warn!(
            conn = ?o.conn,
            sends = o.sends,
            bytes = o.bytes,
            reason = ?BACKLOG_OVERFLOW_REASON,
            "peer disconnected: its send backlog went over the limit (it does not read)"
        );
    }
}
