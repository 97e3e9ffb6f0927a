use std::sync::Arc;

use paxeer_p2p_core::p2p::DisconnectReason;
use paxeer_p2p_core::types::Direction;

use super::*;
use crate::admin::http::serve;
use crate::admin::test_util::{body, exchange, status};

fn has(out: &str, line: &str) {
    assert!(
        out.lines().any(|l| l == line),
        "missing {line:?} in:\n{out}"
    );
}

#[test]
fn families_show_their_updates() {
    let m = Metrics::new();
    m.set_peers(Direction::Inbound, 3);
    m.set_peers(Direction::Outbound, 2);
    m.dial_attempt();
    m.dial_attempt();
    m.dial_error("timeout");
    m.serve_attempt();
    m.serve_error("too_many_pending");
    m.accept_errors("fd_limit", 3);
    m.observe_handshake(0.02);
    m.observe_handshake(f64::NAN);
    m.ingress("eth", 68, 2, 100);
    m.ingress("eth", 68, 2, 50);
    m.egress("snap", 1, 0, 7);
    m.protocol_error("eth");
    m.drop_message("queue_full");
    m.disconnect(DisconnectReason::TooManyPeers, true);
    m.disconnect(DisconnectReason::Unknown(0x77), false);
    m.throttled("eth");
    m.ban(BanTarget::Ip);
    m.set_bucket_sizes(&[0, 16, 3]);
    m.discovery_packet(true, "ping", 5);
    m.discovery_packet(false, "neighbors", 1);
    let out = m.encode();
    has(&out, "p2p_peers{direction=\"inbound\"} 3");
    has(&out, "p2p_peers{direction=\"outbound\"} 2");
    has(&out, "p2p_dials_total 2");
    has(&out, "p2p_dial_errors_total{class=\"timeout\"} 1");
    has(&out, "p2p_serves_total 1");
    has(&out, "p2p_serve_errors_total{class=\"too_many_pending\"} 1");
    has(&out, "p2p_accept_errors_total{kind=\"fd_limit\"} 3");
    has(&out, "p2p_handshake_duration_seconds_count 1");
    has(
        &out,
        "p2p_handshake_duration_seconds_bucket{le=\"0.001\"} 0",
    );
    has(
        &out,
        "p2p_handshake_duration_seconds_bucket{le=\"0.025\"} 1",
    );
    has(&out, "p2p_handshake_duration_seconds_bucket{le=\"10.0\"} 1");
    has(
        &out,
        "p2p_ingress_bytes_total{protocol=\"eth\",version=\"68\",code=\"2\"} 150",
    );
    has(
        &out,
        "p2p_ingress_messages_total{protocol=\"eth\",version=\"68\",code=\"2\"} 2",
    );
    has(
        &out,
        "p2p_egress_bytes_total{protocol=\"snap\",version=\"1\",code=\"0\"} 7",
    );
    has(
        &out,
        "p2p_egress_messages_total{protocol=\"snap\",version=\"1\",code=\"0\"} 1",
    );
    has(&out, "p2p_protocol_errors_total{protocol=\"eth\"} 1");
    has(&out, "p2p_dropped_messages_total{reason=\"queue_full\"} 1");
    has(
        &out,
        "p2p_disconnects_total{reason=\"too_many_peers\",side=\"sent\"} 1",
    );
    has(
        &out,
        "p2p_disconnects_total{reason=\"unknown\",side=\"received\"} 1",
    );
    has(&out, "p2p_throttled_total{protocol=\"eth\"} 1");
    has(&out, "p2p_bans_total{target=\"ip\"} 1");
    has(&out, "p2p_discovery_table_nodes{bucket=\"1\"} 16");
    has(&out, "p2p_discovery_table_nodes{bucket=\"2\"} 3");
    has(
        &out,
        "p2p_discovery_packets_total{direction=\"in\",kind=\"ping\"} 5",
    );
    has(
        &out,
        "p2p_discovery_packets_total{direction=\"out\",kind=\"neighbors\"} 1",
    );
    has(&out, "# TYPE p2p_handshake_duration_seconds histogram");
    has(&out, "# TYPE p2p_peers gauge");
    assert!(out.ends_with("# EOF\n"), "{out}");
}

#[test]
fn fixed_series_start_at_zero() {
    // Labelled families appear with their first series; these are there from the start.
    let out = Metrics::new().encode();
    for line in [
        "p2p_peers{direction=\"inbound\"} 0",
        "p2p_peers{direction=\"outbound\"} 0",
        "p2p_dials_total 0",
        "p2p_serves_total 0",
        "p2p_bans_total{target=\"peer\"} 0",
        "p2p_bans_total{target=\"ip\"} 0",
        "p2p_handshake_duration_seconds_count 0",
    ] {
        has(&out, line);
    }
}

#[test]
fn shrinking_table_zeroes_the_missing_buckets() {
    let m = Metrics::new();
    m.set_bucket_sizes(&[1, 2, 3]);
    m.set_bucket_sizes(&[4]);
    let out = m.encode();
    has(&out, "p2p_discovery_table_nodes{bucket=\"0\"} 4");
    has(&out, "p2p_discovery_table_nodes{bucket=\"2\"} 0");
    m.set_bucket_sizes(&vec![1; MAX_BUCKETS + 10]);
    assert!(!m.encode().contains(&format!("bucket=\"{MAX_BUCKETS}\"")));
}

#[test]
fn label_sets_past_the_budget_count_as_other() {
    let m = Metrics::new();
    for i in 0..MAX_SERIES_PER_FAMILY + 5 {
        m.dial_error(&format!("class{i}"));
        m.ingress("x", 1, i as u64, 1);
    }
    m.dial_error("class0");
    let out = m.encode();
    has(&out, "p2p_dial_errors_total{class=\"other\"} 5");
    has(&out, "p2p_dial_errors_total{class=\"class0\"} 2");
    has(
        &out,
        "p2p_ingress_messages_total{protocol=\"other\",version=\"0\",code=\"0\"} 5",
    );
    let series = out
        .lines()
        .filter(|l| l.starts_with("p2p_dial_errors_total{"))
        .count();
    assert_eq!(series, MAX_SERIES_PER_FAMILY + 1);
}

#[test]
fn scrape_over_a_loopback_socket() {
    let m = Arc::new(Metrics::new());
    m.dial_attempt();
    let server = serve("127.0.0.1:0".parse().unwrap(), metrics_handler(m.clone())).unwrap();
    let addr = server.local_addr();
    let resp = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(status(&resp), 200, "{resp}");
    assert!(resp.contains(&format!("Content-Type: {OPENMETRICS_CONTENT_TYPE}\r\n")));
    assert!(body(&resp).contains("p2p_dials_total 1\n"), "{resp}");
    m.dial_attempt();
    let resp = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
    assert!(body(&resp).contains("p2p_dials_total 2\n"));
    assert_eq!(status(&exchange(addr, b"GET / HTTP/1.1\r\n\r\n")), 404);
    assert_eq!(
        status(&exchange(addr, b"POST /metrics HTTP/1.1\r\n\r\n")),
        405
    );
}
