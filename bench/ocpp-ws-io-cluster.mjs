#!/usr/bin/env node
// ocpp-ws-io 2.3.2's cluster, measured as bench/cluster_bench measures ours: two OCPPServer nodes,
// each with its own RedisAdapter (ioredis: pub, sub and blocking clients, as its README sets up)
// on one redis-server; routed sendToClient latency at a fixed rate (open loop), routed throughput
// (closed loop), the same against local calls, an unknown station, Redis commands per call.
//
//   node bench/ocpp-ws-io-cluster.mjs --redis redis://127.0.0.1:P [--redis-pid PID] [--stations 100] [--rate 1000]
//        [--seconds 10] [--in-flight 4] [--unknown-seconds 3] [--warmup-calls 5000] [--json-out FILE]
//
// Placement: this process runs node B (the caller) with --stations stations of its own (the local
// line) and the load; a child process (this script with --role a) runs node A and its --stations
// stations. Node is one event loop per process, so that is two loops on the 2 cores, plus Redis.
// Stations answer GetConfiguration synchronously. Redis commands per call come from INFO
// commandstats before/after each run (the INFO calls themselves not counted); unlike ours, its
// routing runs no scripts, so every command there was sent by a client.
//
// ocpp-ws-io and ioredis come from tests/interop/peers/node_modules (install.sh).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fork } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.resolve(here, '../tests/interop/peers/node_modules');
for (const pkg of ['ocpp-ws-io', 'ioredis']) {
  if (!fs.existsSync(path.join(modules, pkg, 'package.json'))) {
    process.stderr.write(`ocpp-ws-io-cluster: ${pkg} not found in ${modules}; run: bash tests/interop/peers/install.sh\n`);
    process.exit(2);
  }
}
const { OCPPServer, OCPPClient } = await import(pathToFileURL(path.join(modules, 'ocpp-ws-io/dist/index.mjs')).href);
const { RedisAdapter } = await import(pathToFileURL(path.join(modules, 'ocpp-ws-io/dist/adapters/redis.mjs')).href);
const { default: Redis } = await import(pathToFileURL(path.join(modules, 'ioredis/built/index.js')).href);

const opts = { redis: '', 'redis-pid': 0, role: 'b', stations: 100, rate: 1000, seconds: 10, 'in-flight': 4, 'unknown-seconds': 3,
  'warmup-calls': 5000, 'json-out': '' };
const strings = new Set(['redis', 'role', 'json-out']);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i].replace(/^--/, '');
  if (!(k in opts) || i + 1 >= argv.length) {
    process.stderr.write('usage: node ocpp-ws-io-cluster.mjs --redis URL [--stations 100] [--rate 1000] [--seconds 10] ' +
      '[--in-flight 4] [--unknown-seconds 3] [--warmup-calls 5000] [--json-out FILE]\n');
    process.exit(2);
  }
  opts[k] = strings.has(k) ? argv[++i] : Number(argv[++i]);
}
if (!opts.redis) { process.stderr.write('ocpp-ws-io-cluster: --redis URL is required\n'); process.exit(2); }

async function node(name) {
  const server = new OCPPServer({ protocols: ['ocpp1.6'], logging: false });
  const pubClient = new Redis(opts.redis);
  const adapter = new RedisAdapter({ pubClient, subClient: pubClient.duplicate(), blockingClient: pubClient.duplicate(),
    prefix: 'wsio:', logger: { warn() {}, error: (m, d) => process.stderr.write(`${name}: ${m} ${JSON.stringify(d ?? {})}\n`) } });
  await server.setAdapter(adapter);
  const http = await server.listen(0, '127.0.0.1');
  return { server, port: http.address().port, close: async () => { await server.close({}).catch(() => {}); await adapter.disconnect(); } };
}

