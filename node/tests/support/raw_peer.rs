//! A raw RLPx peer for attack tests: it does the EIP-8 handshake and the Hello exchange with
//! the core's codecs, then writes whatever bytes a test wants (frames of any declared size,
//! messages with any snappy header) and reads the node's messages back, down to the
//! Disconnect and its reason.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use paxeer_p2p_core::crypto::keys::{peer_id_of, secret_key_from_bytes};
use paxeer_p2p_core::p2p::{Capability, DisconnectReason, Hello};
use paxeer_p2p_core::rlpx::frame::{body_len, FrameCodec, HEADER_LEN};
use paxeer_p2p_core::rlpx::handshake::AuthSent;
use paxeer_p2p_core::rlpx::snappy;
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::session::msg_id;
use paxeer_p2p_core::types::{PeerId, Seed};

/// p2p message ids.
pub const HELLO: u64 = 0x00;
/// p2p Disconnect.
pub const DISCONNECT: u64 = 0x01;
/// p2p Ping.
pub const PING: u64 = 0x02;
/// p2p Pong.
pub const PONG: u64 = 0x03;

/// Largest message this peer accepts from the node (decompressed).
const MAX_READ: usize = 16 << 20;

/// One established raw session (handshake and both Hellos done, snappy on).
pub struct RawPeer {
    pub stream: TcpStream,
    codec: FrameCodec,
    /// Bytes read past the last frame taken (the node's Hello may come with its ack).
    leftover: Vec<u8>,
    /// The node's Hello.
    pub hello: Hello,
}

/// The node id in an `enode://<id>@...` URL.
pub fn enode_id(enode: &str) -> PeerId {
    let hex_id = enode
        .strip_prefix("enode://")
        .and_then(|s| s.split('@').next())
        .unwrap();
    let mut id = [0u8; 64];
    hex::decode_to_slice(hex_id, &mut id).unwrap();
    PeerId(id)
}

impl RawPeer {
    /// Dials `addr` (node `remote`) with the key whose 32 bytes are `key` (non-zero),
    /// offering `caps`.
    pub fn connect(
        addr: SocketAddr,
        remote: PeerId,
        key: u8,
        caps: Vec<Capability>,
    ) -> io::Result<Self> {
        Self::connect_with_key(addr, remote, [key, key], caps)
    }

