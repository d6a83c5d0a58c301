#!/usr/bin/env node
// Scriptable OCPP-J interop peer.
//
// Drives one of two real JS OCPP libraries (ocpp-ws-io 2.3.2 or ocpp-rpc 2.2.1)
// as a SERVER (CSMS) or a CLIENT (charge point). Commands arrive on stdin, one
// JSON object per line; events leave on stdout, one JSON object per line.
// stdout carries nothing else. Diagnostics (and library logging, if enabled
// with --log-level) go to stderr. See README.md for the protocol.

import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import readline from 'node:readline';
import tls from 'node:tls';

const require = createRequire(import.meta.url);

const DEFAULT_PROTOCOLS = ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'];
const MAX_TRACKED_CALLERRORS = 1000;

// ---------------------------------------------------------------------------
// output

function emit(obj) {
  let line;
  try {
    line = JSON.stringify(obj);
  } catch (err) {
    line = JSON.stringify({ event: 'internal_error', message: `unserialisable event: ${err.message}` });
  }
  try {
    // stdout to a pipe or file is synchronous in Node on Linux, so each line
    // is flushed before the next statement runs.
    process.stdout.write(line + '\n');
  } catch {
    // stdout gone: nothing sensible left to do
  }
}

function errMessage(err) {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

process.on('uncaughtException', (err) => {
  emit({ event: 'internal_error', message: errMessage(err), stack: err?.stack });
});
process.on('unhandledRejection', (err) => {
  emit({ event: 'internal_error', message: errMessage(err), stack: err?.stack });
});
process.stdout.on('error', () => {});

// ---------------------------------------------------------------------------
// command line

const USAGE = `usage:
  node peer.mjs server --lib ocpp-ws-io|ocpp-rpc [--protocols ocpp1.6,ocpp2.0.1,ocpp2.1]
                [--host 127.0.0.1] [--port 0] [--max-bad-messages N] [--strict]
                [--call-timeout-ms 5000] [--ping-interval-ms 0] [--require-password PW]
                [--no-detailed-errors] [--log-level debug|info|warn|error] [--call-concurrency 1]
                [--security-profile 2|3 --tls-cert PEM --tls-key PEM [--tls-cert PEM --tls-key PEM]
                 [--tls-ca PEM] [--tls-passphrase PW]]
  node peer.mjs client --lib ocpp-ws-io|ocpp-rpc --url ws://127.0.0.1:P --identity CP001
                [--protocols ...] [--password PW] [--call-timeout-ms 5000] [--no-reconnect]
                [--reconnect-min-ms 1000] [--reconnect-max-ms 30000] [--max-bad-messages N]
                [--strict] [--ping-interval-ms 0] [--no-detailed-errors] [--log-level LEVEL]
                [--defer-connect] [--call-concurrency 1]
                [--security-profile 0..3] [--tls-ca PEM] [--tls-cert PEM --tls-key PEM]
                [--tls-passphrase PW] [--tls-no-verify]
  either mode: [--tls-ciphers OPENSSL-LIST] [--tls-max-version TLSv1.2|TLSv1.3]
               [--compression] (ocpp-ws-io only: permessage-deflate)`;

const VALUE_FLAGS = new Set([
  'lib', 'protocols', 'host', 'port', 'max-bad-messages', 'url', 'identity', 'password',
  'call-timeout-ms', 'ping-interval-ms', 'require-password', 'reconnect-min-ms',
  'reconnect-max-ms', 'log-level', 'call-concurrency', 'security-profile', 'tls-ca', 'tls-passphrase',
  'tls-ciphers', 'tls-max-version',
]);
// Repeatable: a server may serve an RSA and an ECDSA certificate side by side.
const LIST_FLAGS = new Set(['tls-cert', 'tls-key']);
const BOOL_FLAGS = new Set(['strict', 'no-reconnect', 'no-detailed-errors', 'defer-connect', 'tls-no-verify', 'compression']);

function fatal(message, code = 2) {
  emit({ event: 'fatal', message });
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const [mode, ...rest] = argv;
  if (mode !== 'server' && mode !== 'client') fatal(`first argument must be 'server' or 'client', got ${JSON.stringify(mode)}`);
  const opts = { mode };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('--')) fatal(`unexpected argument ${JSON.stringify(a)}`);
    let name = a.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (BOOL_FLAGS.has(name)) {
      opts[name] = value === undefined ? true : value !== 'false';
    } else if (VALUE_FLAGS.has(name) || LIST_FLAGS.has(name)) {
      if (value === undefined) {
        if (i + 1 >= rest.length) fatal(`--${name} needs a value`);
        value = rest[++i];
      }
      if (LIST_FLAGS.has(name)) (opts[name] ??= []).push(value);
      else opts[name] = value;
    } else {
      fatal(`unknown option --${name}`);
    }
  }
  if (opts.lib !== 'ocpp-ws-io' && opts.lib !== 'ocpp-rpc') fatal(`--lib must be ocpp-ws-io or ocpp-rpc`);
  const num = (name, dflt) => {
    if (opts[name] === undefined) return dflt;
    const n = Number(opts[name]);
    if (!Number.isFinite(n) || n < 0) fatal(`--${name} must be a non-negative number`);
    return n;
  };
  const cfg = {
    mode,
    lib: opts.lib,
    protocols: (opts.protocols ?? DEFAULT_PROTOCOLS.join(',')).split(',').map((s) => s.trim()).filter(Boolean),
    host: opts.host ?? '127.0.0.1',
    port: num('port', 0),
    maxBadMessages: opts['max-bad-messages'] === undefined ? Infinity : num('max-bad-messages'),
    strict: !!opts.strict,
    callTimeoutMs: num('call-timeout-ms', 5000),
    callConcurrency: Math.max(1, num('call-concurrency', 1)),
    pingIntervalMs: num('ping-interval-ms', 0),
    requirePassword: opts['require-password'],
    detailedErrors: !opts['no-detailed-errors'],
    logLevel: opts['log-level'],
    url: opts.url,
    identity: opts.identity,
    password: opts.password,
    reconnect: !opts['no-reconnect'],
    deferConnect: !!opts['defer-connect'],
    reconnectMinMs: num('reconnect-min-ms', 1000),
    reconnectMaxMs: num('reconnect-max-ms', 30000),
    securityProfile: opts['security-profile'] === undefined ? undefined : num('security-profile'),
    tls: readTlsFiles(opts),
    tlsVerify: !opts['tls-no-verify'],
    tlsCiphers: opts['tls-ciphers'],
    tlsMaxVersion: opts['tls-max-version'],
    compression: !!opts.compression,
  };
  // ocpp-rpc passes no WebSocket options through, so it cannot negotiate permessage-deflate.
  if (cfg.compression && cfg.lib !== 'ocpp-ws-io') fatal('--compression needs --lib ocpp-ws-io');
  if (cfg.securityProfile !== undefined && ![0, 1, 2, 3].includes(cfg.securityProfile)) {
    fatal('--security-profile must be 0, 1, 2 or 3');
  }
  if (cfg.tls.cert.length !== cfg.tls.key.length) fatal('give as many --tls-key as --tls-cert');
  if (mode === 'client') {
    if (!cfg.url) fatal('client mode needs --url');
    if (!cfg.identity) fatal('client mode needs --identity');
    if (cfg.tls.cert.length > 1) fatal('a client presents one certificate');
    // Unset: what the URL and credentials imply, as a station configured by its CSMS URL would.
    if (cfg.securityProfile === undefined) {
      if (cfg.url.startsWith('wss:')) cfg.securityProfile = cfg.tls.cert.length ? 3 : 2;
      else cfg.securityProfile = cfg.password !== undefined ? 1 : 0;
    }
  } else {
    cfg.securityProfile ??= 0;
    const tlsGiven = cfg.tls.cert.length > 0 || cfg.tls.ca !== undefined;
    if (cfg.securityProfile >= 2 && cfg.tls.cert.length === 0) {
      fatal('server profiles 2 and 3 need --tls-cert and --tls-key');
    }
    if (cfg.securityProfile === 3 && cfg.tls.ca === undefined) {
      fatal('server profile 3 needs --tls-ca (the CA of client certificates)');
    }
    if (cfg.securityProfile < 2 && tlsGiven) fatal('TLS files need --security-profile 2 or 3');
  }
  return cfg;
}

