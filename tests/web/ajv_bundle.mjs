// ocpp-ws-io's validator for the page, to measure its approach beside ours in the same page:
// AJV and ajv-formats exactly as installed for the interop peers (tests/interop/peers), wrapped
// as one classic script with a minimal CommonJS loader (AJV ships no browser build), plus the
// official 2.0.1 TransactionEvent request schema. The script sets globalThis.ajvBench =
// { Ajv, addFormats, schema }.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { sourceDir } from './harness.mjs';

const peersDir = path.join(sourceDir, 'tests/interop/peers');

export function ajvBundle() {
  const peers = createRequire(path.join(peersDir, 'package.json'));
  let entries;
  try {
    entries = { Ajv: peers.resolve('ajv'), addFormats: peers.resolve('ajv-formats') };
  } catch (e) {
    throw new Error(`AJV is not installed for the interop peers: bash tests/interop/peers/install.sh (${e.message})`);
  }
  // Every module reachable by a literal require() from the entries, with its resolved requests.
  const modules = new Map();
  const queue = Object.values(entries);
  while (queue.length) {
    const file = queue.pop();
    if (modules.has(file)) continue;
    const source = fs.readFileSync(file, 'utf8');
    const deps = {};
    const resolve = createRequire(file).resolve;
    for (const [, request] of source.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)) {
      let target;
      try {
        target = resolve(request);
      } catch {
        continue;  // a request inside generated-code strings that only standalone mode uses
      }
      if (!path.isAbsolute(target)) continue;  // a node builtin: AJV does not need one at run time
      deps[request] = target;
      queue.push(target);
    }
    modules.set(file, { source, deps });
  }
  const defs = [...modules].map(([file, { source, deps }]) => {
    const body = file.endsWith('.json') ? `module.exports = ${source};` : source;
    return `${JSON.stringify(file)}: [function (module, exports, require) {\n${body}\n}, ${JSON.stringify(deps)}]`;
  });
  // ocpp-ws-io embeds the schemas relabelled as draft-07, the draft AJV knows by default.
  const schema = JSON.parse(fs.readFileSync(path.join(sourceDir, 'schemas/2.0.1/TransactionEventRequest.json'), 'utf8'));
  schema.$schema = 'http://json-schema.org/draft-07/schema';
  return `(function () {
const defs = {\n${defs.join(',\n')}\n};
const cache = {};
function load(file) {
  if (cache[file]) return cache[file].exports;
  const [fn, deps] = defs[file];
  const module = { exports: {} };
  cache[file] = module;
  fn(module, module.exports, (request) => {
    if (!deps[request]) throw new Error('ajv bundle: no module ' + request + ' from ' + file);
    return load(deps[request]);
  });
  return module.exports;
}
const Ajv = load(${JSON.stringify(entries.Ajv)});
const addFormats = load(${JSON.stringify(entries.addFormats)});
globalThis.ajvBench = { Ajv: Ajv.default || Ajv, addFormats: addFormats.default || addFormats, schema: ${JSON.stringify(schema)} };
})();
`;
}
