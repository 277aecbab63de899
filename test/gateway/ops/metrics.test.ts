import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastValueFrom } from 'rxjs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/index.js';
import { accessLogged } from '../../../src/gateway/ops/access-log.js';
import { createServerMetrics } from '../../../src/gateway/ops/metrics.js';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { createMemoryStore, instrumentChunkStore, openStore } from '../../../src/index.js';
import { bytes, tempDir, CHUNK } from '../../helpers/core.js';
import { request, upload } from '../../helpers/http-server.js';
import { memoryLog, parseMetrics, sample, type Samples } from '../../helpers/ops.js';
import { eventually } from '../../helpers/eventually.js';
import { collect } from '../../helpers/ws-harness.js';
import { RawClient } from '../../helpers/ws-raw.js';

const TOKEN = 'metrics-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const dirs = new WeakMap<RunningServer, string>();

async function start(o: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const dir = await tempDir();
  const s = await startServer({
    dir,
    port: 0,
    host: '127.0.0.1',
    chunkSize: CHUNK,
    // These count every chunk read and flip chunks already read: no chunk cache between them and
    // the disk (the cache's own metrics: test/gateway/chunk-cache.test.ts).
    cacheBytes: 0,
    tokens: [TOKEN],
    logger: memoryLog().logger,
    ...o,
  });
  servers.push(s);
  dirs.set(s, dir);
  return s;
}

async function scrape(url: string, headers: Record<string, string> = auth): Promise<Samples> {
  const r = await request(url, { headers });
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseMetrics(r.body.toString());
}

const bytesOf = (m: Samples, protocol: string, direction: string) => sample(m, 'chunkstream_transfer_bytes_total', { protocol, direction });