// PEM files are read once, up front, so a bad path is a `fatal` and not a failed handshake later.
function readTlsFiles(opts) {
  const read = (flag, path) => {
    try {
      return fs.readFileSync(path);
    } catch (err) {
      return fatal(`--${flag} ${path}: ${errMessage(err)}`);
    }
  };
  return {
    ca: opts['tls-ca'] === undefined ? undefined : read('tls-ca', opts['tls-ca']),
    cert: (opts['tls-cert'] ?? []).map((p) => read('tls-cert', p)),
    key: (opts['tls-key'] ?? []).map((p) => read('tls-key', p)),
    passphrase: opts['tls-passphrase'],
  };
}

const cfg = parseArgs(process.argv.slice(2));

// Neither library passes cipher or version options through to `tls`, so they are set as this
// process's defaults: how a test makes a peer offer only RSA or only ECDSA suites (TLS 1.2).
if (cfg.tlsCiphers !== undefined) tls.DEFAULT_CIPHERS = cfg.tlsCiphers;
if (cfg.tlsMaxVersion !== undefined) tls.DEFAULT_MAX_VERSION = cfg.tlsMaxVersion;

// The `tls` option objects of both libraries (and of `https`/`ws` underneath); a single
// certificate stays a single value, several become the arrays Node accepts for RSA + ECDSA.
function tlsOptions({ server }) {
  const one = (list) => (list.length === 1 ? list[0] : list);
  const o = {};
  if (cfg.tls.ca !== undefined) o.ca = cfg.tls.ca;
  if (cfg.tls.cert.length) {
    o.cert = one(cfg.tls.cert);
    o.key = one(cfg.tls.key);
  }
  if (cfg.tls.passphrase !== undefined) o.passphrase = cfg.tls.passphrase;
  if (!server) o.rejectUnauthorized = cfg.tlsVerify;
  return o;
}

