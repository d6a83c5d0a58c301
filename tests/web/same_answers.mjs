#!/usr/bin/env node
// web.same_answers_native_and_browser: the same malformed frames and invalid payloads go to the
// native client (tests/web/native_station.cpp, on ocpp::Client) and to the browser client
// (tests/web/js_station.mjs, on web/ocpp.js and the wasm engine, under node); their answers must
// agree: CALLERROR codes, ids and details, and close codes. Descriptions may differ (printed).
//
//   node same_answers.mjs --native PATH/native_station --site DIR [--js PATH/js_station.mjs]
//                         [--only native]
//
// This script is the CSMS: a raw `ws` server on a free port. Each run starts one station process
// (protocol, strict mode, max bad messages given on its command line) and sends it a catalogue of
// probes one at a time. No waiting on the clock: every probe is followed by a marker CALL (Reset,
// which both stations answer), and the probe's answer is whatever arrives before the marker's
// answer (nothing, for a probe the station must not answer). The engines handle frames in order,
// so an answer to a probe cannot come after the marker's. Fatal runs end with the station's close
// instead. Each step is bounded (STEP_TIMEOUT_MS) so a station that hangs fails the test.
//
// --only native: run the native station alone and print its transcript (for looking at it).
// --self-check: the harness's own test (web.same_answers_self_check), without the wasm build: the
// native station against itself must agree, and against itself answering Reset "Rejected" must not.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const require = createRequire(path.join(ROOT, 'tests/interop/peers/package.json'));
const { WebSocketServer } = require('ws');

const STEP_TIMEOUT_MS = 10000;

// ---------------------------------------------------------------------------------------------
// arguments

function parseArgs(argv) {
  const args = { js: path.join(HERE, 'js_station.mjs'), site: process.env.OCPP_WEB_SITE, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--native') args.native = next();
    else if (a === '--site') args.site = next();
    else if (a === '--js') args.js = next();
    else if (a === '--only') args.only = next();
    else if (a === '--self-check') args.selfCheck = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.native) throw new Error('--native PATH is required');
  return args;
}

// ---------------------------------------------------------------------------------------------
// the catalogue

const RESET = {
  'ocpp1.6': { type: 'Hard' },
  'ocpp2.0.1': { type: 'Immediate' },
  'ocpp2.1': { type: 'Immediate' },
};
// ReserveNow (handled, like Reset) has the fields Reset lacks: a valid payload and variants that
// break one schema keyword each (format, maxLength). UnlockConnector is left unhandled.
const RESERVE = {
  'ocpp1.6': {
    valid: { connectorId: 1, expiryDate: '2024-01-01T00:00:00Z', idTag: 'ABC', reservationId: 1 },
    format: { connectorId: 1, expiryDate: 'tomorrow', idTag: 'ABC', reservationId: 1 },
    maxLength: { connectorId: 1, expiryDate: '2024-01-01T00:00:00Z', idTag: 'X'.repeat(21), reservationId: 1 },
  },
  'ocpp2.0.1': {
    valid: { id: 1, expiryDateTime: '2024-01-01T00:00:00Z', idToken: { idToken: 'ABC', type: 'Central' } },
    format: { id: 1, expiryDateTime: 'tomorrow', idToken: { idToken: 'ABC', type: 'Central' } },
    maxLength: { id: 1, expiryDateTime: '2024-01-01T00:00:00Z', idToken: { idToken: 'X'.repeat(37), type: 'Central' } },
  },
  'ocpp2.1': {
    valid: { id: 1, expiryDateTime: '2024-01-01T00:00:00Z', idToken: { idToken: 'ABC', type: 'Central' } },
    format: { id: 1, expiryDateTime: 'tomorrow', idToken: { idToken: 'ABC', type: 'Central' } },
    maxLength: { id: 1, expiryDateTime: '2024-01-01T00:00:00Z', idToken: { idToken: 'X'.repeat(256), type: 'Central' } },
  },
};
const UNLOCK = {
  'ocpp1.6': { connectorId: 1 },
  'ocpp2.0.1': { evseId: 1, connectorId: 1 },
  'ocpp2.1': { evseId: 1, connectorId: 1 },
};
const PERIODIC = { id: 1, pending: 0, basetime: '2024-01-01T00:00:00Z', data: [{ t: 0, v: '1' }] };

const j = (x) => JSON.stringify(x);

