// The simulator page (web/simulator/) in headless Chromium, served by `ocpp serve --web --strict`
// on its own port: boot by ?autostart=1, a transaction with periodic meter values, the server's
// strict validators accepting every message, and a screenshot kept as a test artefact.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { OcppServe, artifactPath, launchChromium, openPage, requireSite } from './harness.mjs';

// Element ids of web/simulator/index.html (listed at the top of simulator.js).
const ids = {
  status: 'status',
  startTransaction: 'tx-start',
  stopTransaction: 'tx-stop',
  meterInterval: 'meter-interval',
  log: 'log',
};

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

// `ocpp serve` prints each frame as "<- ID  [..]" (in) or "-> ID  [..]" (out).
function frames(serve, identity) {
  return serve.lines.flatMap((line) => {
    const m = /^(<-|->) (\S+) {2}(.*)$/.exec(line);
    if (!m || m[2] !== identity) return [];
    return [{ direction: m[1] === '<-' ? 'in' : 'out', frame: JSON.parse(m[3]) }];
  });
}
const isCall = (action) => (l) => {
  const m = /^<- \S+ {2}(.*)$/.exec(l);
  if (!m) return false;
  const f = JSON.parse(m[1]);
  return f[0] === 2 && f[2] === action;
};

test('the simulator boots, runs a transaction with meter values against the strict server, and is screenshotted', async () => {
  requireSite(['index.html', 'simulator.js', 'simulator.css', 'ocpp.js', 'ocpp-engine.mjs', 'ocpp-engine.wasm']);
  const serve = await OcppServe.start();
  try {
    const identity = 'SIM-1';
    const query = new URLSearchParams({ url: `${serve.ws}/`, identity, protocol: 'ocpp2.0.1', autostart: '1' });
    const page = await openPage(browser, `${serve.url}/?${query}`);
    await page.setViewportSize({ width: 1280, height: 900 });
    const status = page.locator(`#${ids.status}`);
    await status.filter({ hasText: 'Accepted' }).waitFor({ timeout: 15000 })
      .catch((e) => { throw new Error(`${e.message}\npage console:\n${page.consoleLines.join('\n')}`); });

    // Meter values every second, then a transaction long enough for a few of them.
    const interval = page.locator(`#${ids.meterInterval}`);
    if (await interval.count()) await interval.fill('1');
    await page.click(`#${ids.startTransaction}`);
    await serve.waitFor(isCall('TransactionEvent'), 'TransactionEvent Started', 15000);
    for (let n = 2; n <= 3; ++n)
      await serve.waitFor(() => frames(serve, identity).filter((f) => f.direction === 'in' && f.frame[2] === 'TransactionEvent' &&
                                                                  f.frame[3].eventType === 'Updated' && f.frame[3].meterValue).length >= n - 1,
                          `${n - 1} periodic meter values`, 15000);
    await page.click(`#${ids.stopTransaction}`);
    await serve.waitFor(() => frames(serve, identity).some((f) => f.frame[2] === 'TransactionEvent' && f.frame[3].eventType === 'Ended'),
                        'TransactionEvent Ended', 15000);

    const exchanged = frames(serve, identity);
    const events = exchanged.filter((f) => f.direction === 'in' && f.frame[2] === 'TransactionEvent').map((f) => f.frame[3]);
    assert.deepEqual([events[0].eventType, events.at(-1).eventType], ['Started', 'Ended']);
    const measurands = new Set(events.flatMap((e) => (e.meterValue ?? []).flatMap((mv) => mv.sampledValue.map((s) => s.measurand))));
    for (const m of ['Energy.Active.Import.Register', 'Power.Active.Import', 'SoC'])
      assert.ok(measurands.has(m), `meter values carry ${m}: ${[...measurands]}`);
    const refused = exchanged.filter((f) => f.frame[0] === 4);
    assert.deepEqual(refused, [], 'the strict server answered every station message without a CALLERROR');

    // The page's log shows the end of the transaction before the picture is taken.
    await page.locator(`#${ids.log}`).filter({ hasText: 'Ended' }).first().waitFor({ timeout: 5000 });
    const file = artifactPath('simulator.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`simulator screenshot: ${file}`);
  } finally {
    await serve.stop();
  }
});
