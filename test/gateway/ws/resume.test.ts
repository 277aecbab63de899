import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { connect, type UploadEvent, type WebSocketConstructor } from '../../../src/client/index.js';
import type { ChunkStore } from '../../../src/index.js';
import type { ServerMessageOf } from '../../../src/protocol/messages.js';
import { CHUNK, bytes, collect, gate, startHarness } from '../../helpers/ws-harness.js';
import { RawClient } from '../../helpers/ws-raw.js';
import { rawGet } from '../../helpers/ws-rawops.js';
import { closeAfterEach } from '../../helpers/core.js';
import { eventually } from '../../helpers/eventually.js';

const open = closeAfterEach();
async function raw(url: string): Promise<RawClient> {
  const c = await RawClient.open(url);
  open.add(c);
  return c;
}

/** Lets the first `n` chunk writes through, then holds the others until `release()`. */
function stallAfter(n: number) {
  const g = gate();
  let passed = 0;
  const wrap = (inner: ChunkStore): ChunkStore => ({
    ...inner,
    put: async (key, data, o) => {
      if (key.startsWith('chunks/') && ++passed > n) await g.wait();
      return inner.put(key, data, o);
    },
    get: (k, o) => inner.get(k, o),
    has: (k, o) => inner.has(k, o),
    delete: (k, o) => inner.delete(k, o),
    list: (p, o) => inner.list(p, o),
  });
  return { wrap, release: g.open };
}

function durableOffset(c: RawClient, stream: number, uploadId: string, atLeast: number): Promise<number> {
  return eventually(async () => {
    c.send({ type: 'status', stream, uploadId });
    const s = await c.onStream<ServerMessageOf<'status'>>(stream, 'status');
    return s.offset >= atLeast && s.offset;
  }, `the upload durable past ${atLeast}`);
}

/** Sends data[from, to) within the stream's credit; `credit` is what the server granted so far. */
async function sendRange(c: RawClient, stream: number, data: Uint8Array, from: number, to: number, credit: number): Promise<number> {
  let offset = from;
  while (offset < to) {
    while (credit === 0) credit += (await c.onStream<ServerMessageOf<'credit'>>(stream, 'credit')).bytes;
    const n = Math.min(credit, 16 * 1024, to - offset);
    c.sendData(stream, offset, data.subarray(offset, offset + n));
    offset += n;
    credit -= n;
  }
  return credit;
}

describe('ws gateway: resume after a dropped connection', () => {
  it('resumes by upload id and takes only the bytes the server lacks', async () => {
    const stall = stallAfter(3);
    const h = await startHarness({ window: 4, wrap: stall.wrap });
    open.add(h);
    const data = bytes(10 * CHUNK + 321, 31);
    const a = await raw(h.url);
    a.send({ type: 'upload', stream: 1, name: 'resumed.bin', size: data.length });
    const started = await a.onStream<ServerMessageOf<'started'>>(1, 'started');
    await sendRange(a, 1, data, 0, started.credit, started.credit); // all the credit; chunk 3 on stall
    const durable = await durableOffset(a, 2, started.uploadId, 3 * CHUNK);
    a.ws.terminate();

    const b = await raw(h.url);
    b.send({ type: 'upload', stream: 1, uploadId: started.uploadId, size: data.length });
    const resumed = await b.onStream<ServerMessageOf<'started'>>(1, 'started');
    stall.release(); // the old pipeline was cancelled (socket close or takeover): writes may go on
    expect(resumed.uploadId).toBe(started.uploadId);
    expect(resumed.offset).toBe(durable);
    expect(resumed.offset).toBe(3 * CHUNK); // exactly the stored prefix
    // Bytes before the offset are refused: only what the server lacks may follow.
    await sendRange(b, 1, data, resumed.offset, data.length, resumed.credit);
    b.send({ type: 'end', stream: 1 });
    const committed = await b.onStream<ServerMessageOf<'committed'>>(1, 'committed');
    expect(committed.file.size).toBe(data.length);
    expect(Buffer.compare((await rawGet(b, 3, committed.file.id)).data, data)).toBe(0);
  });

  it('refuses resumed data that does not start at the offset', async () => {
    const h = await startHarness({});
    open.add(h);
    const a = await raw(h.url);
    a.send({ type: 'upload', stream: 1, name: 'x.bin' });
    const started = await a.onStream<ServerMessageOf<'started'>>(1, 'started');
    await sendRange(a, 1, bytes(2 * CHUNK, 1), 0, 2 * CHUNK, started.credit);
    await durableOffset(a, 2, started.uploadId, 2 * CHUNK);
    a.send({ type: 'cancel', stream: 1 });
    await a.onStream(1, 'cancelled');
    a.send({ type: 'upload', stream: 3, uploadId: started.uploadId });
    expect(await a.onStream(3, 'started')).toMatchObject({ offset: 2 * CHUNK });
    a.sendData(3, 0, bytes(100, 2));
    expect(await a.onStream(3, 'error')).toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining(`expected offset ${2 * CHUNK}`),
    });
  });

  it('a resume on a new socket takes the upload over from a socket the server still thinks alive', async () => {
    const h = await startHarness({});
    open.add(h);
    const data = bytes(2 * CHUNK + 3, 8);
    const a = await raw(h.url);
    a.send({ type: 'upload', stream: 1, name: 'x.bin' });
    const started = await a.onStream<ServerMessageOf<'started'>>(1, 'started');
    const b = await raw(h.url);
    b.send({ type: 'upload', stream: 9, uploadId: started.uploadId });
    expect(await a.onStream(1, 'error')).toMatchObject({ code: 'conflict' });
    const resumed = await b.onStream<ServerMessageOf<'started'>>(9, 'started');
    await sendRange(b, 9, data, resumed.offset, data.length, resumed.credit);
    b.send({ type: 'end', stream: 9 });
    expect((await b.onStream<ServerMessageOf<'committed'>>(9, 'committed')).file.size).toBe(data.length);
  });
});

