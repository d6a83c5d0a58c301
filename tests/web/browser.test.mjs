// ocpp.js (the RPC engine in WebAssembly) in headless Chromium against our C++ CSMS in strict
// mode (web_csms): calls both ways on each protocol, CALLERROR details, NotImplemented, strict
// mode both ways, and reconnect with the protocol pinned after the server is killed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { WebCsms, launchChromium, openPage, stageSite } from './harness.mjs';
import { openClientPage, payloads, protocols } from './page_helpers.mjs';

let browser;
before(async () => {
  browser = await launchChromium();
  console.log(`chromium ${browser.version()}`);
});
after(async () => browser?.close());

// The harness alone, without the wasm site: Chromium's own WebSocket speaks raw OCPP-J frames to
// the strict server, which validates both directions (and so also checks the tests' payloads).
test('harness: Chromium reaches the strict C++ CSMS over a raw WebSocket on each protocol', async () => {
  const csms = await WebCsms.start({ webRoot: '' });
  try {
    // A page Playwright fulfils on the server's origin (web_csms serves nothing here).
    const page = await openPage(browser, undefined, { localNetworkAccess: true });
    await page.route(`${csms.url}/raw.html`, (route) => route.fulfill({ contentType: 'text/html', body: '<title>raw</title>' }));
    await page.goto(`${csms.url}/raw.html`);
    for (const protocol of protocols) {
      const p = payloads[protocol];
      await csms.respond('BootNotification', { result: p.bootResult() }, protocol);
      const identity = `RAW-${protocol}`;
      const negotiated = await page.evaluate(async ({ ws, identity, protocol, boot, csmsResult }) => {
        const sock = new WebSocket(`${ws}/${identity}`, [protocol]);
        await new Promise((resolve, reject) => {
          sock.onopen = resolve;
          sock.onerror = () => reject(new Error('WebSocket error'));
        });
        const bootAnswer = new Promise((resolve) => {
          sock.onmessage = (m) => {
            const frame = JSON.parse(m.data);
            if (frame[0] === 2) sock.send(JSON.stringify([3, frame[1], csmsResult]));
            if (frame[1] === 'boot-1') resolve(frame);
          };
        });
        sock.send(JSON.stringify([2, 'boot-1', 'BootNotification', boot]));
        window.sockets = { ...window.sockets, [identity]: sock };
        return { protocol: sock.protocol, answer: await bootAnswer };
      }, { ws: csms.ws, identity, protocol, boot: p.boot, csmsResult: p.csmsResult });
      assert.equal(negotiated.protocol, protocol);
      assert.equal(negotiated.answer[0], 3, `boot answered with ${JSON.stringify(negotiated.answer)}`);
      const reply = await csms.call(identity, ...p.csmsCall);
      assert.deepEqual(reply.result, p.csmsResult, JSON.stringify(reply));
      assert.deepEqual(csms.events(identity, 'validationFailure'), []);
    }
  } finally {
    await csms.stop();
  }
});

