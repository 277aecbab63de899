/**
 * Browser — the SDK in headless Chromium (the browser build, /client.js as the server serves it)
 * against the same page's fetch() of the same server's HTTP API, 256 MiB (quick: 32 MiB):
 *   download: client.download(id) (WebSocket, whole-file SHA-256 verified) vs fetch(GET /v1/files/:id)
 *             with the body read to the end (no hashing: what a browser download costs);
 *   upload:   client.upload(blob) vs fetch(PUT /v1/files?name=…, { body: blob }), one Blob in page memory.
 * The server is the CLI (`serve`) as a child process on 127.0.0.1; Debian's /usr/bin/chromium is
 * driven by playwright-core; each case's time is taken around one page.evaluate.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { MiB, QUICK, defaultOptions, runCases, startSuite, type BenchCase } from './lib/harness.js';
import { cleanupAll, prepareBigFile } from './lib/fixtures.js';
import { ROOT, chunkstreamServer, serverMissing, type Child } from './lib/servers.js';

const run = startSuite('browser', 'SDK in Chromium vs the same page’s fetch() (download and upload)');
const SIZE = QUICK ? 32 * MiB : 256 * MiB;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TARGET = 0.5;

const missing =
  serverMissing() ??
  (existsSync(path.join(ROOT, 'dist/web/client.js')) ? undefined : 'dist/web/client.js is missing (npm run build)') ??
  (existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
if (missing) {
  run.finish({ setup: {}, cases: [], derived: [], notes: [], skipped: `not run: ${missing}` });
} else {
  const f = await prepareBigFile('browser', SIZE);
  const profile = await mkdtemp(path.join(tmpdir(), 'chunkstream-bench-chromium-'));
  let server: Child | undefined;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
  });
  try {
    server = await chunkstreamServer(f.dir);
    const page = await context.newPage();
    await page.goto(`${server.url}/config.json`);
    // In-page code as strings: the page must get it as plain browser JavaScript.
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
    const check = (got: unknown, what: string) => {
      if (got !== SIZE) throw new Error(`${what}: ${String(got)} bytes, expected ${SIZE}`);
    };
    const removeUploaded = async () => {
      await page.evaluate(`Promise.all(window.b.uploaded.splice(0).map((id) => window.b.client.remove(id)))`);
    };
    const opts = defaultOptions('large');
    const cases: BenchCase[] = [
      {
        name: 'SDK download (WebSocket, sha256 verified)',
        fn: async () => check(await page.evaluate(`window.b.count(window.b.client.download(${JSON.stringify(f.id)}))`), 'SDK download'),
        bytes: SIZE,
        params: { direction: 'download', client: 'sdk' },
        options: opts,
      },
      {
        name: 'fetch() GET /v1/files/:id',
        fn: async () =>
          check(
            await page.evaluate(`(async () => {
              const reader = (await fetch('/v1/files/${f.id}', { cache: 'no-store' })).body.getReader();
              let n = 0;
              for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.byteLength;
              return n;
            })()`),
            'fetch GET',
          ),
        bytes: SIZE,
        params: { direction: 'download', client: 'fetch' },
        options: opts,
      },
      {
        name: 'SDK upload of a Blob (WebSocket)',
        fn: async () =>
          check(
            await page.evaluate(`(async () => {
              const { file } = await window.b.last(window.b.client.upload(window.b.blob, { name: 'bench-sdk.bin' }));
              window.b.uploaded.push(file.id);
              return file.size;
            })()`),
            'SDK upload',
          ),
        after: removeUploaded,
        bytes: SIZE,
        params: { direction: 'upload', client: 'sdk' },
        options: opts,
      },
      {
        name: 'fetch() PUT /v1/files of the same Blob',
        fn: async () =>
          check(
            await page.evaluate(`(async () => {
              const res = await fetch('/v1/files?name=bench-put.bin', { method: 'PUT', body: window.b.blob });
              const file = await res.json();
              if (!res.ok) throw new Error(JSON.stringify(file));
              window.b.uploaded.push(file.id);
              return file.size;
            })()`),
            'fetch PUT',
          ),
        after: removeUploaded,
        bytes: SIZE,
        params: { direction: 'upload', client: 'fetch' },
        options: opts,
      },
    ];
    const results = await runCases('browser', cases);
    const mbps = (name: string) => results.find((r) => r.name === name)!.mbps!;
    const [sdkDown, fetchDown, sdkUp, fetchUp] = cases.map((c) => mbps(c.name)) as [number, number, number, number];
    run.finish({
      setup: {
        size: SIZE,
        chunkSize: f.chunkSize,
        server: 'CLI `serve --dir D --host 127.0.0.1 --port 0` (node --import tsx src/cli/main.ts), defaults, files in the page cache',
        browser: `${context.browser()?.version() ?? 'Chromium'} (${CHROMIUM}), headless, driven by playwright-core`,
        page: 'a document of the server origin (/config.json) importing /client.js; the Blob is made once in page memory',
      },
      cases: results,
      derived: [
        {
          direction: 'download',
          sdkMbps: sdkDown,
          fetchMbps: fetchDown,
          ratio: sdkDown / fetchDown,
          target: TARGET,
          met: sdkDown / fetchDown >= TARGET,
        },
        { direction: 'upload', sdkMbps: sdkUp, fetchMbps: fetchUp, ratio: sdkUp / fetchUp, target: TARGET, met: sdkUp / fetchUp >= TARGET },
      ],
      notes: [],
      chart: {
        title: `Browser: SDK vs fetch() in Chromium, ${SIZE / MiB} MiB (MB/s)`,
        unit: 'MB/s',
        bars: results.map((r) => ({ label: r.name, value: r.mbps!, group: String(r.params.direction) })),
        lines: [
          { label: '0.5 × fetch GET', value: TARGET * fetchDown },
          { label: '0.5 × fetch PUT', value: TARGET * fetchUp },
        ],
      },
    });
  } finally {
    await context.close();
    await server?.stop();
    await rm(profile, { recursive: true, force: true });
    cleanupAll();
  }
}
