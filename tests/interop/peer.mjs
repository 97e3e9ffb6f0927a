#!/usr/bin/env node
// One @ethereumjs/devp2p RLPx endpoint for paxeer-p2p interop tests.
//
// stdout: newline-delimited JSON events (one object per line).
// stderr: human-readable diagnostics / warnings.
// See README.md in this directory for the CLI and the event schema.
//
// Only the public API of @ethereumjs/devp2p is used to drive the node
// (RLPx, Peer#disconnect, ETH#sendStatus, events). A few *private* members are
// touched where the library offers no public hook; each place is marked
// "PRIVATE:" with the reason. They are wrapped (original always called), never
// re-implemented, and checked at start-up so a library upgrade that renames
// them fails loudly instead of silently.

import { Common, Mainnet, createCustomCommon } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import {
  DISCONNECT_REASON,
  DisconnectReasonNames,
  ECIES,
  ETH,
  Peer,
  RLPx,
  SNAP,
} from '@ethereumjs/devp2p'

// ---------------------------------------------------------------------------
// output

let exiting = false

function emit(obj) {
  // Pipes and files are written synchronously by node on Linux, so a line is
  // on its way as soon as this returns; nothing is buffered in-process.
  try {
    process.stdout.write(`${JSON.stringify(obj)}\n`)
  } catch {
    // stdout gone (parent died): nothing sensible left to do
    process.exit(3)
  }
}

function warn(msg) {
  process.stderr.write(`[peer.mjs] ${msg}\n`)
}

const hex = (u8) => Buffer.from(u8).toString('hex')

function fromHex(s, len, what) {
  const h = String(s).replace(/^0x/i, '')
  if (!/^[0-9a-fA-F]*$/.test(h) || h.length !== len * 2) {
    fatalUsage(`${what} must be ${len} bytes of hex (${len * 2} hex chars), got '${s}'`)
  }
  return Uint8Array.from(Buffer.from(h, 'hex'))
}

function fatalUsage(msg) {
  warn(msg)
  warn(USAGE)
  process.exit(2)
}

const USAGE = `usage:
  node peer.mjs listen --port P --key HEX32 [options]
  node peer.mjs dial   --port P --key HEX32 --remote-id HEX64 --remote-port Q [options]
options:
  --caps eth/68,eth/67     capabilities to advertise (eth/62..eth/68, snap/1); default eth/68
  --host 127.0.0.1         bind (listen) / dial address
  --ping                   after hello send a p2p Ping, report the Pong rtt
  --disconnect-after-hello disconnect (reason 8, CLIENT_QUITTING) after hello (+pong if --ping)
  --exit-after N           exit after N disconnect events
  --timeout-ms 30000       hard process timeout
  --keep-status-timeout    keep ethereumjs's 5 s "no eth Status" disconnect (reason 11)
  --send-status            send an eth Status (mainnet genesis) after hello
  --network-id N           custom chain: mainnet genesis and forks under network/chain id N
  --genesis-hash HEX       with --network-id: the chain's genesis hash instead of mainnet's
  --fork-hash HEX          with --genesis-hash: every fork through London at block 0 under
                           this EIP-2124 fork hash (announced, and required of the peer)
  --announce-tx HEX        after Status, announce this raw (typed) tx and serve it on request
  --fetch-announced        request announced txs; report them as {"event":"pooled_txs"}
  --get-headers            after Status, ask for block 0's header; report {"event":"block_headers"}
  --trace-frames           also emit {"event":"frame"} with every plaintext RLPx frame
  --ignore-stdin           do not exit when stdin closes (manual runs with </dev/null)`

// ---------------------------------------------------------------------------
// argument parsing

