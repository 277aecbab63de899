import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { bytes, tempDir, CHUNK } from '../../helpers/core.js';
import { eventually } from '../../helpers/eventually.js';
import { assertBuilt, serve } from '../../helpers/http-cli.js';
import { request, upload } from '../../helpers/http-server.js';
import { memoryLog } from '../../helpers/ops.js';
import { RawClient } from '../../helpers/ws-raw.js';

let s: RunningServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});
beforeAll(assertBuilt);

describe('GET /readyz', () => {
  it('answers 200 while the store answers, 503 once its directory is removed or replaced by a file; /healthz stays 200', async () => {
    const dir = path.join(await tempDir(), 'store');
    s = await startServer({ dir, port: 0, host: '127.0.0.1', tokens: ['t0ken'], logger: memoryLog().logger });
    expect(await request(`${s.url}/readyz`)).toMatchObject({ status: 200 }); // open, like /healthz
    expect((await request(`${s.url}/readyz`)).json()).toEqual({ ok: true });

    await rm(dir, { recursive: true, force: true });
    const gone = await request(`${s.url}/readyz`);
    expect(gone.status).toBe(503);
    expect(gone.json().error).toMatchObject({ code: 'storage', message: expect.stringMatching(/config\/store\.json is missing/) });
    expect((await request(`${s.url}/healthz`)).status).toBe(200); // alive, just not ready

    await writeFile(dir, 'not a directory');
    const replaced = await request(`${s.url}/readyz`);
    expect(replaced.status).toBe(503);
    expect(replaced.json().error.code).toBe('storage');
  });
});

/** A GET whose reader reads only when told: the server's side stays in flight meanwhile. */
function pausedDownload(url: string) {
  let res!: http.IncomingMessage;
  const hash = createHash('sha256');
  let received = 0;
  const started = new Promise<void>((resolve, reject) => {
    const req = http.get(url, { agent: false }, (r) => {
      res = r;
      r.pause();
      resolve();
    });
    req.on('error', reject);
  });
  const finish = () =>
    new Promise<{ bytes: number; sha256: string; complete: boolean }>((resolve) => {
      res.on('data', (d: Buffer) => ((received += d.length), hash.update(d)));
      res.on('close', () => resolve({ bytes: received, sha256: hash.digest('hex'), complete: res.complete }));
      res.resume();
    });
  return { started, finish, status: () => res.statusCode };
}

const untilStatus = (url: string, status: number): Promise<http.IncomingHttpHeaders> =>
  eventually(async () => {
    const r = await request(url);
    return r.status === status && r.headers;
  }, `${url} to answer ${status}`);

describe('shutdown drains', () => {
  it('SIGTERM: a running download completes within --drain-timeout; health checks and new transfers get 503 meanwhile', async () => {
    const dir = path.join(await tempDir(), 'data');
    const child = await serve(['--port', '0', '--dir', dir, '--chunk-size', '64KiB', '--drain-timeout', '60s']);
    const data = bytes(16 * 1024 * 1024, 11); // far more than the sockets buffer: the server is mid-file while paused
    const file = await upload(child.url, 'big.bin', data);
    const download = pausedDownload(`${child.url}/v1/files/${file.id}`);
    await download.started;
    expect(download.status()).toBe(200);

    const stopped = child.stop(); // SIGTERM
    await untilStatus(`${child.url}/healthz`, 503);
    expect((await request(`${child.url}/readyz`)).status).toBe(503);
    const refused = await request(`${child.url}/v1/files/${file.id}`);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().error).toMatchObject({ code: 'busy', message: expect.stringMatching(/shutting down/) });
    await expect(RawClient.open(`${child.url.replace('http', 'ws')}/v1/ws`)).rejects.toMatchObject({ status: 503 });
    expect((await request(`${child.url}/v1/files`)).status).toBe(200); // what is not a transfer is still answered

    const got = await download.finish();
    expect(got).toEqual({ bytes: data.length, sha256: file.sha256, complete: true });
    const { code, stderr } = await stopped;
    expect(code).toBe(0);
    expect(stderr).toMatch(/SIGTERM: shutting down \(transfers in flight may finish for 60 s/);
    expect(stderr).toMatch(/"msg":"drained"/);
  });

  it('the drain is bounded: a download still stalled at --drain-timeout is cut and the server exits', async () => {
    const dir = path.join(await tempDir(), 'data');
    const child = await serve(['--port', '0', '--dir', dir, '--chunk-size', '64KiB', '--drain-timeout', '200ms']);
    const file = await upload(child.url, 'big.bin', bytes(16 * 1024 * 1024, 12));
    const download = pausedDownload(`${child.url}/v1/files/${file.id}`);
    await download.started;
    const { code, stderr } = await child.stop(); // exits although the reader never read
    expect(code).toBe(0);
    expect(stderr).toMatch(/"msg":"drain timeout: aborting the transfers still running"/);
    // The cut download has its access log line, aborted like the metrics count it.
    const line = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r.kind === 'http' && r.url === `/v1/files/${file.id}`);
    expect(line).toMatchObject({ method: 'GET', status: 200, end: 'aborted', complete: false, remote: '127.0.0.1' });
    const got = await download.finish();
    expect(got.complete).toBe(false);
    expect(got.bytes).toBeLessThan(file.size);
  });

  it('close() with drainTimeoutMs: a WebSocket download in flight finishes, a new stream on the same socket is busy', async () => {
    s = await startServer({
      dir: await tempDir(),
      port: 0,
      host: '127.0.0.1',
      chunkSize: CHUNK,
      drainTimeoutMs: 60_000,
      logger: memoryLog().logger,
    });
    const file = await upload(s.url, 'w.bin', bytes(20 * CHUNK, 13));
    const c = await RawClient.open(`${s.url.replace('http', 'ws')}/v1/ws`);
    try {
      c.send({ type: 'download', stream: 1, id: file.id, credit: 2 });
      await c.onStream(1, 'header');
      const closed = s.close();
      expect(s.draining).toBe(true);
      c.send({ type: 'download', stream: 2, id: file.id, credit: 1 });
      expect(await c.onStream(2, 'error')).toMatchObject({ code: 'busy', message: expect.stringMatching(/shutting down/) });
      c.send({ type: 'credit', stream: 1, chunks: 100 });
      expect(await c.onStream(1, 'end')).toMatchObject({ bytes: file.size });
      await closed;
      s = undefined;
    } finally {
      await c.close();
    }
  });
});
