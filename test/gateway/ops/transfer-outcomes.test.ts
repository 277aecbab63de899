import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import type { ServerMessageOf } from '../../../src/protocol/messages.js';
import { bytes, tempDir, CHUNK } from '../../helpers/core.js';
import { eventually } from '../../helpers/eventually.js';
import { request, upload } from '../../helpers/http-server.js';
import { memoryLog, parseMetrics, sample, type Samples } from '../../helpers/ops.js';
import { RawClient } from '../../helpers/ws-raw.js';

/**
 * Every transfer ends as exactly one of completed / failed{code} / aborted, and its log line says
 * the same (`end`, `code`) as the metrics counted, whatever the protocol.
 */
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(o: Parameters<typeof startServer>[0] = {}) {
  const log = memoryLog();
  const s = await startServer({ dir: await tempDir(), port: 0, host: '127.0.0.1', chunkSize: CHUNK, logger: log.logger, ...o });
  servers.push(s);
  return { s, log };
}

async function metrics(s: RunningServer): Promise<Samples> {
  return parseMetrics(await s.metrics.text());
}

/** completed, aborted and failed (by code) of one protocol and direction. */
function ends(m: Samples, protocol: string, direction: string) {
  const labels = { protocol, direction };
  const failed = [...m.entries()]
    .filter(
      ([k, v]) =>
        k.startsWith('chunkstream_transfers_failed_total{') &&
        k.includes(`protocol="${protocol}"`) &&
        k.includes(`direction="${direction}"`) &&
        v > 0,
    )
    .map(([k, v]) => `${/code="([^"]+)"/.exec(k)![1]}:${v}`);
  return {
    completed: sample(m, 'chunkstream_transfers_completed_total', labels),
    aborted: sample(m, 'chunkstream_transfers_aborted_total', labels),
    failed,
  };
}

/** Starts a request that sends `sent` bytes of its body, then waits for `cut()` (which destroys it). */
function partialRequest(url: string, method: string, headers: Record<string, string | number>, sent: Uint8Array) {
  const req = http.request(url, { method, agent: false, headers });
  req.on('error', () => undefined);
  req.write(sent);
  return req;
}

const tus = { 'Tus-Resumable': '1.0.0' };

