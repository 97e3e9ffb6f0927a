//! A minimal HTTP/1.1 server for the admin API and the metrics endpoint, on plain
//! `std::net` sockets and threads so it runs beside either async runtime.
//!
//! One thread accepts (non-blocking, polling a stop flag every [`ACCEPT_POLL`]) and hands
//! connections to a fixed pool of worker threads through a bounded queue; when the queue is
//! full the connection is closed at once. Each connection carries one request: the head is at
//! most [`HttpLimits::max_header_bytes`], the body is sized by `Content-Length` (chunked
//! transfer coding is refused) up to [`HttpLimits::max_body_bytes`], a client that sends
//! nothing for [`HttpLimits::idle_timeout`] or takes longer than
//! [`HttpLimits::request_timeout`] in all is dropped, and every response ends with
//! `Connection: close`. Memory is bounded by workers × (header + body limit).
//! Dropping the [`HttpServer`] stops it and joins its threads.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the accept thread checks the stop flag, and the read slice of workers.
pub const ACCEPT_POLL: Duration = Duration::from_millis(25);

/// Most header lines in a request.
const MAX_HEADERS: usize = 64;

/// Connections accepted but not yet taken by a worker.
const QUEUE_LEN: usize = 16;

/// A request handler: called on a worker thread, once per request.
pub type Handler = Arc<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

/// Limits of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Request line plus headers, in bytes (8 KiB).
    pub max_header_bytes: usize,
    /// Request body, in bytes (1 MiB).
    pub max_body_bytes: usize,
    /// Longest silence while reading a request (5 s).
    pub idle_timeout: Duration,
    /// Longest time to receive a whole request (10 s), against slow senders.
    pub request_timeout: Duration,
    /// Worker threads, hence requests served at once (4).
    pub workers: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_header_bytes: 8 * 1024,
            max_body_bytes: 1 << 20,
            idle_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            workers: 4,
        }
    }
}

/// A received request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method, as sent (`GET`, `POST`, …).
    pub method: String,
    /// Path without the query (`/metrics`).
    pub path: String,
    /// The query after `?`, if any.
    pub query: Option<String>,
    /// Header lines in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The first header named `name` (ASCII case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type of `Content-Type`, lowercased, without parameters (`application/json`).
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }
}

/// A response to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers besides `Content-Length` and `Connection`, which the server writes.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a `Content-Type`.
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    /// A `text/plain` response; a newline is appended.
    pub fn text(status: u16, message: &str) -> Self {
        Self::new(
            status,
            "text/plain; charset=utf-8",
            format!("{message}\n").into_bytes(),
        )
    }

    /// An `application/json` response.
    pub fn json(status: u16, body: Vec<u8>) -> Self {
        Self::new(status, "application/json", body)
    }

    /// A response without a body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Serializes status line, headers and body.
    fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (n, v) in &self.headers {
            // Handlers are ours, but never let a value split the header section.
            if n.contains(['\r', '\n', ':']) || v.contains(['\r', '\n']) {
                continue;
            }
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

/// The reason phrase of the status codes this server and its handlers use.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Why a request was refused before reaching the handler; each is answered with a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Malformed request line or headers.
    #[error("bad request: {0}")]
    Malformed(&'static str),
    /// Head larger than the limit.
    #[error("request header section too large")]
    HeadTooLarge,
    /// A body without `Content-Length` (e.g. chunked).
    #[error("Content-Length required (chunked transfer coding is not supported)")]
    LengthRequired,
    /// Body larger than the limit.
    #[error("request body too large")]
    BodyTooLarge,
    /// Not HTTP/1.0 or HTTP/1.1.
    #[error("HTTP version not supported")]
    Version,
    /// The client was too slow.
    #[error("request timeout")]
    Timeout,
}

impl RequestError {
    /// The status code answering this error.
    pub fn status(self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            Self::HeadTooLarge => 431,
            Self::LengthRequired => 411,
            Self::BodyTooLarge => 413,
            Self::Version => 505,
            Self::Timeout => 408,
        }
    }
}

