// What every browser test needs: the C++ servers started on free ports and awaited by their ready
// line, headless Debian Chromium through playwright-core, the wasm site, and the artefact folder.
// Paths come from the environment ctest sets (tests/web/CMakeLists.txt); each has a default for a
// run by hand from the source tree after the release and wasm builds.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const sourceDir = path.resolve(here, '../..');
const env = (name, fallback) => process.env[name] || fallback;
export const webCsmsPath = env('WEB_CSMS', path.join(sourceDir, 'build/release/tests/web/web_csms'));
export const ocppCliPath = env('OCPP_CLI', path.join(sourceDir, 'build/release/apps/ocpp/ocpp'));
export const siteDir = env('OCPP_WEB_SITE', path.join(sourceDir, 'build/wasm/web/site'));
export const artifactsDir = env('OCPP_WEB_ARTIFACTS', path.join(sourceDir, 'build/release/web-artifacts'));
export const chromiumPath = '/usr/bin/chromium';

// Fails (never skips) with what is missing and how to get it.
export function requireSite(files = ['ocpp.js', 'ocpp-engine.mjs', 'ocpp-engine.wasm']) {
  const missing = files.filter((f) => !fs.existsSync(path.join(siteDir, f)));
  if (missing.length)
    throw new Error(`the browser client's site is missing ${missing.join(', ')} in ${siteDir}: ` +
                    'build it first with `cmake --preset wasm && cmake --build --preset wasm` (scripts/test.sh does)');
}

// A child process speaking JSON or text lines on stdout. `waitFor(pred)` resolves with the first
// line (past or future) that pred accepts; it is an event wait with a deadline, never a sleep.
class LineProcess {
  constructor(name, file, args, parse) {
    this.name = name;
    this.lines = [];
    this.waiters = [];
    this.stderr = '';
    this.child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.name} exited (${code ?? signal}) ` +
                                                                  `before: ${w.what}\nstderr: ${this.stderr}`));
    });
    this.child.on('error', (e) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.name}: ${e.message}`));
    });
    this.child.stderr.on('data', (d) => { this.stderr += d; });
    readline.createInterface({ input: this.child.stdout }).on('line', (text) => {
      let line = text;
      if (parse) {
        try { line = JSON.parse(text); } catch { line = { unparsed: text }; }
      }
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.pred(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
  }

  waitFor(pred, what = 'a line', timeoutMs = 10000) {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    if (this.exit) return Promise.reject(new Error(`${this.name} has exited (${JSON.stringify(this.exit)}): ${what}`));
    return new Promise((resolve, reject) => {
      const waiter = { pred, what, resolve, reject };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        const tail = this.lines.slice(-15).map((l) => JSON.stringify(l)).join('\n');
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last lines:\n${tail}\nstderr: ${this.stderr}`));
      }, timeoutMs);
      waiter.resolve = (v) => { clearTimeout(timer); resolve(v); };
      waiter.reject = (e) => { clearTimeout(timer); reject(e); };
      this.waiters.push(waiter);
    });
  }

  async kill(signal = 'SIGTERM') {
    if (!this.exit) this.child.kill(signal);
    return this.exited;
  }
}

// tests/web/web_csms.cpp: strict server on `port`, lax one on `laxPort` (0: free ports).
export class WebCsms extends LineProcess {
  static async start({ port = 0, laxPort = 0, webRoot = siteDir } = {}) {
    const args = ['--port', String(port), '--lax-port', String(laxPort), '--host', '127.0.0.1'];
    if (webRoot) args.push('--web-root', webRoot);
    const csms = new WebCsms('web_csms', webCsmsPath, args, true);
    const ready = await csms.waitFor((l) => l.event === 'ready', 'ready line');
    csms.port = ready.port;
    csms.laxPort = ready.laxPort;
    csms.url = `http://127.0.0.1:${ready.port}`;
    csms.ws = `ws://127.0.0.1:${ready.port}`;
    csms.laxWs = `ws://127.0.0.1:${ready.laxPort}`;
    csms.nextId = 1;
    return csms;
  }

  // Sends a command; resolves with its answer line ({id, result} | {id, error} | {id, ok}).
  command(body, timeoutMs = 10000) {
    const id = this.nextId++;
    this.child.stdin.write(JSON.stringify({ id, ...body }) + '\n');
    return this.waitFor((l) => l.id === id, `answer to ${JSON.stringify(body)}`, timeoutMs);
  }

  call(identity, action, payload, timeoutMs) {
    return this.command({ call: { identity, action, payload, timeoutMs } }, (timeoutMs ?? 30000) + 5000);
  }

  async respond(action, answer, protocol) {
    const reply = await this.command({ respond: { action, protocol, ...answer } });
    if (!reply.ok) throw new Error(`web_csms refused respond: ${JSON.stringify(reply)}`);
  }

  events(identity, event) {
    return this.lines.filter((l) => l.identity === identity && (!event || l.event === event));
  }

  async stop() {
    if (this.exit) return this.exit;
    this.child.stdin.end();
    const deadline = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const result = await this.exited;
    clearTimeout(deadline);
    return result;
  }
}

// `ocpp serve --web SITE --strict` on a free port: the demo CSMS the simulator page talks to.
export class OcppServe extends LineProcess {
  static async start(extra = []) {
    const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--strict', '--web', siteDir, ...extra];
    const serve = new OcppServe('ocpp serve', ocppCliPath, args, false);
    const ready = await serve.waitFor((l) => /^ocpp serve: listening on /.test(l), 'ready line');
    serve.port = Number(/:(\d+) \(/.exec(ready)[1]);
    serve.url = `http://127.0.0.1:${serve.port}`;
    serve.ws = `ws://127.0.0.1:${serve.port}`;
    return serve;
  }

  async stop() {
    return this.kill('SIGTERM');
  }
}

export async function launchChromium() {
  if (!fs.existsSync(chromiumPath))
    throw new Error(`${chromiumPath} is missing: install Debian's chromium (bash scripts/setup.sh --wasm)`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is not installed in ${here}: bash tests/web/install.sh (${e.message})`);
  }
  // --no-sandbox: the suite runs as root, where Chromium refuses its sandbox.
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
}

// A fresh context and page; the page's console and errors are kept for failure messages.
// Chromium's Local Network Access checks block a page that did not come from a local address (a
// page Playwright fulfils) from opening ws://127.0.0.1; `localNetworkAccess` grants it, as a user
// answering the prompt would (an opaque origin such as about:blank cannot get it). Pages our
// server serves need no grant.
export async function openPage(browser, url, { localNetworkAccess = false } = {}) {
  const context = await browser.newContext(localNetworkAccess ? { permissions: ['local-network-access'] } : {});
  const page = await context.newPage();
  page.consoleLines = [];
  page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
  if (url) await page.goto(url);
  return page;
}

// A web root for web_csms: the wasm site plus test.html, a blank page for the tests to import
// ocpp.js into, so that they run on a page our server really served (same origin as the site).
export function stageSite() {
  requireSite();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocpp-web-site-'));
  for (const f of fs.readdirSync(siteDir)) fs.copyFileSync(path.join(siteDir, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'test.html'), '<!doctype html><meta charset="utf-8"><title>ocpp.js test</title>\n');
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function artifactPath(name) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  return path.join(artifactsDir, name);
}