async function stations(port, prefix) {
  const list = [];
  for (let i = 0; i < opts.stations; i++) {
    const identity = `${prefix}-CP${i}`;
    const c = new OCPPClient({ identity, endpoint: `ws://127.0.0.1:${port}`, protocols: ['ocpp1.6'], reconnect: false,
      logging: false });
    c.handle('GetConfiguration', () => ({ configurationKey: [{ key: 'Identity', readonly: true, value: identity }] }));
    list.push(c);
  }
  await Promise.all(list.map((c) => c.connect()));
  return list;
}

if (opts.role === 'a') {
  const a = await node('wsio-A');
  const list = await stations(a.port, 'A');
  process.send({ ready: true });
  process.on('message', async (m) => {
    if (m !== 'stop') return;
    await Promise.all(list.map((c) => c.close().catch(() => {})));
    await a.close();
    process.exit(0);
  });
} else {
  await main();
}

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)))];
}

// redis-server's utime + stime in µs (0 without --redis-pid).
function redisCpuUs() {
  if (!opts['redis-pid']) return 0;
  const stat = fs.readFileSync(`/proc/${opts['redis-pid']}/stat`, 'utf8');
  const f = stat.slice(stat.indexOf(') ') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 1e6 / 100;  // CLK_TCK is 100 on Linux
}

async function commandstats(redis) {
  const text = await redis.info('commandstats');
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function main() {
  const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--role', 'a'], { stdio: 'inherit' });
  await new Promise((resolve, reject) => {
    child.on('message', (m) => m?.ready && resolve());
    child.on('exit', (code) => reject(new Error(`node A exited with ${code}`)));
  });
  const b = await node('wsio-B');
  const own = await stations(b.port, 'B');
  const info = new Redis(opts.redis);
  const ids = (prefix) => Array.from({ length: opts.stations }, (_, i) => `${prefix}-CP${i}`);
  const routed = ids('A'), local = ids('B');
  const now = () => Number(process.hrtime.bigint()) / 1e6;  // ms

  const call = async (id) => {
    const t = now();
    try {
      await b.server.sendToClient(id, 'GetConfiguration', {});
      return [now() - t, null];
    } catch (e) {
      return [now() - t, e?.message ?? String(e)];
    }
  };
  // Presence is written when a station connects: wait until every routed one answers.
  for (const id of routed) {
    for (let i = 0; ; i++) {
      const [, err] = await call(id);
      if (!err) break;
      if (i > 500) throw new Error(`${id} never reachable: ${err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  function note(r, ms, err) {
    r.latency.push(ms);
    if (err) { r.errors++; r.kinds[err] = (r.kinds[err] ?? 0) + 1; }
  }
  async function openLoop(targets, rate, seconds) {
    const r = { latency: [], errors: 0, kinds: {}, maxIssueLag: 0 };
    const total = Math.round(rate * seconds), period = 1000 / rate;
    const t0 = now();
    let issued = 0;
    const pending = [];
    await new Promise((resolve) => {
      const tick = () => {
        const t = now();
        while (issued < total && t0 + issued * period <= t) {
          r.maxIssueLag = Math.max(r.maxIssueLag, t - (t0 + issued * period));
          pending.push(call(targets[issued % targets.length]).then(([ms, err]) => note(r, ms, err)));
          issued++;
        }
        if (issued === total) return resolve();
        setTimeout(tick, Math.max(0, t0 + issued * period - now()));
      };
      tick();
    });
    await Promise.all(pending);
    r.seconds = (now() - t0) / 1000;
    r.calls = total;
    r.callsPerS = total / r.seconds;
    return r;
  }
  async function closedLoop(targets, inFlight, seconds) {
    const r = { latency: [], errors: 0, kinds: {}, calls: 0 };
    const end = now() + seconds * 1000;
    const chain = async (id) => {
      for (;;) {
        const [ms, err] = await call(id);
        if (now() > end) return;
        note(r, ms, err);
        r.calls++;
      }
    };
    const chains = [];
    for (let k = 0; k < inFlight; k++) for (const id of targets) chains.push(chain(id));
    await Promise.all(chains);
    r.seconds = seconds;
    r.callsPerS = r.calls / seconds;
    return r;
  }
  async function measured(setup, target, shape, run) {
    const before = await commandstats(info);
    const cpuBefore = redisCpuUs();
    const r = await run();
    const cpuAfter = redisCpuUs();
    const after = await commandstats(info);
    const perCall = {};
    let total = 0;
    for (const [cmd, n] of Object.entries(after)) {
      let d = n - (before[cmd] ?? 0);
      if (cmd === 'info') d -= 1;
      if (d <= 0) continue;
      perCall[cmd] = d / Math.max(1, r.calls);
      total += perCall[cmd];
    }
    r.latency.sort((x, y) => x - y);
    const out = { setup, target, shape, seconds: r.seconds, calls: r.calls, errors: r.errors, calls_per_s: r.callsPerS,
      latency_ms: { p50: pct(r.latency, 50), p90: pct(r.latency, 90), p99: pct(r.latency, 99), p999: pct(r.latency, 99.9),
        max: r.latency.at(-1) ?? 0 },
      error_kinds: r.kinds, redis_commands_per_call: perCall, redis_commands_per_call_total: total };
    if (opts['redis-pid']) out.redis_cpu_us_per_call = (cpuAfter - cpuBefore) / Math.max(1, r.calls);
    if (shape === 'latency') out.max_issue_lag_ms = r.maxIssueLag;
    process.stderr.write(`[ocpp-ws-io] ${target} ${shape}: done\n`);
    return out;
  }

  const warm = Math.max(0.5, opts['warmup-calls'] / 5000);
  await closedLoop(routed, 1, warm);
  await closedLoop(local, 1, warm);
  const results = [];
  for (const [name, targets] of [['routed', routed], ['local', local]]) {
    results.push(await measured('ocpp-ws-io', name, 'latency', () => openLoop(targets, opts.rate, opts.seconds)));
    results.push(await measured('ocpp-ws-io', name, 'throughput', () => closedLoop(targets, opts['in-flight'], opts.seconds)));
  }
  results.push(await measured('ocpp-ws-io', 'unknown', 'latency', () => openLoop(['NOBODY'], opts.rate, opts['unknown-seconds'])));

  const f = (v, d = 3) => v.toFixed(d);
  console.log('setup      target   shape          calls    calls/s   p50 ms   p90 ms   p99 ms   max ms  errors  redis/cl  redis us');
  for (const r of results) {
    console.log(`${r.setup.padEnd(10)} ${r.target.padEnd(8)} ${r.shape.padEnd(10)} ${String(r.calls).padStart(9)} ` +
      `${f(r.calls_per_s, 0).padStart(10)} ${f(r.latency_ms.p50).padStart(8)} ${f(r.latency_ms.p90).padStart(8)} ` +
      `${f(r.latency_ms.p99).padStart(8)} ${f(r.latency_ms.max, 2).padStart(8)} ${String(r.errors).padStart(7)} ` +
      `${f(r.redis_commands_per_call_total, 2).padStart(9)} ${f(r.redis_cpu_us_per_call ?? 0, 1).padStart(9)}`);
  }
  for (const r of results) {
    for (const [k, n] of Object.entries(r.error_kinds)) console.log(`${r.target} ${r.shape}: ${n} errors ${k}`);
    console.log(`redis commands per call, ${r.target} ${r.shape}: ` +
      Object.entries(r.redis_commands_per_call).map(([k, v]) => `${k} ${f(v)}`).join(' '));
  }
  if (opts['json-out']) {
    fs.writeFileSync(opts['json-out'], JSON.stringify({ config: { stations: opts.stations, rate: opts.rate,
      seconds: opts.seconds, in_flight: opts['in-flight'], unknown_seconds: opts['unknown-seconds'] }, runs: results }) + '\n');
  }
  const childExited = new Promise((r) => child.once('exit', r));  // before it can exit
  child.send('stop');
  await Promise.all(own.map((c) => c.close().catch(() => {})));
  await b.close();
  await info.quit();
  await childExited;
  process.exit(0);
}