/// A parsed request head and the body length it announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The request without its body.
    pub request: HttpRequest,
    /// `Content-Length` (0 when absent).
    pub content_length: usize,
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses a request head (request line and header lines, without the blank line that ends
/// it). Total on any input.
pub fn parse_head(head: &[u8], max_body_bytes: usize) -> Result<RequestHead, RequestError> {
    let text = std::str::from_utf8(head).map_err(|_| RequestError::Malformed("not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(RequestError::Malformed("request line"));
    };
    if !is_token(method) {
        return Err(RequestError::Malformed("method"));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(RequestError::Version);
    }
    if !target.starts_with('/') || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(RequestError::Malformed("request target"));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (target, None),
    };
    let mut headers = Vec::new();
    for line in lines {
        if headers.len() == MAX_HEADERS {
            return Err(RequestError::HeadTooLarge);
        }
        // Obsolete line folding (a line starting with whitespace) is refused, as RFC 9112
        // allows, and so is whitespace before the colon.
        let Some((name, value)) = line.split_once(':') else {
            return Err(RequestError::Malformed("header line"));
        };
        if !is_token(name) {
            return Err(RequestError::Malformed("header name"));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let request = HttpRequest {
        method: method.to_string(),
        path: path.to_string(),
        query,
        headers,
        body: Vec::new(),
    };
    let mut lengths = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.as_str());
    let first_length = lengths.next();
    if lengths.any(|v| Some(v) != first_length) {
        return Err(RequestError::Malformed("conflicting Content-Length"));
    }
    if request.header("transfer-encoding").is_some() {
        // With a Content-Length as well, the framing is ambiguous (request smuggling).
        return Err(match first_length {
            Some(_) => RequestError::Malformed("Transfer-Encoding with Content-Length"),
            None => RequestError::LengthRequired,
        });
    }
    let content_length = match first_length {
        None => 0,
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            match v.parse::<usize>() {
                Ok(n) if n <= max_body_bytes => n,
                _ => return Err(RequestError::BodyTooLarge),
            }
        }
        Some(_) => return Err(RequestError::Malformed("Content-Length")),
    };
    Ok(RequestHead {
        request,
        content_length,
    })
}

/// A running server; dropping it stops the server and joins its threads.
pub struct HttpServer {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl HttpServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets requests in progress finish (within the limits) and joins.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// Binds `addr` and serves `handler` with the default [`HttpLimits`].
pub fn serve(addr: SocketAddr, handler: Handler) -> io::Result<HttpServer> {
    serve_with(addr, handler, HttpLimits::default())
}

/// Binds `addr` and serves `handler` within `limits`.
pub fn serve_with(
    addr: SocketAddr,
    handler: Handler,
    limits: HttpLimits,
) -> io::Result<HttpServer> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::sync_channel::<TcpStream>(QUEUE_LEN);
    let rx = Arc::new(Mutex::new(rx));
    let mut threads = Vec::new();
    for i in 0..limits.workers.max(1) {
        let (rx, handler, worker_stop) = (rx.clone(), handler.clone(), stop.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("http-{}-{i}", local_addr.port()))
            .spawn(move || worker(&rx, &handler, &worker_stop, limits));
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                stop.store(true, Ordering::SeqCst);
                drop(tx);
                for t in threads {
                    let _ = t.join();
                }
                return Err(e);
            }
        }
    }
    let accept_stop = stop.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("http-{}-accept", local_addr.port()))
        .spawn(move || accept_loop(listener, tx, &accept_stop));
    let server = HttpServer {
        local_addr,
        stop,
        threads,
    };
    // On failure the server drops here, which stops and joins the workers.
    let accept = spawned?;
    let mut server = server;
    server.threads.push(accept);
    Ok(server)
}

fn accept_loop(listener: TcpListener, tx: SyncSender<TcpStream>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => match tx.try_send(stream) {
                Ok(()) => {}
                // Every worker is busy and the queue is full: close at once rather than
                // queue without bound.
                Err(TrySendError::Full(stream)) => {
                    let _ = stream.shutdown(Shutdown::Both);
                }
                Err(TrySendError::Disconnected(_)) => return,
            },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            // Per-connection failures (reset before accept, fd limits): wait and go on.
            Err(_) => std::thread::sleep(ACCEPT_POLL),
        }
    }
}

