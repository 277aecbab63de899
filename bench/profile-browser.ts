// Ad-hoc profiling driver for the SDK in Chromium (what limits client.download / client.upload):
//   node --import tsx bench/profile-browser.ts [MiB] [down|up|both|sdk-down|fetch-down|sdk-up|fetch-up] [--cpu=/tmp/prof] [--server-prof=/tmp/prof] [--trace]
// Starts the CLI's `serve` on a store with one random file, opens a page of its origin that imports
// /client.js, and runs each transfer a few times. --cpu writes a Chromium CPU profile per case
// (CDP Profiler, open it in DevTools) and prints the functions with most self time; --trace logs
// the arrival time of every WebSocket message in the page (gaps = waiting for the server).
import { readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { launchCdpPage } from './lib/cdp.js';
import { MiB } from './lib/harness.js';
import { cleanupAll, prepareBigFile } from './lib/fixtures.js';
import { chunkstreamServer } from './lib/servers.js';

const size = Number(process.argv[2] ?? 64) * MiB;
const which = process.argv[3] ?? 'both';
const cpuDir = process.argv.find((a) => a.startsWith('--cpu='))?.slice(6);
const trace = process.argv.includes('--trace');

/** CPU ms so far of the server and of each Chromium process (by type), from /proc. */
function cpuByProcess(serverPid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const name =
        Number(pid) === serverPid
          ? 'server'
          : cmd.includes('chromium')
            ? `chromium ${/--type=([a-z-]+)/.exec(cmd)?.[1] ?? 'browser'} ${/--utility-sub-type=([a-zA-Z.]+)/.exec(cmd)?.[1] ?? ''}`.trim()
            : undefined;
      if (!name) continue;
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(st[11]) + Number(st[12])) * 10);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const f = await prepareBigFile('profbrowser', size);
// --server-prof=MODULE: imported first by the server (e.g. one that runs the inspector profiler).
const serverProf = process.argv.find((a) => a.startsWith('--server-prof='))?.slice(14);
const server = await chunkstreamServer(f.dir, [], serverProf ? { NODE_OPTIONS: `--import ${serverProf}` } : {});
const page = await launchCdpPage(`${server.url}/config.json`);
try {
  await page.evaluate(`(async () => {
    if (${trace}) {
      const Native = WebSocket;
      window.arrivals = [];
      window.WebSocket = class extends Native {
        constructor(url) {
          super(url);
          this.addEventListener('message', (e) => window.arrivals.push([performance.now(), typeof e.data === 'string' ? e.data.slice(0, 40) : e.data.byteLength]));
        }
        send(data) {
          super.send(data);
          window.arrivals.push([performance.now(), 'sent ' + (typeof data === 'string' ? data.slice(0, 30) : data.byteLength) + ' buffered ' + this.bufferedAmount]);
        }
      };
    }
    const sdk = await import('/client.js');
    const client = await sdk.connect(new URL('/v1/ws', location.href).href.replace(/^http/, 'ws'), { WebSocket: window.WebSocket });
    const parts = [];
    for (let left = ${size}; left > 0; left -= 65536) parts.push(crypto.getRandomValues(new Uint8Array(Math.min(65536, left))));
    const blob = new Blob(parts);
    const count = (obs) => new Promise((resolve, reject) => { let n = 0; obs.subscribe({ next: (c) => (n += c.byteLength), error: reject, complete: () => resolve(n) }); });
    const last = (obs) => new Promise((resolve, reject) => { let v; obs.subscribe({ next: (x) => (v = x), error: reject, complete: () => resolve(v) }); });
    window.b = { client, blob, count, last };
  })()`);
  const cdp = page;
  const cases: [string, string][] = [];
  if (!which.includes('up')) {
    cases.push(['sdk-down', `window.b.count(window.b.client.download(${JSON.stringify(f.id)}))`]);
    cases.push([
      'fetch-down',
      `(async () => { const r = (await fetch('/v1/files/${f.id}', { cache: 'no-store' })).body.getReader(); let n = 0; for (let x = await r.read(); !x.done; x = await r.read()) n += x.value.byteLength; return n; })()`,
    ]);
  }
  if (!which.includes('down')) {
    cases.push([
      'sdk-up',
      `(async () => { const { file } = await window.b.last(window.b.client.upload(window.b.blob, { name: 'p.bin' })); await window.b.client.remove(file.id); return file.size; })()`,
    ]);
    cases.push([
      'fetch-up',
      `(async () => { const r = await fetch('/v1/files?name=q.bin', { method: 'PUT', body: window.b.blob }); const file = await r.json(); await window.b.client.remove(file.id); return file.size; })()`,
    ]);
  }
  for (const [name, code] of cases.filter(([n]) => !n.includes('-') || !which.includes('-') || n === which)) {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      if (trace) await page.evaluate('window.arrivals.length = 0');
      const profiling = cpuDir && i === 2;
      if (profiling) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
        await cdp.send('Profiler.start');
      }
      const cpu0 = cpuByProcess(server.pid);
      const t0 = performance.now();
      const got = await page.evaluate(code);
      times.push(performance.now() - t0);
      if (i === 2) {
        const cpu = [...cpuByProcess(server.pid)].map(([k, v]) => [k, v - (cpu0.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
        console.log(`  ${name} CPU ms (wall ${times[i]!.toFixed(0)}): ${cpu.map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
      if (got !== size) throw new Error(`${name}: ${String(got)} bytes`);
      if (profiling) {
        const { profile: p } = await cdp.send<{ profile: { nodes: ProfileNode[]; samples: number[] } }>('Profiler.stop');
        await writeFile(path.join(cpuDir, `${name}.cpuprofile`), JSON.stringify(p));
        const self = new Map<string, number>();
        for (const n of p.nodes) {
          const key = `${n.callFrame.functionName || '(anon)'} ${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber}`;
          self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
        }
        const total = [...self.values()].reduce((a, b) => a + b, 0);
        console.log(`  ${name} self time (${total} samples):`);
        for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`    ${((100 * v) / total).toFixed(1)}% ${k}`);
      }
      if (trace && i === 2) {
        const a = await page.evaluate<[number, string | number][]>('window.arrivals');
        const t = a.map(([ts, what], j) => `${(ts - a[0]![0]).toFixed(1)}ms${j ? ` (+${(ts - a[j - 1]![0]).toFixed(1)})` : ''} ${what}`);
        console.log(`  ${name} messages:\n    ${t.slice(0, Number(process.env.TRACE_LINES ?? 60)).join('\n    ')}`);
      }
    }
    const ms = [...times].sort((a, b) => a - b)[1]!;
    console.log(`${name}: ${times.map((t) => t.toFixed(0)).join(' / ')} ms, median ${(((size / 1e6) * 1000) / ms).toFixed(0)} MB/s`);
  }
} finally {
  await page.close();
  await server.stop();
  cleanupAll();
}
