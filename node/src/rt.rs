//! The runtime choice (`--runtime tokio|smol`) and what the commands use of the connection
//! layer: each command is written once, generic over [`Runtime`], and runs on either.

use std::future::Future;

pub use paxeer_p2p_runtime::discovery::Discovery;
pub use paxeer_p2p_runtime::{connect, sleep, timeout, Incoming, Listener, Runtime};
pub use paxeer_p2p_smol::Smol;
pub use paxeer_p2p_tokio::Tokio;

/// The runtime to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeKind {
    /// tokio (multi-threaded).
    Tokio,
    /// smol.
    Smol,
}

/// Installs the SIGINT (Ctrl-C) handler at once and returns a future that resolves when the
/// signal arrives, on any runtime. Call it before announcing the process as ready: a signal
/// that comes before the handler is installed ends the process with the default action.
pub fn on_ctrl_c() -> impl Future<Output = ()> {
    let (tx, rx) = async_channel::bounded::<()>(1);
    let installed = ctrlc::set_handler(move || {
        let _ = tx.try_send(());
    })
    .is_ok();
    async move {
        if installed {
            let _ = rx.recv().await;
        } else {
            // A handler is already installed (second call): never resolve from here.
            futures_lite::future::pending::<()>().await;
        }
    }
}
