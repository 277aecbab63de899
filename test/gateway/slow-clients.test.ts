import net from 'node:net';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/gateway/server.js';
import { createFsStore, openStore, type Store } from '../../src/index.js';
import type { ServerMessageOf } from '../../src/protocol/messages.js';
import { tempDir } from '../helpers/core.js';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-server.js';
import { CHUNK, bytes } from '../helpers/ws-harness.js';
import { RawClient } from '../helpers/ws-raw.js';

/**
 * Slow and stalled clients cannot hold the budget hostage (issue 20, item 2): a transfer that
 * makes no progress for sendTimeoutMs is ended and releases what it holds, one client holds at
 * most its share, and an upload reserves what its declared size can use.
 *   HTTP GET of the 32-chunk file: (downloadConcurrency 2 + 1) × 64 KiB = 192 KiB
 *   HTTP PUT of unknown size:      (uploadConcurrency 2 + 1) × 64 KiB = 192 KiB
 */
const LIMIT = 1024 * 1024;
const GET = 3 * CHUNK;

let store: Store;
let s: RunningServer;
const sockets: net.Socket[] = [];
const clients: RawClient[] = [];

async function start(
  o: { maxClientShare?: number; sendTimeoutMs?: number; tokens?: string[]; trustedProxies?: string[] } = {},
): Promise<string> {
  const dir = await tempDir('slow-clients');
  store = openStore({ chunkStore: createFsStore(dir, { fsync: false }), chunkSize: CHUNK, uploadConcurrency: 2, downloadConcurrency: 2 });
  s = await startServer({ store, port: 0, host: '127.0.0.1', maxTransferBytes: LIMIT, ...o });
  const done = (await lastValueFrom(store.upload(bytes(32 * CHUNK, 3), { name: 'big.bin' }).pipe(toArray()))).at(-1)!;
  if (done.type !== 'committed') throw new Error('not committed');
  return done.file.id;
}

afterEach(async () => {
  for (const c of sockets.splice(0)) c.destroy();
  for (const c of clients.splice(0)) await c.close();
  await s?.close();
  await store?.close();
});

/** A raw GET that reads the status line, then never reads again. Resolves with the status. */
function stalledGet(id: string, headers = ''): Promise<{ status: number; socket: net.Socket }> {
  const socket = net.connect({ port: s.port, host: '127.0.0.1' });
  sockets.push(socket);
  socket.on('error', () => undefined);
  socket.write(`GET /v1/files/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`);
  return new Promise((resolve) =>
    socket.once('data', (d: Buffer) => {
      socket.pause();
      resolve({ status: Number(d.toString('latin1').slice(9, 12)), socket });
    }),
  );
}

