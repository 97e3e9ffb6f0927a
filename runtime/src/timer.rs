//! One timer per loop, re-armed only when the deadline it waits for changes, and the `sleep`
//! and `timeout` helpers built on it.

use std::future::{poll_fn, Future};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::Runtime;

/// A loop's timer: waits for whatever deadline the loop asks for this time, re-arming the
/// runtime's timer only when that deadline differs from the one it is armed for.
pub(crate) struct Deadline<R: Runtime> {
    armed: Option<(Instant, R::Timer)>,
}

impl<R: Runtime> Default for Deadline<R> {
    fn default() -> Self {
        Self { armed: None }
    }
}

impl<R: Runtime> Deadline<R> {
    /// Ready once `at` has passed; pending forever when `at` is `None`. A deadline already
    /// past is ready at once, without the runtime's timer: loops ask for it first, so a busy
    /// source cannot hold their timeouts back.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, at: Option<Instant>) -> Poll<()> {
        let Some(at) = at else {
            return Poll::Pending;
        };
        if at <= Instant::now() {
            return Poll::Ready(());
        }
        match &mut self.armed {
            Some((armed_at, timer)) => {
                if *armed_at != at {
                    R::reset(timer, at);
                    *armed_at = at;
                }
            }
            None => self.armed = Some((at, R::timer(at))),
        }
        match &mut self.armed {
            Some((_, timer)) => R::poll_timer(timer, cx),
            None => Poll::Pending,
        }
    }
}

/// Waits until `at`.
pub async fn sleep_until<R: Runtime>(at: Instant) {
    let mut timer = R::timer(at);
    poll_fn(|cx| R::poll_timer(&mut timer, cx)).await;
}

/// Waits for `d`.
pub async fn sleep<R: Runtime>(d: Duration) {
    sleep_until::<R>(Instant::now() + d).await;
}

/// Awaits `fut` for at most `d`: `None` if the time ran out first.
pub async fn timeout<R: Runtime, T>(d: Duration, fut: impl Future<Output = T>) -> Option<T> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        sleep::<R>(d).await;
        None
    })
    .await
}
