//! End-to-end tests of the `paxeer-p2p` binary: keys, `rlpx listen` + `rlpx ping` across
//! runtimes, failures with a reason, and the devnet.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_paxeer-p2p"))
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// A child process whose stdout lines arrive on a channel; killed on drop.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Self {
        let mut child = bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Self { child, lines }
    }

    fn next(&self, event: &str) -> Value {
        loop {
            let v = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no {event} line"));
            if v["event"] == event {
                return v;
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn generated_key_file_is_private_and_inspects_to_the_same_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodekey");
    let out = bin()
        .args(["--json", "key", "generate", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let id = json_lines(&out.stdout)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let out = bin()
        .args(["--json", "key", "inspect", "--nodekey"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["id"], id.as_str());
    assert!(v["enode"]
        .as_str()
        .unwrap()
        .starts_with(&format!("enode://{id}@")));
}

#[test]
fn inspect_of_a_known_key_gives_the_known_id() {
    // rlpx_handshake.json static_key_a and its public key.
    let out = bin()
        .args([
            "--json",
            "key",
            "inspect",
            "--nodekeyhex",
            "49a7b37aa6f6645917e7b807e9d1c00d4fa71f18343b0d4122a4d2df64dd6fee",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        json_lines(&out.stdout)[0]["id"],
        "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877"
    );
    let bad = bin()
        .args(["key", "inspect", "--nodekeyhex", "abcd"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn enr_decode_reads_the_eip778_example_and_rejects_a_tampered_one() {
    // EIP-778 example record (enr.json eip778_example).
    let text = "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
    let out = bin()
        .args(["--json", "enr", "decode", text])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["seq"], 1);
    assert_eq!(
        v["node_id"],
        "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7"
    );
    assert_eq!(v["udp"], 30303);
    let mut tampered = text.to_string();
    tampered.replace_range(10..11, "A");
    let out = bin()
        .args(["--json", "enr", "decode", &tampered])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(json_lines(&out.stdout)[0]["signature_valid"], false);
}

#[test]
fn ping_and_listen_interoperate_across_runtimes() {
    for (listen_rt, ping_rt) in [("tokio", "smol"), ("smol", "tokio")] {
        let listener = Proc::spawn(&[
            "--json",
            "rlpx",
            "listen",
            "--port",
            "0",
            "--runtime",
            listen_rt,
        ]);
        let enode = listener.next("listening")["enode"]
            .as_str()
            .unwrap()
            .to_string();
        let out = bin()
            .args(["--json", "rlpx", "ping", &enode, "--runtime", ping_rt])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = json_lines(&out.stdout);
        let events: Vec<&str> = lines.iter().map(|v| v["event"].as_str().unwrap()).collect();
        assert_eq!(events, ["hello", "pong", "disconnect"]);
        assert!(lines[0]["client_id"]
            .as_str()
            .unwrap()
            .starts_with("paxeer-p2p/v"));
        assert_eq!(lines[0]["protocol_version"], 5);
        assert_eq!(
            lines[0]["caps"],
            serde_json::json!(["eth/68", "eth/69", "eth/70"])
        );
        assert!(lines[1]["rtt_ms"].as_f64().unwrap() >= 0.0);
        assert_eq!(lines[2]["reason_code"], 8);
        let hello = listener.next("hello");
        assert_eq!(hello["direction"], "inbound");
        let disc = listener.next("disconnect");
        assert_eq!(disc["reason_code"], 8);
        assert_eq!(disc["by"], "remote");
    }
}

#[test]
fn ping_to_a_closed_port_fails_with_a_reason() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let id = "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877";
    let out = bin()
        .args([
            "--json",
            "rlpx",
            "ping",
            &format!("enode://{id}@127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["event"], "error");
    assert!(v["message"].as_str().unwrap().contains("refused"), "{v}");
}

#[test]
fn ping_with_the_wrong_key_fails_in_the_handshake() {
    let listener = Proc::spawn(&["--json", "rlpx", "listen", "--port", "0"]);
    let enode = listener.next("listening")["enode"]
        .as_str()
        .unwrap()
        .to_string();
    // Same address, another node's key: the listener cannot decrypt our auth.
    let port = enode.rsplit(':').next().unwrap();
    let other = "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877";
    let out = bin()
        .args([
            "--json",
            "rlpx",
            "ping",
            &format!("enode://{other}@127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let failed = listener.next("handshake_failed");
    assert!(
        failed["error"].as_str().unwrap().contains("handshake"),
        "{failed}"
    );
}

#[test]
fn devnet_runs_and_reports_on_both_runtimes() {
    for rt in ["tokio", "smol"] {
        let out = bin()
            .args([
                "--json",
                "devnet",
                "--runtime",
                rt,
                "--nodes",
                "5",
                "--txs",
                "12",
                "--blocks",
                "2",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = json_lines(&out.stdout);
        assert_eq!(
            lines
                .iter()
                .filter(|v| v["event"] == "node_started")
                .count(),
            5
        );
        assert!(lines.iter().any(|v| v["event"] == "progress"));
        let summary = lines.iter().find(|v| v["event"] == "summary").unwrap();
        assert_eq!(summary["reached"], 5, "{summary}");
        let rows = summary["per_node"].as_array().unwrap();
        assert_eq!(rows.len(), 5);
        for r in rows {
            // Full mesh: 4 peers each, reached in time, and ping/1 traffic flowed.
            assert_eq!(r["peers"], 4, "{r}");
            assert!(r["reached_s"].as_f64().is_some(), "{r}");
            assert!(r["handshakes"].as_u64().unwrap() >= 4, "{r}");
            assert!(r["payload_bytes_in"].as_u64().unwrap() > 0, "{r}");
        }
        // Every injected transaction and block reached every node, with fewer duplicate
        // deliveries than flooding (each of 5 nodes sending each item to its 4 peers) costs.
        let t = &summary["traffic"];
        for (kind, n) in [("txs", 12), ("blocks", 2)] {
            assert_eq!(t[kind]["injected"], n, "{t}");
            assert_eq!(t[kind]["reached_all"], n, "{t}");
            assert!(t[kind]["p50_ms"].as_f64().is_some(), "{t}");
            assert!(
                t[kind]["duplicates_per_item"].as_f64().unwrap() < 16.0,
                "{t}"
            );
        }
    }
}

fn enode_of(listener: &Proc) -> String {
    listener.next("listening")["enode"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn discv4_commands_work_against_our_own_listeners() {
    let a = Proc::spawn(&["--json", "discv4", "listen", "--port", "0"]);
    let ea = enode_of(&a);
    let b = Proc::spawn(&[
        "--json",
        "discv4",
        "listen",
        "--port",
        "0",
        "--bootnodes",
        &ea,
        "--runtime",
        "smol",
    ]);
    let eb = enode_of(&b);
    let b_id = eb[8..136].to_string();
    // a learns b once b bonds with it.
    let added = a.next("node_added");
    assert_eq!(added["id"], b_id.as_str());

    for rt in ["tokio", "smol"] {
        let out = bin()
            .args(["--json", "discv4", "ping", &ea, "--runtime", rt])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(json_lines(&out.stdout)[0]["rtt_ms"].as_f64().unwrap() >= 0.0);

        let out = bin()
            .args(["--json", "discv4", "resolve", &eb, "--runtime", rt])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let rec = &json_lines(&out.stdout)[0];
        assert_eq!(rec["id"], b_id.as_str());
        assert_eq!(rec["ip"], "127.0.0.1");
    }

    let out = bin()
        .args([
            "--json",
            "discv4",
            "crawl",
            "--bootnodes",
            &ea,
            "--timeout",
            "3s",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines = json_lines(&out.stdout);
    let ids: Vec<&str> = lines
        .iter()
        .filter(|v| v["event"] == "node")
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&b_id.as_str()), "crawl found {ids:?}");
    assert!(lines.last().unwrap()["event"] == "crawl_done");
}

#[test]
fn discv4_netrestrict_keeps_nodes_outside_the_list_away() {
    let a = Proc::spawn(&[
        "--json",
        "discv4",
        "listen",
        "--port",
        "0",
        "--netrestrict",
        "10.0.0.0/8",
    ]);
    let ea = enode_of(&a);
    // A node on 127.0.0.1 is outside 10/8: `a` neither answers its ping nor adds it.
    let out = bin()
        .args(["--json", "discv4", "ping", &ea])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let bad = bin()
        .args([
            "--json",
            "discv4",
            "ping",
            &ea,
            "--netrestrict",
            "10.0.0.0/99",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(json_lines(&bad.stdout)[0]["message"]
        .as_str()
        .unwrap()
        .contains("netrestrict"));
}

#[test]
fn discv4_ping_of_a_silent_node_fails() {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let id = "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877";
    let out = bin()
        .args([
            "--json",
            "discv4",
            "ping",
            &format!("enode://{id}@127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(json_lines(&out.stdout)[0]["event"], "error");
}

#[cfg(unix)]
#[test]
fn discv4_listen_keeps_its_identity_across_sigint_and_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let dd = dir.path().join("data");
    let dd = dd.to_str().unwrap();
    let mut first = Proc::spawn(&["--json", "discv4", "listen", "--port", "0", "--datadir", dd]);
    let id1 = enode_of(&first)[8..136].to_string();
    // SIGINT: clean shutdown, database flushed, exit 0.
    let pid = first.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    first.next("stopped");
    assert!(first.child.wait().unwrap().success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("data/nodekey"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // kill -9 while running, then start again: the database opens and the key is the same.
    let mut second = Proc::spawn(&["--json", "discv4", "listen", "--port", "0", "--datadir", dd]);
    assert_eq!(enode_of(&second)[8..136], id1);
    second.child.kill().unwrap();
    let _ = second.child.wait();
    let third = Proc::spawn(&["--json", "discv4", "listen", "--port", "0", "--datadir", dd]);
    assert_eq!(enode_of(&third)[8..136], id1);
}

#[test]
fn discv4_listen_with_a_datadir_uses_an_explicit_key() {
    // rlpx_handshake.json static_key_a and its node id.
    let hex = "49a7b37aa6f6645917e7b807e9d1c00d4fa71f18343b0d4122a4d2df64dd6fee";
    let id = "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877";
    let dir = tempfile::tempdir().unwrap();
    let dd = dir.path().join("data");
    let dd = dd.to_str().unwrap();
    // The datadir first gets a key of its own; the explicit key still wins afterwards.
    let own = Proc::spawn(&["--json", "discv4", "listen", "--port", "0", "--datadir", dd]);
    assert_ne!(&enode_of(&own)[8..136], id);
    drop(own);
    let explicit = Proc::spawn(&[
        "--json",
        "discv4",
        "listen",
        "--port",
        "0",
        "--datadir",
        dd,
        "--nodekeyhex",
        hex,
    ]);
    assert_eq!(&enode_of(&explicit)[8..136], id);
}