describe('per-client share of the budget', () => {
  it('one token fills only its share: its next transfer is busy, another token is still served', async () => {
    const id = await start({ maxClientShare: 0.5, tokens: ['alice-token', 'bob-token'] });
    const alice = 'Authorization: Bearer alice-token\r\n';
    const gets = [];
    for (let i = 0; i < 5; i++) gets.push(await stalledGet(id, alice));
    const admitted = gets.filter((g) => g.status === 200).length;
    expect(admitted).toBe(Math.floor(LIMIT / 2 / GET)); // 2 of 5: the share is 512 KiB
    expect(gets.filter((g) => g.status === 503).length).toBe(5 - admitted);
    expect(s.budget.reserved).toBe(admitted * GET);

    const refused = await request(`${s.url}/v1/files/${id}`, { headers: { authorization: 'Bearer alice-token' } });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body.toString()).error).toMatchObject({ code: 'busy', message: expect.stringMatching(/maxClientShare/) });

    const bob = await request(`${s.url}/v1/files/${id}`, { headers: { authorization: 'Bearer bob-token' } });
    expect(bob.status).toBe(200);
    expect(bob.body.length).toBe(32 * CHUNK);
  });

  it('without tokens, the share is per address', async () => {
    const id = await start({ maxClientShare: 0.25 });
    for (let i = 0; i < 2; i++) await stalledGet(id); // 256 KiB share: one GET, then busy
    expect(s.budget.reserved).toBe(GET);
    const other = await new Promise<string>((resolve, reject) => {
      // 127.0.0.2 is loopback too on Linux: another client address on this machine.
      const c = net.connect({ port: s.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      sockets.push(c);
      let got = '';
      c.on('data', (d: Buffer) => (got += d.toString('latin1')))
        .on('end', () => resolve(got))
        .on('error', reject);
      c.write(`GET /v1/files/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    expect(other.slice(0, 12)).toBe('HTTP/1.1 200');
  });

  it('behind a trusted proxy the share is per X-Forwarded-For address; from anyone else the header is ignored', async () => {
    const id = await start({ maxClientShare: 0.25, trustedProxies: ['127.0.0.1'] });
    // Through the proxy (127.0.0.1, trusted): two clients, one share each.
    expect((await stalledGet(id, 'X-Forwarded-For: 203.0.113.7\r\n')).status).toBe(200);
    expect((await stalledGet(id, 'X-Forwarded-For: 203.0.113.7\r\n')).status).toBe(503);
    expect((await stalledGet(id, 'X-Forwarded-For: 198.51.100.1, 203.0.113.9\r\n')).status).toBe(200); // the proxy appended .9
    // What a client writes on the left is not trusted: .9 is the one the proxy saw, its share is spent.
    expect((await stalledGet(id, 'X-Forwarded-For: 192.0.2.55, 203.0.113.9\r\n')).status).toBe(503);
  });

  it('without trusted proxies, X-Forwarded-For does not make a client someone else', async () => {
    const id = await start({ maxClientShare: 0.25 });
    expect((await stalledGet(id, 'X-Forwarded-For: 203.0.113.7\r\n')).status).toBe(200);
    expect((await stalledGet(id, 'X-Forwarded-For: 203.0.113.8\r\n')).status).toBe(503);
  });

  it('the share never forbids a client its first transfer', async () => {
    const id = await start({ maxClientShare: 0.01 }); // 10 KiB: less than one GET
    expect((await stalledGet(id)).status).toBe(200);
    expect((await stalledGet(id)).status).toBe(503);
  });
});

describe('no progress for sendTimeoutMs ends a transfer', () => {
  it('HTTP: GETs that are never read are cut, their reservations come back, and others are served', async () => {
    const id = await start({ sendTimeoutMs: 300, maxClientShare: 1 });
    const gets = [];
    for (let i = 0; i < 5; i++) gets.push(await stalledGet(id));
    expect(gets.every((g) => g.status === 200)).toBe(true);
    expect(s.budget.reserved).toBe(5 * GET);
    // The server ends them: each socket closes (read what is left so that 'close' can come).
    await Promise.all(
      gets.map((g) => new Promise((resolve) => (g.socket.closed ? resolve(null) : g.socket.once('close', resolve).resume()))),
    );
    await eventually(() => s.budget.reserved === 0, 'the stalled downloads released the budget');
    const again = await request(`${s.url}/v1/files/${id}`);
    expect(again.status).toBe(200);
  });

  it('WebSocket: a download granted no credit fails with timeout and releases its reservation', async () => {
    const id = await start({ sendTimeoutMs: 300 });
    const c = await RawClient.open(`${s.url.replace('http', 'ws')}/v1/ws`);
    clients.push(c);
    c.send({ type: 'download', stream: 1, id, credit: 0 });
    await c.onStream(1, 'header');
    expect(s.budget.reserved).toBeGreaterThan(0);
    const err = await c.onStream<ServerMessageOf<'error'>>(1, 'error');
    expect(err).toMatchObject({ code: 'timeout', message: expect.stringMatching(/sendTimeoutMs/) });
    await eventually(() => s.budget.reserved === 0, 'the stream released its reservation');
  });
});

describe('uploads reserve what their size can use', () => {
  it('a 5-byte PUT reserves one chunk, not uploadConcurrency + 1', async () => {
    await start();
    const socket = net.connect({ port: s.port, host: '127.0.0.1' });
    sockets.push(socket);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.write('PUT /v1/files?name=tiny.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nab');
    await eventually(() => s.budget.reserved > 0, 'the upload was admitted');
    expect(s.budget.reserved).toBe(CHUNK);
    socket.write('cde');
    await eventually(() => answer.includes('\r\n\r\n') && answer, 'the answer');
    expect(answer.slice(0, 12)).toBe('HTTP/1.1 201');
    await eventually(() => s.budget.reserved === 0, 'released');
  });

  it('trickling uploads of one client hold only its share; another client still uploads', async () => {
    await start({ maxClientShare: 0.5, tokens: ['slow-token', 'fast-token'] });
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) {
      const socket = net.connect({ port: s.port, host: '127.0.0.1' });
      sockets.push(socket);
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => statuses.push(d.toString('latin1').slice(0, 12)));
      // Unknown size (chunked), one byte and then nothing: the full upload bound is reserved.
      socket.write(
        `PUT /v1/files?name=slow-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer slow-token\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n`,
      );
      await eventually(() => s.budget.reserved >= Math.min(i + 1, 2) * 3 * CHUNK || statuses.length > i - 2, 'admitted or refused');
    }
    await eventually(() => statuses.length === 2 && statuses, 'two refused');
    expect(statuses).toEqual(['HTTP/1.1 503', 'HTTP/1.1 503']);
    expect(s.budget.reserved).toBe(2 * 3 * CHUNK);
    const fast = await request(`${s.url}/v1/files?name=fast.bin`, {
      method: 'PUT',
      headers: { authorization: 'Bearer fast-token' },
      body: bytes(3 * CHUNK, 9),
    });
    expect(fast.status).toBe(201);
  });

  it('a download near its end holds only what is left: its reservation shrinks (WebSocket and HTTP)', async () => {
    const id = await start();
    const c = await RawClient.open(`${s.url.replace('http', 'ws')}/v1/ws`);
    clients.push(c);
    c.send({ type: 'download', stream: 1, id, credit: 0 });
    await c.onStream(1, 'header');
    const window = 4; // the gateway's default
    expect(s.budget.reserved).toBe((window + 1) * CHUNK);
    const frames = () => c.events.filter((e) => e.kind === 'frame' && e.frame.stream === 1).length;
    for (let k = 1; k <= 31; k++) {
      c.send({ type: 'credit', stream: 1, chunks: 1 });
      await eventually(() => frames() === k, `chunk ${k}`);
    }
    // 31 of 32 sent: the last one read ahead and the flushed one not yet acknowledged.
    await eventually(() => s.budget.reserved === 2 * CHUNK, 'the reservation down to the chunks left');
    c.send({ type: 'credit', stream: 1, chunks: 1 });
    await c.onStream(1, 'end');
    await eventually(() => s.budget.reserved === 0, 'released');

    // HTTP: a stalled GET of the last 3 chunks' worth after reading most of the body.
    const socket = net.connect({ port: s.port, host: '127.0.0.1' });
    sockets.push(socket);
    let got = 0;
    const total = 32 * CHUNK;
    socket.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= total - CHUNK) socket.pause(); // the last chunk (and headers' worth) left unread
    });
    socket.write(`GET /v1/files/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await eventually(() => got >= total - CHUNK, 'most of the body read');
    await eventually(() => s.budget.reserved <= 2 * CHUNK, 'the GET holds at most the chunks left');
  });
});
