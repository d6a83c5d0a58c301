// The browser client's budgets, measured in the page (bench.html): gzipped size of
// ocpp-engine.wasm + ocpp-engine.mjs + ocpp.js, the engine's streaming instantiation, parse +
// validation of the 1.8 KB TransactionEvent frame (and, with ?ajv=1, ocpp-ws-io's JSON.parse +
// AJV on the same frame), and the wasm heap with one station at steady state. Writes one JSON
// object into #result; tests/web/budgets.test.mjs asserts the figures.

// bench/transaction_event_frame.hpp byte for byte (1763 bytes; the test checks it).
const FRAME =
  '[2,"5e0c7d1a-9f3b-4a2e-8c6d-1b2a3c4d5e6f","TransactionEvent",{"eventType":"Updated","timestamp":"2026-11-23T10:15:30.123Z","triggerReason":"MeterValuePeriodic","seqNo":42,"offline":false,"numberOfPhasesUsed":3,"cableMaxCurrent":32,"transactionInfo":{"transactionId":"tx-0001-abcdef","chargingState":"Charging","timeSpentCharging":3600,"remoteStartId":17},"idToken":{"idToken":"04A1B2C3D4E5F6","type":"ISO14443"},"evse":{"id":1,"connectorId":1},' +
  '"meterValue":[{"timestamp":"2026-11-23T10:15:30.123Z","sampledValue":[' +
  '{"value":1.2345E3,"context":"Sample.Periodic","measurand":"Energy.Active.Import.Register","phase":"L1-N","location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},' +
  '{"value":1.2355E3,"context":"Sample.Periodic","measurand":"Power.Active.Import","phase":"L1-N","location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},' +
  '{"value":1.2365E3,"context":"Sample.Periodic","measurand":"Current.Import","phase":"L1-N","location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},' +
  '{"value":1.2375E3,"context":"Sample.Periodic","measurand":"Voltage","phase":"L1-N","location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},' +
  '{"value":1.2385E3,"context":"Sample.Periodic","measurand":"SoC","phase":"L1-N","location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},' +
  '{"value":1.2395E3,"context":"Sample.Periodic","measurand":"Frequency","phase":"L1-N","location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},' +
  '{"value":1.2405E3,"context":"Sample.Periodic","measurand":"Power.Offered","phase":"L1-N","location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}},' +
  '{"value":1.2415E3,"context":"Sample.Periodic","measurand":"Current.Offered","phase":"L1-N","location":"Outlet","unitOfMeasure":{"unit":"Wh","multiplier":0}}]}]}]';

const params = new URLSearchParams(location.search);
const out = { frame: FRAME, frameBytes: new TextEncoder().encode(FRAME).length };

// The engine's linear memory, caught as ocpp.js instantiates the module (ocpp.js does not expose
// it): exported by the instance, or imported through the import object.
let memory = null;
function findMemory(instance, imports) {
  for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) return v;
  for (const ns of Object.values(imports ?? {}))
    for (const v of Object.values(ns ?? {})) if (v instanceof WebAssembly.Memory) return v;
  return null;
}
for (const name of ['instantiateStreaming', 'instantiate']) {
  const original = WebAssembly[name];
  WebAssembly[name] = async function (source, imports) {
    const result = await original.call(this, source, imports);
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    memory = findMemory(instance, imports) ?? memory;
    return result;
  };
}

// Microseconds per call of fn: the best of `runs` rounds of `n` calls, after a warm-up.
function perOpUs(fn, n = 20000, runs = 5) {
  for (let i = 0; i < n / 10; ++i) fn();
  const rounds = [];
  for (let r = 0; r < runs; ++r) {
    const t0 = performance.now();
    for (let i = 0; i < n; ++i) fn();
    rounds.push(((performance.now() - t0) * 1000) / n);
  }
  rounds.sort((a, b) => a - b);
  return { best: rounds[0], median: rounds[Math.floor(runs / 2)], rounds };
}

