use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::*;
use crate::admin::http::serve;
use crate::admin::test_util::{body, exchange, post_json, status};

const ID: &str = "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877";

fn enode(host: &str) -> String {
    format!("enode://{ID}@{host}:30303")
}

#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn record(&self, what: &str, enode: &str) -> Result<bool, String> {
        self.calls.lock().unwrap().push(format!("{what} {enode}"));
        if enode.contains("10.0.0.99") {
            Err("peer refused".into())
        } else {
            Ok(true)
        }
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl AdminBackend for Fake {
    fn node_info(&self) -> Value {
        json!({ "name": "fake" })
    }
    fn peers(&self) -> Value {
        json!([{ "id": "a" }])
    }
    fn add_peer(&self, e: &str) -> Result<bool, String> {
        self.record("add", e)
    }
    fn remove_peer(&self, e: &str) -> Result<bool, String> {
        self.record("remove", e)
    }
    fn add_trusted_peer(&self, e: &str) -> Result<bool, String> {
        self.record("trust", e)
    }
    fn remove_trusted_peer(&self, e: &str) -> Result<bool, String> {
        self.record("untrust", e)
    }
    fn peer_count(&self) -> usize {
        42
    }
    fn listening(&self) -> bool {
        true
    }
    fn discovery_nodes(&self) -> Value {
        json!([{ "enode": "enode://x" }])
    }
    fn send_raw_transaction(&self, raw: Vec<u8>) -> Result<[u8; 32], String> {
        match raw.first() {
            Some(&b) => Ok([b; 32]),
            None => Err("empty transaction".into()),
        }
    }
    fn pooled_transaction(&self, hash: [u8; 32]) -> Value {
        if hash == [7; 32] {
            json!({ "hash": "0x07" })
        } else {
            Value::Null
        }
    }
}

#[test]
fn transaction_methods_decode_their_hex_arguments() {
    let f = Fake::default();
    let ok = run(
        &f,
        r#"{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x0102"]}"#,
    )
    .unwrap();
    assert_eq!(ok["result"], format!("0x{}", "01".repeat(32)));
    let refused = run(
        &f,
        r#"{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x"]}"#,
    )
    .unwrap();
    assert_eq!(refused["error"]["message"], "empty transaction");
    for bad in [r#"["0102"]"#, r#"["0xzz"]"#, r#"[1]"#, r#"[]"#] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":{bad}}}"#
        );
        assert_eq!(
            error_code(&run(&f, &body).unwrap()),
            codes::INVALID_PARAMS,
            "{bad}"
        );
    }
    let known = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionByHash","params":["0x{}"]}}"#,
        "07".repeat(32)
    );
    assert_eq!(run(&f, &known).unwrap()["result"]["hash"], "0x07");
    let unknown = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionByHash","params":["0x{}"]}}"#,
        "08".repeat(32)
    );
    assert_eq!(run(&f, &unknown).unwrap()["result"], Value::Null);
    let short =
        r#"{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionByHash","params":["0x0707"]}"#;
    assert_eq!(error_code(&run(&f, short).unwrap()), codes::INVALID_PARAMS);
}

fn run(fake: &Fake, body: &str) -> Option<Value> {
    handle_body(fake, body.as_bytes())
}

fn error_code(v: &Value) -> i64 {
    v["error"]["code"].as_i64().unwrap()
}

#[test]
fn methods_return_geth_shaped_results() {
    let f = Fake::default();
    let cases = [
        ("admin_nodeInfo", json!([]), json!({ "name": "fake" })),
        ("admin_peers", Value::Null, json!([{ "id": "a" }])),
        ("net_peerCount", json!([]), json!("0x2a")),
        ("net_listening", json!([]), json!(true)),
        (
            "admin_discoveryNodes",
            json!([]),
            json!([{ "enode": "enode://x" }]),
        ),
        ("admin_addPeer", json!([enode("10.0.0.1")]), json!(true)),
        ("admin_removePeer", json!([enode("10.0.0.1")]), json!(true)),
        (
            "admin_addTrustedPeer",
            json!([enode("10.0.0.2")]),
            json!(true),
        ),
        (
            "admin_removeTrustedPeer",
            json!([enode("10.0.0.2")]),
            json!(true),
        ),
    ];
    for (i, (method, params, want)) in cases.into_iter().enumerate() {
        let req = json!({ "jsonrpc": "2.0", "id": i, "method": method, "params": params });
        let resp = run(&f, &req.to_string()).unwrap();
        assert_eq!(
            resp,
            json!({ "jsonrpc": "2.0", "id": i, "result": want }),
            "{method}"
        );
    }
    assert_eq!(
        f.calls(),
        [
            format!("add {}", enode("10.0.0.1")),
            format!("remove {}", enode("10.0.0.1")),
            format!("trust {}", enode("10.0.0.2")),
            format!("untrust {}", enode("10.0.0.2")),
        ]
    );
}