// ---------------------------------------------------------------------------
// TLS facts for the events: what a test asserts about the handshake

function certInfo(cert) {
  if (!cert || typeof cert !== 'object' || Object.keys(cert).length === 0) return null;
  return {
    subject_cn: cert.subject?.CN ?? null,
    issuer_cn: cert.issuer?.CN ?? null,
    serial: cert.serialNumber ?? null,
    fingerprint256: cert.fingerprint256 ?? null,
    key_type: cert.asn1Curve || cert.nistCurve ? 'EC' : cert.modulus ? 'RSA' : null,
    bits: cert.bits ?? null,
  };
}

// undefined for a plain TCP socket, so ws:// events keep their old shape.
function tlsInfo(socket) {
  if (!socket || typeof socket.getPeerCertificate !== 'function') return undefined;
  return {
    protocol: socket.getProtocol?.() ?? null,
    cipher: socket.getCipher?.()?.name ?? null,
    authorized: !!socket.authorized,
    peer_cert: certInfo(socket.getPeerCertificate()),
  };
}

// ---------------------------------------------------------------------------
// inbound CALL behaviour

// key: `${identity}\u0000${action}` where identity '*' means every connection
const behaviours = new Map();

function defaultBehaviour(action) {
  if (action === 'BootNotification') {
    return { dynamic: () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }) };
  }
  if (action === 'Heartbeat') {
    return { dynamic: () => ({ currentTime: new Date().toISOString() }) };
  }
  return undefined;
}

function lookupBehaviour(identity, action) {
  return behaviours.get(`${identity}\u0000${action}`)
    ?? behaviours.get(`*\u0000${action}`)
    ?? defaultBehaviour(action);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// connections (one per server-side client, or the single client in client mode)

class Conn {
  constructor(lib, c, identity) {
    this.lib = lib;
    this.c = c;
    this.identity = identity;
    this.framesVisible = false;
    this.callErrors = new Map(); // message id -> {code, description, details} of received CALLERRORs
  }

  get protocol() {
    return this.c.protocol ?? null;
  }

  onFrame(data) {
    const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8')
      : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    emit({ event: 'frame_in', identity: this.identity, data: text });
    try {
      const msg = JSON.parse(text);
      if (Array.isArray(msg) && msg[0] === 4 && typeof msg[1] === 'string') {
        this.callErrors.set(msg[1], { code: msg[2], description: msg[3], details: msg[4] });
        if (this.callErrors.size > MAX_TRACKED_CALLERRORS) {
          this.callErrors.delete(this.callErrors.keys().next().value);
        }
      }
    } catch {
      // not JSON: the library reports it as a bad message
    }
  }

  // Shared inbound CALL logic; returns the reply, or throws an RPC error.
  async dispatch(action, params, messageId) {
    emit({ event: 'inbound', identity: this.identity, action, payload: params === undefined ? null : params, message_id: messageId });
    const b = lookupBehaviour(this.identity, action);
    if (!b) {
      throw this.lib.createRPCError('NotImplemented', `Unable to handle '${action}' calls`, {});
    }
    if (b.delay_ms) await sleep(b.delay_ms);
    if (b.noreply) return this.lib.NOREPLY;
    if (b.error) {
      throw this.lib.createRPCError(b.error.code, b.error.description ?? '', b.error.details ?? {});
    }
    if (b.dynamic) return b.dynamic();
    // a fresh copy per answer, so nothing a library does to it leaks into the next
    return b.reply === undefined ? undefined : structuredClone(b.reply);
  }

  attachCommonEvents() {
    const c = this.c;
    c.on('badMessage', (ev) => {
      const raw = ev?.message ?? ev?.buffer;
      emit({
        event: 'bad_message',
        identity: this.identity,
        message: raw === undefined ? null : Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw),
        error: errMessage(ev?.error),
        ...(ev?.error?.rpcErrorCode ? { code: ev.error.rpcErrorCode } : {}),
        ...(ev?.response !== undefined ? { response: ev.response } : {}),
      });
    });
    c.on('strictValidationFailure', (ev) => {
      emit({
        event: 'strict_validation_failure',
        identity: this.identity,
        error: errMessage(ev?.error),
        ...(ev?.error?.rpcErrorCode ? { code: ev.error.rpcErrorCode } : {}),
        ...(ev?.outbound !== undefined ? { outbound: ev.outbound } : {}),
        ...(ev?.method !== undefined ? { action: ev.method } : {}),
      });
    });
    c.on('error', (err) => emit({ event: 'error', identity: this.identity, message: errMessage(err) }));
  }

  async call(action, payload, timeoutMs) {
    return this.lib.call(this, action, payload, timeoutMs);
  }
}

