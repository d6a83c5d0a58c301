// The browser client's budgets (issue 14), measured in headless Chromium by
// web/simulator/bench.html: size (ocpp-engine.wasm + ocpp-engine.mjs + ocpp.js, gzipped) <= 100 KB,
// streaming instantiation <= 30 ms, parse + validation of the 1.8 KB TransactionEvent frame
// <= 6 us, wasm heap <= 2 MB with one station at steady state. As the ctest (web.budgets) it
// asserts what does not depend on the machine's load: the heap and the size; timings are measured
// and reported, never asserted in the suite. As the benchmark (bench/web_budgets.sh, OCPP_WEB_BUDGETS=assert) it
// asserts all four budgets.
// ocpp-ws-io's approach (JSON.parse + AJV, as its validator is set up) is measured in the same
// page for the README and not asserted. The figures go to web-artifacts/budgets.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';

import { ajvBundle } from './ajv_bundle.mjs';
import { WebCsms, artifactPath, launchChromium, openPage, requireSite, siteDir, sourceDir, stageSite } from './harness.mjs';

const KB = 1024;
const budget = { gzipBytes: 100 * KB, startupMs: 30, parseAndValidateUs: 6, heapBytes: 2 * KB * KB };
const benchmark = process.env.OCPP_WEB_BUDGETS === 'assert';
// Startup is one sample per fresh page (a new context: no cached compiled code). The best sample
// is asserted, as the best of the speed rounds is: on a shared machine the others measure the load
// too. Medians are reported beside them.
const startupSamples = 5;

let browser;
let csms;
before(async () => {
  requireSite(['bench.html', 'bench.js', 'ocpp.js', 'ocpp-engine.mjs', 'ocpp-engine.wasm']);
  browser = await launchChromium();
  csms = await WebCsms.start({ webRoot: stageSite() });
  await csms.respond('BootNotification', { result: { currentTime: new Date().toISOString(), interval: 300, status: 'Accepted' } });
  await csms.respond('Heartbeat', { result: { currentTime: new Date().toISOString() } });
  await csms.respond('TransactionEvent', { result: {} });
});
after(async () => {
  await browser?.close();
  await csms?.stop();
});

// The frame of bench/transaction_event_frame.hpp, which bench.js must carry byte for byte.
function nativeFrame() {
  const text = fs.readFileSync(path.join(sourceDir, 'bench/transaction_event_frame.hpp'), 'utf8');
  const body = text.slice(text.indexOf('kTransactionEventFrame'), text.indexOf(';', text.indexOf('kTransactionEventFrame')));
  return [...body.matchAll(/R"\((.*?)\)"/gs)].map((m) => m[1]).join('');
}