function parseArgs(argv) {
  const [mode, ...rest] = argv
  if (mode !== 'listen' && mode !== 'dial') fatalUsage(`unknown mode '${mode ?? ''}'`)
  const flags = new Set([
    'ping',
    'disconnect-after-hello',
    'keep-status-timeout',
    'send-status',
    'fetch-announced',
    'get-headers',
    'trace-frames',
    'ignore-stdin',
  ])
  const valued = new Set([
    'port',
    'key',
    'caps',
    'host',
    'remote-id',
    'remote-port',
    'exit-after',
    'timeout-ms',
    'network-id',
    'genesis-hash',
    'fork-hash',
    'announce-tx',
  ])
  const o = { mode }
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]
    if (!a.startsWith('--')) fatalUsage(`unexpected argument '${a}'`)
    let name = a.slice(2)
    let value
    const eq = name.indexOf('=')
    if (eq >= 0) {
      value = name.slice(eq + 1)
      name = name.slice(0, eq)
    }
    if (flags.has(name)) {
      o[name] = true
    } else if (valued.has(name)) {
      if (value === undefined) {
        if (i + 1 >= rest.length) fatalUsage(`--${name} needs a value`)
        value = rest[++i]
      }
      o[name] = value
    } else {
      fatalUsage(`unknown option --${name}`)
    }
  }
  const int = (name, dflt) => {
    if (o[name] === undefined) return dflt
    const n = Number(o[name])
    if (!Number.isInteger(n) || n < 0) fatalUsage(`--${name} must be a non-negative integer`)
    return n
  }
  const cfg = {
    mode,
    host: o.host ?? '127.0.0.1',
    port: int('port', mode === 'listen' ? undefined : 0),
    key: o.key === undefined ? undefined : fromHex(o.key, 32, '--key'),
    caps: (o.caps ?? 'eth/68')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    ping: o.ping === true,
    disconnectAfterHello: o['disconnect-after-hello'] === true,
    exitAfter: int('exit-after', 0),
    timeoutMs: int('timeout-ms', 30000),
    keepStatusTimeout: o['keep-status-timeout'] === true,
    sendStatus: o['send-status'] === true,
    networkId: int('network-id', 0),
    genesisHash: o['genesis-hash'] === undefined ? undefined : fromHex(o['genesis-hash'], 32, '--genesis-hash'),
    forkHash: o['fork-hash'] === undefined ? undefined : fromHex(o['fork-hash'], 4, '--fork-hash'),
    announceTx: o['announce-tx'] === undefined ? undefined : Uint8Array.from(Buffer.from(String(o['announce-tx']).replace(/^0x/, ''), 'hex')),
    fetchAnnounced: o['fetch-announced'] === true,
    getHeaders: o['get-headers'] === true,
    traceFrames: o['trace-frames'] === true,
    ignoreStdin: o['ignore-stdin'] === true,
  }
  if (mode === 'listen' && cfg.port === undefined) fatalUsage('listen needs --port')
  if (cfg.key === undefined) fatalUsage('--key is required')
  if (mode === 'dial') {
    if (o['remote-id'] === undefined) fatalUsage('dial needs --remote-id')
    cfg.remoteId = fromHex(o['remote-id'], 64, '--remote-id')
    cfg.remotePort = int('remote-port', undefined)
    if (cfg.remotePort === undefined) fatalUsage('dial needs --remote-port')
  }
  return cfg
}

const cfg = parseArgs(process.argv.slice(2))

// ---------------------------------------------------------------------------
// capabilities

const KNOWN_CAPS = {
  'eth/62': ETH.eth62,
  'eth/63': ETH.eth63,
  'eth/64': ETH.eth64,
  'eth/65': ETH.eth65,
  'eth/66': ETH.eth66,
  'eth/67': ETH.eth67,
  'eth/68': ETH.eth68,
  'snap/1': SNAP.snap,
}
const capabilities = []
for (const c of cfg.caps) {
  const cap = KNOWN_CAPS[c.toLowerCase()]
  if (cap === undefined) {
    warn(`capability '${c}' is not provided by @ethereumjs/devp2p; skipping it`)
  } else if (!capabilities.includes(cap)) {
    capabilities.push(cap)
  }
}
if (capabilities.length === 0) {
  warn(
    'no capabilities advertised: ethereumjs will disconnect every peer with USELESS_PEER (3) right after its Hello',
  )
}

