/**
 * Scenario 6 — the server's peak RSS (child process, /proc/PID/status: VmHWM, and VmRSS sampled
 * every 20 ms) during
 *   a. one client downloading slowly (HTTP GET, reader throttled to 128 MiB/s),
 *   b. one client uploading fast (HTTP PUT from memory, as fast as the server takes it),
 *   c. 32 clients downloading at once (HTTP GET; each stops after 64 MiB — the server's working
 *      set is reached after the first window of chunks, and 32 × 1 GiB would take minutes),
 * each with a fresh server, for two file sizes (flat in file size?). Bound per transfer:
 * (N + 1) × chunkSize (N = the server's default concurrency, 4), plus a fixed base: the server's
 * RSS once started and warmed up by one small request. Target for one transfer: peak ≤ base +
 * bound + 64 MiB. Not a benny suite: one measurement per configuration.
 */
import http from 'node:http';
import { DEFAULTS } from '../src/options.js';
import { GiB, MiB, QUICK, startSuite } from './lib/harness.js';
import { cleanupAll, prepareBigFile, randomBuffer, removeDir } from './lib/fixtures.js';
import { chunkstreamServer, rssOf, sampleRss, serverMissing } from './lib/servers.js';

const run = startSuite('memory', 'Server peak RSS (scenario 6)');
const SIZES = QUICK ? [32 * MiB, 128 * MiB] : [256 * MiB, 1 * GiB];
const N = DEFAULTS.downloadConcurrency;
const NU = DEFAULTS.uploadConcurrency;
const CHUNK = DEFAULTS.chunkSize;
const RATE = 128 * MiB; // bytes/s for the throttled reader
const CLIENTS = 32;
const PER_CLIENT = QUICK ? 8 * MiB : 64 * MiB;

function get(url: string, opts: { rate?: number; limit?: number } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { agent: false }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => {
        n += d.byteLength;
        if (opts.limit !== undefined && n >= opts.limit) {
          req.destroy();
          resolve(n);
          return;
        }
        if (opts.rate) {
          const due = (n / opts.rate) * 1000 - (performance.now() - t0);
          if (due > 1) {
            res.pause();
            setTimeout(() => res.resume(), due);
          }
        }
      });
      res.on('end', () => resolve(n));
      res.on('error', (e) => (opts.limit !== undefined ? resolve(n) : reject(e)));
    });
    req.on('error', (e) => (opts.limit !== undefined ? undefined : reject(e)));
  });
}

