//! One handle over the host task of either runtime, for blocking calls from plain threads
//! (the main thread, the admin and metrics servers).

use std::time::Instant;

use paxeer_p2p_core::driver::host::HostAccess;

/// A running host, whatever the runtime.
#[derive(Clone, Debug)]
pub enum HostRef {
    /// A host task on tokio.
    Tokio(paxeer_p2p_tokio::host::HostHandle),
    /// A host task on smol.
    Smol(paxeer_p2p_smol::host::HostHandle),
}

impl HostRef {
    /// Runs `f` on the host inside its task and waits for the result. Must not be called from
    /// inside a runtime task.
    pub fn call<R, F>(&self, f: F) -> Result<R, String>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn HostAccess, Instant) -> R + Send + 'static,
    {
        let r = match self {
            HostRef::Tokio(h) => h.call_blocking(move |d, now| f(d, now)),
            HostRef::Smol(h) => h.call_blocking(move |d, now| f(d, now)),
        };
        r.map_err(|e| e.to_string())
    }
}