// ---------------------------------------------------------------------------
// instrumentation of library internals (observation only)

// PRIVATE: these Peer/ECIES methods are the only places where Ping/Pong,
// pre-Hello disconnects and plaintext frames are visible; RLPx emits no
// event for them. Make sure they exist before relying on them.
for (const [cls, names] of [
  [Peer, ['_sendPing', '_handlePing', '_handlePong', '_onSocketClose', '_handleHello']],
  [ECIES, ['createBody', 'parseBody']],
]) {
  for (const n of names) {
    if (typeof cls.prototype[n] !== 'function') {
      warn(`@ethereumjs/devp2p changed: ${cls.name}.prototype.${n} is missing`)
      process.exit(4)
    }
  }
}

const peerState = new WeakMap() // Peer -> { pingSentAt, index, ... }
let peerCounter = 0
function stateOf(peer) {
  let s = peerState.get(peer)
  if (s === undefined) {
    s = { index: peerCounter++, pingSentAt: null, ourPing: false, removedReported: false }
    peerState.set(peer, s)
  }
  return s
}

function remoteIdHex(peer) {
  const id = peer.getId()
  return id ? hex(id) : null
}

function wrap(cls, name, fn) {
  const orig = cls.prototype[name]
  cls.prototype[name] = function (...args) {
    return fn.call(this, orig, args)
  }
}

// Ping sent (both ours from --ping and the library's own 15 s interval).
wrap(Peer, '_sendPing', function (orig, args) {
  const s = stateOf(this)
  s.pingSentAt = performance.now()
  emit({ event: 'ping_sent', id: remoteIdHex(this), by_us: s.ourPing })
  s.ourPing = false
  return orig.apply(this, args)
})

wrap(Peer, '_handlePing', function (orig, args) {
  emit({ event: 'ping', id: remoteIdHex(this) })
  return orig.apply(this, args) // replies with Pong
})

wrap(Peer, '_handlePong', function (orig, args) {
  const r = orig.apply(this, args)
  const s = stateOf(this)
  const rtt = s.pingSentAt === null ? null : Math.round((performance.now() - s.pingSentAt) * 1000) / 1000
  s.pingSentAt = null
  emit({ event: 'pong', id: remoteIdHex(this), rtt_ms: rtt })
  if (typeof s.onPong === 'function') {
    const f = s.onPong
    s.onPong = undefined
    f()
  }
  return r
})

// Hello received: report it even if ethereumjs then rejects the peer
// (USELESS_PEER, INVALID_IDENTITY, clientId filter), in which case RLPx never
// emits peer:added.
wrap(Peer, '_handleHello', function (orig, args) {
  const r = orig.apply(this, args)
  if (!this._connected) {
    // PRIVATE: _hello/_connected; rejected before peer:added
    const h = this.getHelloMessage()
    emit({ event: 'hello_rejected', ...helloFields(this, h), reason_code: this._disconnectReason ?? null, reason: reasonName(this._disconnectReason) })
  }
  return r
})

// Connections that never reached peer:added (handshake failure, useless peer,
// wrong identity, ...) produce no RLPx peer:removed event; report them here.
wrap(Peer, '_onSocketClose', function (orig, args) {
  const wasConnected = this._connected // PRIVATE
  const r = orig.apply(this, args)
  if (!wasConnected) {
    reportDisconnect(this, this._disconnectReason, this._disconnectWe, 'handshake')
  }
  return r
})

if (cfg.traceFrames) {
  // Plaintext frame bodies (msg-id RLP + payload, before padding/encryption).
  wrap(ECIES, 'createBody', function (orig, args) {
    emit({ event: 'frame', dir: 'out', hex: hex(args[0]) })
    return orig.apply(this, args)
  })
  wrap(ECIES, 'parseBody', function (orig, args) {
    const body = orig.apply(this, args)
    if (body) emit({ event: 'frame', dir: 'in', hex: hex(body) })
    return body
  })
}

