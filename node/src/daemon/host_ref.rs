//! A handle on the host task for blocking calls from plain threads (the main thread, the
//! admin and metrics servers).

use std::time::Instant;

use paxeer_p2p_core::driver::host::HostAccess;
use paxeer_p2p_runtime::host::HostHandle;

/// A running host, whatever the runtime it runs on.
#[derive(Clone, Debug)]
pub struct HostRef(pub HostHandle);

impl HostRef {
    /// Runs `f` on the host inside its task and waits for the result. Must not be called from
    /// inside a runtime task.
    pub fn call<R, F>(&self, f: F) -> Result<R, String>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn HostAccess, Instant) -> R + Send + 'static,
    {
        self.0
            .call_blocking(move |d, now| f(d, now))
            .map_err(|e| e.to_string())
    }
}
