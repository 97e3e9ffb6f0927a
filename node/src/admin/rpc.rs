//! The admin API: JSON-RPC 2.0 over HTTP POST, with go-ethereum's method names
//! (`admin_nodeInfo`, `admin_peers`, `admin_addPeer`, `admin_removePeer`,
//! `admin_addTrustedPeer`, `admin_removeTrustedPeer`, `net_peerCount`, `net_listening`).
//!
//! The daemon implements [`AdminBackend`] over the running host; this module only parses,
//! validates and dispatches. Single requests and batches (at most [`MAX_BATCH`] entries) are
//! accepted; notifications (no `id`) run but get no response.
//!
//! HTTP rules, stricter than go-ethereum's defaults on purpose, because the API changes the
//! node's peers and has no authentication:
//! - only `POST /` is served; other methods get 405 (so CORS preflights fail), other paths 404;
//! - the body must be declared `application/json` (parameters such as `charset` are allowed),
//!   else 415: browsers cannot send that type cross-site without a preflight;
//! - a request carrying an `Origin` header (which browsers add to every POST) is refused with
//!   403, which also defeats DNS rebinding. curl and other clients send no `Origin`.

use serde_json::{json, Value};

use super::http::{HttpRequest, HttpResponse};
use paxeer_p2p_core::enode::Enode;

/// Most calls in one batch (go-ethereum's default `BatchRequestLimit` is 1000; an operator
/// API needs far fewer).
pub const MAX_BATCH: usize = 100;

/// Longest enode argument accepted, in bytes (a real one is under 200).
pub const MAX_ENODE_ARG_BYTES: usize = 512;

/// Longest text from the request echoed in an error message, in characters.
const MAX_ECHO_CHARS: usize = 64;

/// Longest backend error message passed on, in characters.
const MAX_BACKEND_MESSAGE_CHARS: usize = 512;

/// JSON-RPC 2.0 error codes.
pub mod codes {
    /// The body is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON is not a valid request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Wrong number or type of parameters.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The method ran and failed (go-ethereum's default application error code).
    pub const SERVER_ERROR: i64 = -32000;
}

/// The node operations the admin API reaches; implemented by the daemon over its host.
/// Calls come from the HTTP server's worker threads.
pub trait AdminBackend: Send + Sync {
    /// This node: id, enode, ENR, listening ports, protocols (geth's `admin_nodeInfo` shape).
    fn node_info(&self) -> Value;
    /// The connected peers (geth's `admin_peers` shape: an array).
    fn peers(&self) -> Value;
    /// Adds a static peer; `Ok(true)` when accepted.
    fn add_peer(&self, enode: &str) -> Result<bool, String>;
    /// Removes a static peer and disconnects it.
    fn remove_peer(&self, enode: &str) -> Result<bool, String>;
    /// Marks a node trusted (admitted even when full).
    fn add_trusted_peer(&self, enode: &str) -> Result<bool, String>;
    /// Removes a node from the trusted set.
    fn remove_trusted_peer(&self, enode: &str) -> Result<bool, String>;
    /// Number of connected peers.
    fn peer_count(&self) -> usize;
    /// Whether the node accepts inbound connections.
    fn listening(&self) -> bool;
    /// `admin_discoveryNodes`: the nodes in the discovery table, each with its enode URL and
    /// its ENR when one was fetched (EIP-868); an empty list without discovery.
    fn discovery_nodes(&self) -> Value;
    /// `eth_sendRawTransaction`: offers a signed transaction in its network encoding to the
    /// pool, which propagates it when accepted; its hash, or why it was refused.
    fn send_raw_transaction(&self, raw: Vec<u8>) -> Result<[u8; 32], String>;
    /// `eth_getTransactionByHash`, answered from the pool: a summary of the pooled
    /// transaction (`hash`, `type`, `from`), or `null`.
    fn pooled_transaction(&self, hash: [u8; 32]) -> Value;
}

/// A JSON-RPC error, with the id of the request it answers (`null` when unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The request id, echoed.
    pub id: Value,
    /// One of [`codes`].
    pub code: i64,
    /// What went wrong.
    pub message: String,
}

impl RpcError {
    fn new(id: Value, code: i64, message: impl Into<String>) -> Self {
        Self {
            id,
            code,
            message: message.into(),
        }
    }

    /// The response object.
    pub fn to_json(&self) -> Value {
        json!({
            "jsonrpc": "2.0",
            "id": self.id,
            "error": { "code": self.code, "message": self.message },
        })
    }
}

/// One well-formed request.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcRequest {
    /// `None` for a notification; otherwise a string, number or `null`.
    pub id: Option<Value>,
    /// The method name.
    pub method: String,
    /// `params`, when present and not `null`: an array or an object.
    pub params: Option<Value>,
}

