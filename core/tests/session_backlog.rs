//! The session driver's backpressure: a send the session's queue refuses waits in order
//! instead of being lost, and an outbound backlog above the high-water mark stops reading
//! the peer until it falls below the low-water mark.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use paxeer_p2p_core::driver::{Command, BACKLOG_HIGH, BACKLOG_LOW};
use paxeer_p2p_core::p2p::CapId;
use support::*;

fn pair(max_queued: usize) -> (Pair, CapId) {
    let mut a = config(1, eth_specs());
    a.max_queued_send_bytes = max_queued;
    let mut p = Pair::new(a, config(2, eth_specs()));
    p.drive();
    assert!(p.established());
    let cap = p.a.drv.session().caps().iter().next().unwrap().0;
    (p, cap)
}

fn send(cap: CapId, seq: u8, len: usize) -> Command {
    Command::Send {
        cap,
        msg_id: 1,
        payload: vec![seq; len],
    }
}

#[test]
fn sends_refused_for_a_full_queue_wait_and_go_out_in_order() {
    let (mut p, cap) = pair(100_000);
    let now = p.now;
    for seq in 0..5 {
        p.a.drv.submit(now, send(cap, seq, 40_000)).unwrap();
    }
    // Two fit the queue; the third and those behind it wait in the driver, counted.
    assert!(!p.a.drv.accepts_commands());
    assert!(p.a.drv.session().queued_send_bytes() <= 100_000);
    assert_eq!(p.a.drv.outbound_backlog(), 5 * 40_000);
    p.drive();
    assert!(p.a.drv.accepts_commands());
    let got: Vec<(u64, Vec<u8>)> = p.b.messages();
    let seqs: Vec<u8> = got.iter().map(|(_, m)| m[0]).collect();
    assert_eq!(seqs, vec![0, 1, 2, 3, 4]);
    assert!(got.iter().all(|(_, m)| m.len() == 40_000));
    assert_eq!(p.a.drv.outbound_backlog(), 0);
}

#[test]
fn reading_pauses_above_the_high_mark_and_resumes_below_the_low_mark() {
    let (mut p, cap) = pair(64 << 20);
    let now = p.now;
    assert!(p.a.drv.wants_read());
    p.a.drv.set_external_backlog(BACKLOG_HIGH + 1);
    assert!(p.a.drv.is_backlogged());
    assert!(!p.a.drv.wants_read());
    // b's message is not taken while a is backlogged.
    p.b.drv.submit(now, send(cap, 9, 10)).unwrap();
    p.drive();
    assert!(p.a.messages().is_empty());
    // Between the marks: still paused (hysteresis).
    p.a.drv.set_external_backlog(BACKLOG_LOW);
    assert!(p.a.drv.is_backlogged());
    p.drive();
    assert!(p.a.messages().is_empty());
    p.a.drv.set_external_backlog(BACKLOG_LOW - 1);
    assert!(!p.a.drv.is_backlogged());
    p.drive();
    let got = p.a.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, vec![9; 10]);
}