// ---------------------------------------------------------------------------
// library adapters

async function loadWsIo() {
  const m = await import('ocpp-ws-io');
  const logging = cfg.logLevel ? { level: cfg.logLevel.toUpperCase() } : false;
  const lib = {
    name: 'ocpp-ws-io',
    createRPCError: m.createRPCError,
    NOREPLY: m.NOREPLY,
    TimeoutError: m.TimeoutError,
    UnexpectedHttpResponse: m.UnexpectedHttpResponse,

    attach(conn) {
      conn.c.handle((method, ctx) => conn.dispatch(method, ctx.params, ctx.messageId));
      conn.attachCommonEvents();
    },

    async call(conn, action, payload, timeoutMs) {
      // idempotencyKey = the OCPP message id; the library would otherwise pick
      // randomUUID() itself, so this only makes the id known to the peer.
      const messageId = randomUUID();
      try {
        // The (version, method, params, options) overload: the 2/3-argument
        // forms would misread a string payload as the method name.
        const result = await conn.c.call(conn.c.protocol ?? '', action, payload, { timeoutMs, idempotencyKey: messageId });
        return { result, messageId };
      } catch (err) {
        throw Object.assign(new Error('call failed'), { cause: err, messageId });
      }
    },

    async startServer(onClient) {
      const server = new m.OCPPServer({
        protocols: cfg.protocols,
        strictMode: cfg.strict ? true : undefined,
        maxBadMessages: cfg.maxBadMessages,
        respondWithDetailedErrors: cfg.detailedErrors,
        callTimeoutMs: cfg.callTimeoutMs,
        callConcurrency: cfg.callConcurrency,
        pingIntervalMs: cfg.pingIntervalMs,
        logging,
        ...(cfg.compression ? { compression: true } : {}),
        // Profile 3 makes the library request a client certificate and refuse one the CA did not sign.
        ...(cfg.securityProfile >= 2
          ? { securityProfile: cfg.securityProfile, tls: tlsOptions({ server: true }) }
          : {}),
      });
      // Raw inbound frames are only exposed to plugins (onBeforeReceive).
      server.plugin({
        name: 'interop-peer-frames',
        onBeforeReceive: (client, raw) => {
          const conn = connFor(client);
          conn.framesVisible = true;
          conn.onFrame(raw);
          return undefined;
        },
      });
      if (cfg.requirePassword !== undefined) {
        server.auth((ctx) => {
          const pw = ctx.handshake.password;
          if (pw && Buffer.from(cfg.requirePassword, 'utf8').equals(Buffer.from(pw))) {
            ctx.accept();
          } else {
            ctx.reject(401, 'Unauthorized');
          }
        });
      }
      server.on('error', (err) => emit({ event: 'error', message: errMessage(err) }));
      server.on('upgradeAborted', (ev) => emit({ event: 'upgrade_aborted', identity: ev?.identity ?? null, reason: String(ev?.reason ?? '') }));
      server.on('securityEvent', (ev) => emit({ event: 'security_event', type: ev?.type ?? null, identity: ev?.identity ?? null, details: ev?.details ?? {} }));
      server.on('client', (client) => onClient(connFor(client), client.handshake));
      const http = await server.listen(cfg.port, cfg.host);
      return { port: http.address().port, close: () => server.close({ code: 1001, force: false, awaitPending: false }) };
    },

    createClient() {
      return new m.OCPPClient({
        identity: cfg.identity,
        endpoint: cfg.url,
        protocols: cfg.protocols,
        securityProfile: cfg.securityProfile,
        ...(cfg.compression ? { compression: true } : {}),
        ...(cfg.password !== undefined ? { password: cfg.password } : {}),
        // The library hands ca/rejectUnauthorized over for profiles 2 and 3, cert/key for 3 only.
        ...(cfg.securityProfile >= 2 ? { tls: tlsOptions({ server: false }) } : {}),
        callTimeoutMs: cfg.callTimeoutMs,
        callConcurrency: cfg.callConcurrency,
        pingIntervalMs: cfg.pingIntervalMs,
        reconnect: cfg.reconnect,
        backoffMin: cfg.reconnectMinMs,
        backoffMax: cfg.reconnectMaxMs,
        maxBadMessages: cfg.maxBadMessages,
        respondWithDetailedErrors: cfg.detailedErrors,
        strictMode: cfg.strict ? true : undefined,
        logging,
      });
    },

    // OCPPClient has no public raw-frame hook (plugins are server-only), so tap
    // the protected `_ws` socket ahead of the library's own listener.
    tapClientFrames(conn) {
      const ws = conn.c._ws;
      if (!ws || ws[TAPPED]) return;
      ws[TAPPED] = true;
      ws.prependListener('message', (data) => conn.onFrame(data));
      conn.framesVisible = true;
    },

    httpStatus(err) {
      return typeof err?.statusCode === 'number' ? err.statusCode : undefined;
    },
  };
  return lib;
}

