//! The bounded event queue: imports always fit (the import queue bounds them), penalties are
//! not repeated while one for the same peer and fault is pending, the rest is dropped when
//! full.

use std::collections::VecDeque;

use super::limits::MAX_PENDING_EVENTS;
use super::types::FetchEvent;

/// Pending events, in the order they happened.
#[derive(Debug, Default)]
pub(super) struct EventQueue {
    events: VecDeque<FetchEvent>,
    /// Events dropped because the queue was full.
    pub(super) dropped: u64,
}

impl EventQueue {
    /// Queues `event`; returns whether it was queued (a duplicate penalty or an overflow is
    /// not).
    pub(super) fn push(&mut self, event: FetchEvent) -> bool {
        match &event {
            FetchEvent::Import { .. } => {}
            FetchEvent::Penalize { .. } => {
                if self.events.contains(&event) {
                    return false;
                }
                if self.events.len() >= MAX_PENDING_EVENTS {
                    self.dropped = self.dropped.saturating_add(1);
                    return false;
                }
            }
            FetchEvent::Propagate { .. } | FetchEvent::Discarded { .. } => {
                if self.events.len() >= MAX_PENDING_EVENTS {
                    self.dropped = self.dropped.saturating_add(1);
                    return false;
                }
            }
        }
        self.events.push_back(event);
        true
    }

    /// The oldest event.
    pub(super) fn pop(&mut self) -> Option<FetchEvent> {
        self.events.pop_front()
    }
}
