#!/usr/bin/env node
// The browser half of web.same_answers_native_and_browser: web/ocpp.js (from the wasm build's site
// directory, $OCPP_WEB_SITE) under node, with `ws` as its WebSocket, and the same fixed script as
// tests/web/native_station.cpp: Reset and ReserveNow are answered {"status":"Accepted"}, every other
// action is unhandled (the engine answers NotImplemented).
//
//   OCPP_WEB_SITE=DIR node js_station.mjs URL IDENTITY PROTOCOL [--strict] [--max-bad-messages N]
//
// Same output and exit codes as native_station: "station: open PROTOCOL", "station: closed CODE
// REASON" and exit 0; 1 when the connection cannot be opened or ocpp.js cannot be loaded; 2 on bad
// arguments.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.resolve(HERE, '../interop/peers/package.json'));
const { WebSocket } = require('ws');

function usage() {
  console.error('usage: OCPP_WEB_SITE=DIR node js_station.mjs URL IDENTITY PROTOCOL [--strict] [--max-bad-messages N]');
  process.exit(2);
}

const argv = process.argv.slice(2);
if (argv.length < 3) usage();
const [endpoint, identity, protocol] = argv;
let strictMode = false;
let maxBadMessages = Infinity;
for (let i = 3; i < argv.length; i++) {
  if (argv[i] === '--strict') strictMode = true;
  else if (argv[i] === '--max-bad-messages' && i + 1 < argv.length) maxBadMessages = Number(argv[++i]);
  else usage();
}

const site = process.env.OCPP_WEB_SITE;
const ocppJs = site ? path.join(site, 'ocpp.js') : null;
if (!ocppJs || !fs.existsSync(ocppJs)) {
  console.error(`js_station: web/ocpp.js is missing (${ocppJs ?? 'OCPP_WEB_SITE is not set'}): build the wasm preset`);
  process.exit(1);
}
const { OcppClient, loadEngine } = await import(pathToFileURL(ocppJs).href);

try {
  await loadEngine();
  const client = new OcppClient({
    endpoint, identity, protocols: [protocol], strictMode, maxBadMessages, reconnect: false, WebSocket,
  });
  for (const action of ['Reset', 'ReserveNow']) client.handle(action, () => ({ status: 'Accepted' }));
  client.on('close', ({ code, reason }) => {
    console.log(`station: closed ${code} ${reason}`);
    process.exit(0);
  });
  await client.connect();
  console.log(`station: open ${client.protocol}`);
} catch (e) {
  console.error(`js_station: ${e?.stack ?? e}`);
  process.exit(1);
}