describe('ocpp.js in Chromium against the strict C++ CSMS', () => {
  let csms;
  let page;
  before(async () => {
    csms = await WebCsms.start({ webRoot: stageSite() });
    page = await openClientPage(browser, csms.url);
    for (const protocol of protocols)
      await csms.respond('BootNotification', { result: payloads[protocol].bootResult() }, protocol);
    await csms.respond('Heartbeat', { result: { currentTime: new Date().toISOString() } });
  });
  after(async () => {
    await page?.evaluate(() => Promise.all(Object.values(window.clients).map((c) => c.close({ force: true }))))
      .catch(() => {});
    await csms?.stop();
  });

  // One strict client per protocol, answering the CSMS's call (asynchronously) by handler.
  const connect = (name, protocol, extra = {}) =>
    page.evaluate(async ({ name, ws, protocol, csmsAction, csmsResult, extra }) => {
      const c = window.newClient(name, { endpoint: ws, identity: name, protocols: [protocol], strictMode: true,
                                         reconnect: false, ...extra });
      c.handle(csmsAction, async ({ params, protocol: p }) => {
        c.handled.push({ action: csmsAction, params, protocol: p });
        await new Promise((r) => setTimeout(r, 1));
        return csmsResult;
      });
      await c.connect();
      return { protocol: c.protocol, state: c.state, identity: c.identity };
    }, { name, ws: csms.ws, protocol, csmsAction: payloads[protocol].csmsCall[0],
         csmsResult: payloads[protocol].csmsResult, extra });

  for (const protocol of protocols) {
    test(`calls both ways on ${protocol}, validated by the strict server`, async () => {
      const p = payloads[protocol];
      const name = `CP-${protocol}`;
      assert.deepEqual(await connect(name, protocol), { protocol, state: 'open', identity: name });
      const connected = await csms.waitFor((l) => l.event === 'connected' && l.identity === name, 'connected');
      assert.equal(connected.protocol, protocol);

      // station -> CSMS
      const boot = await page.evaluate(({ name, boot }) =>
        window.attempt(() => window.clients[name].call('BootNotification', boot)), { name, boot: p.boot });
      assert.ok(boot.ok, JSON.stringify(boot));
      assert.equal(boot.value.status, 'Accepted');
      const inCall = await csms.waitFor((l) => l.event === 'message' && l.identity === name && l.direction === 'in' &&
                                        l.type === 'CALL' && l.action === 'BootNotification', 'the boot CALL');
      assert.deepEqual(JSON.parse(inCall.raw)[3], p.boot);

      // CSMS -> station, answered by the page's async handler
      const reply = await csms.call(name, ...p.csmsCall);
      assert.deepEqual(reply.result, p.csmsResult, JSON.stringify(reply));
      const handled = await page.evaluate((name) => window.clients[name].handled, name);
      assert.deepEqual(handled, [{ action: p.csmsCall[0], params: p.csmsCall[1], protocol }]);

      // The page's message events: out CALL with the boot, in CALLRESULT with a latency.
      const events = await page.evaluate((name) => window.clients[name].events, name);
      const messages = events.filter((e) => e.event === 'message');
      const out = messages.find((e) => e.direction === 'out' && e.action === 'BootNotification');
      assert.equal(out?.type, 'CALL', `the message event's type (spec: {direction, type, ...}): ${JSON.stringify(out)}`);
      const result = messages.find((e) => e.direction === 'in' && e.messageId === out.messageId);
      assert.equal(result?.type, 'CALLRESULT', JSON.stringify(result));
      assert.equal(typeof result.latencyMs, 'number', JSON.stringify(result));
      assert.deepEqual(csms.events(name, 'validationFailure'), [], 'the strict server found nothing to refuse');
      assert.deepEqual(csms.events(name, 'badMessage'), []);
    });
  }

  test('ocpp2.1 SEND reaches the strict server and is not answered', async () => {
    const name = 'CP-send';
    await connect(name, 'ocpp2.1');
    const message = { id: 1, pending: 0, basetime: new Date().toISOString(), data: [{ t: 0, v: '1.5' }] };
    const sent = await page.evaluate(({ name, message }) =>
      window.attempt(() => window.clients[name].send('NotifyPeriodicEventStream', message)), { name, message });
    assert.ok(sent.ok, JSON.stringify(sent));
    const inSend = await csms.waitFor((l) => l.event === 'message' && l.identity === name && l.type === 'SEND',
                                      'the SEND');
    assert.deepEqual(JSON.parse(inSend.raw)[3], message);
    assert.deepEqual(csms.events(name, 'validationFailure'), []);
  });

  test('a CALLERROR from the CSMS surfaces with its code, description and details', async () => {
    const name = 'CP-callerror';
    await connect(name, 'ocpp2.0.1');
    const details = { reason: 'revoked', gate: 3, nested: { ok: false } };
    await csms.respond('Authorize', { error: { code: 'SecurityError', description: 'token revoked', details } });
    const r = await page.evaluate(({ name, authorize }) =>
      window.attempt(() => window.clients[name].call('Authorize', authorize)), { name, authorize: payloads['ocpp2.0.1'].authorize });
    assert.equal(r.ok, false);
    assert.equal(r.error.isRpcError, true, JSON.stringify(r.error));
    assert.equal(r.error.code, 'SecurityError');
    assert.equal(r.error.description, 'token revoked');
    assert.deepEqual(r.error.details, details);
    const sentError = await csms.waitFor((l) => l.event === 'message' && l.identity === name && l.type === 'CALLERROR',
                                         'the CALLERROR');
    assert.equal(sentError.errorCode, 'SecurityError');
  });

  test('an unhandled CSMS call is answered NotImplemented', async () => {
    for (const protocol of ['ocpp1.6', 'ocpp2.0.1']) {
      const name = `CP-unhandled-${protocol}`;
      await connect(name, protocol);
      await csms.waitFor((l) => l.event === 'connected' && l.identity === name, 'registered');
      const reply = await csms.call(name, ...payloads[protocol].unhandled);
      assert.equal(reply.error?.type, 'RpcError', JSON.stringify(reply));
      assert.equal(reply.error.code, 'NotImplemented');
      const answer = await csms.waitFor((l) => l.event === 'message' && l.identity === name && l.direction === 'in' &&
                                        l.type === 'CALLERROR', 'the CALLERROR');
      assert.equal(answer.errorCode, 'NotImplemented');
    }
  });

  test('strict mode refuses a bad outbound payload before it leaves', async () => {
    const name = 'CP-strict-out';
    await connect(name, 'ocpp2.0.1');
    const r = await page.evaluate(async (name) => {
      const c = window.clients[name];
      const bad = await window.attempt(() => c.call('BootNotification', { reason: 'PowerUp' }, { messageId: 'bad-out-1' }));
      // A good call after it: the server logs frames in order, so once it has this one, it would
      // have had the bad one too.
      const good = await window.attempt(() => c.call('Heartbeat', {}, { messageId: 'good-out-1' }));
      return { bad, good, events: c.events.filter((e) => e.event === 'validationFailure') };
    }, name);
    assert.equal(r.bad.ok, false);
    assert.equal(r.bad.error.isValidationError, true, JSON.stringify(r.bad.error));
    assert.equal(r.bad.error.code, 'OccurrenceConstraintViolation');
    assert.equal(r.bad.error.keyword, 'required');
    assert.equal(r.bad.error.path, '/chargingStation');
    assert.ok(r.good.ok, JSON.stringify(r.good));
    assert.equal(r.events.length, 1, JSON.stringify(r.events));
    assert.equal(r.events[0].action, 'BootNotification');
    assert.equal(r.events[0].code, 'OccurrenceConstraintViolation');
    await csms.waitFor((l) => l.event === 'message' && l.identity === name && l.messageId === 'good-out-1',
                       'the good call');
    assert.deepEqual(csms.events(name).filter((l) => l.messageId === 'bad-out-1' || l.action === 'BootNotification'), [],
                     'the refused payload never reached the server');
  });

  // The lax server sends what strict mode would refuse; the page's strict mode answers it with the
  // code the native client gives (README: type -> TypeConstraintViolation, required ->
  // OccurrenceConstraintViolation, maxLength -> FormatViolation, spelled FormationViolation on 1.6).
  // The codes and details are what the native server answers to the same CALLs.
  const badInbound = [
    ['ocpp1.6', 'ChangeConfiguration', { key: 'k'.repeat(51), value: '1' }, 'FormationViolation', { path: '/key', keyword: 'maxLength' }],
    ['ocpp2.0.1', 'Reset', { type: 5 }, 'TypeConstraintViolation', { path: '/type', keyword: 'type' }],
    ['ocpp2.1', 'Reset', {}, 'OccurrenceConstraintViolation', { path: '/type', keyword: 'required' }],
  ];
  for (const [protocol, action, payload, code, details] of badInbound) {
    test(`strict mode answers a bad inbound ${protocol} ${action} with ${code}`, async () => {
      const name = `CP-strict-in-${protocol}`;
      await page.evaluate(async ({ name, ws, protocol, action }) => {
        const c = window.newClient(name, { endpoint: ws, identity: name, protocols: [protocol], strictMode: true,
                                           reconnect: false });
        c.handle(action, ({ params }) => {
          c.handled.push(params);
          return { status: 'Accepted' };
        });
        await c.connect();
      }, { name, ws: csms.laxWs, protocol, action });
      // The page's connect() resolves at the 101; the server registers the station just after.
      await csms.waitFor((l) => l.event === 'connected' && l.identity === name, 'registered');
      const reply = await csms.call(name, action, payload);
      assert.equal(reply.error?.type, 'RpcError', JSON.stringify(reply));
      assert.equal(reply.error.code, code);
      assert.deepEqual(reply.error.details, details);
      const r = await page.evaluate((name) => ({ handled: window.clients[name].handled,
                                                 failures: window.clients[name].events.filter((e) => e.event === 'validationFailure') }), name);
      assert.deepEqual(r.handled, [], 'the handler never ran');
      assert.equal(r.failures.length, 1, JSON.stringify(r.failures));
      assert.equal(r.failures[0].action, action);
      assert.equal(r.failures[0].code, code);
    });
  }
});