// ---------------------------------------------------------------------------
// helpers

function reasonName(code) {
  if (code === undefined || code === null) return null
  return DisconnectReasonNames[code] ?? `UNKNOWN_${code}`
}

function helloFields(peer, h) {
  if (!h) return { id: remoteIdHex(peer) }
  return {
    id: hex(h.id),
    client_id: h.clientId,
    protocol_version: h.protocolVersion,
    caps: h.capabilities.map((c) => `${c.name}/${c.version}`),
    port: h.port,
  }
}

let disconnects = 0
function reportDisconnect(peer, reason, disconnectWe, stage) {
  const s = stateOf(peer)
  if (s.removedReported) return
  s.removedReported = true
  let by
  if (disconnectWe === true) by = 'local'
  else if (disconnectWe === false) by = 'remote'
  else by = 'socket' // TCP closed without any Disconnect message
  emit({
    event: 'disconnect',
    id: remoteIdHex(peer),
    reason_code: reason ?? null,
    reason: reason === undefined ? 'socket closed without Disconnect' : reasonName(reason),
    by,
    stage,
  })
  disconnects++
  if (cfg.exitAfter > 0 && disconnects >= cfg.exitAfter) shutdown(0, `exit-after ${cfg.exitAfter}`)
}

/** Minimal big-endian bytes of a non-negative integer (RLP integers: 0 is empty). */
function intBytes(n) {
  const out = []
  let v = BigInt(n)
  while (v > 0n) {
    out.unshift(Number(v & 0xffn))
    v >>= 8n
  }
  return Uint8Array.from(out)
}

/** eth traffic for --announce-tx, --fetch-announced and --get-headers. */
function onEthMessage(peer, proto, code, payload) {
  const id = remoteIdHex(peer)
  if (code === 0x09 && cfg.announceTx) {
    // GetPooledTransactions [req, [hashes]] -> PooledTransactions [req, [raw]]
    const [req, hashes] = payload
    const want = hex(keccak256(cfg.announceTx))
    const txs = hashes.some((h) => hex(h) === want) ? [cfg.announceTx] : []
    proto.sendMessage(0x0a, [req, txs])
    emit({ event: 'tx_served', id, count: txs.length })
  } else if (code === 0x08 && cfg.fetchAnnounced) {
    const [, , hashes] = payload
    proto.sendMessage(0x09, [intBytes(1), hashes])
  } else if (code === 0x0a && cfg.fetchAnnounced) {
    const [, txs] = payload
    // A typed tx arrives as its bytes; a legacy one as a list (re-encode it).
    const hashes = txs.map((t) => hex(keccak256(t instanceof Uint8Array ? t : RLP.encode(t))))
    emit({ event: 'pooled_txs', id, hashes })
  } else if (code === 0x04 && cfg.getHeaders) {
    const [, headers] = payload
    emit({ event: 'block_headers', id, count: headers.length, hashes: headers.map((h) => hex(keccak256(RLP.encode(h)))) })
  }
}

// mainnet genesis hash, only used by --send-status
const MAINNET_GENESIS = Uint8Array.from(
  Buffer.from('d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3', 'hex'),
)

// ---------------------------------------------------------------------------
// the node

// ETH >= 64 derives its fork id from it; --network-id keeps mainnet's genesis and forks
// under another id (ethereumjs sends the chain id as the network id).
// With --fork-hash the chain has every fork through London at block 0 and that EIP-2124
// fork hash (ethereumjs accepts only fork hashes its Common lists).
const LONDON_AT_ZERO = ['chainstart', 'homestead', 'tangerineWhistle', 'spuriousDragon',
  'byzantium', 'constantinople', 'petersburg', 'istanbul', 'muirGlacier', 'berlin', 'london']