const TAPPED = Symbol('interop-peer-tapped');

function loadRpc() {
  const m = require('ocpp-rpc');
  const errToId = new WeakMap();
  const resToId = new WeakMap();
  const lib = {
    name: 'ocpp-rpc',
    createRPCError: m.createRPCError,
    NOREPLY: m.NOREPLY,
    TimeoutError: m.TimeoutError,
    UnexpectedHttpResponse: m.UnexpectedHttpResponse,

    attach(conn) {
      const c = conn.c;
      c.handle(({ method, params, messageId }) => conn.dispatch(method, params, messageId));
      // 'message' carries every raw frame, emitted before it is parsed.
      c.on('message', ({ message, outbound }) => {
        if (!outbound) conn.onFrame(message);
      });
      conn.framesVisible = true;
      // Recover the message id of our own calls (the library picks it).
      c.on('callError', (ev) => {
        if (ev?.outbound && ev.error && typeof ev.error === 'object') errToId.set(ev.error, ev.messageId);
      });
      c.on('callResult', (ev) => {
        if (ev?.outbound && ev.result && typeof ev.result === 'object') resToId.set(ev.result, ev.messageId);
      });
      conn.attachCommonEvents();
      c.on('socketError', (err) => emit({ event: 'error', identity: conn.identity, message: errMessage(err) }));
    },

    async call(conn, action, payload, timeoutMs) {
      try {
        const result = await conn.c.call(action, payload, { callTimeoutMs: timeoutMs });
        return { result, messageId: result && typeof result === 'object' ? resToId.get(result) : undefined };
      } catch (err) {
        const messageId = err && typeof err === 'object' ? errToId.get(err) : undefined;
        throw Object.assign(new Error('call failed'), { cause: err, messageId });
      }
    },

    async startServer(onClient) {
      const server = new m.RPCServer({
        protocols: cfg.protocols,
        strictMode: cfg.strict,
        maxBadMessages: cfg.maxBadMessages,
        respondWithDetailedErrors: cfg.detailedErrors,
        callTimeoutMs: cfg.callTimeoutMs,
        callConcurrency: cfg.callConcurrency,
        pingIntervalMs: cfg.pingIntervalMs,
      });
      if (cfg.requirePassword !== undefined) {
        server.auth((accept, reject, handshake) => {
          const pw = handshake.password;
          if (pw && Buffer.from(cfg.requirePassword, 'utf8').equals(Buffer.from(pw))) {
            accept();
          } else {
            reject(401, 'Unauthorized');
          }
        });
      }
      server.on('error', (err) => emit({ event: 'error', message: errMessage(err) }));
      server.on('upgradeAborted', (ev) => emit({ event: 'upgrade_aborted', identity: ev?.identity ?? null, reason: errMessage(ev?.error) }));
      server.on('client', (client) => onClient(connFor(client), client.handshake));
      if (cfg.securityProfile < 2) {
        const http = await server.listen(cfg.port, cfg.host);
        return { port: http.address().port, close: () => server.close({ code: 1001, awaitPending: false }) };
      }
      // RPCServer.listen() is plain HTTP only; its upgrade handler serves any server, https too.
      const httpsServer = https.createServer({
        ...tlsOptions({ server: true }),
        ...(cfg.securityProfile === 3 ? { requestCert: true, rejectUnauthorized: true } : {}),
      });
      httpsServer.on('upgrade', server.handleUpgrade);
      await new Promise((resolve, reject) => {
        httpsServer.once('error', reject);
        httpsServer.listen({ port: cfg.port, host: cfg.host }, resolve);
      });
      return {
        port: httpsServer.address().port,
        close: async () => {
          await server.close({ code: 1001, awaitPending: false });
          httpsServer.closeAllConnections?.();
          await new Promise((resolve) => httpsServer.close(() => resolve()));
        },
      };
    },

    createClient() {
      return new m.RPCClient({
        identity: cfg.identity,
        endpoint: cfg.url.replace(/\/+$/, ''),
        protocols: cfg.protocols,
        ...(cfg.password !== undefined ? { password: cfg.password } : {}),
        // RPCClient has no security profiles: a wss:// URL and ws's TLS options are all it takes.
        ...(cfg.securityProfile >= 2 ? { wsOpts: tlsOptions({ server: false }) } : {}),
        callTimeoutMs: cfg.callTimeoutMs,
        callConcurrency: cfg.callConcurrency,
        pingIntervalMs: cfg.pingIntervalMs,
        reconnect: cfg.reconnect,
        backoff: { initialDelay: cfg.reconnectMinMs, maxDelay: cfg.reconnectMaxMs, factor: 2, randomisationFactor: 0.25 },
        maxBadMessages: cfg.maxBadMessages,
        respondWithDetailedErrors: cfg.detailedErrors,
        strictMode: cfg.strict,
      });
    },

    tapClientFrames() {
      // raw frames come from the 'message' event registered in attach()
    },

    httpStatus(err) {
      return typeof err?.code === 'number' ? err.code : undefined;
    },
  };
  return lib;
}