#[test]
fn ids_are_echoed_whatever_their_type() {
    let f = Fake::default();
    for id in [json!("abc"), json!(7), json!(-1.5), Value::Null] {
        let req = json!({ "jsonrpc": "2.0", "id": id, "method": "net_listening" });
        assert_eq!(run(&f, &req.to_string()).unwrap()["id"], id);
    }
}

#[test]
fn parse_errors_and_invalid_requests_have_their_codes() {
    let f = Fake::default();
    let cases = [
        ("{", codes::PARSE_ERROR),
        ("", codes::PARSE_ERROR),
        ("[]", codes::INVALID_REQUEST),
        ("42", codes::INVALID_REQUEST),
        (
            r#"{"id":1,"method":"net_listening"}"#,
            codes::INVALID_REQUEST,
        ),
        (
            r#"{"jsonrpc":"1.0","id":1,"method":"net_listening"}"#,
            codes::INVALID_REQUEST,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":5}"#,
            codes::INVALID_REQUEST,
        ),
        (
            r#"{"jsonrpc":"2.0","id":{},"method":"net_listening"}"#,
            codes::INVALID_REQUEST,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"net_listening","params":3}"#,
            codes::INVALID_REQUEST,
        ),
    ];
    for (body, code) in cases {
        let resp = run(&f, body).unwrap();
        assert_eq!(error_code(&resp), code, "{body}: {resp}");
    }
    // The id is echoed when it could be read.
    let resp = run(&f, r#"{"jsonrpc":"1.0","id":"x","method":"m"}"#).unwrap();
    assert_eq!(resp["id"], "x");
    let deep = "[".repeat(10_000);
    assert_eq!(error_code(&run(&f, &deep).unwrap()), codes::PARSE_ERROR);
}