/// What a body holds.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcCall {
    /// One request.
    Single(RpcRequest),
    /// A batch: each entry is a request or the error answering a malformed entry.
    Batch(Vec<Result<RpcRequest, RpcError>>),
}

fn echo(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_ECHO_CHARS).collect();
    if s.chars().nth(MAX_ECHO_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Parses a request body. `Err` is the single error response for the whole body: not JSON
/// (-32700), not a request object, an empty or oversized batch (-32600).
pub fn parse_request(body: &[u8]) -> Result<RpcCall, RpcError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RpcError::new(Value::Null, codes::PARSE_ERROR, format!("parse error: {e}")))?;
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(RpcError::new(
                    Value::Null,
                    codes::INVALID_REQUEST,
                    "empty batch",
                ));
            }
            if items.len() > MAX_BATCH {
                return Err(RpcError::new(
                    Value::Null,
                    codes::INVALID_REQUEST,
                    format!("batch too large: at most {MAX_BATCH} calls"),
                ));
            }
            Ok(RpcCall::Batch(items.into_iter().map(parse_one).collect()))
        }
        other => parse_one(other).map(RpcCall::Single),
    }
}

fn parse_one(value: Value) -> Result<RpcRequest, RpcError> {
    let Value::Object(mut obj) = value else {
        return Err(RpcError::new(
            Value::Null,
            codes::INVALID_REQUEST,
            "invalid request: want an object",
        ));
    };
    let id = match obj.remove("id") {
        None => None,
        Some(v @ (Value::Null | Value::Number(_) | Value::String(_))) => Some(v),
        Some(_) => {
            return Err(RpcError::new(
                Value::Null,
                codes::INVALID_REQUEST,
                "invalid request: id must be a string, number or null",
            ))
        }
    };
    let reply_id = id.clone().unwrap_or(Value::Null);
    let invalid = |msg: &str| RpcError::new(reply_id.clone(), codes::INVALID_REQUEST, msg);
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid("invalid request: jsonrpc must be \"2.0\""));
    }
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        _ => return Err(invalid("invalid request: method must be a string")),
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => None,
        Some(p @ (Value::Array(_) | Value::Object(_))) => Some(p),
        Some(_) => {
            return Err(invalid(
                "invalid request: params must be an array or object",
            ))
        }
    };
    Ok(RpcRequest { id, method, params })
}

fn invalid_params(msg: impl Into<String>) -> (i64, String) {
    (codes::INVALID_PARAMS, msg.into())
}

/// Positional arguments; named (object) parameters are not supported, as in go-ethereum.
fn positional(params: &Option<Value>, max: usize) -> Result<&[Value], (i64, String)> {
    let args: &[Value] = match params {
        None => &[],
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid_params("params must be an array")),
    };
    if args.len() > max {
        return Err(invalid_params(format!(
            "too many arguments, want at most {max}"
        )));
    }
    Ok(args)
}

/// The single enode URL argument, checked to parse before the backend sees it.
fn enode_arg(params: &Option<Value>) -> Result<&str, (i64, String)> {
    let args = positional(params, 1)?;
    let Some(first) = args.first() else {
        return Err(invalid_params("missing value for required argument 0"));
    };
    let Some(s) = first.as_str() else {
        return Err(invalid_params(
            "invalid argument 0: want an enode URL string",
        ));
    };
    if s.len() > MAX_ENODE_ARG_BYTES {
        return Err(invalid_params("invalid argument 0: enode URL too long"));
    }
    s.parse::<Enode>()
        .map_err(|e| invalid_params(format!("invalid argument 0: invalid enode: {e}")))?;
    Ok(s)
}

/// Largest raw transaction `eth_sendRawTransaction` takes: a blob transaction with six
/// blobs and their cell proofs (go-ethereum's RPC body limit is 5 MiB).
const MAX_RAW_TX_BYTES: usize = 5 * 1024 * 1024;

/// The single `0x`-hex argument, decoded, of at most `max` bytes.
fn hex_arg(params: &Option<Value>, max: usize) -> Result<Vec<u8>, (i64, String)> {
    let args = positional(params, 1)?;
    let Some(s) = args.first().and_then(Value::as_str) else {
        return Err(invalid_params(
            "invalid argument 0: want a 0x-prefixed hex string",
        ));
    };
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| invalid_params("invalid argument 0: hex string without 0x prefix"))?;
    if digits.len() > 2 * max {
        return Err(invalid_params("invalid argument 0: too long"));
    }
    hex::decode(digits).map_err(|_| invalid_params("invalid argument 0: invalid hex"))
}

