// ocpp.js (the browser client) under node against a raw WebSocket server that the tests script
// frame by frame: what the module itself owns (connecting, subprotocols, handlers, calls, close,
// reconnect, SEND) on top of the engine the native tests cover.
// Run: OCPP_WEB_SITE=build/wasm/web/site node --test tests/web/client.test.mjs
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const require = createRequire(path.join(root, 'tests/interop/peers/package.json'));
const { WebSocket, WebSocketServer } = require('ws');
const site = path.resolve(root, process.env.OCPP_WEB_SITE ?? 'build/wasm/web/site');
const { OcppClient, RpcError, TimeoutError, ConnectionError, ValidationError, UsageError, NOREPLY, loadEngine, validate } =
  await import(pathToFileURL(path.join(site, 'ocpp.js')));

// A CSMS that accepts one subprotocol (or none) and hands each connection to the test.
async function csms({ protocol = 'ocpp2.0.1' } = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (offered) => (protocol && offered.has(protocol) ? protocol : false) });
  await once(wss, 'listening');
  const connections = [];
  const waiting = [];
  wss.on('connection', (ws, req) => {
    const peer = { ws, req, frames: [], waiters: [] };
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      const w = peer.waiters.shift();
      if (w) w(frame);
      else peer.frames.push(frame);
    });
    connections.push(peer);
    waiting.shift()?.(peer);
  });
  return {
    url: `ws://127.0.0.1:${wss.address().port}/ocpp`,
    port: wss.address().port,
    next: () => new Promise((r) => (connections.length > waiting.length ? r(connections[connections.length - 1]) : waiting.push(r))),
    close: () => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(r); }),
  };
}

const frame = (peer) => new Promise((r) => (peer.frames.length ? r(peer.frames.shift()) : peer.waiters.push(r)));

function client(url, extra = {}) {
  return new OcppClient({ endpoint: url, identity: 'CP 1', protocols: ['ocpp2.0.1'], WebSocket, reconnect: false, ...extra });
}

test('loadEngine instantiates once and reports its startup time', async () => {
  const a = await loadEngine();
  const b = await loadEngine();
  assert.equal(a, b);
  assert.ok(a.startupMs > 0);
});

test('connect offers the protocols, URL-encodes the identity and appends the query', async () => {
  const server = await csms();
  const c = client(server.url, { query: { token: 'a b' } });
  const opened = once_(c, 'open');
  await c.connect();
  const peer = await server.next();
  assert.equal(peer.req.url, '/ocpp/CP%201?token=a+b');
  assert.equal(peer.req.headers['sec-websocket-protocol'], 'ocpp2.0.1');
  assert.deepEqual(await opened, { protocol: 'ocpp2.0.1' });
  assert.equal(c.protocol, 'ocpp2.0.1');
  assert.equal(c.state, 'open');
  await c.close();
  await server.close();
});

test('a server that chooses no subprotocol fails connect with ConnectionError, not retried', async () => {
  const server = await csms({ protocol: null });
  const c = client(server.url, { reconnect: true });
  const reconnects = [];
  c.on('reconnect', (e) => reconnects.push(e));
  await assert.rejects(c.connect(), ConnectionError);
  assert.deepEqual(reconnects, []);
  assert.equal(c.state, 'closed');
  await server.close();
});

test('call resolves with the CALLRESULT payload and rejects a CALLERROR as RpcError with code and details', async () => {
  const server = await csms();
  const c = client(server.url);
  await c.connect();
  const peer = await server.next();
  const first = c.call('Heartbeat', {});
  const [type, id, action] = await frame(peer);
  assert.deepEqual([type, action], [2, 'Heartbeat']);
  peer.ws.send(JSON.stringify([3, id, { currentTime: '2026-01-01T00:00:00Z' }]));
  assert.deepEqual(await first, { currentTime: '2026-01-01T00:00:00Z' });
  const second = c.call('Heartbeat', {});
  const [, id2] = await frame(peer);
  peer.ws.send(JSON.stringify([4, id2, 'SecurityError', 'no', { reason: 'x' }]));
  await assert.rejects(second, (e) => e instanceof RpcError && e.code === 'SecurityError' && e.description === 'no' && e.details.reason === 'x');
  await c.close();
  await server.close();
});

