import http from 'node:http';
import WebSocket from 'ws';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connect, type WebSocketConstructor } from '../../src/client/index.js';
import { createMemoryStore, openStore, type Store } from '../../src/index.js';
import type { ServerMessageOf } from '../../src/protocol/messages.js';
import { bytes, closeAfterEach, listKeys, CHUNK } from '../helpers/core.js';
import { eventually } from '../helpers/eventually.js';
import { request, startTestServer, type TestServer } from '../helpers/http-server.js';
import { startHarness } from '../helpers/ws-harness.js';
import { RawClient } from '../helpers/ws-raw.js';

const open = closeAfterEach();

/** What an abandoned upload may leave: no session, and (gc with no grace) no chunk. */
async function nothingLeft(store: Store) {
  expect(await store.listUploads()).toEqual([]);
  expect(await store.gc({ graceMs: 0 })).toMatchObject({ keptUploads: 0 });
  expect(await listKeys(store.chunkStore, 'chunks/')).toEqual([]);
}

async function server(): Promise<TestServer> {
  const t = await startTestServer();
  open.add(t);
  return t;
}

/** An upload under way with a chunk stored, as any client may leave it. */
async function uploadStarted(c: RawClient, stream: number, data: Uint8Array) {
  c.send({ type: 'upload', stream, name: 'given-up.bin', size: data.length });
  const started = await c.onStream<ServerMessageOf<'started'>>(stream, 'started');
  c.sendData(stream, 0, data.subarray(0, Math.min(started.credit, data.length)));
  await c.onStream(stream, 'progress');
  return started.uploadId;
}

/** A source that gives `n` bytes, then nothing until the test ends (an upload that stays under way). */
async function* hanging(data: Uint8Array) {
  yield data;
  await new Promise(() => undefined);
}

describe('uploads nobody can resume are dropped at once', () => {
  it('an HTTP PUT with a wrong X-Content-SHA256 leaves no session and nothing gc keeps', async () => {
    const t = await server();
    const r = await request(`${t.url}/v1/files?name=bad.bin`, {
      method: 'PUT',
      headers: { 'X-Content-SHA256': '0'.repeat(64) },
      body: bytes(3 * CHUNK + 5, 2),
    });
    expect(r.status).toBe(400);
    await nothingLeft(t.store);
  });

  it('an HTTP PUT cut by its client leaves no session', async () => {
    const t = await server();
    const req = http.request(`${t.url}/v1/files?name=cut.bin`, { method: 'PUT', agent: false, headers: { 'Content-Length': 10 * CHUNK } });
    req.on('error', () => undefined);
    const handled = new Promise<void>((resolve) =>
      t.running.server.once('request', (_q, res: http.ServerResponse) => res.once('close', resolve)),
    );
    req.write(bytes(3 * CHUNK, 4));
    await eventually(async () => (await t.store.listUploads()).length === 1, 'the upload under way');
    req.destroy();
    await handled;
    await eventually(async () => (await t.store.listUploads()).length === 0, 'the session dropped');
    await nothingLeft(t.store);
  });

  it('a WebSocket cancel with discard drops the upload; a plain cancel keeps it resumable', async () => {
    const h = open.add(await startHarness());
    const c = open.add(await RawClient.open(h.url));
    const data = bytes(3 * CHUNK + 1, 6);
    const kept = await uploadStarted(c, 1, data);
    c.send({ type: 'cancel', stream: 1 });
    await c.onStream(1, 'cancelled');
    const dropped = await uploadStarted(c, 2, data);
    c.send({ type: 'cancel', stream: 2, discard: true });
    await c.onStream(2, 'cancelled');
    c.send({ type: 'status', stream: 3, uploadId: dropped });
    expect(await c.onStream(3)).toMatchObject({ type: 'error', code: 'not_found' });
    c.send({ type: 'status', stream: 4, uploadId: kept });
    expect(await c.onStream(4)).toMatchObject({ type: 'status', uploadId: kept });
    await h.store.abortUpload(kept);
    await nothingLeft(h.store);
  });

  it('a discard that comes before the upload started leaves nothing either', async () => {
    const h = open.add(await startHarness());
    const c = open.add(await RawClient.open(h.url));
    c.send({ type: 'upload', stream: 1, name: 'early.bin' });
    c.send({ type: 'cancel', stream: 1, discard: true });
    await c.onStream(1, 'cancelled');
    await eventually(async () => (await h.store.listUploads()).length === 0, 'no session');
    await nothingLeft(h.store);
  });

  it('the SDK with discardOnCancel drops the upload when unsubscribed (the web page cancel)', async () => {
    const h = open.add(await startHarness());
    const client = await connect(h.url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    try {
      let uploadId = '';
      const progressed = new Promise<void>((resolve) => {
        const sub = client.upload(hanging(bytes(2 * CHUNK, 8)), { name: 'page.bin', discardOnCancel: true }).subscribe({
          next: (e) => {
            if (e.type === 'started') uploadId = e.uploadId;
            if (e.type !== 'progress') return;
            sub.unsubscribe(); // a person pressed Cancel
            resolve();
          },
        });
      });
      await progressed;
      await eventually(
        () =>
          h.store.uploadStatus(uploadId).then(
            () => false,
            (err: { code?: string }) => err.code === 'not_found',
          ),
        'the upload dropped',
      );
      await nothingLeft(h.store);
    } finally {
      await client.close();
    }
  });

  it('engine: resumable false drops the session when the upload fails or is unsubscribed while opening', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize: CHUNK });
    const data = bytes(2 * CHUNK + 3, 10);
    await expect(
      lastValueFrom(store.upload(data, { name: 'x.bin', expectedSha256: 'f'.repeat(64), resumable: false })),
    ).rejects.toMatchObject({ code: 'bad_request' });
    store.upload(data, { name: 'y.bin', resumable: false }).subscribe().unsubscribe(); // torn down while opening
    await eventually(async () => (await store.listUploads()).length === 0, 'no session');
    await nothingLeft(store);
    // The default keeps a failed upload resumable, as before.
    await expect(lastValueFrom(store.upload(data, { name: 'z.bin', expectedSha256: 'f'.repeat(64) }))).rejects.toMatchObject({
      code: 'bad_request',
    });
    expect(await store.listUploads()).toHaveLength(1);
  });
});
