use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::admin::test_util::{body, exchange, status};

fn echo() -> Handler {
    Arc::new(|req: &HttpRequest| {
        if req.path == "/panic" {
            panic!("handler bug");
        }
        HttpResponse::text(
            200,
            &format!(
                "{} {} {:?} {}",
                req.method,
                req.path,
                req.query,
                String::from_utf8_lossy(&req.body)
            ),
        )
    })
}

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn quick_limits() -> HttpLimits {
    HttpLimits {
        idle_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(800),
        ..HttpLimits::default()
    }
}

#[test]
fn head_parses_method_path_query_and_headers() {
    let h = parse_head(
        b"POST /a/b?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 5",
        100,
    )
    .unwrap();
    assert_eq!(h.request.method, "POST");
    assert_eq!(h.request.path, "/a/b");
    assert_eq!(h.request.query.as_deref(), Some("x=1"));
    assert_eq!(h.request.header("HOST"), Some("x"));
    assert_eq!(h.request.media_type().as_deref(), Some("application/json"));
    assert_eq!(h.content_length, 5);
}

#[test]
fn head_errors_map_to_statuses() {
    let cases: &[(&[u8], u16)] = &[
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked", 411),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3",
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4",
            400,
        ),
        (b"POST / HTTP/1.1\r\nContent-Length: -1", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 101", 413),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999",
            413,
        ),
        (b"GET / HTTP/2.0", 505),
        (b"GET /", 400),
        (b"GET  / HTTP/1.1", 400),
        (b"GET http://x/ HTTP/1.1", 400),
        (b"GET / HTTP/1.1\r\n folded: x", 400),
        (b"GET / HTTP/1.1\r\nno colon", 400),
        (b"G(T / HTTP/1.1", 400),
        (b"GET / HTTP/1.1\r\nX: \xff", 400),
    ];
    for (head, want) in cases {
        let got = parse_head(head, 100)
            .map(|_| ())
            .map_err(RequestError::status);
        assert_eq!(got, Err(*want), "{}", String::from_utf8_lossy(head));
    }
    let many: String = (0..=MAX_HEADERS).map(|i| format!("\r\nH{i}: v")).collect();
    let head = format!("GET / HTTP/1.1{many}");
    assert_eq!(parse_head(head.as_bytes(), 0).unwrap_err().status(), 431);
}

#[test]
fn serves_requests_over_a_socket() {
    let server = serve(local(), echo()).unwrap();
    let resp = exchange(
        server.local_addr(),
        b"POST /x?q HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(status(&resp), 200, "{resp}");
    assert_eq!(body(&resp), "POST /x Some(\"q\") hello\n");
    assert!(resp.contains("Connection: close\r\n"), "{resp}");
    assert!(resp.contains("Content-Length: 24\r\n"), "{resp}");

    // HEAD gets the headers only.
    let resp = exchange(server.local_addr(), b"HEAD / HTTP/1.0\r\n\r\n");
    assert_eq!(status(&resp), 200);
    assert_eq!(body(&resp), "");
}

#[test]
fn body_split_across_writes_is_assembled() {
    let server = serve(local(), echo()).unwrap();
    let mut s = TcpStream::connect(server.local_addr()).unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nContent-Le").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(b"ngth: 6\r\n\r").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(b"\nabc").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(b"def").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert_eq!(body(&out), "POST / None abcdef\n");
}

#[test]
fn expect_continue_is_answered() {
    let server = serve(local(), echo()).unwrap();
    let mut s = TcpStream::connect(server.local_addr()).unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 25];
    s.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"ok").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert_eq!(status(&out), 200);
}

#[test]
fn oversized_head_chunked_and_oversized_body_are_refused() {
    let server = serve(local(), echo()).unwrap();
    let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000));
    assert_eq!(status(&exchange(server.local_addr(), big.as_bytes())), 431);
    let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    assert_eq!(status(&exchange(server.local_addr(), chunked)), 411);
    let huge = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        (1 << 20) + 1
    );
    assert_eq!(status(&exchange(server.local_addr(), huge.as_bytes())), 413);
    // Exactly at the limit is fine.
    let limit = 1 << 20;
    let mut req = format!("POST / HTTP/1.1\r\nContent-Length: {limit}\r\n\r\n").into_bytes();
    req.extend(std::iter::repeat_n(b'z', limit));
    let resp = exchange(server.local_addr(), &req);
    assert_eq!(status(&resp), 200);
    assert_eq!(body(&resp).len(), "POST / None \n".len() + limit);
}

#[test]
fn silent_and_slow_clients_time_out() {
    let server = serve_with(local(), echo(), quick_limits()).unwrap();
    let started = Instant::now();
    // Sends part of a head, then nothing.
    let resp = exchange(server.local_addr(), b"GET / HTTP/1.1\r\n");
    assert_eq!(status(&resp), 408, "{resp}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Trickles a byte at a time, each within the idle timeout, past the request deadline.
    let mut s = TcpStream::connect(server.local_addr()).unwrap();
    let started = Instant::now();
    let mut refused = false;
    for b in b"GET / HTTP/1.1\r\nX-Slow: ".iter().cycle().take(200) {
        if s.write_all(&[*b]).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(refused || status(&out) == 408, "{out}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    let server = serve_with(
        local(),
        echo(),
        HttpLimits {
            workers: 1,
            ..HttpLimits::default()
        },
    )
    .unwrap();
    let resp = exchange(server.local_addr(), b"GET /panic HTTP/1.1\r\n\r\n");
    assert_eq!(status(&resp), 500);
    let resp = exchange(server.local_addr(), b"GET /ok HTTP/1.1\r\n\r\n");
    assert_eq!(status(&resp), 200);
}

#[test]
fn drop_stops_the_server_promptly() {
    let server = serve(local(), echo()).unwrap();
    let addr = server.local_addr();
    // A client that connected and sent nothing must not hold up shutdown.
    let _idle = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn response_headers_cannot_be_split() {
    let r = HttpResponse::empty(204).with_header("X-A", "1\r\nX-B: 2");
    let bytes = String::from_utf8(r.to_bytes(false)).unwrap();
    assert!(!bytes.contains("X-B"), "{bytes}");
    assert!(bytes.starts_with("HTTP/1.1 204 No Content\r\n"));
}