test('a call with no answer rejects with TimeoutError after timeoutMs', async () => {
  const server = await csms();
  const c = client(server.url);
  await c.connect();
  await assert.rejects(c.call('Heartbeat', {}, { timeoutMs: 50 }), TimeoutError);
  await c.close();
  await server.close();
});

test('an aborted signal cancels the call', async () => {
  const server = await csms();
  const c = client(server.url);
  await c.connect();
  const peer = await server.next();
  const controller = new AbortController();
  const call = c.call('Heartbeat', {}, { signal: controller.signal });
  await frame(peer);
  controller.abort();
  await assert.rejects(call, (e) => e.name === 'AbortError');
  await c.close();
  await server.close();
});

test('strict mode refuses a bad outbound payload before it is sent', async () => {
  const server = await csms();
  const c = client(server.url, { strictMode: true });
  const failures = [];
  c.on('validationFailure', (e) => failures.push(e));
  await c.connect();
  const peer = await server.next();
  await assert.rejects(c.call('Heartbeat', { extra: 1 }), (e) => e instanceof ValidationError &&
    e.code === 'PropertyConstraintViolation' && e.path === '/extra' && e.keyword === 'additionalProperties');
  assert.equal(failures[0].phase, 'outboundCall');
  c.call('Heartbeat', {}).catch(() => {});
  assert.equal((await frame(peer))[2], 'Heartbeat', 'the first frame the server sees is the valid call');
  await c.close({ awaitPending: false });
  await server.close();
});

test('a call the charging station may not make fails with UsageError', async () => {
  const server = await csms();
  const c = client(server.url);
  await c.connect();
  await assert.rejects(c.call('Reset', { type: 'Immediate' }), UsageError);
  await c.close();
  await server.close();
});

test('handlers answer by protocol and action, by action, or wildcard; RpcError becomes the CALLERROR', async () => {
  const server = await csms();
  const c = client(server.url);
  c.handle('ocpp2.0.1', 'Reset', async ({ params, signal }) => {
    assert.ok(signal instanceof AbortSignal);
    return { status: params.type === 'Immediate' ? 'Accepted' : 'Rejected' };
  });
  c.handle('UnlockConnector', () => { throw new RpcError('SecurityError', 'locked', { why: 'test' }); });
  c.handle('DataTransfer', () => NOREPLY);
  c.handle(({ action }) => { if (action === 'ClearCache') throw new Error('boom'); return { status: 'Accepted' }; });
  await c.connect();
  const peer = await server.next();
  peer.ws.send(JSON.stringify([2, 'r1', 'Reset', { type: 'Immediate' }]));
  assert.deepEqual(await frame(peer), [3, 'r1', { status: 'Accepted' }]);
  peer.ws.send(JSON.stringify([2, 'u1', 'UnlockConnector', { evseId: 1, connectorId: 1 }]));
  assert.deepEqual(await frame(peer), [4, 'u1', 'SecurityError', 'locked', { why: 'test' }]);
  peer.ws.send(JSON.stringify([2, 'd1', 'DataTransfer', { vendorId: 'v' }]));
  peer.ws.send(JSON.stringify([2, 'c1', 'ClearCache', {}]));
  const [type, id, code] = await frame(peer);  // DataTransfer got no answer: the next frame is ClearCache's
  assert.deepEqual([type, id, code], [4, 'c1', 'InternalError']);
  peer.ws.send(JSON.stringify([2, 'g1', 'GetLog', {}]));
  assert.deepEqual(await frame(peer), [3, 'g1', { status: 'Accepted' }]);
  await c.close();
  await server.close();
});

test('an action without a handler is answered NotImplemented', async () => {
  const server = await csms();
  const c = client(server.url);
  await c.connect();
  const peer = await server.next();
  peer.ws.send(JSON.stringify([2, 'x1', 'Reset', { type: 'Immediate' }]));
  const [type, id, code] = await frame(peer);
  assert.deepEqual([type, id, code], [4, 'x1', 'NotImplemented']);
  await c.close();
  await server.close();
});