async function runBench(query, { ajv = false } = {}) {
  const page = await openPage(browser);
  if (ajv) {
    const script = ajvBundle();
    await page.route(`${csms.url}/ajv-bundle.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: script }));
  }
  await page.goto(`${csms.url}/bench.html${query}`);
  await page.locator('#result[data-done]').waitFor({ timeout: 120000 });
  const result = JSON.parse(await page.locator('#result').textContent());
  await page.context().close();
  if (result.error) throw new Error(`bench.html failed: ${result.error}\n${result.stack}\n${page.consoleLines.join('\n')}`);
  return result;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, digits = 2) => Number(x.toFixed(digits));

test('budgets: size, startup, parse + validation and wasm heap, measured in the page', async () => {
  const startups = [];
  for (let i = 0; i < startupSamples; ++i) startups.push((await runBench('?only=startup')).startup.startupMs);
  const full = await runBench('?ajv=1', { ajv: true });
  startups.push(full.startup.startupMs);
  assert.equal(full.frame, nativeFrame(), 'bench.js measures the native benchmarks\' frame');

  const figures = {
    chromium: browser.version(),
    sizeGzipBytes: full.size.gzipTotal,
    sizeRawBytes: full.size.rawTotal,
    // For reference, not asserted: the same files at zlib's best compression (gzip -9), under node.
    sizeGzip9Bytes: Object.keys(full.size.files)
      .reduce((sum, f) => sum + zlib.gzipSync(fs.readFileSync(path.join(siteDir, f)), { level: 9 }).length, 0),
    files: full.size.files,
    startupMs: { best: round(Math.min(...startups)), median: round(median(startups)), samples: startups.map((x) => round(x)) },
    parseAndValidateUs: { best: round(full.ours.parseAndValidateUs.best), median: round(full.ours.parseAndValidateUs.median) },
    validateTextUs: { best: round(full.ours.validateTextUs.best), median: round(full.ours.validateTextUs.median) },
    jsParseThenValidateUs: { best: round(full.ours.jsParseThenValidateUs.best), median: round(full.ours.jsParseThenValidateUs.median) },
    ajv: {
      firstUseMs: round(full.ajv.firstUseMs),
      parseAndValidateUs: { best: round(full.ajv.parseAndValidateUs.best), median: round(full.ajv.parseAndValidateUs.median) },
    },
    heap: full.heap,
    budget,
  };
  const file = artifactPath('budgets.json');
  fs.writeFileSync(file, JSON.stringify(figures, null, 2) + '\n');
  console.log(`budget figures (${file}):`);
  console.log(`  size: ${(figures.sizeGzipBytes / KB).toFixed(1)} KB gzipped (${(figures.sizeGzip9Bytes / KB).toFixed(1)} KB at gzip -9, ` +
              `${(figures.sizeRawBytes / KB).toFixed(1)} KB raw): ` +
              Object.entries(figures.files).map(([n, f]) => `${n} ${(f.gzip / KB).toFixed(1)} KB`).join(', '));
  console.log(`  startup (streaming instantiation): ${figures.startupMs.best} ms (median ${figures.startupMs.median}) ` +
              `of ${startups.length} fresh pages`);
  console.log(`  parse + validate of the TransactionEvent frame (${full.frameBytes} B) in the engine: ` +
              `${figures.parseAndValidateUs.best} us (median ${figures.parseAndValidateUs.median}); through validate(): ` +
              `${figures.validateTextUs.best} us from JSON text, ${figures.jsParseThenValidateUs.best} us after JSON.parse in JS`);
  console.log(`  ocpp-ws-io's JSON.parse + AJV in the same page: ${figures.ajv.parseAndValidateUs.best} us ` +
              `(median ${figures.ajv.parseAndValidateUs.median}); schema compile on first use ${figures.ajv.firstUseMs} ms`);
  console.log(`  wasm heap with one station after ${full.heap.calls} calls: ${(full.heap.bytesSteadyState / KB).toFixed(0)} KB ` +
              `(${(full.heap.bytesBeforeConnect / KB).toFixed(0)} KB before connecting)`);

  assert.equal(full.size.files['ocpp-engine.wasm'].contentType, 'application/wasm', 'streaming instantiation needs application/wasm');
  assert.notEqual(full.heap.bytesSteadyState, null, 'the engine\'s wasm memory was found');
  if (!benchmark) {
    assert.ok(full.heap.bytesSteadyState <= budget.heapBytes, `wasm heap ${full.heap.bytesSteadyState} B > ${budget.heapBytes}`);
    assert.ok(figures.sizeGzipBytes <= budget.gzipBytes, `size ${figures.sizeGzipBytes} B gzipped > ${budget.gzipBytes}`);
    return;
  }
  // Every budget is checked, so that one failure does not hide another.
  const over = [];
  if (figures.sizeGzipBytes > budget.gzipBytes) over.push(`size ${figures.sizeGzipBytes} B gzipped > ${budget.gzipBytes}`);
  if (figures.startupMs.best > budget.startupMs) over.push(`startup ${figures.startupMs.best} ms > ${budget.startupMs}`);
  if (figures.parseAndValidateUs.best > budget.parseAndValidateUs)
    over.push(`parse + validate ${figures.parseAndValidateUs.best} us > ${budget.parseAndValidateUs}`);
  if (full.heap.bytesSteadyState > budget.heapBytes) over.push(`wasm heap ${full.heap.bytesSteadyState} B > ${budget.heapBytes}`);
  assert.deepEqual(over, [], 'over budget');
});
