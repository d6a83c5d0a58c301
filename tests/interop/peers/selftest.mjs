// Self-test of the interop peer harness: every server lib x client lib x
// protocol combination, calls both ways, RPC errors both ways, a bad frame,
// and a clean close. Run through selftest.sh. Exits non-zero on any failure.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PEER = path.join(HERE, 'peer.mjs');
const LIBS = ['ocpp-ws-io', 'ocpp-rpc'];
const PROTOCOLS = ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'];
const WAIT_MS = 5000;

class Peer {
  constructor(name, args) {
    this.name = name;
    this.events = [];
    this.waiters = [];
    this.stderr = '';
    this.proc = spawn(process.execPath, [PEER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        ev = { event: '__non_json_stdout__', line };
      }
      this.events.push(ev);
      for (const w of [...this.waiters]) {
        if (w.pred(ev)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          clearTimeout(w.timer);
          w.resolve(ev);
        }
      }
    });
  }

  send(cmd) {
    this.proc.stdin.write(JSON.stringify(cmd) + '\n');
  }

  // Resolves with the first event (already seen, from index `from`, or future) matching pred.
  waitFor(pred, what, from = 0) {
    const seen = this.events.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: timed out waiting for ${what}`));
      }, WAIT_MS);
      this.waiters.push(w);
    });
  }

  async request(cmd, pred, what) {
    const from = this.events.length;
    this.send(cmd);
    return this.waitFor(pred, what, from);
  }

  async quit() {
    this.send({ cmd: 'quit' });
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    const res = await this.exited;
    clearTimeout(timer);
    return res;
  }
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

function bootPayload(protocol) {
  return protocol === 'ocpp1.6'
    ? { chargePointVendor: 'Selftest', chargePointModel: 'Peer' }
    : { reason: 'PowerUp', chargingStation: { vendorName: 'Selftest', model: 'Peer' } };
}

function resetPayload(protocol) {
  return protocol === 'ocpp1.6' ? { type: 'Soft' } : { type: 'Immediate' };
}

async function scenario(serverLib, clientLib, protocol) {
  const tag = `${serverLib} <- ${clientLib} ${protocol}`;
  const server = new Peer(`server(${serverLib})`, ['server', '--lib', serverLib, '--protocols', PROTOCOLS.join(','), '--require-password', 'pass:word']);
  let client;
  try {
    const listening = await server.waitFor((e) => e.event === 'listening', 'listening');
    const identity = `CP-${serverLib}-${clientLib}-${protocol}`.replace(/[^A-Za-z0-9-]/g, '_');
    client = new Peer(`client(${clientLib})`, [
      'client', '--lib', clientLib, '--url', `ws://127.0.0.1:${listening.port}`,
      '--identity', identity, '--protocols', protocol, '--no-reconnect', '--call-timeout-ms', '3000',
      '--password', 'pass:word', '--defer-connect',
    ]);
    // behaviour set before connecting, then connect
    await client.request({ cmd: 'handle', action: 'Reset', reply: { status: 'Accepted' } },
      (e) => e.event === 'ok' && e.cmd === 'handle', 'handle ok');
    await client.request({ cmd: 'connect' }, (e) => e.event === 'ok' && e.cmd === 'connect', 'connect ok');
    const open = await client.waitFor((e) => e.event === 'open' || e.event === 'connect_error', 'open');
    check(open.event === 'open', `${tag}: connect failed: ${JSON.stringify(open)}`);
    check(open.protocol === protocol, `${tag}: client negotiated ${open.protocol}`);
    const accepted = await server.waitFor((e) => e.event === 'client' && e.identity === identity, 'client event');
    check(accepted.protocol === protocol, `${tag}: server negotiated ${accepted.protocol}`);
    check(accepted.password === 'pass:word', `${tag}: Basic Auth password seen by server: ${JSON.stringify(accepted.password)}`);

    // 1. charge point -> CSMS: default BootNotification handler
    const boot = await client.request(
      { cmd: 'call', id: 'boot', action: 'BootNotification', payload: bootPayload(protocol) },
      (e) => e.id === 'boot', 'boot result');
    check(boot.event === 'result' && boot.payload?.status === 'Accepted' && boot.payload?.interval === 300,
      `${tag}: BootNotification: ${JSON.stringify(boot)}`);
    const inbound = await server.waitFor((e) => e.event === 'inbound' && e.action === 'BootNotification', 'inbound boot');
    check(inbound.identity === identity && inbound.payload && typeof inbound.message_id === 'string',
      `${tag}: inbound event: ${JSON.stringify(inbound)}`);
    check(server.events.some((e) => e.event === 'frame_in' && e.identity === identity && e.data.includes('"BootNotification"')),
      `${tag}: server printed no frame_in for the BootNotification`);

    // 2. CSMS -> charge point with a scripted reply (set up before connecting)
    const reset = await server.request(
      { cmd: 'call', id: 'reset', identity, action: 'Reset', payload: resetPayload(protocol) },
      (e) => e.id === 'reset', 'reset result');
    check(reset.event === 'result' && reset.payload?.status === 'Accepted', `${tag}: Reset: ${JSON.stringify(reset)}`);
    check(client.events.some((e) => e.event === 'frame_in' && e.data.includes('"Reset"')),
      `${tag}: client printed no frame_in for the Reset`);

    // 3. CALLERROR CSMS <- charge point: scripted SecurityError
    await client.request(
      { cmd: 'handle', action: 'ChangeAvailability', error: { code: 'SecurityError', description: 'selftest says no', details: { why: 'selftest' } } },
      (e) => e.event === 'ok', 'handle ok');
    const sec = await server.request(
      { cmd: 'call', id: 'sec', identity, action: 'ChangeAvailability', payload: {} },
      (e) => e.id === 'sec', 'security error');
    check(sec.event === 'call_error' && sec.code === 'SecurityError' && sec.wire?.code === 'SecurityError',
      `${tag}: SecurityError: ${JSON.stringify(sec)}`);
    // ocpp-rpc sends the details as given; ocpp-ws-io nests them (see README)
    check(JSON.stringify(sec.details).includes('"why":"selftest"'), `${tag}: details lost: ${JSON.stringify(sec)}`);

    // 4. CALLERROR charge point <- CSMS: unknown action -> NotImplemented
    const ni = await client.request(
      { cmd: 'call', id: 'ni', action: 'NoSuchAction', payload: {} },
      (e) => e.id === 'ni', 'not implemented');
    check(ni.event === 'call_error' && ni.code === 'NotImplemented' && ni.wire?.code === 'NotImplemented',
      `${tag}: NotImplemented: ${JSON.stringify(ni)}`);

    // 5. timeout on a CALL the other side never answers
    await server.request({ cmd: 'handle', action: 'Heartbeat', noreply: true, identity },
      (e) => e.event === 'ok', 'handle ok');
    const to = await client.request(
      { cmd: 'call', id: 'to', action: 'Heartbeat', payload: {}, timeout_ms: 300 },
      (e) => e.id === 'to', 'timeout');
    check(to.event === 'call_failed' && to.timeout === true, `${tag}: timeout: ${JSON.stringify(to)}`);

    // 6. a raw non-JSON frame is reported as a bad message
    await client.request({ cmd: 'send_raw', data: 'this is not json' }, (e) => e.event === 'ok' && e.cmd === 'send_raw', 'send_raw ok');
    const bad = await server.waitFor((e) => e.event === 'bad_message', 'bad_message');
    check(bad.identity === identity && bad.message === 'this is not json', `${tag}: bad_message: ${JSON.stringify(bad)}`);

    // 7. bad command lines never kill the peer
    const ce = await client.request({ cmd: 'frobnicate' }, (e) => e.event === 'cmd_error', 'cmd_error');
    check(ce.message.includes('frobnicate'), `${tag}: cmd_error: ${JSON.stringify(ce)}`);

    // 8. clean close from the charge point
    const closed = await client.request({ cmd: 'close', code: 1000, reason: 'bye' }, (e) => e.event === 'closed', 'closed');
    check(closed.code === 1000, `${tag}: close: ${JSON.stringify(closed)}`);
    const gone = await server.waitFor((e) => e.event === 'client_close' && e.identity === identity, 'client_close');
    check(gone.code === 1000 && gone.reason === 'bye', `${tag}: client_close: ${JSON.stringify(gone)}`);

    const [cx, sx] = await Promise.all([client.quit(), server.quit()]);
    check(cx.code === 0 && sx.code === 0, `${tag}: exit codes client=${JSON.stringify(cx)} server=${JSON.stringify(sx)}`);
    for (const p of [client, server]) {
      const junk = p.events.find((e) => e.event === '__non_json_stdout__' || e.event === 'internal_error');
      check(!junk, `${tag}: ${p.name} printed ${JSON.stringify(junk)}`);
    }
    return { tag, ok: true };
  } catch (err) {
    const dump = (p) => p ? `--- ${p.name} events:\n${p.events.map((e) => JSON.stringify(e)).join('\n')}\n--- ${p.name} stderr:\n${p.stderr}` : '';
    for (const p of [client, server]) if (p) p.proc.kill('SIGKILL');
    return { tag, ok: false, error: `${err.message}\n${dump(server)}\n${dump(client)}` };
  }
}

const started = Date.now();
const jobs = [];
for (const s of LIBS) for (const c of LIBS) for (const p of PROTOCOLS) jobs.push([s, c, p]);

// two at a time: the machine has 2 cores
const results = [];
let next = 0;
async function worker() {
  while (next < jobs.length) {
    const job = jobs[next++];
    const r = await scenario(...job);
    console.log(`${r.ok ? 'PASS' : 'FAIL'} ${r.tag}`);
    if (!r.ok) console.log(r.error);
    results.push(r);
  }
}
await Promise.all([worker(), worker()]);

const failed = results.filter((r) => !r.ok).length;
console.log(`selftest took ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`selftest: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
