import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.js';
import { isChunkstreamError } from '../../src/errors.js';
import { downloadBound, TransferBudget } from '../../src/engine/budget.js';
import { startServer, type RunningServer } from '../../src/gateway/server.js';
import { createFsStore, openStore, type Store } from '../../src/index.js';
import type { ServerMessage, ServerMessageOf } from '../../src/protocol/messages.js';
import { request, socketPair, type PairEnd } from '../helpers/http-server.js';
import { eventually } from '../helpers/eventually.js';
import { CHUNK, bytes } from '../helpers/ws-harness.js';
import { RawClient } from '../helpers/ws-raw.js';
import { tempDir } from '../helpers/core.js';

/**
 * Server-wide admission control. 64 KiB chunks, WebSocket window 4, upload and download
 * concurrency 2, so the reservations are:
 *   WS download  (window + 1) × chunk             = 320 KiB
 *   WS upload    (uploadConcurrency + 1 + window) = 448 KiB
 *   HTTP GET     (downloadConcurrency + 1)        = 192 KiB
 *   HTTP PUT     (uploadConcurrency + 1)          = 192 KiB
 * and a budget of 1 MiB admits 3 stalled WS downloads or 5 stalled GETs.
 */
const LIMIT = 1024 * 1024;
const WS_DOWNLOAD = 5 * CHUNK;
const GET = 3 * CHUNK;

let dir: string;
let store: Store;
let s: RunningServer;
let id: string;
let data: Uint8Array;
const open: { close(): Promise<unknown> }[] = [];

beforeEach(async () => {
  dir = await tempDir('budget');
  store = openStore({ chunkStore: createFsStore(dir, { fsync: false }), chunkSize: CHUNK, uploadConcurrency: 2, downloadConcurrency: 2 });
  // The whole budget from one client: the per-client share has its own tests (slow-clients.test.ts).
  s = await startServer({ store, port: 0, host: '127.0.0.1', maxTransferBytes: LIMIT, maxClientShare: 1 });
  data = bytes(32 * CHUNK, 7); // far more than any read-ahead: a stalled download never ends
  const done = (await lastValueFrom(store.upload(data, { name: 'big.bin' }).pipe(toArray()))).at(-1)!;
  if (done.type !== 'committed') throw new Error('not committed');
  id = done.file.id;
  store.gauge.peak = store.gauge.held;
});
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
  await s.close();
  await store.close();
});

const wsUrl = () => `${s.url.replace('http', 'ws')}/v1/ws`;
async function raw(): Promise<RawClient> {
  const c = await RawClient.open(wsUrl());
  open.push(c);
  return c;
}
/** The first `header` or `error` on each stream. */
const outcome = (c: RawClient, stream: number) =>
  c.message((m) => 'stream' in m && m.stream === stream && (m.type === 'header' || m.type === 'error'));
const errorsOn = (c: RawClient, stream: number) =>
  c.events.filter((e) => e.kind === 'msg' && e.msg.type === 'error' && e.msg.stream === stream);