test('message events carry direction, type, id, action and the latency of results', async () => {
  const server = await csms();
  const c = client(server.url);
  const events = [];
  c.on('message', (e) => events.push(e));
  await c.connect();
  const peer = await server.next();
  const call = c.call('Heartbeat', {});
  const [, id] = await frame(peer);
  peer.ws.send(JSON.stringify([3, id, { currentTime: '2026-01-01T00:00:00Z' }]));
  await call;
  assert.deepEqual(events.map((e) => [e.direction, e.type, e.messageId, e.action]),
    [['out', 'CALL', id, 'Heartbeat'], ['in', 'CALLRESULT', id, 'Heartbeat']]);
  assert.ok(events[1].latencyMs >= 0);
  await c.close();
  await server.close();
});

test('SEND goes out on ocpp2.1 and is refused on ocpp2.0.1', async () => {
  const server = await csms({ protocol: 'ocpp2.1' });
  const c = client(server.url, { protocols: ['ocpp2.1'] });
  await c.connect();
  const peer = await server.next();
  const payload = { id: 1, pending: 0, basetime: '2026-01-01T00:00:00Z', data: [{ t: 0, v: '1' }] };
  c.send('NotifyPeriodicEventStream', payload);
  const [type, , action] = await frame(peer);
  assert.deepEqual([type, action], [6, 'NotifyPeriodicEventStream']);
  await c.close();
  await server.close();
  const server2 = await csms();
  const c2 = client(server2.url);
  await c2.connect();
  assert.throws(() => c2.send('NotifyPeriodicEventStream', payload), UsageError);
  await c2.close();
  await server2.close();
});

test('close fails pending calls, reports the code and is idempotent', async () => {
  const server = await csms();
  const c = client(server.url);
  const closes = [];
  c.on('close', (e) => closes.push(e));
  await c.connect();
  const failed = assert.rejects(c.call('Heartbeat', {}), ConnectionError);
  const result = await c.close({ code: 4001, reason: 'bye', awaitPending: false });
  assert.deepEqual(result, { code: 4001, reason: 'bye' });
  await failed;
  assert.deepEqual(await c.close(), { code: 4001, reason: 'bye' });
  assert.equal(closes.length, 1);
  assert.equal(c.state, 'closed');
  await server.close();
});

test('too many bad frames close the connection with 1002', async () => {
  const server = await csms();
  const c = client(server.url, { maxBadMessages: 1 });
  const bad = [];
  c.on('badMessage', (e) => bad.push(e));
  await c.connect();
  const peer = await server.next();
  const closed = once(peer.ws, 'close');
  peer.ws.send('not json');
  assert.deepEqual((await frame(peer)).slice(0, 3), [4, '-1', 'RpcFrameworkError']);
  peer.ws.send('[9]');
  const [code] = await closed;
  assert.equal(code, 1002);
  assert.equal(bad.length, 2);
  await server.close();
});

test('after an unexpected close the client reconnects offering only the negotiated protocol', async () => {
  const server = await csms();
  const c = new OcppClient({ endpoint: server.url, identity: 'CP1', protocols: ['ocpp2.1', 'ocpp2.0.1'], WebSocket,
    backoffMinMs: 10, backoffMaxMs: 20 });
  const reconnects = [];
  c.on('reconnect', (e) => reconnects.push(e));
  await c.connect();
  const first = await server.next();
  assert.deepEqual(first.req.headers['sec-websocket-protocol'].split(/,\s*/), ['ocpp2.1', 'ocpp2.0.1']);
  const reopened = once_(c, 'open');
  first.ws.terminate();
  await reopened;
  const second = await server.next();
  assert.notEqual(second, first);
  assert.equal(second.req.headers['sec-websocket-protocol'], 'ocpp2.0.1');
  assert.equal(reconnects[0].attempt, 1);
  assert.ok(reconnects[0].delayMs >= 5 && reconnects[0].delayMs <= 10);
  await c.close();
  await server.close();
});

test('validate() gives strict mode\'s answer for one payload', async () => {
  await loadEngine();
  assert.equal(validate('ocpp1.6', 'Heartbeat', 'request', {}), null);
  const e = validate('ocpp1.6', 'BootNotification', 'request', { chargePointVendor: 'v' });
  assert.equal(e.keyword, 'required');
  assert.equal(e.code, 'OccurenceConstraintViolation');  // as OCPP 1.6 spells it
});

function once_(emitter, event) {
  return new Promise((resolve) => {
    const fn = (e) => { emitter.off(event, fn); resolve(e); };
    emitter.on(event, fn);
  });
}
