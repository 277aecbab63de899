import { randomBytes } from 'node:crypto';

import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer } from '../../src/gateway/server.js';
import { CHUNK, request, socketPair, startTestServer, upload, type TestServer } from '../helpers/http-server.js';
import { tempDir } from '../helpers/core.js';

/** Resolves after the next chunk write the backend completed. */
const chunkStored = (t: TestServer) =>
  new Promise<void>((resolve) => (t.reads.onChunkStored = () => ((t.reads.onChunkStored = undefined), resolve())));

/** Starts a PUT that sends part of its announced body and then waits. */
function partialUpload(t: TestServer, name: string) {
  const req = http.request(`${t.url}/v1/files?name=${name}`, { method: 'PUT', agent: false, headers: { 'Content-Length': 10 * CHUNK } });
  const outcome = new Promise<number | string>((resolve) => {
    req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  req.write(randomBytes(3 * CHUNK));
  return { req, outcome };
}

describe('HTTP uploads cut short, and shutdown', () => {
  it('a client aborting mid-upload commits nothing; the server keeps serving', async () => {
    const t = await startTestServer();
    try {
      const stored = chunkStored(t);
      const handled = new Promise<void>((resolve) =>
        t.running.server.once('request', (_q, res: http.ServerResponse) => res.once('close', resolve)),
      );
      const { req } = partialUpload(t, 'partial.bin');
      await stored; // the server is mid-upload
      req.destroy();
      await handled;
      expect((await request(`${t.url}/v1/files`)).json().files).toEqual([]);
      expect(t.store.gauge.held).toBe(0);
      const ok = await upload(t.url, 'after.bin', randomBytes(100));
      expect((await request(`${t.url}/v1/files/${ok.id}/meta`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('close() aborts an upload and a download in flight; what was committed stays', async () => {
    const t = await startTestServer();
    try {
      const kept = await upload(t.url, 'kept.bin', randomBytes(8 * CHUNK));
      // A download whose reader never reads (in-memory socket: the kernel would otherwise take
      // the whole file and the download would no longer be in flight) …
      const [client, serverSide] = socketPair();
      const reading = new Promise<void>((resolve) => (t.reads.onSettled = () => ((t.reads.onSettled = undefined), resolve())));
      t.running.server.emit('connection', serverSide);
      client.write(`GET /v1/files/${kept.id} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      const download = new Promise<string>((resolve) => client.once('close', () => resolve('cut')));
      await reading;
      // … and an upload halfway through its body.
      const stored = chunkStored(t);
      const { outcome } = partialUpload(t, 'half.bin');
      await stored;

      await t.running.close(); // would hang if any connection were left open
      expect(t.running.server.listening).toBe(false);
      expect(await download).toBe('cut');
      expect(await outcome).not.toBe(201);
      expect((await t.store.list()).map((f) => f.id)).toEqual([kept.id]); // test-owned store: still open
      expect(t.store.gauge.held).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('the WebSocket gateway is attached on /v1/ws with the same tokens; close() ends its connections', async () => {
    const t = await startTestServer({ tokens: ['ws-token'] });
    try {
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/ws`, { headers: { Authorization: 'Bearer wrong' } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => undefined);
      });
      expect(refused).toBe(401);
      const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/ws`, { headers: { Authorization: 'Bearer ws-token' } });
      await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      await t.running.close();
      await closed;
    } finally {
      await t.close();
    }
  });

  it('a server that opened its store closes it', async () => {
    const dir = await tempDir('own');
    const s = await startServer({ port: 0, dir, chunkSize: CHUNK });
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    await upload(s.url, 'a.bin', randomBytes(10));
    await s.close();
    await expect(s.store.list()).rejects.toMatchObject({ code: 'aborted' });
  });
});