describe('transfer budget: WebSocket', () => {
  it('downloads beyond the budget get busy; held bytes stay within it; cancelling admits new ones', async () => {
    const c = await raw();
    const streams = Array.from({ length: 10 }, (_, i) => i + 1);
    for (const stream of streams) c.send({ type: 'download', stream, id, credit: 0 }); // never read
    const results = await Promise.all(streams.map((st) => outcome(c, st)));
    const admitted = streams.filter((_, i) => results[i]!.type === 'header');
    const busy = results.filter((m): m is ServerMessageOf<'error'> => m.type === 'error');
    expect(admitted.length).toBe(Math.floor(LIMIT / WS_DOWNLOAD)); // 3
    expect(busy.map((m) => m.code)).toEqual(Array(7).fill('busy'));
    expect(busy[0]!.message).toMatch(/maxTransferBytes/);
    await eventually(() => store.gauge.held === admitted.length * WS_DOWNLOAD, 'the admitted downloads read ahead');
    expect(s.budget.reserved).toBe(admitted.length * WS_DOWNLOAD);

    // Cancelling one releases its reservation at once: a new download fits again.
    c.send({ type: 'cancel', stream: admitted[0] });
    await c.onStream(admitted[0]!, 'cancelled');
    expect(s.budget.reserved).toBe((admitted.length - 1) * WS_DOWNLOAD);
    c.send({ type: 'download', stream: 20, id, credit: 0 });
    expect((await outcome(c, 20)).type).toBe('header');

    // The SDK surfaces a refusal as a ChunkstreamError with code busy (callers may retry).
    const client = await connect(wsUrl());
    open.push(client);
    const refused = await lastValueFrom(client.download(id)).catch((err: unknown) => err);
    expect(isChunkstreamError(refused) && refused.code).toBe('busy');

    // Free everything; the same socket still does a full round trip.
    for (const stream of [...admitted.slice(1), 20]) {
      c.send({ type: 'cancel', stream });
      await c.onStream(stream, 'cancelled');
    }
    expect(s.budget.reserved).toBe(0);
    c.send({ type: 'download', stream: 30, id, credit: 1_000 });
    await c.onStream(30, 'end');
    const got = Buffer.concat(c.events.flatMap((e) => (e.kind === 'frame' && e.frame.stream === 30 ? [e.frame.payload] : [])));
    expect(Buffer.compare(got, data)).toBe(0);
    await eventually(() => s.budget.reserved === 0, 'the last frame was flushed');
    expect(s.budget.peak).toBeLessThanOrEqual(LIMIT);
    expect(store.gauge.peak).toBeLessThanOrEqual(LIMIT);
    expect(store.gauge.held).toBe(0);
  });

  it('uploads count too: one beyond the budget gets busy and stores nothing', async () => {
    const c = await raw();
    for (const stream of [1, 2, 3]) c.send({ type: 'download', stream, id, credit: 0 });
    for (const stream of [1, 2, 3]) expect((await outcome(c, stream)).type).toBe('header');
    const before = (await store.list()).length;

    c.send({ type: 'upload', stream: 4, name: 'refused.bin', size: 10 });
    const refused = await c.onStream<ServerMessageOf<'error'>>(4);
    expect(refused).toMatchObject({ type: 'error', code: 'busy' });
    const put = await request(`${s.url}/v1/files?name=refused-http.bin`, { method: 'PUT', body: bytes(100_000, 3) });
    expect(put.status).toBe(503);
    expect(put.headers['retry-after']).toBe('1');
    expect(put.json().error.code).toBe('busy');
    expect((await store.list()).length).toBe(before);

    for (const stream of [1, 2]) {
      c.send({ type: 'cancel', stream }); // one download (320 KiB) + an upload (448 KiB) now fit
      await c.onStream(stream, 'cancelled');
    }
    const client = await connect(wsUrl());
    open.push(client);
    const events = await lastValueFrom(client.upload(bytes(3 * CHUNK + 5, 4), { name: 'admitted.bin' }).pipe(toArray()));
    expect(events.at(-1)?.type).toBe('committed');
    expect(store.gauge.peak).toBeLessThanOrEqual(LIMIT);
    expect(s.budget.peak).toBeLessThanOrEqual(LIMIT);
  });

  it('a stream id reused right after its final message is not hit by stale credit or frames', async () => {
    const c = await raw();
    c.send({ type: 'download', stream: 1, id, range: { start: 0, end: 999 }, credit: 1 });
    await c.onStream(1, 'end');
    // Sent before the client saw `end` (a credit renewal, a frame of an upload it gave up on):
    // they reach the server after stream 1 is over, and then the id is reused.
    c.send({ type: 'credit', stream: 1, chunks: 4 });
    c.sendData(1, 0, bytes(100, 1));
    c.send({ type: 'upload', stream: 1, name: 'reused.bin' });
    c.send({ type: 'credit', stream: 1, chunks: 4 }); // for the old download: the id names an upload now
    const started = await c.onStream<ServerMessageOf<'started'>>(1, 'started');
    const payload = bytes(2 * CHUNK + 17, 9);
    let offset = 0;
    let credit = started.credit;
    while (offset < payload.length) {
      if (credit === 0) credit += (await c.onStream<ServerMessageOf<'credit'>>(1, 'credit')).bytes;
      const n = Math.min(credit, 32 * 1024, payload.length - offset);
      c.sendData(1, offset, payload.subarray(offset, offset + n));
      offset += n;
      credit -= n;
    }
    c.send({ type: 'end', stream: 1 });
    const done = await c.message<ServerMessage>((m) => 'stream' in m && m.stream === 1 && (m.type === 'committed' || m.type === 'error'));
    expect(errorsOn(c, 1)).toEqual([]);
    expect(done.type).toBe('committed');
    expect((done as ServerMessageOf<'committed'>).file.size).toBe(payload.length);
  });
});