const lib = cfg.lib === 'ocpp-ws-io' ? await loadWsIo() : loadRpc();

// library client object -> Conn
const connsByClient = new WeakMap();
// identity -> Conn (server mode: latest connection with that identity)
const conns = new Map();
let clientConn = null; // client mode
let serverHandle = null;

function connFor(client) {
  let conn = connsByClient.get(client);
  if (!conn) {
    conn = new Conn(lib, client, client.identity);
    connsByClient.set(client, conn);
  }
  return conn;
}

// ---------------------------------------------------------------------------
// call result reporting

function reportCallFailure(id, wrapped) {
  const err = wrapped?.cause ?? wrapped;
  const messageId = wrapped?.messageId;
  const conn = wrapped?.conn;
  const code = err && typeof err.rpcErrorCode === 'string' ? err.rpcErrorCode : undefined;
  const wire = messageId && conn ? conn.callErrors.get(messageId) : undefined;
  // A CALLERROR answer is recognised by the frame that carried it. Without
  // frame visibility, fall back to "the library rejected with an RPC error".
  const answeredWithError = wire !== undefined || (code !== undefined && conn && !conn.framesVisible);
  if (answeredWithError) {
    emit({
      event: 'call_error',
      id,
      code: code ?? (wire ? String(wire.code) : 'GenericError'),
      description: err?.message ?? '',
      rpc_error_message: err?.rpcErrorMessage ?? '',
      details: err?.details ?? {},
      ...(messageId ? { message_id: messageId } : {}),
      ...(wire ? { wire } : {}),
    });
    if (messageId) conn.callErrors.delete(messageId);
    return;
  }
  const timeout = (lib.TimeoutError && err instanceof lib.TimeoutError) || err?.name === 'TimeoutError';
  emit({
    event: 'call_failed',
    id,
    message: errMessage(err),
    error_name: err?.name ?? null,
    timeout: !!timeout,
    ...(code ? { code } : {}),
    ...(messageId ? { message_id: messageId } : {}),
  });
}

