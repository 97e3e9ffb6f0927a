#!/usr/bin/env node
// One @ethereumjs/devp2p discv4 node (DPT) for paxeer-p2p discovery interop tests.
//
// stdout: newline-delimited JSON events (one object per line).
// stderr: human-readable diagnostics / warnings.
// See README.md in this directory for the CLI, the event schema and the DPT behaviour notes.
//
// The node is driven through DPT's public API only (constructor options incl. `createSocket`,
// bind, bootstrap, getPeers, refresh, destroy, events). `--trace-packets` additionally wraps
// two *private* members (marked "PRIVATE:"); they are wrapped (original always called),
// never re-implemented, and checked at start-up so a library upgrade fails loudly.

import * as dgram from 'node:dgram'

import { DPT } from '@ethereumjs/devp2p'

// ---------------------------------------------------------------------------
// output

let exiting = false
const startedAt = Date.now()

function emit(obj) {
  try {
    process.stdout.write(`${JSON.stringify(obj)}\n`)
  } catch {
    process.exit(3)
  }
}

function warn(msg) {
  process.stderr.write(`[dpt.mjs] ${msg}\n`)
}

const hex = (u8) => Buffer.from(u8).toString('hex')

function fromHex(s, len, what) {
  const h = String(s).replace(/^0x/i, '')
  if (!/^[0-9a-fA-F]*$/.test(h) || h.length !== len * 2) {
    throw new Error(`${what} must be ${len} bytes of hex (${len * 2} hex chars), got '${s}'`)
  }
  return Uint8Array.from(Buffer.from(h, 'hex'))
}

const USAGE = `usage:
  node dpt.mjs --port P --key HEX32 [options]
options:
  --host 127.0.0.1         bind address (also announced in Ping 'from')
  --tcp-port N             TCP port announced in Ping 'from'; default: the bound UDP port
  --bootnodes E1,E2        enode URLs to bootstrap from once listening
  --refresh-ms 60000       DPT refreshInterval: every refresh-ms/10 one tenth of the table is
                           asked for neighbours of a random target
  --ping-timeout-ms 4000   DPT 'timeout' (how long a Ping waits for its Pong)
  --no-find-neighbours     shouldFindNeighbours: false (no FindNeighbours, ignore Neighbours)
  --trace-packets          also emit {"event":"packet","dir":"in|out",...} per datagram
  --timeout-ms 30000       hard process timeout -> exit code 124
  --ignore-stdin           do not exit when stdin closes (manual runs with </dev/null)`

function fatalUsage(msg) {
  warn(msg)
  warn(USAGE)
  process.exit(2)
}

// ---------------------------------------------------------------------------
// argument parsing