/** A GET on an in-memory socket (exact backpressure): resolves with the status line and head once they arrive. */
function stalledGet(): Promise<{ client: PairEnd; head: string; body: () => Promise<string> }> {
  const [client, serverSide] = socketPair();
  s.server.emit('connection', serverSide);
  client.write(`GET /v1/files/${id} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData).pause(); // from now on nothing is read: the server stalls
      const head = got.subarray(0, end).toString();
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      let rest = got.subarray(end + 4);
      const body = () =>
        new Promise<string>((done) => {
          if (rest.length >= length) return done(rest.toString());
          client.on('data', (more: Buffer) => {
            rest = Buffer.concat([rest, more]);
            if (rest.length >= length) done(rest.toString());
          });
          client.resume();
        });
      resolve({ client, head, body });
    };
    client.on('data', onData).on('error', reject);
  });
}

describe('transfer budget: HTTP', () => {
  it('GETs beyond the budget get 503 busy with Retry-After; after the readers leave, a GET succeeds', async () => {
    const gets = await Promise.all(Array.from({ length: 8 }, () => stalledGet()));
    const ok = gets.filter((g) => g.head.startsWith('HTTP/1.1 200'));
    const busy = gets.filter((g) => g.head.startsWith('HTTP/1.1 503'));
    expect(ok.length).toBe(Math.floor(LIMIT / GET)); // 5
    expect(busy.length).toBe(3);
    for (const b of busy) {
      expect(b.head).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(JSON.parse(await b.body()).error.code).toBe('busy');
    }
    expect(s.budget.reserved).toBe(ok.length * GET);
    expect(store.gauge.held).toBeLessThanOrEqual(LIMIT);

    for (const g of gets) g.client.destroy();
    await eventually(() => s.budget.reserved === 0, 'the abandoned responses released their reservations');
    const again = await request(`${s.url}/v1/files/${id}`);
    expect(again.status).toBe(200);
    expect(Buffer.compare(again.body, data)).toBe(0);
    expect(s.budget.peak).toBeLessThanOrEqual(LIMIT);
    expect(store.gauge.peak).toBeLessThanOrEqual(LIMIT);
    await eventually(() => s.budget.reserved === 0 && store.gauge.held === 0, 'everything released');
  });

  it('a budget too small for one transfer is refused at start, naming the option', async () => {
    await expect(startServer({ store, port: 0, host: '127.0.0.1', maxTransferBytes: 100_000 })).rejects.toThrow(
      /maxTransferBytes: must be at least 458752/,
    );
  });
});

describe('TransferBudget', () => {
  it('release is idempotent; a transfer larger than the whole budget runs only alone', () => {
    const b = new TransferBudget(100);
    const a = b.reserve(60);
    expect(() => b.reserve(41)).toThrow(expect.objectContaining({ code: 'busy', status: 503 }));
    a.release();
    a.release();
    expect(b.reserved).toBe(0);
    const big = b.reserve(150); // nothing else running: admitted rather than refused forever
    expect(() => b.reserve(1)).toThrow(/busy/);
    big.release();
    expect([b.reserved, b.transfers, b.peak]).toEqual([0, 0, 150]);
  });

  it('a download reserves only the chunks its range covers, at most ahead + 1', () => {
    const m = { size: 2 * CHUNK + 10, chunkSize: CHUNK, chunks: [{ size: CHUNK }, { size: CHUNK }, { size: 10 }] };
    expect(downloadBound(m, undefined, 4)).toBe(2 * CHUNK + 10);
    expect(downloadBound(m, { start: 2 * CHUNK, end: 2 * CHUNK + 3 }, 4)).toBe(10);
    expect(downloadBound(m, undefined, 1)).toBe(2 * CHUNK);
    expect(downloadBound({ size: 0, chunkSize: CHUNK, chunks: [] }, undefined, 4)).toBe(0);
  });
});