const common =
  cfg.forkHash !== undefined
    ? createCustomCommon(
        {
          chainId: cfg.networkId,
          networkId: cfg.networkId,
          hardforks: LONDON_AT_ZERO.map((name) => ({
            name,
            block: 0,
            forkHash: `0x${Buffer.from(cfg.forkHash).toString('hex')}`,
          })),
        },
        Mainnet,
        { hardfork: 'london' },
      )
    : cfg.networkId > 0
      ? createCustomCommon({ chainId: cfg.networkId, networkId: cfg.networkId }, Mainnet)
      : new Common({ chain: Mainnet })
let rlpx
try {
  rlpx = new RLPx(cfg.key, {
    dpt: null, // no discovery: RLPx alone
    maxPeers: 25,
    capabilities,
    common,
    // Advertised in our Hello. In dial mode we do not bind it (empty if 0).
    listenPort: cfg.port === 0 ? null : cfg.port,
  })
} catch (e) {
  warn(`cannot create RLPx (bad --key?): ${e?.message ?? e}`)
  process.exit(2)
}
const ourId = hex(rlpx.id)

rlpx.events.on('error', (err) => {
  emit({ event: 'error', message: String(err?.message ?? err), fatal: true })
  warn(`rlpx error: ${err?.stack ?? err}`)
  shutdown(1, 'rlpx error')
})

rlpx.events.on('peer:error', (peer, err) => {
  emit({ event: 'error', id: remoteIdHex(peer), message: String(err?.message ?? err) })
  warn(`peer error: ${err?.stack ?? err}`)
})

rlpx.events.on('peer:added', (peer) => {
  const h = peer.getHelloMessage()
  const s = stateOf(peer)
  emit({
    event: 'hello',
    ...helloFields(peer, h),
    // dial mode never binds a port, listen mode never dials
    direction: cfg.mode === 'dial' ? 'outbound' : 'inbound',
    // PRIVATE: _protocols holds the negotiated offsets, handy to check ours
    shared: peer._protocols.map((p) => ({
      cap: `${p.protocol.constructor.name.toLowerCase()}/${p.protocol._version}`,
      offset: p.offset,
      length: p.length,
    })),
  })

  for (const proto of peer.getProtocols()) {
    if (!cfg.keepStatusTimeout) {
      // PRIVATE: every non-snap subprotocol arms a 5 s timer in its
      // constructor that disconnects with TIMEOUT (11) unless an eth Status
      // exchange completes. Our Rust side speaks only the base protocol, so
      // disarm it (public API has no switch for this).
      clearTimeout(proto._statusTimeoutId)
    }
    proto.events.on('status', (st) => {
      emit({
        event: 'eth_status',
        id: remoteIdHex(peer),
        chain_id: hex(st.chainId),
        genesis: hex(st.genesisHash),
      })
    })
    proto.events.on('message', (code, payload) => {
      emit({ event: 'eth_message', id: remoteIdHex(peer), code })
      try {
        onEthMessage(peer, proto, code, payload)
      } catch (e) {
        emit({ event: 'error', id: remoteIdHex(peer), message: `eth message ${code}: ${e?.message ?? e}` })
      }
    })
    proto.events.on('status', () => {
      if (!(proto instanceof ETH)) return
      if (cfg.announceTx) {
        const raw = cfg.announceTx
        // eth/68 form: [types, sizes, hashes]
        proto.sendMessage(0x08, [Uint8Array.from([raw[0]]), [intBytes(raw.length)], [keccak256(raw)]])
        emit({ event: 'tx_announced', id: remoteIdHex(peer), hash: hex(keccak256(raw)) })
      }
      if (cfg.getHeaders) {
        // [request id, [origin 0, amount 1, skip 0, reverse 0]]
        proto.sendMessage(0x03, [intBytes(7), [intBytes(0), intBytes(1), intBytes(0), intBytes(0)]])
      }
    })
    if (cfg.sendStatus && proto instanceof ETH) {
      try {
        const genesis = cfg.genesisHash ?? MAINNET_GENESIS
        proto.sendStatus({ td: Uint8Array.from([1]), bestHash: genesis, genesisHash: genesis })
        emit({ event: 'eth_status_sent', id: remoteIdHex(peer), version: proto.getVersion() })
      } catch (e) {
        emit({ event: 'error', id: remoteIdHex(peer), message: `sendStatus: ${e?.message ?? e}` })
      }
    }
  }

  const afterPing = () => {
    if (cfg.disconnectAfterHello) {
      peer.disconnect(DISCONNECT_REASON.CLIENT_QUITTING)
      emit({ event: 'disconnect_sent', id: remoteIdHex(peer), reason_code: DISCONNECT_REASON.CLIENT_QUITTING })
    }
  }
  if (cfg.ping) {
    s.onPong = afterPing
    s.ourPing = true
    // PRIVATE: Peer has no public ping method; _sendPing() is what the
    // library's own 15 s interval calls (snappy-compressed RLP [] when the
    // remote Hello has version >= 5, arms the `timeout` (10 s) pong timer).
    peer._sendPing()
  } else {
    afterPing()
  }
})

