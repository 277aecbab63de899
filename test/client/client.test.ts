import { EMPTY, Subject, lastValueFrom, take, toArray } from 'rxjs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committed, connect, type Client, type FileInfo, type UploadEvent, type WebSocketConstructor } from '../../src/client/index.js';
import { flipProxy } from '../helpers/flip-proxy.js';
import { eventually } from '../helpers/eventually.js';
import { CHUNK, bytes, collect, gate, gateChunkPuts, startHarness, type Harness } from '../helpers/ws-harness.js';

let h: Harness;
let client: Client;
const g = gate();

let stalling = false;
const stall = (on: boolean) => (stalling = on);

beforeAll(async () => {
  // While `stalling`, chunk writes wait for the gate (which opens only at the end).
  h = await startHarness({
    wrap: (inner) => {
      const gated = gateChunkPuts(g)(inner);
      return { ...gated, put: (key, data, o) => (stalling ? gated : inner).put(key, data, o) };
    },
  });
  client = await connect(h.url);
});
afterAll(async () => {
  g.open();
  await client?.close();
  await h?.close();
});

async function put(data: Uint8Array, name = 'c.bin') {
  const events = await lastValueFrom(client.upload(data, { name }).pipe(toArray()));
  return (events.at(-1) as Extract<UploadEvent, { type: 'committed' }>).file;
}

