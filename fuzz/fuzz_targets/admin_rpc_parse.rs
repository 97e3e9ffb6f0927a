//! The admin API on arbitrary bytes: `parse_request`, the dispatcher over a fake backend and
//! the HTTP handler never panic; every response is a JSON-RPC object or a non-empty batch no
//! longer than the request's; the HTTP head parser is total too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_node::admin::http::{parse_head, HttpRequest};
use paxeer_p2p_node::admin::rpc::{self, AdminBackend, RpcCall, MAX_BATCH};
use serde_json::{json, Value};

struct Fake;

impl AdminBackend for Fake {
    fn node_info(&self) -> Value {
        json!({ "name": "fuzz" })
    }
    fn peers(&self) -> Value {
        json!([])
    }
    fn add_peer(&self, enode: &str) -> Result<bool, String> {
        // The dispatcher only passes enode URLs that parse.
        assert!(enode.parse::<paxeer_p2p_core::enode::Enode>().is_ok());
        Ok(true)
    }
    fn remove_peer(&self, enode: &str) -> Result<bool, String> {
        Err(format!("not a peer: {enode}"))
    }
    fn add_trusted_peer(&self, _: &str) -> Result<bool, String> {
        Ok(false)
    }
    fn remove_trusted_peer(&self, _: &str) -> Result<bool, String> {
        Err(String::new())
    }
    fn peer_count(&self) -> usize {
        usize::MAX
    }
    fn listening(&self) -> bool {
        false
    }
    fn discovery_nodes(&self) -> Value {
        json!([])
    }
    fn send_raw_transaction(&self, raw: Vec<u8>) -> Result<[u8; 32], String> {
        // The dispatcher bounds the decoded argument.
        assert!(raw.len() <= 5 * 1024 * 1024);
        Err("refused".into())
    }
    fn pooled_transaction(&self, _: [u8; 32]) -> Value {
        Value::Null
    }
}

fn check_response(v: &Value) {
    let obj = v.as_object().expect("a response is an object");
    assert_eq!(obj.get("jsonrpc"), Some(&json!("2.0")));
    assert!(obj.contains_key("id"));
    assert!(obj.contains_key("result") != obj.contains_key("error"));
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_head(data, 1 << 20);

    let parsed = rpc::parse_request(data);
    let resp = rpc::handle_body(&Fake, data);
    match (&parsed, &resp) {
        (Err(e), Some(v)) => assert_eq!(&e.to_json(), v),
        (Err(_), None) => panic!("a refused body is answered"),
        (Ok(RpcCall::Single(_)), Some(v)) => check_response(v),
        (Ok(RpcCall::Batch(entries)), Some(v)) => {
            let arr = v.as_array().expect("a batch is answered by an array");
            assert!(!arr.is_empty() && arr.len() <= entries.len() && arr.len() <= MAX_BATCH);
            arr.iter().for_each(check_response);
        }
        (Ok(_), None) => {}
    }

    let req = HttpRequest {
        method: "POST".into(),
        path: "/".into(),
        query: None,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: data.to_vec(),
    };
    let http = rpc::handle_http(&Fake, &req);
    assert!(http.status == 200 || http.status == 204);
});