describe('client SDK: resume', () => {
  const tracked = () => {
    const sockets: WebSocket[] = [];
    const Tracked = class extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    };
    return { sockets, WebSocket: Tracked as unknown as WebSocketConstructor };
  };
  /** A client whose sockets the test can drop, on a server whose chunk writes stall after `n`. */
  const stalledClient = async (n: number) => {
    const stall = stallAfter(n);
    const h = await startHarness({ wrap: stall.wrap });
    open.add(h);
    const t = tracked();
    const client = await connect(h.url, { WebSocket: t.WebSocket, reconnectDelayMs: 10 });
    open.add(client);
    return { stall, t, client };
  };

  it('reconnects and re-sends from the server offset when the socket drops mid-upload', async () => {
    const { stall, t, client } = await stalledClient(2);
    const data = bytes(7 * CHUNK + 99, 41);
    const reads: number[] = [];
    let sent = 0;
    const source = (offset: number) => {
      reads.push(offset);
      return (async function* () {
        for (let o = offset; o < data.length; o += 10_000) {
          const piece = data.subarray(o, Math.min(o + 10_000, data.length));
          sent += piece.length;
          yield piece;
        }
      })();
    };
    const events: UploadEvent[] = [];
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const done = new Promise<void>((resolve, reject) =>
      client.upload(source, { name: 'sdk.bin' }).subscribe({
        next: (e) => {
          events.push(e);
          if (e.type === 'started' && e.offset === 0) firstStarted();
          // The resume took the upload over: the old pipeline is gone, writes may go on.
          if (e.type === 'started' && e.offset > 0) stall.release();
        },
        error: reject,
        complete: resolve,
      }),
    );
    await started;
    const uploadId = (events[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    await eventually(async () => (await client.status(uploadId)).offset >= 2 * CHUNK, 'two chunks durable');
    const sentBefore = sent;
    t.sockets[0]!.terminate();
    await done;
    const startedEvents = events.filter((e) => e.type === 'started');
    expect(startedEvents).toEqual([
      { type: 'started', uploadId, offset: 0 },
      { type: 'started', uploadId, offset: 2 * CHUNK },
    ]);
    expect(reads).toEqual([0, 2 * CHUNK]);
    expect(sent - sentBefore).toBe(data.length - 2 * CHUNK); // only the missing bytes, read from the offset
    expect(t.sockets.length).toBe(2);
    const committed = events.at(-1) as Extract<UploadEvent, { type: 'committed' }>;
    expect(Buffer.compare(await collect(client.download(committed.file.id)), data)).toBe(0);
  });

  it('fails clearly when the dropped upload reads a one-shot stream', async () => {
    const { stall, t, client } = await stalledClient(0);
    const data = bytes(3 * CHUNK, 2);
    async function* oneShot() {
      yield data;
    }
    const result = new Promise<unknown>((resolve) =>
      client.upload(oneShot(), { name: 'once.bin' }).subscribe({
        next: (e) => e.type === 'started' && t.sockets[0]!.terminate(),
        error: resolve,
      }),
    );
    const err = (await result) as { code: string; message: string };
    expect(err.code).toBe('connection_lost');
    expect(err.message).toContain('one-shot');
    stall.release();
    expect(await client.list()).toEqual([]); // the client reconnected for other work
  });
});