function parseArgs(argv) {
  const o = {
    host: '127.0.0.1',
    port: null,
    tcpPort: null,
    key: null,
    bootnodes: [],
    refreshMs: 60000,
    pingTimeoutMs: 4000,
    findNeighbours: true,
    tracePackets: false,
    timeoutMs: 30000,
    ignoreStdin: false,
  }
  const int = (v, what, min, max) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max) fatalUsage(`${what}: invalid value '${v}'`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      if (i + 1 >= argv.length) fatalUsage(`${a} needs a value`)
      return argv[++i]
    }
    switch (a) {
      case '--host':
        o.host = val()
        break
      case '--port':
        o.port = int(val(), a, 0, 65535)
        break
      case '--tcp-port':
        o.tcpPort = int(val(), a, 0, 65535)
        break
      case '--key':
        o.key = val()
        break
      case '--bootnodes':
        o.bootnodes = val()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
        break
      case '--refresh-ms':
        o.refreshMs = int(val(), a, 10, 2 ** 31 - 1)
        break
      case '--ping-timeout-ms':
        o.pingTimeoutMs = int(val(), a, 1, 2 ** 31 - 1)
        break
      case '--no-find-neighbours':
        o.findNeighbours = false
        break
      case '--trace-packets':
        o.tracePackets = true
        break
      case '--timeout-ms':
        o.timeoutMs = int(val(), a, 1, 2 ** 31 - 1)
        break
      case '--ignore-stdin':
        o.ignoreStdin = true
        break
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`)
        process.exit(0)
        break
      default:
        fatalUsage(`unknown argument '${a}'`)
    }
  }
  if (o.port === null) fatalUsage('--port is required (0 picks a free one)')
  if (o.key === null) fatalUsage('--key is required')
  try {
    o.key = fromHex(o.key, 32, '--key')
    o.bootnodes = o.bootnodes.map(parseEnode)
  } catch (e) {
    fatalUsage(e.message)
  }
  return o
}

/// enode://<128 hex>@<ip>:<tcp>[?discport=<udp>] -> DPT PeerInfo {id, address, udpPort, tcpPort}
function parseEnode(url) {
  const m = /^enode:\/\/([0-9a-fA-F]{128})@(\[[^\]]+\]|[^:/?]+):(\d+)(?:\?discport=(\d+))?$/.exec(
    String(url).trim(),
  )
  if (m === null) throw new Error(`invalid enode URL '${url}'`)
  const tcp = Number(m[3])
  const udp = m[4] === undefined ? tcp : Number(m[4])
  if (tcp > 65535 || udp > 65535 || udp === 0) throw new Error(`invalid port in '${url}'`)
  return {
    id: fromHex(m[1], 64, 'enode id'),
    address: m[2].replace(/^\[|\]$/g, ''),
    udpPort: udp,
    // A TCP port of 0 means "none": DPT encodes null as an empty port.
    tcpPort: tcp === 0 ? null : tcp,
  }
}

function peerJson(p) {
  return {
    id: p.id instanceof Uint8Array ? hex(p.id) : null,
    address: p.address ?? null,
    udp_port: p.udpPort ?? null,
    tcp_port: p.tcpPort ?? null,
  }
}

// ---------------------------------------------------------------------------
// main

const opts = parseArgs(process.argv.slice(2))

function exit(code, why) {
  if (exiting) return
  exiting = true
  emit({ event: 'exit', code, why })
  try {
    dpt.destroy()
  } catch {
    // already destroyed / never bound
  }
  // Let stdout drain.
  setImmediate(() => process.exit(code))
}

process.on('uncaughtException', (err) => {
  emit({ event: 'error', message: String(err?.stack ?? err), uncaught: true })
  exit(1, 'uncaught exception')
})
process.on('unhandledRejection', (err) => {
  emit({ event: 'error', message: String(err?.stack ?? err), uncaught: true })
})
process.on('SIGTERM', () => exit(0, 'SIGTERM'))
process.on('SIGINT', () => exit(0, 'SIGINT'))

setTimeout(() => exit(124, `timeout after ${opts.timeoutMs} ms`), opts.timeoutMs)

// Our own socket (public `createSocket` option) so that `--port 0` can be resolved to the
// real port. The endpoint object is what DPT announces as Ping `from`; DPT keeps a
// reference to it, so filling in the real ports after binding takes effect.
const socket = dgram.createSocket({ type: 'udp4' })
const endpoint = { address: opts.host, udpPort: opts.port, tcpPort: opts.tcpPort ?? opts.port }

const dpt = new DPT(opts.key, {
  endpoint,
  createSocket: () => socket,
  refreshInterval: opts.refreshMs,
  timeout: opts.pingTimeoutMs,
  shouldFindNeighbours: opts.findNeighbours,
  shouldGetDnsPeers: false,
})
const ourId = hex(dpt.id)

if (opts.tracePackets) installPacketTrace()

dpt.events.on('peer:added', (peer) => emit({ event: 'peer_added', ...peerJson(peer) }))
dpt.events.on('peer:removed', (peer) => emit({ event: 'peer_removed', ...peerJson(peer) }))
dpt.events.on('error', (err) => emit({ event: 'error', message: String(err?.message ?? err) }))

dpt.events.once('listening', () => {
  const bound = socket.address()
  endpoint.udpPort = bound.port
  if (opts.tcpPort === null) endpoint.tcpPort = bound.port
  emit({ event: 'listening', id: ourId, port: bound.port, address: bound.address })
  for (const b of opts.bootnodes) bootstrap(b)
})

socket.once('error', (err) => {
  // Before 'listening' this is a bind failure.
  emit({ event: 'error', message: String(err?.message ?? err), fatal: true })
  exit(1, 'socket error')
})

dpt.bind(opts.port, opts.host)

function bootstrap(peer) {
  emit({ event: 'bootstrapping', ...peerJson(peer) })
  // DPT.bootstrap catches its own errors and reports them as 'error' events.
  dpt.bootstrap(peer).catch((err) => emit({ event: 'error', message: String(err?.message ?? err) }))
}

// ---------------------------------------------------------------------------
// packet trace (--trace-packets)

const TYPE_NAMES = {
  1: 'ping',
  2: 'pong',
  3: 'findneighbours',
  4: 'neighbours',
  5: 'enr_request',
  6: 'enr_response',
}

function installPacketTrace() {
  // PRIVATE: DPT has no hook for raw datagrams. Wrap Server#_handler (every received
  // datagram, before decoding, so that packets DPT cannot decode are still seen) and
  // Server#_send (every datagram it sends).
  const server = dpt._server
  if (
    server === undefined ||
    typeof server._handler !== 'function' ||
    typeof server._send !== 'function'
  ) {
    warn('DPT internals changed: Server#_handler/_send not found; --trace-packets unavailable')
    process.exit(2)
  }
  const origHandler = server._handler.bind(server)
  server._handler = (msg, rinfo) => {
    const type = msg.length > 97 ? msg[97] : null
    const ev = {
      event: 'packet',
      t_ms: Date.now() - startedAt,
      dir: 'in',
      type: TYPE_NAMES[type] ?? `unknown(${type})`,
      from: `${rinfo.address}:${rinfo.port}`,
      len: msg.length,
    }
    // Expiration / enr-seq as sent (best effort: only the shapes we know).
    try {
      Object.assign(ev, inspectPayload(type, msg.subarray(98)))
    } catch {
      // undecodable: DPT will report it as an error
    }
    emit(ev)
    return origHandler(msg, rinfo)
  }
  const origSend = server._send.bind(server)
  server._send = (peer, typename, data) => {
    emit({
      event: 'packet',
      t_ms: Date.now() - startedAt,
      dir: 'out',
      type: typename,
      to: `${peer.address}:${peer.udpPort}`,
    })
    return origSend(peer, typename, data)
  }
}

/// Fields of a received packet that DPT itself ignores: list length, expiration, enr-seq.
function inspectPayload(type, rlpBytes) {
  const items = decodeRlpList(rlpBytes)
  const out = { fields: items.length }
  const asInt = (b) => (b.length === 0 ? 0 : Number.parseInt(Buffer.from(b).toString('hex'), 16))
  const expIdx = { 1: 3, 2: 2, 3: 1, 4: 1, 5: 0 }[type]
  if (expIdx !== undefined && items[expIdx] instanceof Uint8Array) {
    out.expiration = asInt(items[expIdx])
    out.expires_in_s = out.expiration - Math.floor(Date.now() / 1000)
  }
  if ((type === 1 && items.length > 4) || (type === 2 && items.length > 3)) {
    const seq = items[type === 1 ? 4 : 3]
    if (seq instanceof Uint8Array) out.enr_seq = asInt(seq)
  }
  return out
}

/// Minimal RLP decoder for the top-level list (nested lists returned as arrays).
function decodeRlpList(bytes) {
  const [item] = decodeRlp(bytes, 0)
  if (!Array.isArray(item)) throw new Error('not a list')
  return item
}

function decodeRlp(b, pos) {
  const p = b[pos]
  if (p === undefined) throw new Error('short')
  const lenOf = (n, at) => {
    let l = 0
    for (let i = 0; i < n; i++) l = l * 256 + b[at + i]
    return l
  }
  if (p < 0x80) return [b.subarray(pos, pos + 1), pos + 1]
  if (p <= 0xb7) {
    const l = p - 0x80
    return [b.subarray(pos + 1, pos + 1 + l), pos + 1 + l]
  }
  if (p < 0xc0) {
    const n = p - 0xb7
    const l = lenOf(n, pos + 1)
    return [b.subarray(pos + 1 + n, pos + 1 + n + l), pos + 1 + n + l]
  }
  let start
  let l
  if (p <= 0xf7) {
    start = pos + 1
    l = p - 0xc0
  } else {
    const n = p - 0xf7
    start = pos + 1 + n
    l = lenOf(n, pos + 1)
  }
  const end = start + l
  if (end > b.length) throw new Error('short')
  const items = []
  let at = start
  while (at < end) {
    const [it, next] = decodeRlp(b, at)
    items.push(it)
    at = next
  }
  return [items, end]
}

// ---------------------------------------------------------------------------
// stdin commands

function onCommand(line) {
  const s = line.trim()
  if (s.length === 0) return
  let cmd
  try {
    cmd = JSON.parse(s)
  } catch {
    emit({ event: 'error', message: `stdin: not JSON: ${s}` })
    return
  }
  switch (cmd.cmd) {
    case 'peers':
      emit({ event: 'peers', peers: dpt.getPeers().map(peerJson) })
      break
    case 'bootstrap':
      try {
        bootstrap(parseEnode(cmd.enode))
      } catch (e) {
        emit({ event: 'error', message: `stdin: ${e.message}` })
      }
      break
    case 'refresh':
      // DPT#refresh asks one tenth of the table per call (rotating); ten calls ask everyone.
      for (let i = 0; i < 10; i++) {
        dpt.refresh().catch((err) => emit({ event: 'error', message: String(err?.message ?? err) }))
      }
      emit({ event: 'refreshed', peers: dpt.getPeers().length })
      break
    case 'exit':
      exit(0, 'exit command')
      break
    default:
      emit({ event: 'error', message: `stdin: unknown command: ${s}` })
  }
}

if (!opts.ignoreStdin) {
  let buf = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (chunk) => {
    buf += chunk
    let nl = buf.indexOf('\n')
    while (nl >= 0) {
      onCommand(buf.slice(0, nl))
      buf = buf.slice(nl + 1)
      nl = buf.indexOf('\n')
    }
  })
  process.stdin.on('end', () => {
    if (buf.length > 0) onCommand(buf)
    exit(0, 'stdin closed')
  })
} else {
  process.stdin.destroy()
}