// Probes every run sends: framing, message types, ids, arity, actions, payload shapes, answers to
// nothing. [name, frame] where a frame is a string (sent as text) or {binary: string}.
function framingProbes(protocol) {
  const reset = RESET[protocol];
  return [
    ['valid Reset (baseline)', j([2, 'p-valid', 'Reset', reset])],
    ['malformed JSON', '[2, "p-json", "Reset", {'],
    ['not JSON at all', 'hello'],
    ['empty frame', ''],
    ['JSON object, not an array', j({ messageTypeId: 2 })],
    ['JSON number', '42'],
    ['empty array', '[]'],
    ['unknown message type 7', j([7, 'p-type7', 'Reset', reset])],
    ['message type as a string', j(['2', 'p-typestr', 'Reset', reset])],
    ['message type 2.5', j([2.5, 'p-typefrac', 'Reset', reset])],
    ['numeric message id', j([2, 17, 'Reset', reset])],
    ['empty message id', j([2, '', 'Reset', reset])],
    ['message id of 37 characters', j([2, 'i'.repeat(37), 'Reset', reset])],
    ['message id of 36 characters', j([2, 'i'.repeat(36), 'Reset', reset])],
    ['CALL without action', j([2, 'p-noaction'])],
    ['CALL without payload', j([2, 'p-nopayload', 'Reset'])],
    ['CALL with a fifth element', j([2, 'p-five', 'Reset', reset, {}])],
    ['CALL action not a string', j([2, 'p-actnum', 5, reset])],
    ['CALL empty action', j([2, 'p-actempty', '', reset])],
    ['unknown action', j([2, 'p-unknown', 'NoSuchAction', {}])],
    ['known action without a handler', j([2, 'p-unhandled', 'UnlockConnector', UNLOCK[protocol]])],
    ['action sent the wrong way (BootNotification to a station)', j([2, 'p-wrongway', 'BootNotification', {}])],
    ['payload is an array', j([2, 'p-payarr', 'Reset', []])],
    ['payload is a string', j([2, 'p-paystr', 'Reset', 'x'])],
    ['payload is null', j([2, 'p-paynull', 'Reset', null])],
    ['CALLRESULT for an unknown id', j([3, 'p-nosuchcall', {}])],
    ['CALLRESULT without payload', j([3, 'p-nosuchcall2'])],
    ['CALLRESULT payload not an object', j([3, 'p-nosuchcall3', 5])],
    ['CALLERROR for an unknown id', j([4, 'p-nosuchcall4', 'GenericError', '', {}])],
    ['CALLERROR without details', j([4, 'p-nosuchcall5', 'GenericError', ''])],
    ['CALLRESULTERROR (type 5)', j([5, 'p-cre', 'GenericError', '', {}])],
    ['SEND NotifyPeriodicEventStream (type 6)', j([6, 'p-send', 'NotifyPeriodicEventStream', PERIODIC])],
    ['SEND of an unknown action', j([6, 'p-send2', 'NoSuchAction', {}])],
    ['message id reused after its answer', j([2, 'p-valid', 'Reset', reset])],
    ['binary frame with a valid CALL', { binary: j([2, 'p-binary', 'Reset', reset]) }],
  ];
}

// Strict mode: one invalid inbound payload per schema keyword (Reset and ReserveNow are handled).
function strictProbes(protocol) {
  const r = RESERVE[protocol];
  const wrongEnum = protocol === 'ocpp1.6' ? 'Warm' : 'Later';
  return [
    ['strict: type (Reset.type a number)', j([2, 's-type', 'Reset', { type: 5 }])],
    ['strict: required (Reset without type)', j([2, 's-required', 'Reset', {}])],
    ['strict: additionalProperties (Reset.bogus)', j([2, 's-addl', 'Reset', { ...RESET[protocol], bogus: 1 }])],
    ['strict: enum (Reset.type unknown)', j([2, 's-enum', 'Reset', { type: wrongEnum }])],
    ['strict: format (ReserveNow date-time)', j([2, 's-format', 'ReserveNow', r.format])],
    ['strict: maxLength (ReserveNow id token)', j([2, 's-maxlen', 'ReserveNow', r.maxLength])],
    ['strict: valid ReserveNow', j([2, 's-valid', 'ReserveNow', r.valid])],
    ['strict: invalid payload of an unhandled action', j([2, 's-unhandled', 'UnlockConnector', { connectorId: 'one' }])],
    ['strict: unknown action', j([2, 's-unknown', 'NoSuchAction', { a: 1 }])],
    ['strict: invalid SEND', j([6, 's-send', 'NotifyPeriodicEventStream', { id: 'x' }])],
  ];
}

