//! The operator's admin interface: a small HTTP/1.1 server on std threads ([`http`]) and the
//! JSON-RPC 2.0 admin API served through it ([`rpc`]). Neither depends on an async runtime,
//! so the daemon uses them the same way under tokio and smol.

pub mod http;
pub mod rpc;

pub use http::{serve, serve_with, Handler, HttpLimits, HttpRequest, HttpResponse, HttpServer};
pub use rpc::{handle_http, parse_request, AdminBackend, RpcCall, RpcError, RpcRequest};

#[cfg(test)]
pub(crate) mod test_util;