async function doCall(id, conn, action, payload, timeoutMs) {
  try {
    const { result, messageId } = await conn.call(action, payload, timeoutMs);
    emit({ event: 'result', id, payload: result === undefined ? null : result, ...(messageId ? { message_id: messageId } : {}) });
  } catch (wrapped) {
    if (wrapped && typeof wrapped === 'object') wrapped.conn = conn;
    reportCallFailure(id, wrapped);
  }
}

// ---------------------------------------------------------------------------
// commands

function pickConn(cmd) {
  if (cfg.mode === 'client') {
    if (!clientConn) throw new Error('client not created');
    return clientConn;
  }
  if (cmd.identity !== undefined) {
    const conn = conns.get(String(cmd.identity));
    if (!conn) throw new Error(`no connected client with identity ${JSON.stringify(cmd.identity)}`);
    return conn;
  }
  if (conns.size === 1) return conns.values().next().value;
  throw new Error(conns.size === 0 ? 'no client connected' : 'several clients connected: give "identity"');
}

async function handleCommand(cmd) {
  switch (cmd.cmd) {
    case 'call': {
      const id = cmd.id ?? null;
      if (typeof cmd.action !== 'string' || !cmd.action) {
        emit({ event: 'call_failed', id, message: 'call needs a string "action"', error_name: 'CommandError', timeout: false });
        return;
      }
      let conn;
      try {
        conn = pickConn(cmd);
      } catch (err) {
        emit({ event: 'call_failed', id, message: errMessage(err), error_name: 'CommandError', timeout: false });
        return;
      }
      const timeoutMs = cmd.timeout_ms !== undefined ? Number(cmd.timeout_ms) : cfg.callTimeoutMs;
      // not awaited: several calls may be in flight (the library queues them)
      doCall(id, conn, cmd.action, cmd.payload ?? {}, timeoutMs);
      return;
    }
    case 'handle': {
      if (typeof cmd.action !== 'string' || !cmd.action) throw new Error('handle needs a string "action"');
      const kinds = ['reply', 'error', 'noreply'].filter((k) => cmd[k] !== undefined && cmd[k] !== false);
      if (kinds.length !== 1) throw new Error('handle needs exactly one of "reply", "error", "noreply"');
      const b = {};
      if (cmd.reply !== undefined) b.reply = cmd.reply;
      if (cmd.noreply) b.noreply = true;
      if (cmd.error !== undefined) {
        if (!cmd.error || typeof cmd.error.code !== 'string') throw new Error('"error" needs a string "code"');
        b.error = { code: cmd.error.code, description: cmd.error.description ?? '', details: cmd.error.details ?? {} };
      }
      if (cmd.delay_ms !== undefined) b.delay_ms = Number(cmd.delay_ms) || 0;
      const scope = cfg.mode === 'server' && cmd.identity !== undefined ? String(cmd.identity) : '*';
      behaviours.set(`${scope}\u0000${cmd.action}`, b);
      emit({ event: 'ok', cmd: 'handle', action: cmd.action });
      return;
    }
    case 'unhandle': {
      if (typeof cmd.action !== 'string') throw new Error('unhandle needs a string "action"');
      const scope = cfg.mode === 'server' && cmd.identity !== undefined ? String(cmd.identity) : '*';
      behaviours.delete(`${scope}\u0000${cmd.action}`);
      emit({ event: 'ok', cmd: 'unhandle', action: cmd.action });
      return;
    }
    case 'send_raw': {
      if (typeof cmd.data !== 'string') throw new Error('send_raw needs a string "data"');
      const conn = pickConn(cmd);
      conn.c.sendRaw(cmd.data);
      emit({ event: 'ok', cmd: 'send_raw' });
      return;
    }
    case 'close': {
      const conn = pickConn(cmd);
      const opts = {
        code: cmd.code ?? 1000,
        reason: cmd.reason ?? '',
        awaitPending: !!cmd.await_pending,
        force: !!cmd.force,
      };
      conn.c.close(opts).then(
        (res) => emit({ event: 'closed', identity: conn.identity, code: res?.code ?? null, reason: res?.reason === undefined ? null : String(res.reason) }),
        (err) => emit({ event: 'cmd_error', cmd: 'close', message: errMessage(err) }),
      );
      return;
    }
    case 'connect': {
      if (cfg.mode !== 'client') throw new Error('connect is a client-mode command');
      startConnect();
      emit({ event: 'ok', cmd: 'connect' });
      return;
    }
    case 'list': {
      emit({ event: 'clients', clients: [...conns.values()].map((c) => ({ identity: c.identity, protocol: c.protocol })) });
      return;
    }
    case 'quit':
      await shutdown(0);
      return;
    default:
      throw new Error(`unknown cmd ${JSON.stringify(cmd.cmd)}`);
  }
}