describe('client SDK', () => {
  it('committed() gives the committed file of an upload, typed (the README example compiles)', async () => {
    const data = bytes(3 * CHUNK + 7, 11);
    const file: FileInfo = await lastValueFrom(client.upload(data, { name: 'typed.bin' }).pipe(committed()));
    expect(file).toMatchObject({ name: 'typed.bin', size: data.length });
    expect(Buffer.compare(await collect(client.download(file.id)), Buffer.from(data))).toBe(0);
    await expect(lastValueFrom(EMPTY.pipe(committed()))).rejects.toMatchObject({ code: 'internal' });
  });

  it('verifies every chunk before delivering it: a byte flipped in transit fails with code integrity, nothing wrong delivered', async () => {
    const data = bytes(5 * CHUNK + 9, 71);
    const file = await put(data);
    // The 3rd binary message is chunk 2; its byte 48 + 1000 is payload (after the 48-byte frame header).
    const proxy = await flipProxy(h.port, { nth: 3, at: 48 + 1000 });
    const c = await connect(proxy.url, { reconnectAttempts: 0 });
    try {
      const got: Buffer[] = [];
      const err = await new Promise<unknown>((resolve) =>
        c.download(file.id).subscribe({ next: (d) => got.push(Buffer.from(d)), error: resolve, complete: () => resolve(undefined) }),
      );
      expect(err).toMatchObject({ code: 'integrity', index: 2, message: expect.stringContaining('SHA-256') });
      const delivered = Buffer.concat(got);
      expect(delivered.length).toBeLessThanOrEqual(2 * CHUNK); // chunks 0 and 1 at most, never the bad one
      expect(delivered.equals(data.subarray(0, delivered.length))).toBe(true);
      // Without the flip, the same download through the same proxy path is whole.
      expect((await collect(client.download(file.id))).equals(Buffer.from(data))).toBe(true);
    } finally {
      await c.close();
      await proxy.close();
    }
  });

  it('verifies the whole chunks of a range too; edge slices come as the server verified them', async () => {
    const data = bytes(4 * CHUNK, 72);
    const file = await put(data);
    const proxy = await flipProxy(h.port, { nth: 2, at: 48 + 7 }); // message 2: chunk 1, whole inside the range
    const c = await connect(proxy.url, { reconnectAttempts: 0 });
    try {
      await expect(collect(c.download(file.id, { range: { start: 5, end: 3 * CHUNK + 4 } }))).rejects.toMatchObject({
        code: 'integrity',
        index: 1,
      });
    } finally {
      await c.close();
      await proxy.close();
    }
    expect(Buffer.compare(await collect(client.download(file.id, { range: { start: 5, end: 99 } })), data.subarray(5, 100))).toBe(0);
  });

  it('reports server errors with their code', async () => {
    await expect(collect(client.download('0'.repeat(29)))).rejects.toMatchObject({ code: 'not_found' });
    await expect(lastValueFrom(client.upload(bytes(10), { name: '../x' }))).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('name'),
    });
    await expect(client.stat('../etc')).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('id') });
    await expect(lastValueFrom(client.upload(bytes(10), { name: 'n', size: 11 }))).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('refuses a source it cannot read, naming it', async () => {
    await expect(lastValueFrom(client.upload(42 as never, { name: 'x' }))).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('source'),
    });
  });

  it('validates its options at once, naming the bad one', async () => {
    await expect(connect(h.url, { reconnectAttempts: -1 })).rejects.toMatchObject({ code: 'invalid_option', option: 'reconnectAttempts' });
    await expect(connect(h.url, { tokn: 'x' } as never)).rejects.toMatchObject({ code: 'invalid_option', option: 'tokn' });
    await expect(connect('/v1/ws')).rejects.toMatchObject({ code: 'invalid_option', option: 'url' });
  });

  it('unsubscribing a download cancels it on the server, which then holds nothing', async () => {
    const file = await put(bytes(30 * CHUNK, 72));
    const first = await lastValueFrom(client.download(file.id).pipe(take(1)));
    expect(first.byteLength).toBe(CHUNK);
    await eventually(() => h.store.gauge.held === 0, 'the server released the cancelled download');
    expect(await client.list()).toContainEqual(file); // the socket goes on serving
  });

  it('unsubscribing an upload cancels it on the server at once', async () => {
    stall(true);
    try {
      const started = new Subject<void>();
      const sub = client.upload(bytes(20 * CHUNK, 73), { name: 'stall.bin' }).subscribe((e) => e.type === 'started' && started.next());
      await lastValueFrom(started.pipe(take(1)));
      await eventually(() => h.store.gauge.held > 0, 'data reached the server');
      sub.unsubscribe();
      await eventually(() => h.store.gauge.held === 0, 'the server released the cancelled upload');
    } finally {
      stall(false);
    }
  });

  it('a dropped socket mid-download: the client reconnects and fetches only the rest', async () => {
    const sockets: WebSocket[] = [];
    const requests: { range?: { start: number; end: number }; credit: number }[] = [];
    const Tracked = class extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
      override send(data: never, ...rest: never[]) {
        if (typeof data === 'string' && (data as string).includes('"download"')) requests.push(JSON.parse(data));
        return super.send(data, ...rest);
      }
    };
    const c = await connect(h.url, { WebSocket: Tracked as unknown as WebSocketConstructor, reconnectDelayMs: 5 });
    try {
      const data = bytes(5 * CHUNK + 7, 74);
      const file = await put(data);
      const demand = new Subject<number>();
      const parts: Uint8Array[] = [];
      const done = new Promise<void>((resolve, reject) =>
        c.download(file.id, { demand }).subscribe({
          next: (p) => {
            parts.push(p);
            if (parts.length === 2) sockets[0]!.terminate();
            demand.next(1); // one chunk at a time, also across the reconnect
          },
          error: reject,
          complete: resolve,
        }),
      );
      demand.next(1);
      await done;
      expect(Buffer.compare(Buffer.concat(parts), data)).toBe(0); // and the SHA-256 matched
      expect(sockets.length).toBe(2);
      expect(requests.map((r) => [r.range, r.credit])).toEqual([
        [undefined, 1],
        [{ start: 2 * CHUNK, end: data.length - 1 }, 1],
      ]);
    } finally {
      await c.close();
    }
  });

  it('a download fails with connection_lost when the server cannot be reached again', async () => {
    const other = await startHarness();
    const c = await connect(other.url, { reconnectAttempts: 1, reconnectDelayMs: 1 });
    try {
      const file = await lastValueFrom(c.upload(bytes(3 * CHUNK, 1), { name: 'gone.bin' }).pipe(toArray()));
      const id = (file.at(-1) as Extract<UploadEvent, { type: 'committed' }>).file.id;
      const demand = new Subject<number>(); // never credited: stays in flight
      const pending = collect(c.download(id, { demand })).catch((err: unknown) => err);
      await c.stat(id); // the download request went out before this reply came back
      await other.close(); // closes the sockets (1001) and refuses new upgrades
      expect(await pending).toMatchObject({ code: 'connection_lost' });
    } finally {
      await c.close();
    }
  });

  it('resumes an upload by id from another client (a function source reads from the offset)', async () => {
    const data = bytes(6 * CHUNK + 17, 76);
    stall(true); // chunks stay unwritten: the first client gets nothing durable
    const started = new Subject<string>();
    const sub = client.upload(data, { name: 'handover.bin' }).subscribe((e) => e.type === 'started' && started.next(e.uploadId));
    const uploadId = await lastValueFrom(started.pipe(take(1)));
    sub.unsubscribe();
    stall(false);
    const other = await connect(h.url);
    try {
      const reads: number[] = [];
      const events = await lastValueFrom(
        other.upload((offset) => (reads.push(offset), data.subarray(offset)), { uploadId }).pipe(toArray()),
      );
      expect(events[0]).toEqual({ type: 'started', uploadId, offset: 0 });
      expect(reads).toEqual([0]);
      const file = (events.at(-1) as Extract<UploadEvent, { type: 'committed' }>).file;
      expect(file.name).toBe('handover.bin');
      expect(Buffer.compare(await collect(other.download(file.id)), data)).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('close() fails transfers in flight with code aborted, and later calls too', async () => {
    const c = await connect(h.url);
    const file = await put(bytes(3 * CHUNK, 75));
    const demand = new Subject<number>(); // never credited: the download stays in flight
    const pending = collect(c.download(file.id, { demand })).catch((err: unknown) => err);
    await c.close();
    expect(await pending).toMatchObject({ code: 'aborted' });
    await expect(c.list()).rejects.toMatchObject({ code: 'aborted' });
  });
});
