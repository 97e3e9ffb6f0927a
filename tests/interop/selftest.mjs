// Sanity check of peer.mjs without Rust: ethereumjs listener <-> ethereumjs dialer.
// Run with `npm test` (or `node selftest.mjs`). Exits non-zero on failure.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('./peer.mjs', import.meta.url))
const KEY_A = '11'.repeat(32)
const KEY_B = '22'.repeat(32)

function start(args) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  const events = []
  const waiters = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    const ev = JSON.parse(line)
    events.push(ev)
    console.log(`${args[0].padEnd(6)} ${line}`)
    for (const w of [...waiters]) if (w.pred(ev)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(ev) }
  })
  const exited = new Promise((r) => child.on('exit', (code) => r(code)))
  const waitFor = (pred) => {
    const hit = events.find(pred)
    return hit ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ pred, resolve }))
  }
  return { child, events, waitFor, exited }
}

const fail = (msg) => {
  console.error(`SELFTEST FAILED: ${msg}`)
  process.exit(1)
}
setTimeout(() => fail('selftest timed out'), 20000).unref()

const port = 30000 + Math.floor(Math.random() * 20000)
const l = start(['listen', '--port', String(port), '--key', KEY_A, '--caps', 'eth/68,eth/69', '--exit-after', '1', '--timeout-ms', '15000'])
const listening = await l.waitFor((e) => e.event === 'listening' || e.event === 'exit')
if (listening.event !== 'listening') fail('listener did not start')
const d = start(['dial', '--port', '0', '--key', KEY_B, '--remote-id', listening.id, '--remote-port', String(port),
  '--ping', '--disconnect-after-hello', '--exit-after', '1', '--timeout-ms', '15000'])

const [lc, dc] = await Promise.all([l.exited, d.exited])
if (lc !== 0 || dc !== 0) fail(`exit codes listener=${lc} dialer=${dc}`)
const need = (p, pred, what) => p.events.find(pred) ?? fail(`missing ${what}`)
need(d, (e) => e.event === 'hello' && e.id === listening.id && e.protocol_version === 5 && e.caps.includes('eth/68'), 'dialer hello')
need(l, (e) => e.event === 'hello' && e.caps.includes('eth/68'), 'listener hello')
need(d, (e) => e.event === 'pong' && typeof e.rtt_ms === 'number', 'dialer pong')
need(d, (e) => e.event === 'disconnect' && e.reason_code === 8 && e.by === 'local', 'dialer local disconnect')
need(l, (e) => e.event === 'disconnect' && e.reason_code === 8 && e.by === 'remote', 'listener remote disconnect')
console.log('SELFTEST OK')
