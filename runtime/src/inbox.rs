//! The receiving end of a channel, pollable from a hand-written wait (`poll_fn`).

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::Stream;

/// An `async_channel::Receiver` pinned once, so a loop can poll it pass after pass without
/// losing its place in the wait queue.
pub(crate) struct Inbox<T>(Pin<Box<async_channel::Receiver<T>>>);

impl<T> Inbox<T> {
    /// Wraps `rx`.
    pub(crate) fn new(rx: async_channel::Receiver<T>) -> Self {
        Self(Box::pin(rx))
    }

    /// The next message; `Ready(None)` once every sender is gone and the channel is empty.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.as_mut().poll_next(cx)
    }

    /// Closes the channel and drops what is still queued in it, so senders waiting on a
    /// reply inside a message learn that it will not come.
    pub(crate) fn close_and_drain(&self) {
        self.0.close();
        while self.0.try_recv().is_ok() {}
    }
}