rlpx.events.on('peer:removed', (peer, reason, disconnectWe) => {
  reportDisconnect(peer, reason, disconnectWe, 'connected')
})

// ---------------------------------------------------------------------------
// lifecycle

function shutdown(code, why) {
  if (exiting) return
  exiting = true
  emit({ event: 'exit', code, why })
  try {
    rlpx.destroy() // sends Disconnect(CLIENT_QUITTING) to remaining peers
  } catch {}
  // let the last line (and any Disconnect frame) drain, then go
  process.stdout.write('', () => setTimeout(() => process.exit(code), 50))
  setTimeout(() => process.exit(code), 500).unref()
}

const hardTimer = setTimeout(() => {
  warn(`hard timeout of ${cfg.timeoutMs} ms reached`)
  shutdown(124, 'timeout')
}, cfg.timeoutMs)

process.on('SIGTERM', () => shutdown(0, 'SIGTERM'))
process.on('SIGINT', () => shutdown(130, 'SIGINT'))
process.stdout.on('error', () => process.exit(3)) // EPIPE: parent went away

if (!cfg.ignoreStdin) {
  process.stdin.on('end', () => shutdown(0, 'stdin closed'))
  process.stdin.on('close', () => shutdown(0, 'stdin closed'))
  process.stdin.on('error', () => shutdown(0, 'stdin error'))
  process.stdin.on('data', () => {}) // input is ignored, we only watch for EOF
  process.stdin.resume()
}

process.on('uncaughtException', (err) => {
  emit({ event: 'error', message: String(err?.message ?? err), uncaught: true })
  warn(`uncaught: ${err?.stack ?? err}`)
})
process.on('unhandledRejection', (err) => {
  emit({ event: 'error', message: String(err?.message ?? err), uncaught: true })
  warn(`unhandled rejection: ${err?.stack ?? err}`)
})

if (cfg.mode === 'listen') {
  rlpx.events.once('listening', () => {
    // PRIVATE: _server, only to report the real port when --port 0 was used
    // (then our Hello advertises no port).
    const port = rlpx['_server']?.address()?.port ?? cfg.port
    emit({ event: 'listening', id: ourId, port })
  })
  rlpx.listen(cfg.port, cfg.host)
} else {
  emit({ event: 'dialing', id: ourId, remote_id: hex(cfg.remoteId), remote_port: cfg.remotePort })
  rlpx
    .connect({ id: cfg.remoteId, address: cfg.host, tcpPort: cfg.remotePort })
    .catch((err) => {
      emit({ event: 'error', message: `connect: ${err?.message ?? err}`, fatal: true })
      shutdown(1, 'connect failed')
    })
}