describe('GET /metrics', () => {
  it('is Prometheus text (every line checked) behind the API token: process metrics and chunkstream_*', async () => {
    const s = await start();
    expect((await request(`${s.url}/metrics`)).status).toBe(401);
    const r = await request(`${s.url}/metrics`, { headers: auth });
    const m = parseMetrics(r.body.toString());
    expect(sample(m, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect([...m.keys()].some((k) => k.startsWith('nodejs_eventloop_lag_seconds'))).toBe(true);
    expect(sample(m, 'chunkstream_transfer_budget_limit_bytes')).toBe(s.budget.limit);
    expect(sample(m, 'chunkstream_ws_connections')).toBe(0);
    // Our names: chunkstream_<what>_<unit>[_total]; no label carries an id.
    const ours = r.body
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('# TYPE chunkstream_'))
      .map((l) => l.split(' ')[2]!);
    expect(ours.length).toBeGreaterThan(15);
    for (const name of ours) expect(name).toMatch(/^chunkstream_[a-z_]+$/);
    // The checker itself refuses what Prometheus would.
    for (const bad of ['x_total{a=b} 1', '# TYPE x_total counter\nx_total 1 2 3', 'x 1', '# TYPE x gauge\nx{a="1"} one'])
      expect(() => parseMetrics(bad)).toThrow();
  });

  it('a tus upload in PATCHes that end mid-chunk counts each received byte once (the re-read tail is not counted again)', async () => {
    const s = await start();
    const before = await scrape(`${s.url}/metrics`);
    const data = Buffer.from(bytes(2 * CHUNK + 500, 9));
    const tus = { ...auth, 'Tus-Resumable': '1.0.0' };
    const created = await request(`${s.url}/v1/tus/`, { method: 'POST', headers: { ...tus, 'Upload-Length': data.length } });
    expect(created.status).toBe(201);
    const url = new URL(String(created.headers.location), s.url).href;
    // Cuts inside the first chunk, then inside the second: each PATCH continues a stored tail.
    for (const [from, to] of [
      [0, 10],
      [10, CHUNK + 7],
      [CHUNK + 7, data.length],
    ] as const) {
      const r = await request(url, {
        method: 'PATCH',
        headers: { ...tus, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': from },
        body: data.subarray(from, to),
      });
      expect(r.status).toBe(204);
      expect(Number(r.headers['upload-offset'])).toBe(to);
    }
    const after = await scrape(`${s.url}/metrics`);
    expect(bytesOf(after, 'tus', 'upload') - bytesOf(before, 'tus', 'upload')).toBe(data.length);
  });

  it('after a known upload and downloads (HTTP and WebSocket), the byte counters rose by exactly those sizes', async () => {
    const s = await start();
    const before = await scrape(`${s.url}/metrics`);
    const data = bytes(5 * CHUNK + 1234, 3);
    const file = await upload(s.url, 'known.bin', data, auth);
    const got = await request(`${s.url}/v1/files/${file.id}`, { headers: auth });
    expect(Buffer.compare(got.body, Buffer.from(data))).toBe(0);
    const ranged = await request(`${s.url}/v1/files/${file.id}`, { headers: { ...auth, Range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    const client = await connect(`${s.url.replace('http', 'ws')}/v1/ws`, { token: TOKEN });
    try {
      expect((await collect(client.download(file.id))).length).toBe(data.length);
      const after = await scrape(`${s.url}/metrics`);
      expect(bytesOf(after, 'http', 'upload') - bytesOf(before, 'http', 'upload')).toBe(data.length);
      expect(bytesOf(after, 'http', 'download') - bytesOf(before, 'http', 'download')).toBe(data.length + 100);
      expect(bytesOf(after, 'ws', 'download') - bytesOf(before, 'ws', 'download')).toBe(data.length);
      const completed = (protocol: string, direction: string) =>
        sample(after, 'chunkstream_transfers_completed_total', { protocol, direction });
      expect([completed('http', 'upload'), completed('http', 'download'), completed('ws', 'download')]).toEqual([1, 2, 1]);
      expect(sample(after, 'chunkstream_transfer_duration_seconds_count', { protocol: 'http', direction: 'upload', outcome: 'ok' })).toBe(
        1,
      );
      expect(sample(after, 'chunkstream_transfers_in_flight', { protocol: 'ws', direction: 'download' })).toBe(0);
      expect(sample(after, 'chunkstream_ws_connections')).toBe(1);
      // The latency histogram per route: the two GETs of the file, and its upload.
      const latency = (method: string, route: string) =>
        sample(after, 'chunkstream_http_request_duration_seconds_count', { method, route }) -
        sample(before, 'chunkstream_http_request_duration_seconds_count', { method, route });
      expect(latency('GET', '/v1/files/:id')).toBe(2);
      expect(latency('PUT', '/v1/files')).toBe(1);
      expect(sample(after, 'chunkstream_http_request_duration_seconds_bucket', { method: 'GET', route: '/v1/files/:id', le: '+Inf' })).toBe(
        2,
      );
      // The backend saw 6 chunk writes and 6 + 1 + 6 reads, each timed.
      expect(sample(after, 'chunkstream_chunk_writes_total', { backend: 'fs', outcome: 'ok' })).toBe(6);
      expect(sample(after, 'chunkstream_chunk_reads_total', { backend: 'fs', outcome: 'ok' })).toBe(13);
      expect(sample(after, 'chunkstream_chunk_read_duration_seconds_count', { backend: 'fs' })).toBe(13);
      expect(sample(after, 'chunkstream_chunk_dedup_hits_total', { backend: 'fs' })).toBe(0);
    } finally {
      await client.close();
    }
    // The same bytes again: every chunk put is answered "already stored".
    await upload(s.url, 'again.bin', data, auth);
    const again = await scrape(`${s.url}/metrics`);
    expect(sample(again, 'chunkstream_chunk_dedup_hits_total', { backend: 'fs' })).toBe(6);
    expect(bytesOf(again, 'http', 'upload')).toBe(2 * data.length);
  });

  it('a busy refusal and an integrity failure each show in their counters', async () => {
    // The smallest budget for 64 KiB chunks: one WebSocket download (5 chunks) fits, a second does not.
    const s = await start({ maxTransferBytes: 9 * CHUNK });
    const data = bytes(12 * CHUNK, 5);
    const file = await upload(s.url, 'big.bin', data, auth);
    const c = await RawClient.open(`${s.url.replace('http', 'ws')}/v1/ws`, { headers: auth });
    try {
      c.send({ type: 'download', stream: 1, id: file.id, credit: 0 }); // admitted, never read: holds its reservation
      await c.message((m) => m.type === 'header' && m.stream === 1);
      c.send({ type: 'download', stream: 2, id: file.id, credit: 0 });
      const refused = await c.message((m) => m.type === 'error' && m.stream === 2);
      expect(refused).toMatchObject({ code: 'busy' });
      const busy = await request(`${s.url}/v1/files/${file.id}`, { headers: auth });
      expect(busy.status).toBe(503);
      const m = await scrape(`${s.url}/metrics`);
      expect(sample(m, 'chunkstream_transfer_busy_total')).toBe(2);
      expect(sample(m, 'chunkstream_transfer_budget_reserved_bytes')).toBe(5 * CHUNK);
      expect(sample(m, 'chunkstream_transfers_in_flight', { protocol: 'ws', direction: 'download' })).toBe(1);
    } finally {
      await c.close();
    }
    await eventually(() => s.budget.reserved === 0, 'the stalled download released its reservation');

    // One byte of chunk 3 flipped on disk: the download stops with integrity, verify reports it.
    const target = await chunkFile(s, (await s.store.manifest(file.id)).chunks[3]!.key);
    const stored = await readFile(target);
    stored[10]! ^= 0xff;
    await writeFile(target, stored);
    const cut = await request(`${s.url}/v1/files/${file.id}`, { headers: { ...auth, Range: `bytes=${3 * CHUNK}-` } });
    expect(cut.status).toBe(500);
    expect(cut.json().error.code).toBe('integrity');
    expect((await request(`${s.url}/v1/verify`, { method: 'POST', headers: auth })).json().problems).toHaveLength(1);
    const m = await scrape(`${s.url}/metrics`);
    expect(sample(m, 'chunkstream_integrity_failures_total', { source: 'download' })).toBe(1);
    expect(sample(m, 'chunkstream_integrity_failures_total', { source: 'verify' })).toBe(1);
    expect(sample(m, 'chunkstream_transfers_failed_total', { protocol: 'http', direction: 'download', code: 'integrity' })).toBe(1);
  });

  it('--metrics-public opens /metrics without a token; --metrics-port serves it apart, and the API port no longer does', async () => {
    const open = await start({ metricsPublic: true });
    expect(sample(await scrape(`${open.url}/metrics`, {}), 'chunkstream_transfer_busy_total')).toBe(0);
    expect((await request(`${open.url}/v1/files`)).status).toBe(401); // the API still wants its token

    const apart = await start({ metricsPort: 0 });
    expect(apart.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(sample(await scrape(apart.metricsUrl!, {}), 'chunkstream_transfer_budget_limit_bytes')).toBe(apart.budget.limit);
    expect((await request(`${apart.url}/metrics`, { headers: auth })).status).toBe(404);
    expect((await request(apart.metricsUrl!.replace('/metrics', '/v1/files'))).status).toBe(404);
  });
});

/** The file of a chunk in an fs store (found by listing the store rather than assuming its layout). */
async function chunkFile(s: RunningServer, key: string): Promise<string> {
  for await (const o of s.store.chunkStore.list('chunks/')) if (o.key.endsWith(key)) return path.join(dirs.get(s)!, ...o.key.split('/'));
  throw new Error(`chunk ${key} not found`);
}

describe('protocol label', () => {
  it('a transfer started by any handler behind the HTTP gateway under /v1/tus/ (or speaking Tus-Resumable) is labelled tus', async () => {
    const metrics = createServerMetrics();
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize: CHUNK });
    const unobserve = store.observe(metrics.observer);
    // A stand-in for a handler that knows no meters (as tus): it starts the upload itself, passing no label.
    const handler = (req: IncomingMessage, res: ServerResponse) =>
      void lastValueFrom(store.upload(req, { name: 'tus.bin' })).then(() => res.writeHead(204).end());
    const server = createServer(accessLogged(handler, { logger: memoryLog().logger, metrics }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await request(`${url}/v1/tus/abc`, { method: 'PATCH', body: bytes(1000, 1) });
      await request(`${url}/elsewhere`, { method: 'PATCH', body: bytes(2000, 2), headers: { 'Tus-Resumable': '1.0.0' } });
      await request(`${url}/v1/files?name=x`, { method: 'PUT', body: bytes(300, 3) });
      const m = parseMetrics(await metrics.text());
      expect(bytesOf(m, 'tus', 'upload')).toBe(3000);
      // Elsewhere a handler that passes no meter is not labelled for the HTTP gateway (its own routes pass requestMeter).
      expect(bytesOf(m, 'embedded', 'upload')).toBe(300);
      expect(sample(m, 'chunkstream_transfers_completed_total', { protocol: 'tus', direction: 'upload' })).toBe(2);
      // In-process use of the store is `embedded`.
      await lastValueFrom(store.upload(bytes(10, 4), { name: 'direct.bin' }));
      expect(bytesOf(parseMetrics(await metrics.text()), 'embedded', 'upload')).toBe(310);
    } finally {
      await new Promise((r) => server.close(r));
      unobserve();
      await store.close();
    }
  });
});

describe('a store passed to startServer', () => {
  it('is measured when its backend is wrapped with instrumentChunkStore and the same metrics are given (README)', async () => {
    const metrics = createServerMetrics();
    const backend = createMemoryStore();
    const store = openStore({ chunkStore: instrumentChunkStore(backend, metrics.chunkHooks(backend.name)), chunkSize: CHUNK });
    const s = await startServer({ store, metrics, port: 0, host: '127.0.0.1', logger: memoryLog().logger });
    servers.push(s);
    const file = await upload(s.url, 'm.bin', bytes(2 * CHUNK + 1, 8));
    expect((await request(`${s.url}/v1/files/${file.id}`)).body.length).toBe(file.size);
    const m = parseMetrics(await s.metrics.text());
    expect(s.metrics).toBe(metrics);
    expect(sample(m, 'chunkstream_chunk_writes_total', { backend: 'memory', outcome: 'ok' })).toBe(3);
    expect(sample(m, 'chunkstream_chunk_reads_total', { backend: 'memory', outcome: 'ok' })).toBe(3);
    expect(sample(m, 'chunkstream_transfer_budget_limit_bytes')).toBe(s.budget.limit);
    await s.close();
    await store.close();
  });
});