#[test]
fn unknown_methods_and_bad_params_have_their_codes() {
    let f = Fake::default();
    let call = |method: &str, params: Value| {
        let req = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        run(&f, &req.to_string()).unwrap()
    };
    let resp = call("admin_startHTTP", json!([]));
    assert_eq!(error_code(&resp), codes::METHOD_NOT_FOUND);
    assert!(resp["error"]["message"]
        .as_str()
        .unwrap()
        .contains("admin_startHTTP"));
    let long = "m".repeat(5000);
    let msg = call(&long, json!([]))["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.len() < 200, "long method names are not echoed whole");

    for (method, params) in [
        ("admin_addPeer", json!([])),
        ("admin_addPeer", Value::Null),
        ("admin_addPeer", json!([1])),
        ("admin_addPeer", json!(["enode://nope"])),
        ("admin_addPeer", json!([enode("10.0.0.1"), "extra"])),
        ("admin_addPeer", json!({ "enode": enode("10.0.0.1") })),
        (
            "admin_removeTrustedPeer",
            json!([format!("{}{}", enode("1.2.3.4"), "x".repeat(600))]),
        ),
        ("net_peerCount", json!([1])),
        ("admin_nodeInfo", json!({})),
    ] {
        let resp = call(method, params.clone());
        assert_eq!(
            error_code(&resp),
            codes::INVALID_PARAMS,
            "{method} {params}: {resp}"
        );
    }
    assert!(
        f.calls().is_empty(),
        "invalid params never reach the backend"
    );

    let resp = call("admin_addPeer", json!([enode("10.0.0.99")]));
    assert_eq!(error_code(&resp), codes::SERVER_ERROR);
    assert_eq!(resp["error"]["message"], "peer refused");
}

#[test]
fn batches_answer_each_call_and_skip_notifications() {
    let f = Fake::default();
    let body = json!([
        { "jsonrpc": "2.0", "id": 1, "method": "net_peerCount" },
        { "jsonrpc": "2.0", "method": "admin_addPeer", "params": [enode("10.0.0.5")] },
        { "jsonrpc": "2.0", "id": 2, "method": "nope" },
        17,
    ]);
    let resp = run(&f, &body.to_string()).unwrap();
    let arr = resp.as_array().unwrap();
    assert_eq!(arr.len(), 3);
    assert_eq!(arr[0]["result"], "0x2a");
    assert_eq!(error_code(&arr[1]), codes::METHOD_NOT_FOUND);
    assert_eq!(error_code(&arr[2]), codes::INVALID_REQUEST);
    assert_eq!(arr[2]["id"], Value::Null);
    assert_eq!(f.calls().len(), 1, "the notification ran");

    let only_notes = json!([{ "jsonrpc": "2.0", "method": "net_listening" }]);
    assert_eq!(run(&f, &only_notes.to_string()), None);
    assert_eq!(
        run(&f, r#"{"jsonrpc":"2.0","method":"net_listening"}"#),
        None
    );

    let big: Vec<Value> = (0..=MAX_BATCH)
        .map(|i| json!({ "jsonrpc": "2.0", "id": i, "method": "net_listening" }))
        .collect();
    let resp = run(&f, &Value::Array(big.clone()).to_string()).unwrap();
    assert_eq!(error_code(&resp), codes::INVALID_REQUEST);
    let resp = run(&f, &Value::Array(big[..MAX_BATCH].to_vec()).to_string()).unwrap();
    assert_eq!(resp.as_array().unwrap().len(), MAX_BATCH);
}

fn http_req(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        path: path.into(),
        query: None,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn http_rules() {
    let f = Fake::default();
    let ok_body = r#"{"jsonrpc":"2.0","id":1,"method":"net_listening"}"#;
    let json_ct = ("Content-Type", "application/json; charset=UTF-8");
    let r = handle_http(&f, &http_req("POST", "/", &[json_ct], ok_body));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = handle_http(&f, &http_req("GET", "/", &[], ""));
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    assert_eq!(
        handle_http(&f, &http_req("OPTIONS", "/", &[], "")).status,
        405
    );
    assert_eq!(
        handle_http(&f, &http_req("POST", "/x", &[json_ct], ok_body)).status,
        404
    );
    assert_eq!(
        handle_http(&f, &http_req("POST", "/", &[], ok_body)).status,
        415
    );
    let text = ("Content-Type", "text/plain");
    assert_eq!(
        handle_http(&f, &http_req("POST", "/", &[text], ok_body)).status,
        415
    );
    let origin = ("Origin", "https://evil.example");
    assert_eq!(
        handle_http(&f, &http_req("POST", "/", &[json_ct, origin], ok_body)).status,
        403
    );
    let note = r#"{"jsonrpc":"2.0","method":"net_listening"}"#;
    assert_eq!(
        handle_http(&f, &http_req("POST", "/", &[json_ct], note)).status,
        204
    );
    let r = handle_http(&f, &http_req("POST", "/", &[json_ct], "{"));
    assert_eq!(r.status, 200, "JSON-RPC errors travel in a 200 response");
}

#[test]
fn admin_api_over_a_loopback_socket() {
    let fake = Arc::new(Fake::default());
    let backend = fake.clone();
    let server = serve(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(move |req: &HttpRequest| handle_http(backend.as_ref(), req)),
    )
    .unwrap();
    let add = json!({ "jsonrpc": "2.0", "id": "a", "method": "admin_addPeer", "params": [enode("10.0.0.7")] });
    let resp = exchange(server.local_addr(), &post_json("/", &add.to_string()));
    assert_eq!(status(&resp), 200, "{resp}");
    let v: Value = serde_json::from_str(body(&resp)).unwrap();
    assert_eq!(v, json!({ "jsonrpc": "2.0", "id": "a", "result": true }));
    assert_eq!(fake.calls().len(), 1);

    let count = r#"{"jsonrpc":"2.0","id":2,"method":"net_peerCount"}"#;
    let resp = exchange(server.local_addr(), &post_json("/", count));
    let v: Value = serde_json::from_str(body(&resp)).unwrap();
    assert_eq!(v["result"], "0x2a");

    let resp = exchange(
        server.local_addr(),
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert_eq!(status(&resp), 405);
}