function put(url: string, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'PUT', agent: false, headers: { 'Content-Length': data.byteLength, 'Content-Type': 'application/octet-stream' } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`PUT: HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    let off = 0;
    const write = () => {
      while (off < data.byteLength) {
        const piece = data.subarray(off, Math.min(off + MiB, data.byteLength));
        off += piece.byteLength;
        if (!req.write(piece)) {
          req.once('drain', write);
          return;
        }
      }
      req.end();
    };
    write();
  });
}

interface Row {
  scenario: string;
  fileBytes: number;
  transfers: number;
  baseRss: number;
  peakRss: number;
  aboveBase: number;
  boundAboveBase: number;
  ratioToBound: number;
  limit: number;
  met: boolean;
  seconds: number;
}

const missing = serverMissing();
if (missing) {
  run.finish({ setup: {}, cases: [], derived: [], notes: [], skipped: `not run: ${missing}` });
} else {
  const rows: Row[] = [];
  try {
    for (const size of SIZES) {
      const f = await prepareBigFile('mem', size);
      const upload = randomBuffer(size);
      const measure = async (
        scenario: string,
        transfers: number,
        perTransfer: number,
        work: (url: string) => Promise<unknown>,
        env: NodeJS.ProcessEnv = {},
      ) => {
        // The transfers' bound is what this suite measures: no chunk cache (its allowance, --cache-size,
        // is stated on its own), and one address may hold the whole budget (32 clients on loopback).
        const server = await chunkstreamServer(f.dir, ['--cache-size', '0', '--max-client-share', '100%'], env);
        try {
          await get(`${server.url}/v1/files/${f.id}/meta`);
          await new Promise((r) => setTimeout(r, 200));
          const base = rssOf(server.pid).rss;
          const sampler = sampleRss(server.pid);
          const t0 = performance.now();
          await work(server.url);
          const seconds = (performance.now() - t0) / 1000;
          const s = sampler.stop();
          const peak = Math.max(s.peakSampled, Number.isFinite(s.hwm) ? s.hwm : 0);
          const bound = transfers * perTransfer;
          const limit = bound + 64 * MiB;
          rows.push({
            scenario,
            fileBytes: size,
            transfers,
            baseRss: base,
            peakRss: peak,
            aboveBase: peak - base,
            boundAboveBase: bound,
            ratioToBound: (peak - base) / bound,
            limit,
            met: peak - base <= limit,
            seconds,
          });
          console.log(
            `  ${scenario} ${size / MiB} MiB: base ${(base / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB (+${((peak - base) / MiB).toFixed(0)}; bound +${(bound / MiB).toFixed(0)}), ${seconds.toFixed(1)} s`,
          );
        } finally {
          await server.stop();
        }
      };
      await measure('slow download (128 MiB/s reader)', 1, (N + 1) * CHUNK, (url) => get(`${url}/v1/files/${f.id}`, { rate: RATE }));
      await measure('fast upload (HTTP PUT)', 1, (NU + 1) * CHUNK, (url) => put(`${url}/v1/files?name=up.bin`, upload));
      // Quick mode: the 32-client row and the allocator row only for the larger file.
      if (!QUICK || size === SIZES.at(-1)) {
        await measure(`${CLIENTS} clients downloading at once`, CLIENTS, (N + 1) * CHUNK, (url) =>
          Promise.all(Array.from({ length: CLIENTS }, () => get(`${url}/v1/files/${f.id}`, { limit: Math.min(PER_CLIENT, size) }))),
        );
      }
      if (size === SIZES.at(-1) && !QUICK) {
        // The same slow download with glibc's mmap threshold pinned at its initial 128 KiB: freed
        // chunk buffers go back to the OS at once instead of staying in the malloc heap.
        const env = { MALLOC_MMAP_THRESHOLD_: '131072' };
        await measure(
          'slow download, MALLOC_MMAP_THRESHOLD_=131072',
          1,
          (N + 1) * CHUNK,
          (url) => get(`${url}/v1/files/${f.id}`, { rate: RATE }),
          env,
        );
      }
      removeDir(f.dir);
      removeDir(f.plain.replace(/\/file\.bin$/, ''));
    }
  } finally {
    cleanupAll();
  }
  run.finish({
    setup: {
      server: 'CLI `serve` in a child process (node --import tsx src/cli/main.ts), fresh per row, fs store (fsync on, the CLI default)',
      rss: 'max(VmHWM at the end, VmRSS sampled every 20 ms); base = VmRSS after start + one small request',
      bound: `(N + 1) × chunkSize per transfer = (${N} + 1) × ${CHUNK / MiB} MiB; limit = bound + 64 MiB`,
      slowReader: `${RATE / MiB} MiB/s, HTTP GET`,
      clients: `${CLIENTS} HTTP GETs at once, each stopping after ${PER_CLIENT / MiB} MiB`,
      fileSizes: SIZES.map((s) => `${s / MiB} MiB`).join(', '),
    },
    cases: [],
    derived: rows as unknown as Record<string, unknown>[],
    notes: [],
    chart: {
      title: '6. Server RSS above base ÷ (N+1)×chunkSize bound (lower is better)',
      unit: '× bound',
      bars: rows.map((r) => ({
        label: `${r.scenario.replace(/ \(.*\)/, '')} ${r.fileBytes / MiB} MiB`,
        value: r.ratioToBound,
        group: r.scenario,
      })),
      lines: [{ label: 'bound', value: 1 }],
    },
  });
}
