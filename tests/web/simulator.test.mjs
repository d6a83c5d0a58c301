// The simulator page (web/simulator/) in headless Chromium, served by `ocpp serve --web --strict`
// on its own port: boot by ?autostart=1, a transaction with periodic meter values, the server's
// strict validators accepting every message, and screenshots kept as test artefacts (charging,
// and after the transaction).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { OcppServe, artifactPath, launchChromium, openPage, requireSite } from './harness.mjs';

// Ids from the list at the top of web/simulator/simulator.js.
const ids = { status: 'status', startTransaction: 'start-tx', stopTransaction: 'stop-tx', txState: 'tx-state' };

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

test('the simulator boots, runs a transaction with meter values against the strict server, and is screenshotted', async () => {
  requireSite(['index.html', 'simulator.js', 'simulator.css', 'ocpp.js', 'ocpp-engine.mjs', 'ocpp-engine.wasm']);
  const serve = await OcppServe.start();
  try {
    const identity = 'SIM-1';
    const query = new URLSearchParams({ url: `${serve.ws}/`, identity, protocol: 'ocpp2.0.1', strict: '1',
                                        meterInterval: '1', autostart: '1' });
    const page = await openPage(browser, `${serve.url}/?${query}`);
    await page.setViewportSize({ width: 1280, height: 900 });
    const wait = (selector, what) => page.locator(selector).waitFor({ timeout: 15000 }).catch((e) => {
      throw new Error(`${what}: ${e.message}\npage console:\n${page.consoleLines.join('\n')}`);
    });
    await wait(`#${ids.status}[data-status="Accepted"]`, 'boot accepted');

    // A transaction with meter values every second, long enough for two periodic ones.
    await page.click(`#${ids.startTransaction}`);
    await wait(`#${ids.txState}[data-state="charging"]`, 'charging');
    const periodic = () => frames(serve, identity).filter((f) => f.direction === 'in' && f.frame[2] === 'TransactionEvent' &&
                                                              f.frame[3].eventType === 'Updated' && f.frame[3].meterValue);
    await serve.waitFor(() => periodic().length >= 2, 'two periodic meter values', 15000);
    const charging = artifactPath('simulator-charging.png');
    await page.screenshot({ path: charging, fullPage: true });
    await page.click(`#${ids.stopTransaction}`);
    await wait(`#${ids.txState}[data-state="idle"]`, 'transaction ended');
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

    const file = artifactPath('simulator.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`simulator screenshots: ${charging} (charging), ${file} (after the transaction)`);
  } finally {
    await serve.stop();
  }
});

test('the simulator\'s password reaches a Basic Auth server through the URL: right one boots, wrong one is refused', async () => {
  requireSite(['index.html', 'simulator.js', 'ocpp.js', 'ocpp-engine.mjs', 'ocpp-engine.wasm']);
  const passwords = artifactPath('passwords.txt');
  fs.writeFileSync(passwords, 'SIM-AUTH:s3cret\n');
  const serve = await OcppServe.start(['--password-file', passwords]);
  try {
    const open = async (password) => {
      const query = new URLSearchParams({ url: `${serve.ws}/`, identity: 'SIM-AUTH', protocol: 'ocpp1.6', password, autostart: '1' });
      return openPage(browser, `${serve.url}/?${query}`);
    };
    const right = await open('s3cret');
    await right.locator(`#${ids.status}[data-status="Accepted"]`).waitFor({ timeout: 15000 });
    await serve.waitFor(() => serve.lines.some((l) => l.startsWith('== SIM-AUTH connected')), 'the station connected', 15000);
    const wrong = await open('guess');
    // The page reports the failed connect (Chromium sees the 401 as a failed handshake).
    await wrong.locator('#notice', { hasText: 'Cannot connect' }).waitFor({ timeout: 15000 });
    assert.equal(await wrong.getAttribute(`#${ids.status}`, 'data-status') ?? '', '', 'no boot without the right password');
    assert.equal(serve.lines.filter((l) => l.startsWith('== SIM-AUTH connected')).length, 1, 'only the right password connected');
  } finally {
    await serve.stop();
  }
});
