import type { Socket } from 'node:net';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/index.js';
import type { ServerMessageOf } from '../../../src/protocol/messages.js';
import { eventually } from '../../helpers/eventually.js';
import { CHUNK, bytes, gate, gateChunkPuts, startHarness, type Harness } from '../../helpers/ws-harness.js';
import { RawClient } from '../../helpers/ws-raw.js';
import { closeAfterEach } from '../../helpers/core.js';

const open = closeAfterEach();
async function harness(o: Parameters<typeof startHarness>[0]): Promise<Harness> {
  const h = await startHarness(o);
  open.add(h);
  return h;
}
async function raw(url: string): Promise<RawClient> {
  const c = await RawClient.open(url);
  open.add(c);
  return c;
}
async function storeFile(h: Harness, data: Uint8Array): Promise<string> {
  const events = await lastValueFrom(h.store.upload(data, { name: 'big.bin' }).pipe(toArray()));
  const last = events.at(-1)!;
  if (last.type !== 'committed') throw new Error('not committed');
  h.store.gauge.peak = h.store.gauge.held; // measure the download alone
  return last.file.id;
}

describe('ws gateway: flow control and memory bounds', () => {
  it('a reader that stops reading its socket cannot make the server hold more than (window + 1) chunks', async () => {
    const window = 2;
    const h = await harness({ window });
    const sockets: Socket[] = [];
    h.server.prependListener('upgrade', (_req, socket: Socket) => sockets.push(socket));
    const data = bytes(256 * CHUNK, 11); // 16 MiB: far more than the kernel buffers on loopback
    const id = await storeFile(h, data);
    const bound = (window + 1) * CHUNK;

    const c = await raw(h.url);
    c.send({ type: 'download', stream: 1, id, credit: 100_000 }); // credit is no limit here
    c.ws.pause(); // stop reading: TCP backpressure reaches the server
    const server = sockets[0]!;
    // What ws queued on the server socket, sampled every turn: one chunk in transit, never more.
    let queued = 0;
    const sample = () => (queued = Math.max(queued, server.writableLength));
    // Blocked: Node buffers what the kernel no longer takes, and the read-ahead is full.
    await eventually(() => (sample(), server.writableLength > 0 && h.store.gauge.held === bound), 'the server is blocked');
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r)).then(sample);
    expect(queued).toBeLessThanOrEqual(CHUNK + 1024);
    expect(h.store.gauge.held).toBe(bound);

    c.ws.resume();
    await c.onStream(1, 'end');
    const all = Buffer.concat(c.events.flatMap((e) => (e.kind === 'frame' && e.frame.stream === 1 ? [e.frame.payload] : [])));
    expect(Buffer.compare(all, data)).toBe(0);
    expect(h.store.gauge.peak).toBeLessThanOrEqual(bound);
    expect(h.store.gauge.held).toBe(0);
  });

  it('sends no more chunks than the client credited, and reads ahead at most window chunks', async () => {
    const window = 3;
    const h = await harness({ window });
    const id = await storeFile(h, bytes(20 * CHUNK, 12));
    const c = await raw(h.url);
    c.send({ type: 'download', stream: 1, id, credit: 2 });
    await eventually(() => h.store.gauge.held === (window + 1) * CHUNK, 'the server read ahead');
    c.send({ type: 'list', stream: 2 });
    await c.onStream(2, 'files'); // a barrier: anything sent before the reply has arrived
    expect(c.events.filter((e) => e.kind === 'frame').length).toBe(2);
    c.send({ type: 'credit', stream: 1, chunks: 3 });
    for (let i = 0; i < 3; i++) await c.next((e) => e.kind === 'frame' && e.frame.stream === 1);
    c.send({ type: 'cancel', stream: 1 });
    await c.onStream(1, 'cancelled');
    expect(c.events.filter((e) => e.kind === 'frame').length).toBe(5);
    expect(h.store.gauge.peak).toBeLessThanOrEqual((window + 1) * CHUNK);
    expect(h.store.gauge.held).toBe(0); // cancel released everything at once
  });

  it('several slow downloads on one socket stay within streams × (window + 1) chunks, server-wide', async () => {
    const window = 2;
    const h = await harness({ window });
    const files = [bytes(12 * CHUNK, 1), bytes(9 * CHUNK + 5, 2), bytes(15 * CHUNK - 3, 3)];
    const ids: string[] = [];
    for (const f of files) ids.push(await storeFile(h, f));
    h.store.gauge.peak = 0;
    const client = await connect(h.url);
    open.add(client);
    // Each consumer takes one chunk per turn of the event loop, crediting one at a time.
    const outs = await Promise.all(
      ids.map(
        (id) =>
          new Promise<Buffer>((resolve, reject) => {
            const parts: Uint8Array[] = [];
            const demand = new Subject<number>();
            client.download(id, { demand }).subscribe({
              next: (p) => {
                parts.push(p);
                setImmediate(() => demand.next(1));
              },
              error: reject,
              complete: () => resolve(Buffer.concat(parts)),
            });
            demand.next(1);
          }),
      ),
    );
    outs.forEach((o, i) => expect(Buffer.compare(o, files[i]!)).toBe(0));
    expect(h.store.gauge.peak).toBeLessThanOrEqual(files.length * (window + 1) * CHUNK);
    expect(h.store.gauge.held).toBe(0);
  });

  it('an upload is held to its credit: the server stops granting while the store is stalled', async () => {
    const window = 2;
    const g = gate();
    const h = await harness({ window, uploadConcurrency: 2, wrap: gateChunkPuts(g) });
    const c = await raw(h.url);
    const data = bytes(24 * CHUNK + 99, 21);
    c.send({ type: 'upload', stream: 1, name: 'up.bin' });
    const started = await c.onStream<ServerMessageOf<'started'>>(1, 'started');
    expect(started.credit).toBe(window * CHUNK);
    let credit = started.credit;
    let offset = 0;
    let stalls = 0;
    while (offset < data.length) {
      if (credit === 0) {
        // Out of credit: only now let the store write. A server granting on receipt never gets here.
        stalls++;
        g.open();
        credit += (await c.onStream<ServerMessageOf<'credit'>>(1, 'credit')).bytes;
        continue;
      }
      const n = Math.min(credit, 16 * 1024, data.length - offset);
      c.sendData(1, offset, data.subarray(offset, offset + n));
      offset += n;
      credit -= n;
    }
    c.send({ type: 'end', stream: 1 });
    const committed = await c.onStream<ServerMessageOf<'committed'>>(1, 'committed');
    expect(stalls).toBeGreaterThan(0);
    expect(committed.file.size).toBe(data.length);
    // Gateway queue ≤ credit; the engine ≤ (uploadConcurrency + 1) chunks.
    expect(h.store.gauge.peak).toBeLessThanOrEqual(window * CHUNK + 3 * CHUNK);
    expect(h.store.gauge.held).toBe(0);
  });

  it('a cancel or a dropped socket stops a transfer at once and releases what it held', async () => {
    const g = gate(); // chunk writes never complete: the upload is mid-flight when cancelled
    const h = await harness({ window: 2, wrap: gateChunkPuts(g) });
    const c = await raw(h.url);
    c.send({ type: 'upload', stream: 1, name: 'never.bin' });
    const started = await c.onStream<ServerMessageOf<'started'>>(1, 'started');
    c.sendData(1, 0, bytes(started.credit, 5));
    await eventually(() => h.store.gauge.held >= started.credit, 'the data arrived');
    c.send({ type: 'cancel', stream: 1 });
    await c.onStream(1, 'cancelled');
    expect(h.store.gauge.held).toBe(0);

    // The same upload again, then the socket is dropped instead.
    c.send({ type: 'upload', stream: 2, name: 'never.bin' });
    await c.onStream(2, 'started');
    c.sendData(2, 0, bytes(started.credit, 6));
    await eventually(() => h.store.gauge.held >= started.credit, 'the data arrived');
    c.ws.terminate();
    await eventually(() => h.gateway.connections === 0, 'the server saw the socket close');
    expect(h.store.gauge.held).toBe(0);
    g.open();
  });

  it('a socket dropped while a chunk is stuck in transit releases it too', async () => {
    const h = await harness({ window: 2 });
    const sockets: Socket[] = [];
    h.server.prependListener('upgrade', (_req, socket: Socket) => sockets.push(socket));
    const id = await storeFile(h, bytes(256 * CHUNK, 13));
    const c = await raw(h.url);
    c.ws.pause();
    c.send({ type: 'download', stream: 1, id, credit: 100_000 });
    await eventually(() => sockets[0]!.writableLength > 0 && h.store.gauge.held === 3 * CHUNK, 'the server is blocked');
    c.ws.terminate();
    await eventually(() => h.gateway.connections === 0, 'the server saw the socket close');
    await eventually(() => h.store.gauge.held === 0, 'the chunk in transit was released');
  });

  it('a client flooding requests without reading is no longer read (its replies stay bounded)', async () => {
    const h = await harness({});
    const sockets: Socket[] = [];
    h.server.prependListener('upgrade', (_req, socket: Socket) => sockets.push(socket));
    const c = await raw(h.url);
    c.ws.pause();
    const request = JSON.stringify({ type: 'x'.repeat(40), stream: 1 }); // each reply: a ~200-byte error
    const n = 40_000; // ~8 MB of replies: more than the kernel buffers hold
    for (let i = 0; i < n; i++) c.ws.send(request);
    await eventually(() => sockets[0]!.isPaused(), 'the server stopped reading');
    c.ws.resume();
    c.send({ type: 'list', stream: 2 });
    await c.onStream(2, 'files'); // every reply came, in order, then this one
    expect(c.events.length).toBe(1 + n + 1); // ready, the errors, the list
    expect(sockets[0]!.isPaused()).toBe(false);
  });
});