fn worker(
    rx: &Mutex<Receiver<TcpStream>>,
    handler: &Handler,
    stop: &AtomicBool,
    limits: HttpLimits,
) {
    loop {
        let next = match rx.lock() {
            Ok(rx) => rx.recv_timeout(ACCEPT_POLL),
            Err(_) => return,
        };
        match next {
            Ok(stream) => serve_connection(stream, handler, stop, limits),
            Err(mpsc::RecvTimeoutError::Timeout) if !stop.load(Ordering::SeqCst) => {}
            Err(_) => return,
        }
    }
}

fn serve_connection(
    mut stream: TcpStream,
    handler: &Handler,
    stop: &AtomicBool,
    limits: HttpLimits,
) {
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(ACCEPT_POLL)))
        .and_then(|()| stream.set_write_timeout(Some(limits.idle_timeout)));
    if setup.is_err() {
        return;
    }
    let _ = stream.set_nodelay(true);
    match read_request(&mut stream, stop, limits) {
        Ok(Some(req)) => {
            let head_only = req.method == "HEAD";
            let resp = catch_unwind(AssertUnwindSafe(|| handler(&req)))
                .unwrap_or_else(|_| HttpResponse::text(500, "internal error"));
            let _ = stream.write_all(&resp.to_bytes(head_only));
        }
        Ok(None) => {}
        Err(e) => {
            let resp = HttpResponse::text(e.status(), &e.to_string());
            let _ = stream.write_all(&resp.to_bytes(false));
            let _ = stream.shutdown(Shutdown::Write);
            drain(&mut stream);
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// Lingering close after refusing a request: reads and discards what the client is still
/// sending (briefly, and a bounded amount), so that closing with unread input does not reset
/// the connection before the client has read the error response.
fn drain(stream: &mut TcpStream) {
    const MAX_DRAIN_BYTES: usize = 256 * 1024;
    const MAX_DRAIN_TIME: Duration = Duration::from_millis(250);
    let started = Instant::now();
    let mut chunk = [0u8; 4096];
    let mut total = 0usize;
    while total < MAX_DRAIN_BYTES && started.elapsed() < MAX_DRAIN_TIME {
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => total += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return,
        }
    }
}

/// Reads one request; `Ok(None)` when the client left or the server is stopping.
fn read_request(
    stream: &mut TcpStream,
    stop: &AtomicBool,
    limits: HttpLimits,
) -> Result<Option<HttpRequest>, RequestError> {
    let started = Instant::now();
    let mut last_progress = started;
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut head: Option<(RequestHead, usize)> = None;
    let mut scanned = 0usize;
    let mut continued = false;
    loop {
        if head.is_none() {
            let found = find_head_end(buf.get(scanned..).unwrap_or_default()).map(|i| i + scanned);
            // The terminator may straddle two reads: rescan the last three bytes next time.
            scanned = buf.len().saturating_sub(3);
            if let Some(end) = found {
                let parsed = parse_head(buf.get(..end).unwrap_or_default(), limits.max_body_bytes)?;
                head = Some((parsed, end + 4));
            } else if buf.len() > limits.max_header_bytes {
                return Err(RequestError::HeadTooLarge);
            }
        }
        if let Some((h, body_start)) = &head {
            // curl waits for this before sending a large body.
            let expects = h.request.header("expect");
            if !continued
                && h.content_length > 0
                && buf.len() == *body_start
                && expects.is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            {
                continued = true;
                let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            if buf.len() >= body_start + h.content_length {
                let body = buf
                    .get(*body_start..body_start + h.content_length)
                    .unwrap_or_default()
                    .to_vec();
                let mut request = h.request.clone();
                request.body = body;
                return Ok(Some(request));
            }
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let now = Instant::now();
        if now.duration_since(last_progress) >= limits.idle_timeout
            || now.duration_since(started) >= limits.request_timeout
        {
            return Err(RequestError::Timeout);
        }
        // Never read past what the head (or, before it is complete, the head limit) allows.
        let want = match &head {
            Some((h, body_start)) => body_start + h.content_length - buf.len(),
            None => limits.max_header_bytes + 4 + 1 - buf.len().min(limits.max_header_bytes + 4),
        };
        let n = want.clamp(1, chunk.len());
        match stream.read(chunk.get_mut(..n).unwrap_or_default()) {
            Ok(0) => return Ok(None),
            Ok(k) => {
                buf.extend_from_slice(chunk.get(..k).unwrap_or_default());
                last_progress = Instant::now();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return Ok(None),
        }
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

#[cfg(test)]
mod tests;