describe('transfer outcomes: one rule for metrics and logs', () => {
  it('a tus PATCH cut by its client is aborted (not completed); its line has status 0, end aborted and the remote address', async () => {
    const { s, log } = await start();
    const created = await request(`${s.url}/v1/tus/`, { method: 'POST', headers: { ...tus, 'Upload-Length': 8 * CHUNK } });
    const url = new URL(String(created.headers.location), s.url).href;
    const req = partialRequest(
      url,
      'PATCH',
      { ...tus, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': 0, 'Content-Length': 8 * CHUNK },
      bytes(3 * CHUNK, 1),
    );
    await eventually(async () => (await s.store.uploadStatus(url.split('/').pop()!)).offset > 0 || undefined, 'bytes stored');
    req.destroy();
    const m = await eventually(async () => {
      const now = await metrics(s);
      return ends(now, 'tus', 'upload').aborted === 1 && now;
    }, 'the PATCH counted');
    expect(ends(m, 'tus', 'upload')).toEqual({ completed: 1, aborted: 1, failed: [] }); // completed: the POST that created it
    const line = log.records().find((r) => r.kind === 'http' && r.method === 'PATCH');
    expect(line).toMatchObject({ status: 0, end: 'aborted', code: 'aborted', remote: '127.0.0.1', complete: false });
  });

  it('a tus PATCH that stalls is failed{timeout} in both', async () => {
    const { s, log } = await start({ bodyIdleTimeoutMs: 200 });
    const created = await request(`${s.url}/v1/tus/`, { method: 'POST', headers: { ...tus, 'Upload-Length': 4 * CHUNK } });
    const url = new URL(String(created.headers.location), s.url).href;
    const req = partialRequest(
      url,
      'PATCH',
      { ...tus, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': 0, 'Content-Length': 4 * CHUNK },
      bytes(CHUNK + 5, 2),
    );
    const status = await new Promise<number>((resolve) => req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0))));
    expect(status).toBe(408);
    const m = await eventually(async () => {
      const now = await metrics(s);
      return ends(now, 'tus', 'upload').failed.length > 0 && now;
    }, 'the PATCH counted');
    expect(ends(m, 'tus', 'upload')).toEqual({ completed: 1, aborted: 0, failed: ['timeout:1'] }); // completed: the POST
    const line = await eventually(() => log.records().find((r) => r.kind === 'http' && r.method === 'PATCH'), 'its line');
    expect(line).toMatchObject({ status: 408, end: 'failed', code: 'timeout' });
    req.destroy();
  });

  it('an HTTP PUT cut by its client and a WebSocket upload whose socket closed are both aborted, in metrics and lines', async () => {
    const { s, log } = await start();
    const req = partialRequest(`${s.url}/v1/files?name=cut.bin`, 'PUT', { 'Content-Length': 8 * CHUNK }, bytes(3 * CHUNK, 3));
    await eventually(async () => (await s.store.listUploads()).length === 1, 'the PUT under way');
    req.destroy();
    const c = await RawClient.open(`${s.url.replace('http', 'ws')}/v1/ws`);
    c.send({ type: 'upload', stream: 1, name: 'ws-cut.bin', size: 8 * CHUNK });
    const started = await c.onStream<ServerMessageOf<'started'>>(1, 'started');
    c.sendData(1, 0, bytes(Math.min(started.credit, 2 * CHUNK), 4));
    await c.onStream(1, 'progress');
    await c.close();
    const m = await eventually(async () => {
      const now = await metrics(s);
      return ends(now, 'http', 'upload').aborted + ends(now, 'ws', 'upload').aborted === 2 && now;
    }, 'both counted');
    expect(ends(m, 'http', 'upload')).toEqual({ completed: 0, aborted: 1, failed: [] });
    expect(ends(m, 'ws', 'upload')).toEqual({ completed: 0, aborted: 1, failed: [] }); // was failed{code="aborted"}
    const records = await eventually(() => {
      const r = log.records();
      return r.some((x) => x.kind === 'ws' && x.type === 'upload') && r;
    }, 'the lines');
    expect(records.find((r) => r.kind === 'http' && r.method === 'PUT')).toMatchObject({ end: 'aborted', remote: '127.0.0.1' });
    expect(records.find((r) => r.kind === 'ws' && r.type === 'upload')).toMatchObject({ outcome: 'cancelled', end: 'aborted' });
  });

  it('a WebSocket upload ended by its client breaking the protocol is failed with that code in both, not aborted', async () => {
    const { s, log } = await start();
    const c = await RawClient.open(`${s.url.replace('http', 'ws')}/v1/ws`);
    try {
      c.send({ type: 'upload', stream: 1, name: 'greedy.bin', size: 64 * CHUNK });
      const started = await c.onStream<ServerMessageOf<'started'>>(1, 'started');
      c.sendData(1, 0, bytes(started.credit + 1, 5)); // beyond its credit
      const error = await c.onStream<ServerMessageOf<'error'>>(1, 'error');
      const m = await eventually(async () => {
        const now = await metrics(s);
        return ends(now, 'ws', 'upload').failed.length > 0 && now;
      }, 'counted');
      expect(ends(m, 'ws', 'upload')).toEqual({ completed: 0, aborted: 0, failed: [`${error.code}:1`] });
      const line = log.records().find((r) => r.kind === 'ws' && r.type === 'upload');
      expect(line).toMatchObject({ outcome: 'error', end: 'failed', code: error.code });
    } finally {
      await c.close();
    }
  });

  it('completed transfers say so in their lines too', async () => {
    const { s, log } = await start();
    const file = await upload(s.url, 'ok.bin', bytes(2 * CHUNK + 1, 6));
    expect((await request(`${s.url}/v1/files/${file.id}`)).status).toBe(200);
    const lines = await eventually(() => {
      const r = log.records().filter((x) => x.kind === 'http' && x.route.startsWith('/v1/files'));
      return r.length === 2 && r;
    }, 'both lines');
    for (const line of lines) expect(line).toMatchObject({ end: 'completed' });
    expect(ends(await metrics(s), 'http', 'upload')).toEqual({ completed: 1, aborted: 0, failed: [] });
  });
});