function runs() {
  const out = [];
  for (const protocol of ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1']) {
    out.push({ name: `${protocol} strict`, protocol, strict: true,
               probes: [...framingProbes(protocol), ...strictProbes(protocol)] });
  }
  // Without strict mode the same invalid payloads reach the handler (or NotImplemented).
  out.push({ name: 'ocpp2.0.1 lenient', protocol: 'ocpp2.0.1', strict: false, probes: strictProbes('ocpp2.0.1') });
  // Fatal: one bad frame more than max_bad_messages (2) closes with 1002; a valid frame in between
  // resets the count.
  out.push({ name: 'ocpp2.0.1 max bad messages', protocol: 'ocpp2.0.1', strict: false, maxBad: 2, fatal: true,
             probes: [['bad 1', 'hello'], ['bad 2', 'hello'], ['valid (resets the count)', null],
                      ['bad 1 again', '[1,'], ['bad 2 again', j([9, 'x'])], ['bad 3: over the limit', j({})]] });
  out.push({ name: 'ocpp1.6 max bad messages, unknown ids count', protocol: 'ocpp1.6', strict: false, maxBad: 1,
             fatal: true, probes: [['answer to nothing 1', j([3, 'u1', {}])], ['answer to nothing 2', j([4, 'u2', 'GenericError', '', {}])]] });
  // Fatal: a message above the 64 KiB default frame limit.
  out.push({ name: 'ocpp2.0.1 oversize', protocol: 'ocpp2.0.1', strict: false, fatal: true,
             probes: [['70 KiB CALL', j([2, 'big', 'Reset', { type: 'Immediate', pad: 'x'.repeat(70 * 1024) }])]] });
  return out;
}

// ---------------------------------------------------------------------------------------------
// the server and one run

class Csms {
  constructor() {
    this.waiting = new Map();  // identity -> resolve(connection)
  }

  async start() {
    this.wss = new WebSocketServer({
      host: '127.0.0.1', port: 0, maxPayload: 16 * 1024 * 1024,
      handleProtocols: (protocols) => protocols.values().next().value ?? false,
    });
    this.wss.on('connection', (ws, req) => {
      const identity = decodeURIComponent(req.url.split('?')[0].split('/').pop());
      const conn = new Connection(ws, identity);
      const resolve = this.waiting.get(identity);
      if (!resolve) {
        ws.close(4000, 'unexpected identity');
        return;
      }
      this.waiting.delete(identity);
      resolve(conn);
    });
    await new Promise((resolve, reject) => {
      this.wss.once('listening', resolve);
      this.wss.once('error', reject);
    });
    this.url = `ws://127.0.0.1:${this.wss.address().port}/ocpp`;
  }

  expect(identity) {
    return new Promise((resolve) => this.waiting.set(identity, resolve));
  }

  stop() {
    return new Promise((resolve) => this.wss.close(resolve));
  }
}

// One station's connection: frames in arrive in `inbox`; waiters are woken on each frame and on close.
class Connection {
  constructor(ws, identity) {
    this.ws = ws;
    this.identity = identity;
    this.protocol = ws.protocol;
    this.inbox = [];
    this.closed = null;
    this.wake = null;
    ws.on('message', (data, isBinary) => {
      this.inbox.push(isBinary ? { binary: data.toString('utf8') } : data.toString('utf8'));
      this.notify();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.notify();
    });
  }

  notify() {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }

  // Resolves when `done()` is true, re-checked on every frame and on close; rejects after the bound.
  until(done, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = null;
        reject(new Error(`no ${what} within ${STEP_TIMEOUT_MS} ms`));
      }, STEP_TIMEOUT_MS);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else {
          this.wake = check;
        }
      };
      check();
    });
  }

  send(frame) {
    if (typeof frame === 'string') this.ws.send(frame);
    else this.ws.send(Buffer.from(frame.binary, 'utf8'), { binary: true });
  }
}

function idOf(raw) {
  try {
    const f = JSON.parse(typeof raw === 'string' ? raw : raw.binary);
    return Array.isArray(f) ? f[1] : undefined;
  } catch {
    return undefined;
  }
}

