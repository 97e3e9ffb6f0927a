//! go-ethereum's devp2p test chain (`cmd/devp2p/internal/ethtest/testdata`: genesis.json
//! and the 600 blocks of chain.rlp), read from the installed go-ethereum module: our
//! genesis hash and fork id must be geth's, `paxeer-p2p import` must accept every block,
//! refuse corrupted copies without storing the bad block, and `run` must serve the
//! imported head. The module is installed by `scripts/install-go-tools.sh`; without it
//! these tests fail (they do not skip).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use paxeer_p2p_core::eth::block::Block;
use paxeer_p2p_core::eth::forkid::{crc32_update, Head};
use paxeer_p2p_core::eth::Transaction;
use paxeer_p2p_node::eth::import_file::BlockFileReader;
use paxeer_p2p_node::eth::spec::load_genesis_file;
use serde_json::{json, Value};

/// The go-ethereum version whose test chain we check against (the project's pin).
const GETH_VERSION: &str = "v1.17.10";

/// The test chain's directory in the Go module cache; panics with what to do if absent.
fn testdata() -> PathBuf {
    let modcache = Command::new("go")
        .args(["env", "GOMODCACHE"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| {
            panic!(
                "`go env GOMODCACHE` failed: Go and the go-ethereum {GETH_VERSION} module are \
                 needed; run scripts/install-go-tools.sh"
            )
        });
    let dir = Path::new(&modcache)
        .join(format!("github.com/ethereum/go-ethereum@{GETH_VERSION}"))
        .join("cmd/devp2p/internal/ethtest/testdata");
    assert!(
        dir.join("genesis.json").is_file() && dir.join("chain.rlp").is_file(),
        "go-ethereum {GETH_VERSION} test chain not found at {}; run scripts/install-go-tools.sh",
        dir.display()
    );
    dir
}

/// The encoded blocks of a file.
fn raw_blocks(path: &Path) -> Vec<Vec<u8>> {
    let mut r = BlockFileReader::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(b) = r.next_block().unwrap() {
        out.push(b);
    }
    out
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_paxeer-p2p"))
}

/// Runs `paxeer-p2p --json import --datadir D --chain G FILE`.
fn import(datadir: &Path, genesis: &Path, file: &Path) -> Output {
    bin()
        .arg("--json")
        .arg("import")
        .arg("--datadir")
        .arg(datadir)
        .arg("--chain")
        .arg(genesis)
        .arg(file)
        .output()
        .unwrap()
}

/// The JSON line of `event` in an output.
fn event(out: &Output, name: &str) -> Value {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == name)
        .unwrap_or_else(|| panic!("no {name} line in {out:?}"))
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

#[test]
fn genesis_hash_and_fork_id_are_go_ethereums() {
    let dir = testdata();
    let spec = load_genesis_file(&dir.join("genesis.json")).unwrap();
    let blocks = raw_blocks(&dir.join("chain.rlp"));
    assert_eq!(blocks.len(), 600);
    let b1 = Block::decode(&blocks[0]).unwrap();
    assert_eq!(b1.header.number, 1);
    assert_eq!(
        hex0x(&spec.genesis_hash),
        hex0x(&b1.header.parent_hash),
        "our genesis hash is the parent of geth's block 1"
    );
    assert_eq!(spec.network_id, 3_503_995_874_084_926);
    assert!(spec.post_merge, "TTD 0x20000 is reached by the genesis");
    let head = Block::decode(blocks.last().unwrap()).unwrap().header;
    assert_eq!((head.number, head.timestamp), (600, 6000));
    // At the head every time fork of the file (Cancun 60, Prague 120, Osaka 180, BPO1 240,
    // BPO2 300, Amsterdam 360) has passed; block forks are all at 0, Shanghai at genesis.
    let mut crc = crc32_update(0, &spec.genesis_hash);
    for t in [60u64, 120, 180, 240, 300, 360] {
        crc = crc32_update(crc, &t.to_be_bytes());
    }
    let id = spec.fork_id(Head {
        number: 600,
        timestamp: 6000,
    });
    assert_eq!((u32::from_be_bytes(id.hash), id.next), (crc, 0));
    // Between Cancun and Prague the next fork is Prague's time.
    let early = spec.fork_id(Head {
        number: 7,
        timestamp: 70,
    });
    let crc60 = crc32_update(crc32_update(0, &spec.genesis_hash), &60u64.to_be_bytes());
    assert_eq!((u32::from_be_bytes(early.hash), early.next), (crc60, 120));
}

#[test]
fn import_takes_the_chain_once_and_refuses_corrupted_copies_without_storing_them() {
    let dir = testdata();
    let genesis = dir.join("genesis.json");
    let chain = dir.join("chain.rlp");
    let blocks = raw_blocks(&chain);
    let head_hash = Block::decode(blocks.last().unwrap()).unwrap().header.hash();
    let tmp = tempfile::tempdir().unwrap();

    let data = tmp.path().join("good");
    let out = import(&data, &genesis, &chain);
    assert!(out.status.success(), "{out:?}");
    let head = event(&out, "head");
    assert_eq!(head["number"], 600);
    assert_eq!(head["hash"], hex0x(&head_hash));
    assert_eq!(event(&out, "import")["imported"], 600);
    // A second import of the same file stores nothing.
    let again = import(&data, &genesis, &chain);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(event(&again, "import")["imported"], 0);
    assert_eq!(event(&again, "import")["known"], 600);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already have 600 blocks"));

    // A changed transaction in the first block from 100 on that has one.
    let (n, mut bad) = blocks
        .iter()
        .skip(99)
        .map(|raw| Block::decode(raw).unwrap())
        .find(|b| !b.body.transactions.is_empty())
        .map(|b| (b.header.number, b))
        .unwrap();
    match &mut bad.body.transactions[0] {
        Transaction::Legacy(t) => t.gas_limit ^= 1,
        Transaction::Eip2930(t) => t.gas_limit ^= 1,
        Transaction::Eip1559(t) => t.gas_limit ^= 1,
        Transaction::Eip4844(t) => t.gas_limit ^= 1,
        Transaction::Eip7702(t) => t.gas_limit ^= 1,
    }
    let idx = usize::try_from(n).unwrap() - 1;
    let mut file = Vec::new();
    for (i, raw) in blocks.iter().enumerate() {
        if i == idx {
            file.extend_from_slice(&bad.encode());
        } else {
            file.extend_from_slice(raw);
        }
    }
    let corrupt = tmp.path().join("corrupt.rlp");
    std::fs::write(&corrupt, &file).unwrap();
    let data = tmp.path().join("corrupt");
    let out = import(&data, &genesis, &corrupt);
    assert!(!out.status.success());
    let err = event(&out, "error")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains(&format!("invalid block {n} ")), "{err}");
    assert!(err.contains("transactions root mismatch"), "{err}");
    // Blocks before it were kept, it and the rest were not: the good file now adds
    // exactly blocks n..=600.
    let out = import(&data, &genesis, &chain);
    assert!(out.status.success(), "{out:?}");
    let imp = event(&out, "import");
    assert_eq!(imp["known"], n - 1, "{imp}");
    assert_eq!(imp["imported"], 601 - n, "{imp}");
    assert_eq!(event(&out, "head")["hash"], hex0x(&head_hash));

    // A file cut inside block 300.
    let cut: Vec<u8> = blocks[..299].concat();
    let mut cut = cut;
    cut.extend_from_slice(&blocks[299][..blocks[299].len() / 2]);
    let truncated = tmp.path().join("truncated.rlp");
    std::fs::write(&truncated, &cut).unwrap();
    let data = tmp.path().join("truncated");
    let out = import(&data, &genesis, &truncated);
    assert!(!out.status.success());
    let err = event(&out, "error")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains("after block 299: truncated block"), "{err}");
    let out = import(&data, &genesis, &chain);
    assert_eq!(event(&out, "import")["known"], 299);

    // The same chain gzip-compressed imports too.
    use std::io::Write;
    let gz = tmp.path().join("chain.rlp.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&std::fs::read(&chain).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let out = import(&tmp.path().join("gz"), &genesis, &gz);
    assert_eq!(event(&out, "head")["number"], 600, "{out:?}");
}

#[test]
fn run_serves_the_imported_head() {
    let dir = testdata();
    let genesis = dir.join("genesis.json");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    let out = import(&data, &genesis, &dir.join("chain.rlp"));
    assert!(out.status.success(), "{out:?}");
    let head_hash = event(&out, "head")["hash"].clone();
    let mut child = bin()
        .args(["--json", "run", "--port", "0", "--nodiscover"])
        .args(["--http", "--http.port", "0"])
        .arg("--datadir")
        .arg(&data)
        .arg("--chain")
        .arg(&genesis)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let started = loop {
        let v = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("started line");
        if v["event"] == "started" {
            break v;
        }
    };
    let addr = started["http"].as_str().unwrap().to_string();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "admin_nodeInfo", "params": []});
    let resp = http_post(&addr, &body.to_string());
    let _ = child.kill();
    let _ = child.wait();
    let v: Value = serde_json::from_str(&resp).unwrap();
    let eth = &v["result"]["protocols"]["eth"];
    assert_eq!(eth["headNumber"], 600, "{v}");
    assert_eq!(eth["head"], head_hash);
    assert_eq!(eth["network"], 3_503_995_874_084_926u64);
}

/// One HTTP/1.1 POST; returns the body.
fn http_post(addr: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}
