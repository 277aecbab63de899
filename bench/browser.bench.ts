/**
 * Browser — the SDK in headless Chromium (the browser build, /client.js as the server serves it)
 * against the same page's fetch() of the same server's HTTP API, 256 MiB (quick: 32 MiB):
 *   download: client.download(id) (WebSocket, every chunk's SHA-256 verified) vs fetch(GET /v1/files/:id)
 *             with the body read to the end (no hashing: what a browser download costs);
 *   upload:   client.upload(blob) vs fetch(PUT /v1/files?name=…, { body: blob }), one Blob in page memory.
 * The server is the CLI (`serve`) as a child process on 127.0.0.1; Debian's /usr/bin/chromium is
 * driven over the DevTools protocol with no Network domain (lib/cdp.ts says why not Playwright).
 *
 * Interleaved rounds rather than benny's case after case: the machine is shared, and its load
 * moves within seconds. Each round runs every case once (in a rotated order), so an SDK run and
 * its fetch() run are measured next to each other; a round's ratio compares those two, and the
 * verdict is the median of the rounds' ratios. One warm-up round is not counted.
 *   BENCH_ROUNDS=N   rounds (default 7, quick 3)
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { launchCdpPage, CHROMIUM } from './lib/cdp.js';
import { MB, MiB, QUICK, median, startSuite, type CaseResult } from './lib/harness.js';
import { cleanupAll, prepareBigFile } from './lib/fixtures.js';
import { ROOT, chunkstreamServer, serverMissing, type Child } from './lib/servers.js';

const run = startSuite('browser', 'SDK in Chromium vs the same page’s fetch() (download and upload)');
const SIZE = QUICK ? 32 * MiB : 256 * MiB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 7));
const TARGET = 0.5;

interface Case {
  name: string;
  direction: 'download' | 'upload';
  client: 'sdk' | 'fetch';
  /** In-page code (a string: the page must get plain browser JavaScript) that resolves to the bytes moved. */
  code: string;
  /** Untimed cleanup after each run. */
  after?: string;
}

