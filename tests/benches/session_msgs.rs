//! Messages per second through one established RLPx session over loopback TCP, on tokio and
//! on smol, next to plain TCP loopback carrying the same messages with a 4-byte length
//! prefix in the same run (`cargo bench -p paxeer-p2p-tests --bench
//! session_msgs`; figures and method in docs/benchmarks.md).
//!
//! One element is one message of 128 B or 1 KiB, sent by one side with `send` (each send is
//! a command to the session task, answered once the session has queued it) and counted as
//! a `Message` event on the other side. The session runs snappy (p2p v5) and the frame
//! cipher; the payloads are incompressible.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_lite::future::zip;
use paxeer_p2p_core::driver::HandleError;
use paxeer_p2p_core::p2p::CapId;
use paxeer_p2p_core::session::{SendError, SessionEvent};
use paxeer_p2p_tests::{
    accept, bind_local, config, connect_ok, on, payload, peer_id, sleep, Accepted, On, Runtime,
    SessionHandle, Smol, Tokio,
};

/// Message sizes measured.
const SIZES: [usize; 2] = [128, 1024];
/// How long a sender waits before retrying a send the session's queue refused.
const RETRY: Duration = Duration::from_micros(20);

/// Two established sessions of runtime `R` over loopback: (dialer, acceptor, eth's id).
fn pair<R: Runtime>(rt: &On<R>) -> (SessionHandle, SessionHandle, CapId) {
    rt.block_on(async {
        let mut listener = bind_local::<R>(Arc::new(config(2))).await;
        let addr = listener.local_addr();
        let (dialer, accepted) = zip(
            connect_ok::<R>(addr, peer_id(2), Arc::new(config(1))),
            accept::<R>(&mut listener, "the bench peer"),
        )
        .await;
        let Accepted::Established(acceptor) = accepted else {
            panic!("[{}] accept failed", R::NAME);
        };
        let eth = dialer.info().caps.find("eth").expect("eth negotiated");
        (dialer, acceptor, eth)
    })
}

/// Sends `n` messages of `size` bytes from `tx` and waits until `rx` has received them all.
async fn transfer<R: Runtime>(
    tx: &SessionHandle,
    rx: &mut SessionHandle,
    eth: CapId,
    n: u64,
    size: usize,
) {
    let body = payload(7, size);
    let send_all = async {
        for _ in 0..n {
            loop {
                match tx.send(eth, 1, body.clone()).await {
                    Ok(()) => break,
                    Err(HandleError::Refused(SendError::QueueFull)) => sleep::<R>(RETRY).await,
                    Err(e) => panic!("[{}] send: {e}", R::NAME),
                }
            }
        }
    };
    let receive_all = async {
        let mut got = 0;
        while got < n {
            match rx.next_event().await {
                Some(SessionEvent::Message { payload, .. }) => {
                    assert_eq!(payload.len(), size);
                    got += 1;
                }
                Some(_) => {}
                None => panic!("[{}] session ended after {got} of {n}", R::NAME),
            }
        }
    };
    zip(send_all, receive_all).await;
}

fn sessions<R: Runtime>(c: &mut Criterion) {
    let rt = on::<R>();
    let (tx, mut rx, eth) = pair(&rt);
    let mut g = c.benchmark_group(format!("session_msgs/{}", R::NAME));
    for size in SIZES {
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter_custom(|n| {
                let t = Instant::now();
                rt.block_on(transfer::<R>(&tx, &mut rx, eth, n, size));
                t.elapsed()
            });
        });
    }
    g.finish();
}

/// Plain TCP loopback, the bound: the same messages with a 4-byte length prefix, written by
/// one thread and read by another with blocking std sockets (64 KiB reads, no cipher).
fn plain_tcp(c: &mut Criterion) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut a = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (mut b, _) = l.accept().unwrap();
    a.set_nodelay(true).unwrap();
    let (want_tx, want_rx) = std::sync::mpsc::channel::<usize>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(total) = want_rx.recv() {
            let mut seen = 0;
            while seen < total {
                let got = b.read(&mut buf).unwrap();
                assert!(got > 0, "plain TCP closed early");
                seen += got;
            }
            done_tx.send(()).unwrap();
        }
    });
    let mut g = c.benchmark_group("session_msgs/plain_tcp");
    for size in SIZES {
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::from_parameter(size), |bn| {
            bn.iter_custom(|n| {
                let body = payload(7, size);
                let mut bytes = Vec::with_capacity((size + 4) * n as usize);
                for _ in 0..n {
                    bytes.extend_from_slice(&(size as u32).to_be_bytes());
                    bytes.extend_from_slice(&body);
                }
                let t = Instant::now();
                want_tx.send(bytes.len()).unwrap();
                a.write_all(&bytes).unwrap();
                done_rx.recv().unwrap();
                t.elapsed()
            });
        });
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    plain_tcp(c);
    sessions::<Tokio>(c);
    sessions::<Smol>(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = all
}
criterion_main!(benches);