async function gzipSize(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

async function sizes() {
  const files = {};
  let total = 0;
  let totalRaw = 0;
  for (const name of ['ocpp-engine.wasm', 'ocpp-engine.mjs', 'ocpp.js']) {
    const response = await fetch(name, { cache: 'no-store' });
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const gzip = await gzipSize(bytes);
    files[name] = { bytes: bytes.length, gzip, contentType: response.headers.get('content-type') };
    total += gzip;
    totalRaw += bytes.length;
  }
  return { files, gzipTotal: total, rawTotal: totalRaw };
}

// The budget's figure: measureParseValidate() parses the whole frame and checks its payload inside
// the engine, timed there (best of 5 rounds). Also measured through the API: validate() of the
// payload as JSON text (copied into wasm, parsed and checked there), and JSON.parse in JS followed
// by validate() of the object (which ocpp.js serialises for the engine).
function ours(ocpp) {
  const payloadText = FRAME.slice(FRAME.indexOf('{'), FRAME.lastIndexOf(']'));
  const check = ocpp.validate('ocpp2.0.1', 'TransactionEvent', 'request', payloadText);
  if (check !== null) throw new Error(`the frame fails our validator: ${JSON.stringify(check)}`);
  const bad = ocpp.validate('ocpp2.0.1', 'TransactionEvent', 'request', { ...JSON.parse(payloadText), seqNo: 'x' });
  if (!bad) throw new Error('our validator accepted a string seqNo');
  ocpp.measureParseValidate('ocpp2.0.1', FRAME, 2000);  // warm-up
  const rounds = Array.from({ length: 5 }, () => ocpp.measureParseValidate('ocpp2.0.1', FRAME, 20000)).sort((a, b) => a - b);
  return {
    parseAndValidateUs: { best: rounds[0], median: rounds[2], rounds },
    validateTextUs: perOpUs(() => ocpp.validate('ocpp2.0.1', 'TransactionEvent', 'request', payloadText)),
    jsParseThenValidateUs: perOpUs(() => ocpp.validate('ocpp2.0.1', 'TransactionEvent', 'request', JSON.parse(FRAME)[3])),
  };
}

async function loadScript(src) {
  await new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`${src} did not load`));
    document.head.append(s);
  });
}

// ocpp-ws-io 2.3.2's validator (dist/index.js): AJV with allErrors, strict off,
// multipleOfPrecision 4, ajv-formats and its own date-time check; the schema compiles on first use.
async function ajv() {
  await loadScript('ajv-bundle.js');
  const { Ajv, addFormats, schema } = globalThis.ajvBench;
  const dateTime = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
  const days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const isDateTime = (s) => {
    const m = dateTime.exec(s);
    if (!m) return false;
    const y = +m[1], mo = +m[2], d = +m[3];
    if (mo < 1 || mo > 12) return false;
    const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    const max = mo === 2 && leap ? 29 : days[mo - 1];
    return !(d < 1 || d > max || +m[4] > 23 || +m[5] > 59 || +m[6] > 60 ||
             (m[8] !== undefined && (+m[8] > 23 || +m[9] > 59)));
  };
  const t0 = performance.now();
  const instance = new Ajv({ allErrors: true, strict: false, multipleOfPrecision: 4 });
  addFormats(instance);
  instance.addFormat('date-time', isDateTime);
  const validate = instance.compile(schema);
  const firstUseMs = performance.now() - t0;
  if (!validate(JSON.parse(FRAME)[3])) throw new Error(`AJV rejects the frame: ${JSON.stringify(validate.errors)}`);
  return { firstUseMs, parseAndValidateUs: perOpUs(() => validate(JSON.parse(FRAME)[3])) };
}

// One strict station: boot, heartbeats and TransactionEvents, then the size of the wasm memory.
async function heap(ocpp) {
  const endpoint = params.get('ws') ?? `ws://${location.host}`;
  const before = memory?.buffer.byteLength ?? null;
  const c = new ocpp.OcppClient({ endpoint, identity: 'BENCH-1', protocols: ['ocpp2.0.1'], strictMode: true,
                                  reconnect: false });
  await c.connect();
  await c.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'Bench', vendorName: 'ocpp.js' } });
  const payload = JSON.parse(FRAME)[3];
  for (let i = 0; i < 200; ++i) {
    if (i % 20 === 0) await c.call('Heartbeat', {});
    await c.call('TransactionEvent', { ...payload, seqNo: i });
  }
  const steady = memory?.buffer.byteLength ?? null;
  await c.close();
  return { bytesBeforeConnect: before, bytesSteadyState: steady, calls: 211 };
}

async function main() {
  const t0 = performance.now();
  const ocpp = await import('./ocpp.js');
  const t1 = performance.now();
  const loaded = await ocpp.loadEngine();
  out.startup = { startupMs: loaded.startupMs, importMs: t1 - t0, loadEngineMs: performance.now() - t1 };
  if (params.get('only') === 'startup') return;
  out.size = await sizes();
  out.ours = ours(ocpp);
  if (params.get('ajv')) out.ajv = await ajv();
  out.heap = await heap(ocpp);
}

const result = document.getElementById('result');
main().then(
  () => { result.textContent = JSON.stringify(out, null, 1); },
  (e) => { result.textContent = JSON.stringify({ ...out, error: String(e), stack: e?.stack }, null, 1); },
).finally(() => result.setAttribute('data-done', '1'));
