// Runs inside the page (page.evaluate): imports ocpp.js from the server's own origin and keeps
// each client's events, so that the tests can read them back as plain JSON.
import { openPage } from './harness.mjs';

// Opens test.html on `origin` (a web_csms serving stageSite()) and installs window.ocpp,
// window.clients, window.newClient(name, options), window.attempt(fn) and window.waitEvent.
export async function openClientPage(browser, origin) {
  const page = await openPage(browser, `${origin}/test.html`);
  await page.evaluate(async () => {
    const ocpp = await import('/ocpp.js');
    window.ocpp = ocpp;
    window.clients = {};
    const plain = (e) => {
      const out = {};
      for (const [k, v] of Object.entries(e ?? {})) out[k] = v instanceof Error ? String(v) : v;
      return out;
    };
    window.errInfo = (e) => ({
      name: e?.name, message: e?.message, code: e?.code, description: e?.description, details: e?.details,
      path: e?.path, keyword: e?.keyword, closeCode: e?.closeCode,
      isRpcError: e instanceof ocpp.RpcError, isValidationError: e instanceof ocpp.ValidationError,
      isTimeoutError: e instanceof ocpp.TimeoutError, isConnectionError: e instanceof ocpp.ConnectionError,
    });
    window.attempt = async (fn) => {
      try {
        return { ok: true, value: await fn() };
      } catch (e) {
        return { ok: false, error: window.errInfo(e) };
      }
    };
    const eventNames = ['open', 'close', 'disconnect', 'message', 'badMessage', 'validationFailure', 'reconnect', 'error'];
    window.newClient = (name, options) => {
      const c = new ocpp.OcppClient(options);
      c.events = [];
      for (const ev of eventNames) c.on(ev, (e) => c.events.push({ event: ev, ...plain(e) }));
      c.handled = [];
      window.clients[name] = c;
      return c;
    };
    // Resolves once client `name` has an event that `pred` accepts (a wait on the event, with a
    // deadline).
    window.waitEvent = (name, pred, timeoutMs = 10000) => new Promise((resolve, reject) => {
      const c = window.clients[name];
      const found = c.events.find(pred);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no such event on ${name} within ${timeoutMs} ms: ` +
                                                      JSON.stringify(c.events.slice(-10)))), timeoutMs);
      const listener = () => {
        const hit = c.events.find(pred);
        if (!hit) return;
        clearTimeout(timer);
        for (const ev of eventNames) c.off(ev, listener);
        resolve(hit);
      };
      // Registered after the recording listeners, so the event is in c.events when this runs.
      for (const ev of eventNames) c.on(ev, listener);
    });
  });
  return page;
}

// Payloads valid against the official schemas, per protocol.
export const now = () => new Date().toISOString();
export const payloads = {
  'ocpp1.6': {
    boot: { chargePointVendor: 'WebTest', chargePointModel: 'Chromium' },
    bootResult: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
    authorize: { idTag: 'TAG-0001' },
    csmsCall: ['GetConfiguration', { key: ['HeartbeatInterval'] }],
    csmsResult: { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] },
    unhandled: ['UnlockConnector', { connectorId: 1 }],
  },
  'ocpp2.0.1': {
    boot: { reason: 'PowerUp', chargingStation: { model: 'Chromium', vendorName: 'WebTest' } },
    bootResult: () => ({ currentTime: now(), interval: 300, status: 'Accepted' }),
    authorize: { idToken: { idToken: 'TAG-0001', type: 'ISO14443' } },
    csmsCall: ['GetVariables', { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] }],
    csmsResult: { getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '300',
                                        component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] },
    unhandled: ['UnlockConnector', { evseId: 1, connectorId: 1 }],
  },
};
payloads['ocpp2.1'] = payloads['ocpp2.0.1'];
export const protocols = ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'];