const missing =
  serverMissing() ??
  (existsSync(path.join(ROOT, 'dist/web/client.js')) ? undefined : 'dist/web/client.js is missing (npm run build)') ??
  (existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
if (missing) {
  run.finish({ setup: {}, cases: [], derived: [], notes: [], skipped: `not run: ${missing}` });
} else {
  const f = await prepareBigFile('browser', SIZE);
  let server: Child | undefined;
  let page: Awaited<ReturnType<typeof launchCdpPage>> | undefined;
  try {
    server = await chunkstreamServer(f.dir);
    page = await launchCdpPage(`${server.url}/config.json`);
    await page.evaluate(`(async () => {
      const sdk = await import('/client.js');
      const client = await sdk.connect(new URL('/v1/ws', location.href).href.replace(/^http/, 'ws'));
      const parts = [];
      for (let left = ${SIZE}; left > 0; left -= 65536) parts.push(crypto.getRandomValues(new Uint8Array(Math.min(65536, left))));
      const blob = new Blob(parts);
      const count = (obs) => new Promise((resolve, reject) => { let n = 0; obs.subscribe({ next: (c) => (n += c.byteLength), error: reject, complete: () => resolve(n) }); });
      const last = (obs) => new Promise((resolve, reject) => { let v; obs.subscribe({ next: (x) => (v = x), error: reject, complete: () => resolve(v) }); });
      window.b = { client, blob, count, last, uploaded: [] };
    })()`);
    const removeUploaded = `Promise.all(window.b.uploaded.splice(0).map((id) => window.b.client.remove(id)))`;
    const cases: Case[] = [
      {
        name: 'SDK download (WebSocket, sha256 verified)',
        direction: 'download',
        client: 'sdk',
        code: `window.b.count(window.b.client.download(${JSON.stringify(f.id)}))`,
      },
      {
        name: 'fetch() GET /v1/files/:id',
        direction: 'download',
        client: 'fetch',
        code: `(async () => {
          const reader = (await fetch('/v1/files/${f.id}', { cache: 'no-store' })).body.getReader();
          let n = 0;
          for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.byteLength;
          return n;
        })()`,
      },
      {
        name: 'SDK upload of a Blob (WebSocket)',
        direction: 'upload',
        client: 'sdk',
        code: `(async () => {
          const { file } = await window.b.last(window.b.client.upload(window.b.blob, { name: 'bench-sdk.bin' }));
          window.b.uploaded.push(file.id);
          return file.size;
        })()`,
        after: removeUploaded,
      },
      {
        name: 'fetch() PUT /v1/files of the same Blob',
        direction: 'upload',
        client: 'fetch',
        code: `(async () => {
          const res = await fetch('/v1/files?name=bench-put.bin', { method: 'PUT', body: window.b.blob });
          const file = await res.json();
          if (!res.ok) throw new Error(JSON.stringify(file));
          window.b.uploaded.push(file.id);
          return file.size;
        })()`,
        after: removeUploaded,
      },
    ];
    const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
    const once = async (c: Case): Promise<number> => {
      const t0 = performance.now();
      const got = await page!.evaluate(c.code);
      const ms = performance.now() - t0;
      if (got !== SIZE) throw new Error(`${c.name}: ${String(got)} bytes, expected ${SIZE}`);
      if (c.after) await page!.evaluate(c.after);
      return ms;
    };
    for (const c of cases) await once(c); // warm-up: JIT, page cache, the first upload session
    for (let round = 0; round < ROUNDS; round++) {
      // Rotated so no case always runs first (after a GC-free pause) or last.
      for (let i = 0; i < cases.length; i++) {
        const c = cases[(i + round) % cases.length]!;
        times.get(c)!.push(await once(c));
      }
      const line = cases.map((c) => `${c.client} ${c.direction} ${(SIZE / MB / (times.get(c)!.at(-1)! / 1000)).toFixed(0)}`).join(', ');
      console.log(`  round ${round + 1}/${ROUNDS}: ${line} MB/s`);
    }

    const results: CaseResult[] = cases.map((c) => {
      const t = times.get(c)!;
      const med = median(t);
      const q = [...t].sort((a, b) => a - b);
      const iqr = q[Math.floor((q.length * 3) / 4)]! - q[Math.floor(q.length / 4)]!;
      return {
        name: c.name,
        params: { direction: c.direction, client: c.client },
        bytes: SIZE,
        mbps: SIZE / MB / (med / 1000),
        timesMs: t.map((x) => Math.round(x * 1000) / 1000),
        medianMs: med,
        minMs: Math.min(...t),
        // Not benny here: ops/s from the median, margin = half the interquartile range in % of the median.
        benny: { ops: 1000 / med, margin: (50 * iqr) / med, samples: t.length },
      };
    });
    const derived = (['download', 'upload'] as const).map((direction) => {
      const sdk = cases.find((c) => c.direction === direction && c.client === 'sdk')!;
      const fetchCase = cases.find((c) => c.direction === direction && c.client === 'fetch')!;
      const ratios = times.get(sdk)!.map((ms, i) => times.get(fetchCase)![i]! / ms); // throughput ratio per round
      const ratio = median(ratios);
      const mbps = (c: Case) => results[cases.indexOf(c)]!.mbps!;
      return {
        direction,
        sdkMbps: mbps(sdk),
        fetchMbps: mbps(fetchCase),
        ratio,
        ratioOfMedians: mbps(sdk) / mbps(fetchCase),
        roundRatios: ratios.map((r) => Math.round(r * 100) / 100),
        target: TARGET,
        met: ratio >= TARGET,
      };
    });
    for (const d of derived)
      console.log(`  ${d.direction}: SDK / fetch = ${d.ratio.toFixed(2)} (median of rounds: ${d.roundRatios.join(', ')})`);
    run.finish({
      setup: {
        size: SIZE,
        chunkSize: f.chunkSize,
        rounds: ROUNDS,
        server: 'the built CLI (`node dist/cli/main.js serve --dir D --host 127.0.0.1 --port 0`), defaults, files in the page cache',
        browser: `${page.version} (${CHROMIUM}), headless, over the DevTools protocol without the Network domain (bench/lib/cdp.ts)`,
        page: 'a document of the server origin (/config.json) importing /client.js; the Blob is made once in page memory',
        method: `1 warm-up round, then ${ROUNDS} interleaved rounds (each case once per round, rotated); ratio = median over rounds of fetch time / SDK time`,
      },
      cases: results,
      derived,
      notes: [],
      chart: {
        title: `Browser: SDK vs fetch() in Chromium, ${SIZE / MiB} MiB (MB/s)`,
        unit: 'MB/s',
        bars: results.map((r) => ({ label: r.name, value: r.mbps!, group: String(r.params.direction) })),
        lines: [
          { label: '0.5 × fetch GET', value: TARGET * derived[0]!.fetchMbps },
          { label: '0.5 × fetch PUT', value: TARGET * derived[1]!.fetchMbps },
        ],
      },
    });
  } finally {
    await page?.close();
    await server?.stop();
    cleanupAll();
  }
}
