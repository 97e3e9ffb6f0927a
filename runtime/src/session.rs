//! The session task: one loop around a [`SessionDriver`], for standalone sessions and for
//! the host's connections alike. What differs between the two is the application side
//! ([`SessionApp`]): where events go, where commands come from, and who decides at the
//! admission checkpoint.

use std::future::{poll_fn, Future};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use paxeer_p2p_core::driver::budget::BudgetShare;
use paxeer_p2p_core::driver::{SessionDriver, Wake};
use paxeer_p2p_core::session::SessionEvent;

use crate::timer::Deadline;
use crate::Runtime;

/// The application end of a session task.
pub(crate) trait SessionApp: Send {
    /// A command from the application.
    type Cmd: Send;
    /// Whether the checkpoint admits every peer by itself (no host decides).
    const ADMITS_ALL: bool;
    /// Hands an event over; false when the application is gone.
    fn deliver(&mut self, ev: SessionEvent) -> impl Future<Output = bool> + Send;
    /// The next command; `Ready(None)` once every application handle is gone.
    fn poll_command(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::Cmd>>;
    /// Carries a command out on the session.
    fn apply(&mut self, drv: &mut SessionDriver, now: Instant, cmd: Self::Cmd);
    /// Send bytes meant for this session still held outside it.
    fn backlog(&self) -> usize;
    /// The task ends: release whatever still waits on it.
    fn finish(self);
}

/// How often a session held back by the memory budget looks again whether it may read.
const BUDGET_RECHECK: Duration = Duration::from_millis(50);

/// What woke the loop.
enum Io<C> {
    Written(std::io::Result<usize>),
    Command(Option<C>),
    Read(std::io::Result<usize>),
    Timeout,
}

/// Runs the session on `stream` until it is finished, then shuts the socket down.
///
/// Each pass pumps the driver, hands its events over, then waits for the first of: the socket
/// writable for pending bytes, a command (unless a refused send waits for room), the socket
/// readable (when the driver wants input, and a little while it waits for its verdict), and
/// the driver's deadline. They are served in that order when several are ready, so a peer
/// flooding us with requests cannot hold back their answers, and each pass does a bounded
/// amount of work (the driver's write budget and read chunk). With a `share` of the node's
/// memory budget, the session stops reading while it holds more than its part of an
/// exceeded budget, and looks again every [`BUDGET_RECHECK`].
pub(crate) async fn run<R: Runtime, A: SessionApp>(
    mut stream: R::Tcp,
    mut drv: SessionDriver,
    mut app: A,
    mut share: Option<BudgetShare>,
) {
    let mut timer = Deadline::<R>::default();
    loop {
        for ev in drv.pump(Instant::now()) {
            if drv.app_alive() && !app.deliver(ev).await {
                drv.on_application_gone(Instant::now());
            }
        }
        if drv.awaiting_verdict() && (A::ADMITS_ALL || !drv.app_alive()) {
            // Nobody decides (or nobody is left to): let the session go on by itself.
            drv.admit();
            continue;
        }
        if drv.is_finished() {
            break;
        }
        drv.set_external_backlog(app.backlog());
        let held_back = share.as_mut().is_some_and(|s| s.report(drv.held_bytes()));
        drv.set_over_budget(held_back);
        let deadline = match (drv.deadline(), held_back) {
            (d, false) => d,
            (d, true) => {
                let recheck = Instant::now() + BUDGET_RECHECK;
                Some(d.map_or(recheck, |d| d.min(recheck)))
            }
        };
        let taking = drv.app_alive() && drv.accepts_commands();
        let reading = drv.wants_read();
        let (rbuf, wbuf) = drv.io_buffers();
        let writing = !wbuf.is_empty();
        if !(writing || taking || reading || deadline.is_some()) {
            // Nothing can happen any more.
            break;
        }
        let io = poll_fn(|cx| {
            // The timer first: ready at once when the deadline has passed (so a busy socket
            // cannot hold timeouts back), otherwise armed; then the write, commands, the read.
            if timer.poll(cx, deadline).is_ready() {
                return Poll::Ready(Io::Timeout);
            }
            if writing {
                if let Poll::Ready(r) = R::poll_write(&mut stream, cx, wbuf) {
                    return Poll::Ready(Io::Written(r));
                }
            }
            if taking {
                if let Poll::Ready(c) = app.poll_command(cx) {
                    return Poll::Ready(Io::Command(c));
                }
            }
            if reading {
                if let Poll::Ready(r) = R::poll_read(&mut stream, cx, rbuf) {
                    return Poll::Ready(Io::Read(r));
                }
            }
            Poll::Pending
        })
        .await;
        let now = Instant::now();
        match io {
            Io::Written(r) => drop(drv.on_wake(now, Wake::<()>::Written(r))),
            Io::Command(Some(cmd)) => app.apply(&mut drv, now, cmd),
            Io::Command(None) => drv.on_application_gone(now),
            Io::Read(r) => drop(drv.on_wake(now, Wake::<()>::Read(r))),
            // A wake for the budget recheck only: nothing is due in the session yet.
            Io::Timeout if drv.deadline().is_some_and(|d| d > now) => {}
            Io::Timeout => drv.on_timeout(now),
        }
    }
    let _ = poll_fn(|cx| R::poll_shutdown(&mut stream, cx)).await;
    app.finish();
}
