#!/usr/bin/env node
// Minimal ocpp-ws-io 2.3.2 CSMS for the benchmarks in this folder (compare.sh, idle_memory.sh).
//
//   node bench/ocpp-ws-io-server.mjs [--port 9000] [--host 127.0.0.1] [--ping-interval-ms 30000]
//                                    [--stats-interval-ms 0] [--logging off|default]
//                                    [--tls-cert FILE --tls-key FILE] [--compression 0|1]
//
// Accepts any identity on ocpp1.6 / ocpp2.0.1, answers Heartbeat and BootNotification, logging
// off, no strict mode, no plugins, no middleware: the library's plain fast path. Prints
// `LISTENING <port>` on stdout once the port accepts connections; with `--stats-interval-ms N`
// it also prints `CLIENTS <n>` every N ms (for idle_memory.sh). SIGINT/SIGTERM close it.
// With --tls-cert/--tls-key it serves wss:// (securityProfile 2: the library's own node https
// server with that certificate; no auth callback, so any Basic Auth password is accepted).
//
// ocpp-ws-io is imported from the interop peers' node_modules (tests/interop/peers, installed
// by tests/interop/peers/install.sh), so this folder needs no package.json of its own.
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, '../tests/interop/peers/node_modules/ocpp-ws-io');
const pkgJson = path.join(pkgDir, 'package.json');
if (!fs.existsSync(pkgJson)) {
  process.stderr.write(
    `ocpp-ws-io-server: ${pkgDir} not found; run: bash tests/interop/peers/install.sh\n`);
  process.exit(2);
}
const { version } = JSON.parse(fs.readFileSync(pkgJson, 'utf8'));
const entry = path.join(pkgDir, 'dist/index.mjs');
const { OCPPServer } = await import(pathToFileURL(entry).href);

const opts = { port: 9000, host: '127.0.0.1', 'ping-interval-ms': 30000, 'stats-interval-ms': 0, logging: 'off',
  'tls-cert': '', 'tls-key': '', compression: 0 };
const stringOpts = new Set(['host', 'logging', 'tls-cert', 'tls-key']);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i].replace(/^--/, '');
  if (!(k in opts) || i + 1 >= argv.length) {
    process.stderr.write(`usage: node ocpp-ws-io-server.mjs [--port P] [--host H] ` +
      `[--ping-interval-ms 30000] [--stats-interval-ms 0] [--logging off|default] ` +
      `[--tls-cert FILE --tls-key FILE] [--compression 0|1]\n`);
    process.exit(2);
  }
  opts[k] = stringOpts.has(k) ? argv[++i] : Number(argv[++i]);
}

const server = new OCPPServer({
  protocols: ['ocpp1.6', 'ocpp2.0.1'],
  pingIntervalMs: opts['ping-interval-ms'],
  // `--logging default` leaves the library's default (logging on) for comparison.
  ...(opts.logging === 'default' ? {} : { logging: false }),
  // permessage-deflate as the library configures it for `true` (level 6, memLevel 8, no context
  // takeover both ways, threshold 1024 B).
  ...(opts.compression ? { compression: true } : {}),
  ...(opts['tls-cert'] ? {
    securityProfile: 2,
    tls: { cert: fs.readFileSync(opts['tls-cert']), key: fs.readFileSync(opts['tls-key']) },
  } : {}),
});

let clients = 0;
server.on('client', (client) => {
  ++clients;
  client.on('close', () => { --clients; });
  // 1.6
  client.handle('ocpp1.6', 'Heartbeat', () => ({ currentTime: new Date().toISOString() }));
  client.handle('ocpp1.6', 'BootNotification', () => ({
    status: 'Accepted', currentTime: new Date().toISOString(), interval: 300,
  }));
  // 2.0.1
  client.handle('ocpp2.0.1', 'Heartbeat', () => ({ currentTime: new Date().toISOString() }));
  client.handle('ocpp2.0.1', 'BootNotification', () => ({
    status: 'Accepted', currentTime: new Date().toISOString(), interval: 300,
  }));
});
server.on('error', (err) => process.stderr.write(`ocpp-ws-io-server: error: ${err?.message ?? err}\n`));

const http = await server.listen(opts.port, opts.host);
process.stdout.write(`LISTENING ${http.address().port}\n`);
process.stderr.write(`ocpp-ws-io-server: ocpp-ws-io ${version} on node ${process.version}\n`);

if (opts['stats-interval-ms'] > 0) {
  setInterval(() => process.stdout.write(`CLIENTS ${clients}\n`), opts['stats-interval-ms']).unref();
}

let stopping = false;
const stop = async () => {
  if (stopping) process.exit(0);
  stopping = true;
  try {
    await server.close({ code: 1001, force: true, awaitPending: false });
  } catch {}
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
