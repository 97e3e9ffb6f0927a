//! Minimal reproductions of runtime-crate bugs found by the integration tests, run on both
//! runtimes (the one without the bug is the reference).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use paxeer_p2p_core::p2p::DisconnectReason;
use paxeer_p2p_core::session::{CloseReason, SessionEvent};
use paxeer_p2p_tests::{
    accept, bind_local, config, connect_ok, localhost, next_event, on, peer_id, timeout,
    with_deadline, Accepted, Runtime, Smol, Tokio, TEST_DEADLINE,
};

/// Sessions opened and closed per test.
const ROUNDS: usize = 20;
/// A command on a closed session is answered at once; this much longer means it hangs.
const ANSWER_LIMIT: Duration = Duration::from_secs(2);

/// A command issued right after `Closed` must be answered (with an error), never hang.
///
/// The session task sends `Closed`, leaves its loop and only then drops its command
/// receiver. A command queued in that window is never received; with tokio, dropping the
/// `mpsc::Receiver` drops the queued command and its reply sender, so the caller gets
/// `HandleError::Ended`. An `async_channel` keeps queued messages while any sender (the
/// handle) lives, so with smol the reply sender is never dropped and the command waits
/// forever.
fn command_after_closed_is_answered<R: Runtime>() {
    let rt = on::<R>();
    rt.block_on(async {
        let mut listener = bind_local::<R>(Arc::new(config(0x51))).await;
        let addr = localhost(listener.local_addr().port());
        let dialer_cfg = Arc::new(config(0x52));
        let mut hung = Vec::new();
        for round in 0..ROUNDS {
            let (mut dialer, accepted) = smol::future::zip(
                connect_ok::<R>(addr, peer_id(0x51), dialer_cfg.clone()),
                accept::<R>(&mut listener, "the dialer"),
            )
            .await;
            let Accepted::Established(mut inbound) = accepted else {
                panic!("[{}] round {round}: inbound failed: {accepted:?}", R::NAME);
            };
            dialer
                .disconnect(DisconnectReason::Requested)
                .await
                .expect("disconnect");
            let closed = next_event::<R>(&mut inbound, "Closed").await;
            assert_eq!(
                closed,
                SessionEvent::Closed {
                    reason: CloseReason::Remote(DisconnectReason::Requested)
                }
            );
            // Right after Closed, as an application reacting to it would.
            match timeout::<R, _>(ANSWER_LIMIT, inbound.ping()).await {
                Some(Err(_)) => {}
                Some(Ok(())) => panic!("[{}] ping accepted on a closed session", R::NAME),
                None => {
                    hung.push(round);
                    break;
                }
            }
            let closed = next_event::<R>(&mut dialer, "Closed").await;
            assert_eq!(
                closed,
                SessionEvent::Closed {
                    reason: CloseReason::Local(DisconnectReason::Requested)
                }
            );
        }
        assert!(
            hung.is_empty(),
            "[{}] a Ping sent right after Closed got no answer within {ANSWER_LIMIT:?} \
             (round {hung:?} of {ROUNDS})",
            R::NAME
        );
    });
}

#[test]
fn tokio_command_after_closed_is_answered() {
    with_deadline(
        "tokio_command_after_closed_is_answered",
        TEST_DEADLINE,
        command_after_closed_is_answered::<Tokio>,
    );
}

#[test]
fn smol_command_after_closed_is_answered() {
    with_deadline(
        "smol_command_after_closed_is_answered",
        TEST_DEADLINE,
        command_after_closed_is_answered::<Smol>,
    );
}