    /// As [`connect`](Self::connect) with the key `[k0, k1, k0, k0, …]` (`k0` non-zero), for
    /// more than 255 distinct peers.
    pub fn connect_with_key(
        addr: SocketAddr,
        remote: PeerId,
        key: [u8; 2],
        caps: Vec<Capability>,
    ) -> io::Result<Self> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        stream.set_nodelay(true)?;
        let mut bytes = [key[0]; 32];
        bytes[1] = key[1];
        let sk = secret_key_from_bytes(&bytes).map_err(|e| io::Error::other(e.to_string()))?;
        let mut rng = MachineRng::new(Seed(bytes));
        let (state, auth) = AuthSent::new(&sk, &remote, &mut rng).map_err(io::Error::other)?;
        stream.write_all(&auth)?;
        let mut buf = Vec::new();
        let ack = loop {
            let mut chunk = [0u8; 2048];
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(ack) = state.read_ack(&buf).map_err(io::Error::other)? {
                break ack;
            }
        };
        let leftover = buf.split_off(ack.consumed);
        let mut peer = Self {
            stream,
            codec: FrameCodec::new(&ack.secrets),
            leftover,
            hello: Hello {
                protocol_version: 5,
                client_id: String::new(),
                capabilities: Vec::new(),
                listen_port: 0,
                id: remote,
            },
        };
        let hello = Hello {
            protocol_version: 5,
            client_id: format!("raw-peer/{}-{}", key[0], key[1]),
            capabilities: caps,
            listen_port: 0,
            id: peer_id_of(&sk),
        };
        let frame = peer.frame(HELLO, &hello.encode());
        peer.stream.write_all(&frame)?;
        let (id, payload) = peer.read_frame()?;
        if id == DISCONNECT {
            let reason = DisconnectReason::decode(&payload);
            return Err(io::Error::other(format!(
                "refused before Hello: {reason:?}"
            )));
        }
        if id != HELLO {
            return Err(io::Error::other(format!(
                "expected Hello, got message {id}"
            )));
        }
        peer.hello = Hello::decode(&payload).map_err(io::Error::other)?;
        Ok(peer)
    }

    /// One sealed frame carrying message `id` with `payload` as is (no compression).
    pub fn frame(&mut self, id: u64, payload: &[u8]) -> Vec<u8> {
        let (idb, n) = msg_id::encode(id);
        let mut out = Vec::with_capacity(payload.len() + 64);
        self.codec
            .write_frame(&[&idb[..n], payload], &mut out)
            .unwrap();
        out
    }

    /// One sealed frame carrying message `id` with `payload` snappy-compressed.
    pub fn compressed_frame(&mut self, id: u64, payload: &[u8]) -> Vec<u8> {
        let mut c = Vec::new();
        snappy::compress(payload, &mut c);
        self.frame(id, &c)
    }

    /// Fills `out` from the leftover bytes first, then from the stream.
    fn read_exact(&mut self, out: &mut [u8]) -> io::Result<()> {
        let from_leftover = out.len().min(self.leftover.len());
        out[..from_leftover].copy_from_slice(&self.leftover[..from_leftover]);
        self.leftover.drain(..from_leftover);
        self.stream.read_exact(&mut out[from_leftover..])
    }

    /// Reads one frame: its message id and payload, as sent.
    fn read_frame(&mut self) -> io::Result<(u64, Vec<u8>)> {
        let mut header = [0u8; HEADER_LEN];
        self.read_exact(&mut header)?;
        let size = self
            .codec
            .read_header(&mut header)
            .map_err(|e| io::Error::other(format!("{e:?}")))?;
        let mut body = vec![0u8; body_len(size)];
        self.read_exact(&mut body)?;
        let content = self
            .codec
            .read_body(&mut body, size)
            .map_err(|e| io::Error::other(format!("{e:?}")))?;
        let (id, payload) = msg_id::split(content).ok_or_else(|| io::Error::other("bad msg id"))?;
        Ok((id, payload.to_vec()))
    }

    /// Reads one message after the Hellos (snappy-decompressed).
    pub fn read_message(&mut self) -> io::Result<(u64, Vec<u8>)> {
        let (id, payload) = self.read_frame()?;
        let plain = snappy::decompress(&payload, MAX_READ).map_err(io::Error::other)?;
        Ok((id, plain))
    }

    /// Completes the eth handshake by sending the node's own Status back (same network,
    /// genesis and fork id, so it is valid): reads up to the node's Status first.
    pub fn echo_status(&mut self, status_id: u64) -> io::Result<()> {
        loop {
            let (id, payload) = self.read_message()?;
            if id == DISCONNECT {
                let reason = DisconnectReason::decode(&payload);
                return Err(io::Error::other(format!("disconnected: {reason:?}")));
            }
            if id == status_id {
                let frame = self.compressed_frame(status_id, &payload);
                return self.stream.write_all(&frame);
            }
        }
    }

    /// Reads messages until the node's Disconnect (its reason) or the end of the stream
    /// (`None`); `on_message` sees every other message.
    pub fn until_disconnect(
        &mut self,
        mut on_message: impl FnMut(u64, &[u8]),
    ) -> Option<DisconnectReason> {
        loop {
            match self.read_message() {
                Ok((DISCONNECT, payload)) => return Some(DisconnectReason::decode(&payload)),
                Ok((id, payload)) => on_message(id, &payload),
                Err(_) => return None,
            }
        }
    }
}

/// The resident set size of process `pid`, in KiB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