async function runOne(csms, station, run, index) {
  const identity = `${station.kind}-${index}`;
  const connected = csms.expect(identity);
  const args = [csms.url, identity, run.protocol];
  if (run.strict) args.push('--strict');
  if (run.maxBad !== undefined) args.push('--max-bad-messages', String(run.maxBad));
  args.push(...(station.extra ?? []));
  const proc = spawn(station.command[0], [...station.command.slice(1), ...args],
                     { stdio: ['ignore', 'pipe', 'pipe'], env: station.env });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const bounded = (p, what) => Promise.race([p, new Promise((_, reject) => setTimeout(
    () => reject(new Error(`${station.kind} station: no ${what} within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS).unref())]);

  const transcript = { run: run.name, protocol: null, steps: [], close: null, error: null };
  try {
    const conn = await bounded(Promise.race([connected, exited.then((e) => {
      throw new Error(`${station.kind} station exited (${e.code ?? e.signal}) before connecting`);
    })]), 'connection');
    transcript.protocol = conn.protocol;
    let marker = 0;
    let since = 0;
    for (const [name, frame] of run.probes) {
      if (conn.closed) {
        transcript.steps.push({ probe: name, skipped: 'connection already closed' });
        continue;
      }
      if (!run.fatal) {
        const start = conn.inbox.length;
        conn.send(frame);
        transcript.steps.push({ probe: name, sent: frame, got: await markerStep(conn, run, ++marker, start) });
      } else if (frame === null) {
        // Fatal runs: bad frames go out back to back (a valid CALL in between resets the count);
        // a null probe is a marker, and the frames since the previous one are its step's answer.
        transcript.steps.push({ probe: name, got: await markerStep(conn, run, ++marker, since) });
        since = conn.inbox.length;
      } else {
        conn.send(frame);
        transcript.steps.push({ probe: name, sent: frame, got: null });
      }
    }
    if (run.fatal) {
      await conn.until(() => conn.closed, 'close after the fatal frame');
      transcript.all = conn.inbox.slice(since);  // the answers after the last marker, up to the close
    } else {
      conn.ws.close(1000, 'catalogue done');
      await conn.until(() => conn.closed, 'close');
    }
    transcript.close = conn.closed;
    const exit = await bounded(exited, 'exit after close');
    if (exit.code !== 0) throw new Error(`${station.kind} station exited with ${exit.code ?? exit.signal}`);
  } catch (e) {
    transcript.error = e.message;
    proc.kill('SIGKILL');
  }
  transcript.stdout = stdout.trim();
  transcript.stderr = stderr.trim();
  return transcript;
}

// Sends marker CALL n; returns the frames that arrived after `start` and before the marker's answer.
async function markerStep(conn, run, n, start) {
  const id = `mark-${n}`;
  conn.send(j([2, id, 'Reset', RESET[run.protocol]]));
  let at = -1;
  await conn.until(() => {
    at = conn.inbox.findIndex((raw, i) => i >= start && idOf(raw) === id);
    return at >= 0 || conn.closed;
  }, `answer to marker ${id}`);
  if (at < 0) return conn.inbox.slice(start).concat([{ closedBeforeMarker: conn.closed.code }]);
  const answer = JSON.parse(conn.inbox[at]);
  if (answer[0] !== 3) throw new Error(`marker ${id} answered ${conn.inbox[at]}`);
  return conn.inbox.slice(start, at);
}

// ---------------------------------------------------------------------------------------------
// comparison

// What must be identical: message type, id, CALLERROR code and details, CALLRESULT payload.
// The description (the human text) may differ and is reported separately.
function normal(raw) {
  if (typeof raw !== 'string') return j(raw);
  let f;
  try {
    f = JSON.parse(raw);
  } catch {
    return `unparsable ${raw}`;
  }
  if (Array.isArray(f) && (f[0] === 4 || f[0] === 5)) return j([f[0], f[1], f[2], f[4]]);
  return j(f);
}

function description(raw) {
  try {
    const f = JSON.parse(raw);
    return Array.isArray(f) && (f[0] === 4 || f[0] === 5) ? f[3] : null;
  } catch {
    return null;
  }
}

function compare(a, b) {
  const diffs = [];
  const notes = [];
  if (a.error || b.error) diffs.push(`errors: native ${a.error ?? 'none'} / js ${b.error ?? 'none'}`);
  if (a.protocol !== b.protocol) diffs.push(`protocol: ${a.protocol} / ${b.protocol}`);
  const n = Math.max(a.steps.length, b.steps.length);
  for (let i = 0; i < n; i++) {
    const x = a.steps[i] ?? {};
    const y = b.steps[i] ?? {};
    const gx = (x.got ?? []).map(normal);
    const gy = (y.got ?? []).map(normal);
    if (j(gx) !== j(gy) || j(x.skipped) !== j(y.skipped)) {
      diffs.push(`${x.probe ?? y.probe}: native ${j(x.skipped ?? gx)} / js ${j(y.skipped ?? gy)}`);
      continue;
    }
    (x.got ?? []).forEach((raw, k) => {
      const dx = description(raw);
      const dy = description((y.got ?? [])[k]);
      if (dx !== dy) notes.push(`${x.probe}: description native ${j(dx)} / js ${j(dy)}`);
    });
  }
  if (a.all || b.all) {
    const ax = (a.all ?? []).map(normal);
    const bx = (b.all ?? []).map(normal);
    if (j(ax) !== j(bx)) diffs.push(`frames of the fatal run: native ${j(ax)} / js ${j(bx)}`);
  }
  if ((a.close?.code ?? null) !== (b.close?.code ?? null)) {
    diffs.push(`close code: native ${a.close?.code ?? 'none'} / js ${b.close?.code ?? 'none'}`);
  }
  return { diffs, notes };
}

function printTranscript(kind, t) {
  console.log(`\n== ${kind}: ${t.run} (negotiated ${t.protocol})${t.error ? `  ERROR: ${t.error}` : ''}`);
  for (const s of t.steps) {
    const got = s.skipped ? `(${s.skipped})` : s.got === null ? '(sent; answers below)'
      : s.got.length ? s.got.map((g) => (typeof g === 'string' ? g : j(g))).join('  ') : '(no answer)';
    console.log(`  ${s.probe.padEnd(58)} -> ${got.length > 300 ? got.slice(0, 300) + '...' : got}`);
  }
  if (t.all) console.log(`  frames up to the close: ${t.all.map((g) => (typeof g === 'string' ? g : j(g))).join('  ') || '(none)'}`);
  console.log(`  close: ${t.close ? `${t.close.code} ${t.close.reason}` : 'none'}`);
  if (t.error && t.stderr) console.log(`  stderr: ${t.stderr.split('\n').slice(-5).join('\n          ')}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const stations = [{ kind: 'native', command: [args.native], env: process.env }];
  let jsMissing = null;
  if (args.selfCheck) {
    stations.push({ kind: 'native-again', command: [args.native], env: process.env });
    stations.push({ kind: 'native-rejecting', command: [args.native], extra: ['--reset-status', 'Rejected'],
                    env: process.env });
  } else if (args.only !== 'native') {
    const ocppJs = args.site ? path.join(args.site, 'ocpp.js') : null;
    if (!args.site) {
      jsMissing = 'no site directory given (--site DIR or OCPP_WEB_SITE): build the wasm preset first';
    } else if (!fs.existsSync(ocppJs)) {
      jsMissing = `web/ocpp.js is missing from the site directory: ${ocppJs} does not exist ` +
        '(build it: cmake --preset wasm && ninja -C build/wasm)';
    } else {
      stations.push({ kind: 'js', command: [process.execPath, args.js],
                      env: { ...process.env, OCPP_WEB_SITE: path.resolve(args.site) } });
    }
  }

  const csms = new Csms();
  await csms.start();
  const all = runs();
  const results = {};
  for (const station of stations) {
    results[station.kind] = [];
    for (let i = 0; i < all.length; i++) {
      const t = await runOne(csms, station, all[i], i);
      results[station.kind].push(t);
      printTranscript(station.kind, t);
    }
  }
  await csms.stop();

  let failed = false;
  for (const [kind, transcripts] of Object.entries(results)) {
    for (const t of transcripts) {
      if (t.error) {
        console.log(`FAIL ${kind} station, ${t.run}: ${t.error}`);
        failed = true;
      }
    }
  }
  if (args.selfCheck) {
    const differences = (other) => all.flatMap((_, i) => compare(results.native[i], results[other][i]).diffs);
    const same = differences('native-again');
    const rejecting = differences('native-rejecting');
    for (const d of same) console.log(`FAIL self-check: the native station disagrees with itself: ${d}`);
    // Every probe the Reset handler answers differs; the baseline probe must be among them.
    if (!rejecting.some((d) => d.startsWith('valid Reset (baseline)'))) {
      console.log('FAIL self-check: a station answering Reset "Rejected" was not reported as different');
      failed = true;
    } else {
      console.log(`self-check: ${rejecting.length} differences reported for the station answering Reset "Rejected", e.g.\n  ${rejecting[0]}`);
    }
    if (same.length) failed = true;
    if (!failed) console.log('self-check: passed');
    process.exit(failed ? 1 : 0);
  }
  if (results.js) {
    for (let i = 0; i < all.length; i++) {
      const { diffs, notes } = compare(results.native[i], results.js[i]);
      for (const n of notes) console.log(`note (${all[i].name}): ${n}`);
      for (const d of diffs) console.log(`DIFFERENT (${all[i].name}): ${d}`);
      if (diffs.length) failed = true;
    }
  }
  if (jsMissing) {
    console.log(`FAIL: cannot run the browser client: ${jsMissing}`);
    failed = true;
  }
  if (!failed) console.log('\nsame answers: native and JS agree on every probe');
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`same_answers.mjs: ${e.stack ?? e}`);
  process.exit(1);
});