test('reconnects after the server is SIGKILLed and restarted on the same port, offering only the negotiated protocol', async () => {
  const webRoot = stageSite();
  let csms = await WebCsms.start({ webRoot });
  const port = csms.port;
  const page = await openClientPage(browser, csms.url);
  try {
    const offered = ['ocpp1.6', 'ocpp2.0.1'];
    const first = await page.evaluate(async ({ ws, offered }) => {
      const c = window.newClient('CP-reconnect', { endpoint: ws, identity: 'CP-reconnect', protocols: offered,
                                                   reconnect: true, backoffMinMs: 50, backoffMaxMs: 200 });
      c.handle(() => ({}));
      await c.connect();
      return c.protocol;
    }, { ws: csms.ws, offered });
    const hello = await csms.waitFor((l) => l.event === 'connected', 'first handshake');
    assert.deepEqual(hello.offered, offered);
    assert.equal(hello.protocol, first);

    // The client notices the drop and retries against the dead port until the server is back.
    await csms.kill('SIGKILL');
    await page.evaluate(() => window.waitEvent('CP-reconnect', (e) => e.event === 'reconnect'));

    csms = await WebCsms.start({ port, webRoot });
    await csms.respond('Heartbeat', { result: { currentTime: new Date().toISOString() } });
    const again = await csms.waitFor((l) => l.event === 'connected', 'second handshake', 20000);
    assert.deepEqual(again.offered, [first], 'the second handshake offers only the negotiated protocol');
    assert.equal(again.protocol, first);
    const opens = await page.evaluate(async () => {
      await window.waitEvent('CP-reconnect', (e, i, all) => all.filter((x) => x.event === 'open').length === 2);
      const c = window.clients['CP-reconnect'];
      const hb = await window.attempt(() => c.call('Heartbeat', {}));
      return { hb, state: c.state, protocol: c.protocol, opens: c.events.filter((e) => e.event === 'open').length };
    });
    assert.ok(opens.hb.ok, JSON.stringify(opens.hb));
    assert.deepEqual({ state: opens.state, protocol: opens.protocol, opens: opens.opens },
                     { state: 'open', protocol: first, opens: 2 });
  } finally {
    await page.evaluate(() => window.clients['CP-reconnect']?.close({ force: true })).catch(() => {});
    await csms.stop();
  }
});