fn backend_result(r: Result<bool, String>) -> Result<Value, (i64, String)> {
    r.map(Value::Bool).map_err(|e| {
        let mut msg: String = e.chars().take(MAX_BACKEND_MESSAGE_CHARS).collect();
        if msg.is_empty() {
            msg.push_str("failed");
        }
        (codes::SERVER_ERROR, msg)
    })
}

/// Runs one request against the backend: the `result` value, or an error code and message.
pub fn call_method(backend: &dyn AdminBackend, req: &RpcRequest) -> Result<Value, (i64, String)> {
    let p = &req.params;
    match req.method.as_str() {
        "admin_nodeInfo" => positional(p, 0).map(|_| backend.node_info()),
        "admin_peers" => positional(p, 0).map(|_| backend.peers()),
        "admin_addPeer" => backend_result(backend.add_peer(enode_arg(p)?)),
        "admin_removePeer" => backend_result(backend.remove_peer(enode_arg(p)?)),
        "admin_addTrustedPeer" => backend_result(backend.add_trusted_peer(enode_arg(p)?)),
        "admin_removeTrustedPeer" => backend_result(backend.remove_trusted_peer(enode_arg(p)?)),
        // A hex quantity, as go-ethereum's hexutil.Uint: "0x0", "0x2a".
        "net_peerCount" => {
            positional(p, 0).map(|_| Value::String(format!("{:#x}", backend.peer_count())))
        }
        "net_listening" => positional(p, 0).map(|_| Value::Bool(backend.listening())),
        "admin_discoveryNodes" => positional(p, 0).map(|_| backend.discovery_nodes()),
        "eth_sendRawTransaction" => {
            let raw = hex_arg(p, MAX_RAW_TX_BYTES)?;
            backend
                .send_raw_transaction(raw)
                .map(|h| Value::String(format!("0x{}", hex::encode(h))))
                .map_err(|e| {
                    let msg: String = e.chars().take(MAX_BACKEND_MESSAGE_CHARS).collect();
                    (codes::SERVER_ERROR, msg)
                })
        }
        "eth_getTransactionByHash" => {
            let raw = hex_arg(p, 32)?;
            let hash: [u8; 32] = raw
                .try_into()
                .map_err(|_| invalid_params("invalid argument 0: want a 32-byte hash"))?;
            Ok(backend.pooled_transaction(hash))
        }
        other => Err((
            codes::METHOD_NOT_FOUND,
            format!("the method {} does not exist/is not available", echo(other)),
        )),
    }
}

/// Runs a request; its response object, or `None` for a notification.
fn respond(backend: &dyn AdminBackend, req: &RpcRequest) -> Option<Value> {
    let result = call_method(backend, req);
    let id = req.id.clone()?;
    Some(match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err((code, message)) => RpcError::new(id, code, message).to_json(),
    })
}

/// Runs a parsed call; the response (an object, or an array for a batch), or `None` when
/// every call was a notification.
pub fn dispatch(backend: &dyn AdminBackend, call: &RpcCall) -> Option<Value> {
    match call {
        RpcCall::Single(req) => respond(backend, req),
        RpcCall::Batch(entries) => {
            let out: Vec<Value> = entries
                .iter()
                .filter_map(|e| match e {
                    Ok(req) => respond(backend, req),
                    Err(err) => Some(err.to_json()),
                })
                .collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
    }
}

/// Parses and runs a body; the response, or `None` when there is nothing to answer.
pub fn handle_body(backend: &dyn AdminBackend, body: &[u8]) -> Option<Value> {
    match parse_request(body) {
        Ok(call) => dispatch(backend, &call),
        Err(e) => Some(e.to_json()),
    }
}

/// The HTTP handler of the admin API (see the module docs for the HTTP rules).
pub fn handle_http(backend: &dyn AdminBackend, req: &HttpRequest) -> HttpResponse {
    if req.method != "POST" {
        return HttpResponse::text(405, "method not allowed: use POST")
            .with_header("Allow", "POST");
    }
    if req.path != "/" {
        return HttpResponse::text(404, "not found: the admin API is served at /");
    }
    if req.header("origin").is_some() {
        return HttpResponse::text(403, "requests from browsers are refused");
    }
    match req.media_type().as_deref() {
        Some("application/json") => {}
        _ => {
            return HttpResponse::text(
                415,
                "unsupported media type: use Content-Type: application/json",
            )
        }
    }
    match handle_body(backend, &req.body) {
        Some(v) => HttpResponse::json(200, serde_json::to_vec(&v).unwrap_or_default()),
        None => HttpResponse::empty(204),
    }
}

#[cfg(test)]
mod tests;
