// ocpp-ws-io for C++ in the browser: an OCPP-J charging-station client whose RPC rules are the
// native library's engine compiled to WebAssembly (ocpp-engine.wasm). This module owns only what
// the browser owns: the WebSocket, timers, reconnects and the user's handlers and listeners.
// No runtime dependency; under node 20, pass a WebSocket class (the `ws` package's) in the options.
import createOcppEngine from './ocpp-engine.mjs';

export const NOREPLY = Symbol('NOREPLY');

export class RpcError extends Error {
  constructor(code = 'GenericError', description = '', details = {}) {
    super(description ? `${code}: ${description}` : code);
    this.name = 'RpcError';
    this.code = code;
    this.description = description;
    this.details = details;
  }
}

// Strict mode refused a payload: nothing was sent (outbound) or the CALL was answered with `code`.
export class ValidationError extends RpcError {
  constructor(code, description, details, path, keyword) {
    super(code, description, details);
    this.name = 'ValidationError';
    this.path = path;
    this.keyword = keyword;
  }
}

export class TimeoutError extends Error {
  constructor(message) { super(message); this.name = 'TimeoutError'; }
}

export class ConnectionError extends Error {
  constructor(message, closeCode = 0) { super(message); this.name = 'ConnectionError'; this.closeCode = closeCode; }
}

// A call the connection cannot make: the action goes the other way, SEND before ocpp2.1, a bad id.
export class UsageError extends Error {
  constructor(message) { super(message); this.name = 'UsageError'; }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const isNode = typeof process === 'object' && !!process.versions?.node && typeof window === 'undefined';

let engine = null;  // the one module every client shares
let loading = null;

// Instantiates ocpp-engine.wasm (by streaming in a browser) once; later calls return the same
// promise. `startupMs` is the time from the call to a usable engine.
export function loadEngine(wasmUrl = new URL('./ocpp-engine.wasm', import.meta.url)) {
  if (loading) return loading;
  const started = performance.now();
  loading = createOcppEngine({
    instantiateWasm(imports, receive) {
      const ready = isNode
        ? import('node:fs/promises').then((fs) => fs.readFile(wasmUrl)).then((b) => WebAssembly.instantiate(b, imports))
        : WebAssembly.instantiateStreaming(fetch(wasmUrl), imports);
      ready.then((r) => receive(r.instance, r.module), (e) => { loading = null; throw e; });
      return {};
    },
  }).then((m) => {
    m.ocppClients = new Map();
    engine = m;
    return { startupMs: performance.now() - started };
  });
  return loading;
}

function text(p, n) { return decoder.decode(engine.HEAPU8.subarray(p, p + n)); }

// Runs fn with every string copied into the wasm memory as (pointer, size) pairs.
function withStrings(strings, fn) {
  const bytes = strings.map((s) => encoder.encode(s));
  const ptrs = bytes.map((b) => { const p = engine._malloc(b.length || 1); engine.HEAPU8.set(b, p); return p; });
  try {
    return fn(...ptrs.flatMap((p, i) => [p, bytes[i].length]));
  } finally {
    ptrs.forEach((p) => engine._free(p));
  }
}

function returned(ptr) {
  return ptr ? text(ptr, engine._ocpp_web_returned_size()) : '';
}

// Strict mode's check alone, as the engine runs it: null when valid, else {path, keyword, message, code}.
export function validate(protocol, action, kind, payload) {
  if (!engine) throw new UsageError('validate(): call and await loadEngine() first');
  const json = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const r = withStrings([protocol, action, json], (p, pn, a, an, j, jn) =>
    engine._ocpp_web_validate(p, pn, a, an, kind === 'response' ? 1 : 0, j, jn));
  const s = returned(r);
  return s ? JSON.parse(s) : null;
}

// Microseconds per parse of the CALL `frame` plus strict mode's check of its payload, timed inside
// the engine over `iterations` runs (the page's speed budget). Throws when the frame is not valid.
export function measureParseValidate(protocol, frame, iterations = 10000) {
  if (!engine) throw new UsageError('measureParseValidate(): call and await loadEngine() first');
  const ms = withStrings([protocol, frame], (p, pn, f, fn) => engine._ocpp_web_bench_parse_validate(p, pn, f, fn, iterations));
  if (ms < 0) throw new UsageError('the frame does not parse or its payload is not valid');
  return (ms * 1000) / iterations;
}

function failureError(f) {
  switch (f.kind) {
    case 'rpc': return new RpcError(f.code, f.description, f.details);
    case 'validation': return new ValidationError(f.code, f.description, f.details, f.path, f.keyword);
    case 'timeout': return new TimeoutError(f.message);
    case 'connection': return new ConnectionError(f.message, f.closeCode ?? 0);
    case 'cancelled': { const e = new Error(f.message); e.name = 'AbortError'; return e; }
    default: return new UsageError(f.message);
  }
}

// Browsers let a page send only 1000 and 3000-4999; other codes go out as 1000 with the reason.
function closeSocket(ws, code, reason) {
  const r = String(reason).slice(0, 120);
  try {
    ws.close(code, r);
  } catch {
    ws.close(1000, r || `(${code})`);
  }
}

const CLOSE_START = ['already_closed', 'joined', 'not_open', 'started'];
// Events the engine makes; it builds them only while someone listens.
const ENGINE_EVENTS = new Set(['message', 'badMessage', 'validationFailure', 'callResultError']);
let nextClientId = 1;

export class OcppClient {
  #id = nextClientId++;
  #o;
  #created = false;
  #ws = null;
  #state = 'closed';
  #protocol = '';
  #offered;
  #handlers = new Map();
  #listeners = new Map();
  #calls = new Map();
  #nextToken = 1;
  #running = new Map();  // token -> AbortController of a handler that has not answered
  #timer = null;
  #reconnectTimer = null;
  #attempts = 0;
  #retrying = false;
  #connectWaiters = [];
  #closeWaiters = [];
  #lastClose = null;
  #requestedClose = null;

