//! Property tests of whole sessions: any chunking of the byte streams, any message sizes,
//! snappy on or off — the handshake completes and every message arrives intact and in order.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use paxeer_p2p_core::session::SessionEvent;
use proptest::prelude::*;
use support::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn sessions_survive_random_chunking_and_sizes(
        seed_a in 1u8..200,
        chunk_a in 1usize..600,
        chunk_b in 1usize..600,
        snappy in any::<bool>(),
        sizes in proptest::collection::vec(0usize..40_000, 1..8),
    ) {
        let mut cfg_a = config(seed_a, eth_specs());
        if !snappy {
            cfg_a.p2p_version = 4;
        }
        let cfg_b = config(seed_a.wrapping_add(1), eth_specs());
        let mut p = Pair::with_chunkers(cfg_a, cfg_b, Chunker::new(seed_a, chunk_a), Chunker::new(seed_a ^ 0x55, chunk_b));
        p.drive();
        prop_assert!(p.established(), "a: {:?} b: {:?}", p.a.events, p.b.events);
        prop_assert_eq!(p.a.drv.session().snappy(), snappy);
        prop_assert_eq!(p.a.drv.session().caps(), p.b.drv.session().caps());

        let eth = p.a.drv.session().caps().find("eth").unwrap();
        let sent: Vec<(u64, Vec<u8>)> = sizes
            .iter()
            .enumerate()
            .map(|(i, n)| ((i % 17) as u64, (0..*n).map(|j| (j * 31 + i) as u8).collect()))
            .collect();
        for (id, payload) in &sent {
            p.a.drv.session_mut().send(p.now, eth, *id, payload.clone()).unwrap();
            p.b.drv.session_mut().send(p.now, eth, *id, payload.clone()).unwrap();
        }
        p.drive();
        prop_assert_eq!(p.b.messages(), sent.clone());
        prop_assert_eq!(p.a.messages(), sent);
        let closed = p.a.events.iter().any(|e| matches!(e, SessionEvent::Closed { .. }));
        prop_assert!(!closed, "a closed: {:?}", p.a.events);
    }
}