// ---------------------------------------------------------------------------
// modes

async function runServer() {
  try {
    serverHandle = await lib.startServer((conn, handshake) => {
      lib.attach(conn);
      const prev = conns.get(conn.identity);
      conns.set(conn.identity, conn);
      if (prev && prev !== conn) emit({ event: 'replaced', identity: conn.identity });
      conn.c.on('disconnect', ({ code, reason } = {}) => emit({ event: 'client_disconnect', identity: conn.identity, code: code ?? null, reason: reason === undefined ? null : String(reason) }));
      conn.c.on('close', ({ code, reason } = {}) => {
        if (conns.get(conn.identity) === conn) conns.delete(conn.identity);
        emit({ event: 'client_close', identity: conn.identity, code: code ?? null, reason: reason === undefined ? null : String(reason) });
      });
      const pw = handshake?.password;
      const tlsFacts = tlsInfo(handshake?.request?.socket);
      emit({
        event: 'client',
        identity: conn.identity,
        protocol: conn.protocol,
        url: handshake?.request?.url ?? null,
        ...(pw !== undefined ? { password: Buffer.from(pw).toString('utf8') } : {}),
        ...(tlsFacts ? { tls: tlsFacts } : {}),
      });
    });
  } catch (err) {
    emit({ event: 'listen_error', message: errMessage(err) });
    process.exit(1);
  }
  emit({ event: 'listening', port: serverHandle.port });
}

let connecting = false;

function startConnect() {
  if (connecting) return;
  connecting = true;
  clientConn.c.connect().then(
    () => { connecting = false; },
    (err) => {
      connecting = false;
      const status = lib.httpStatus(err);
      emit({
        event: 'connect_error',
        message: errMessage(err),
        ...(status !== undefined ? { status } : {}),
        // Node's TLS failures carry an OpenSSL-style code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE.
        ...(typeof err?.code === 'string' ? { code: err.code } : {}),
      });
    },
  );
}

function runClient() {
  const c = lib.createClient();
  clientConn = new Conn(lib, c, cfg.identity);
  connsByClient.set(c, clientConn);
  lib.attach(clientConn);
  c.on('open', () => {
    lib.tapClientFrames(clientConn);
    // Both libraries keep the `ws` socket in `_ws`, and ws its TLS socket in `_socket`.
    const tlsFacts = tlsInfo(c._ws?._socket);
    emit({ event: 'open', protocol: c.protocol ?? null, ...(tlsFacts ? { tls: tlsFacts } : {}) });
  });
  c.on('close', ({ code, reason } = {}) => emit({ event: 'close', code: code ?? null, reason: reason === undefined ? null : String(reason) }));
  c.on('disconnect', ({ code, reason } = {}) => emit({ event: 'disconnect', code: code ?? null, reason: reason === undefined ? null : String(reason) }));
  c.on('connecting', () => emit({ event: 'connecting' }));
  c.on('reconnect', (ev) => emit({ event: 'reconnect', attempt: ev?.attempt ?? null, delay_ms: ev?.delay ?? null }));
  if (!cfg.deferConnect) startConnect();
}

// ---------------------------------------------------------------------------
// shutdown and stdin loop

let shuttingDown = false;

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  const closing = (async () => {
    try {
      if (serverHandle) await serverHandle.close();
      if (clientConn) await clientConn.c.close({ code: 1000, reason: '', awaitPending: false });
    } catch {
      // best effort
    }
  })();
  await Promise.race([closing, sleep(1500)]);
  process.exit(code);
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
// Commands run in arrival order; each is awaited only until it has been
// issued (calls complete in the background and report by id).
let chain = Promise.resolve();
rl.on('line', (line) => {
  if (!line.trim()) return;
  chain = chain.then(async () => {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (err) {
      emit({ event: 'cmd_error', message: `bad JSON: ${errMessage(err)}`, line });
      return;
    }
    if (!cmd || typeof cmd !== 'object' || Array.isArray(cmd)) {
      emit({ event: 'cmd_error', message: 'command must be a JSON object', line });
      return;
    }
    try {
      await handleCommand(cmd);
    } catch (err) {
      emit({ event: 'cmd_error', cmd: cmd.cmd ?? null, message: errMessage(err) });
    }
  });
});
rl.on('close', () => {
  chain.then(() => shutdown(0));
});

if (cfg.mode === 'server') await runServer();
else runClient();