  constructor(options) {
    const o = { reconnect: true, maxReconnects: Infinity, backoffMinMs: 1000, backoffMaxMs: 30000,
      retryInitialConnect: false, maxFrameBytes: 65536, protocols: [], query: {}, ...options };
    if (!o.identity) throw new UsageError('identity is required');
    if (!/^wss?:\/\//.test(o.endpoint ?? '')) throw new UsageError('endpoint must be a ws:// or wss:// URL');
    o.WebSocket ??= globalThis.WebSocket;
    if (!o.WebSocket) throw new UsageError('no WebSocket: pass one in the options');
    this.#o = o;
    this.#offered = [...o.protocols];
  }

  get identity() { return this.#o.identity; }
  get protocol() { return this.#protocol; }
  get state() { return this.#state; }

  on(event, fn) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    const set = this.#listeners.get(event);
    set.add(fn);
    if (set.size === 1) this.#listen(event, true);
    return this;
  }

  off(event, fn) {
    const set = this.#listeners.get(event);
    if (set?.delete(fn) && set.size === 0) this.#listen(event, false);
    return this;
  }

  // handle(action, fn), handle(protocol, action, fn), or handle(fn) for every action.
  handle(...args) {
    const fn = args.pop();
    if (typeof fn !== 'function') throw new UsageError('handle(): the last argument is the handler');
    this.#handlers.set(args.length === 2 ? `${args[0]} ${args[1]}` : args[0] ?? '*', fn);
    return this;
  }

  async connect() {
    if (this.#state === 'open') return;
    if (this.#state === 'closing') throw new ConnectionError('Cannot connect: the client is closing');
    const done = new Promise((resolve, reject) => this.#connectWaiters.push({ resolve, reject }));
    if (this.#state === 'closed') {
      this.#state = 'connecting';
      this.#attempts = 0;
      this.#retrying = this.#o.retryInitialConnect;
      try {
        await this.#ensureEngine();
      } catch (e) {
        this.#state = 'closed';
        this.#settleConnect(e);
        return done;
      }
      engine._ocpp_web_set_connecting(this.#id);
      this.#attempt();
    }
    return done;
  }

  // Starts at once when the engine is loaded, so calls go out in the order they are made.
  call(action, payload = {}, options = {}) {
    if (this.#created) return this.#call(action, payload, options);
    return this.#ensureEngine().then(() => this.#call(action, payload, options));
  }

  // An ocpp2.1 SEND: no answer comes back. Throws when it cannot go out.
  send(action, payload = {}) {
    if (!this.#created) throw new ConnectionError('Not connected');
    const r = withStrings([action, JSON.stringify(payload)], (a, an, p, pn) =>
      engine._ocpp_web_send(this.#id, a, an, p, pn));
    const s = returned(r);
    if (s) throw failureError(JSON.parse(s));
  }

  async close({ code = 1000, reason = '', awaitPending = true, force = false } = {}) {
    if (!this.#created) return this.#lastClose ?? { code, reason };
    const done = new Promise((resolve) => this.#closeWaiters.push(resolve));
    const start = CLOSE_START[withStrings([reason], (r, rn) =>
      engine._ocpp_web_close(this.#id, code, r, rn, awaitPending ? 1 : 0, force ? 1 : 0))];
    if (start === 'already_closed') {
      this.#closeWaiters.pop();
      return this.#lastClose ?? { code, reason };
    }
    if (start === 'not_open') this.#abortConnecting();
    else if (start === 'started' && this.#state === 'open') this.#state = 'closing';
    return done;
  }

  // Closes the client and frees what the engine holds for it (a simulator tab that goes away).
  async destroy() {
    await this.close({ awaitPending: false });
    if (!this.#created) return;
    engine._ocpp_web_destroy(this.#id);
    engine.ocppClients.delete(this.#id);
    this.#created = false;
  }

  // ------------------------------------------------------------------ inside

  #call(action, payload, { timeoutMs = -1, signal, messageId = '' }) {
    return new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const token = this.#nextToken++;
      this.#calls.set(token, { resolve, reject });
      const serial = withStrings([action, JSON.stringify(payload), messageId], (a, an, p, pn, i, ins) =>
        engine._ocpp_web_call(this.#id, token, a, an, p, pn, timeoutMs, i, ins));
      if (serial && signal) signal.addEventListener('abort', () => engine._ocpp_web_cancel(this.#id, serial), { once: true });
    });
  }

  async #ensureEngine() {
    if (this.#created) return;
    await loadEngine();
    if (this.#created) return;
    const { WebSocket, identity, endpoint, protocols, query, password, ...rest } = this.#o;
    const r = withStrings([identity, JSON.stringify(rest)], (i, iN, o, oN) => engine._ocpp_web_create(this.#id, i, iN, o, oN));
    if (r !== 0) throw new UsageError(returned(engine._ocpp_web_returned()));
    engine.ocppClients.set(this.#id, this);
    this.#created = true;
    for (const [event, set] of this.#listeners) if (set.size) this.#listen(event, true);
  }

  #listen(event, on) {
    if (this.#created && ENGINE_EVENTS.has(event))
      withStrings([event], (e, en) => engine._ocpp_web_listen(this.#id, e, en, on ? 1 : 0));
  }

  #url() {
    const o = this.#o;
    const url = new URL(`${o.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(o.identity)}`);
    for (const [k, v] of Object.entries(o.query)) url.searchParams.append(k, v);
    if (o.password !== undefined) {
      url.username = o.identity;
      url.password = o.password;
    }
    return url.toString();
  }

  #attempt() {
    let ws;
    try {
      ws = new this.#o.WebSocket(this.#url(), this.#offered);
    } catch (e) {
      return this.#giveUp(new ConnectionError(`Cannot connect: ${e.message}`), { code: 1001, reason: e.message });
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      const chosen = ws.protocol ?? '';
      if (this.#offered.length && !chosen) {
        this.#detach(ws);
        closeSocket(ws, 1000, 'No subprotocol');
        return this.#giveUp(new ConnectionError('Server sent no subprotocol'), { code: 1001, reason: 'Server sent no subprotocol' });
      }
      opened = true;
      this.#offered = chosen ? [chosen] : [];  // a reconnect never changes the protocol
      this.#protocol = chosen;
      this.#attempts = 0;
      this.#retrying = false;
      this.#state = 'open';
      withStrings([chosen], (p, pn) => engine._ocpp_web_open(this.#id, p, pn));
      this.#emit('open', { protocol: chosen });
      this.#settleConnect(null);
    };
    ws.onmessage = (ev) => {
      const bytes = typeof ev.data === 'string' ? encoder.encode(ev.data) : new Uint8Array(ev.data);
      // The native transport's read limit: a bigger message closes the connection with 1009.
      if (bytes.length > this.#o.maxFrameBytes) {
        withStrings(['Message too big'], (r, rn) => engine._ocpp_web_close(this.#id, 1009, r, rn, 0, 0));
        return;
      }
      const p = engine._malloc(bytes.length || 1);
      engine.HEAPU8.set(bytes, p);
      try {
        engine._ocpp_web_frame(this.#id, p, bytes.length);
      } finally {
        engine._free(p);
      }
    };
    ws.onerror = () => {};  // onclose follows with the code
    ws.onclose = (ev) => {
      this.#detach(ws);
      this.#ws = null;
      if (!opened) return this.#attemptFailed(`closed with ${ev.code}${ev.reason ? ` ${ev.reason}` : ''}`);
      this.#transportClosed(this.#requestedClose?.code ?? ev.code, this.#requestedClose?.reason ?? ev.reason ?? '');
    };
  }

  #detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = null;
  }

  #attemptFailed(why) {
    if (this.#state !== 'connecting') return;
    if (!this.#retrying) return this.#giveUp(new ConnectionError(`Cannot connect: ${why}`), { code: 1006, reason: why });
    this.#scheduleReconnect(why);
  }

  #transportClosed(code, reason) {
    this.#requestedClose = null;
    clearTimeout(this.#timer);
    const requested = withStrings([reason], (r, rn) => engine._ocpp_web_transport_closed(this.#id, code, r, rn));
    if (requested || !this.#o.reconnect) return this.#finish({ code, reason });
    this.#emit('disconnect', { code, reason });
    this.#state = 'connecting';
    engine._ocpp_web_set_connecting(this.#id);
    this.#attempts = 0;
    this.#retrying = true;
    this.#scheduleReconnect(reason || `closed with ${code}`);
  }

  #scheduleReconnect(why) {
    const o = this.#o;
    if (this.#attempts >= o.maxReconnects) {
      const reason = 'Max reconnection attempts exhausted';
      return this.#giveUp(new ConnectionError(`${reason} (last: ${why})`), { code: 1001, reason });
    }
    ++this.#attempts;
    // The native client's rule: min(max, min * 2^(n-1) * (0.5 + 0.5 r)).
    const delayMs = Math.min(o.backoffMaxMs, o.backoffMinMs * 2 ** (this.#attempts - 1) * (0.5 + 0.5 * Math.random()));
    this.#emit('reconnect', { attempt: this.#attempts, delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#state === 'connecting') this.#attempt();
    }, delayMs);
  }

  #abortConnecting() {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    if (this.#ws) {
      this.#detach(this.#ws);
      closeSocket(this.#ws, 1000, 'Connection aborted');
      this.#ws = null;
    }
    this.#giveUp(new ConnectionError('Connection aborted'), { code: 1001, reason: 'Connection aborted' });
  }

  #giveUp(error, result) {
    this.#settleConnect(error);
    this.#finish(result);
  }

  #finish(result) {
    clearTimeout(this.#timer);
    this.#state = 'closed';
    this.#lastClose = result;
    withStrings([result.reason], (r, rn) => engine._ocpp_web_finish(this.#id, result.code, r, rn));
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    waiters.forEach((w) => w(result));
    this.#emit('close', result);
  }

  #settleConnect(error) {
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const w of waiters) error ? w.reject(error) : w.resolve();
  }

  #emit(event, data) {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) {
      try {
        fn(data);
      } catch (error) {
        // A listener's exception stops here, as the native events' do; 'error' hears of it.
        if (event !== 'error') this.#emit('error', { error, event });
      }
    }
  }

  #findHandler(action) {
    const h = this.#handlers;
    return h.get(`${this.#protocol} ${action}`) ?? h.get(action) ?? h.get('*');
  }

  // ------------------------------------------------------------------ the engine's imports

  hostWrite(p, n) { this.#ws?.send(text(p, n)); }

  hostClose(code, p, n) {
    const reason = text(p, n);
    this.#requestedClose = { code, reason };
    if (this.#state === 'open') this.#state = 'closing';
    if (this.#ws) closeSocket(this.#ws, code, reason);
  }

  hostTerminate() {
    const ws = this.#ws;
    if (!ws) return;
    if (typeof ws.terminate === 'function') ws.terminate();  // node's ws; a browser can only close
    else ws.close();
  }

  hostSchedule(ms) {
    clearTimeout(this.#timer);
    this.#timer = ms < 0 ? null : setTimeout(() => engine._ocpp_web_timer(this.#id), ms);
  }

  hostPost() { queueMicrotask(() => engine._ocpp_web_run_posted(this.#id)); }

  hostHasHandler(p, n) { return this.#findHandler(text(p, n)) ? 1 : 0; }

  hostHandle(token, p, n) {
    const call = JSON.parse(text(p, n));
    const fn = this.#findHandler(call.action);
    const controller = new AbortController();
    this.#running.set(token, controller);
    const answer = (reply) => {
      if (this.#running.delete(token)) withStrings([JSON.stringify(reply)], (r, rn) => engine._ocpp_web_answer(this.#id, token, r, rn));
    };
    Promise.resolve()
      .then(() => fn({ action: call.action, params: call.params, messageId: call.messageId, protocol: call.protocol,
        isSend: call.isSend, signal: controller.signal, client: this }))
      .then((result) => answer(result === NOREPLY ? {} : { result: result ?? {} }))
      .catch((e) => {
        if (e instanceof RpcError) return answer({ error: { code: e.code, description: e.description, details: e.details ?? {} } });
        this.#emit('error', { error: e, event: 'handler', action: call.action });
        const message = String(e?.message ?? e);
        answer({ error: this.#o.respondWithDetailedErrors ? { code: 'InternalError', description: message, details: { message } } : { code: 'InternalError' } });
      });
  }

  hostCancel(token) {
    this.#running.get(token)?.abort();
    this.#running.delete(token);
  }

  hostCallDone(token, p, n) {
    const call = this.#calls.get(token);
    if (!call) return;
    this.#calls.delete(token);
    const done = JSON.parse(text(p, n));
    // Settled after the engine returns: a caller's continuation must not re-enter it.
    if (done.failure) call.reject(failureError(done.failure));
    else call.resolve(done.result);
  }

  hostEvent(p, n) {
    const { event, ...data } = JSON.parse(text(p, n));
    this.#emit(event, data);
  }
}
