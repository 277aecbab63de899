import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { connect, type UploadEvent, type WebSocketConstructor } from '../../../src/client/index.js';
import type { ChunkStore } from '../../../src/index.js';
import type { ServerMessageOf } from '../../../src/protocol/messages.js';
import { CHUNK, bytes, collect, startHarness } from '../../helpers/ws-harness.js';
import { RawClient } from '../../helpers/ws-raw.js';
import { rawPut } from '../../helpers/ws-rawops.js';
import { closeAfterEach } from '../../helpers/core.js';

const open = closeAfterEach();

/** A `ws` WebSocket for the SDK that records its sockets and how many binary frames each sent. */
function tracked() {
  const sockets: WebSocket[] = [];
  const frames: number[] = [];
  const Tracked = class extends WebSocket {
    private readonly n = sockets.push(this) - 1;
    constructor(url: string) {
      super(url);
      frames.push(0);
    }
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data !== 'string') frames[this.n]!++;
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  };
  return { sockets, frames, WebSocket: Tracked as unknown as WebSocketConstructor };
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) throw new Error('the manifest put got no signal: cannot tell when the upload was cancelled');
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * Once the first manifest is durably put, runs `drop` (cut the client's socket) and holds the
 * put's completion until the gateway has noticed and cancelled the upload (its signal aborts):
 * the server committed, the client never hears `committed`, and the engine finishes the commit
 * with an aborted signal.
 */
function dropAfterManifest(drop: () => void) {
  const manifests: string[] = [];
  const wrap = (inner: ChunkStore): ChunkStore => ({
    ...inner,
    put: async (key, data, o) => {
      const r = await inner.put(key, data, o);
      if (key.startsWith('files/') && manifests.push(key) === 1) {
        drop();
        await aborted(o?.signal);
      }
      return r;
    },
    get: (k, o) => inner.get(k, o),
    has: (k, o) => inner.has(k, o),
    delete: (k, o) => inner.delete(k, o),
    list: (p, o) => inner.list(p, o),
  });
  return { wrap, manifests };
}

describe('ws: resuming an upload that committed while the connection dropped', () => {
  it('the SDK reconnects, resumes, sends no data and completes with the committed file, stored once', async () => {
    const t = tracked();
    const cut = dropAfterManifest(() => t.sockets[0]!.terminate());
    const h = await startHarness({ wrap: cut.wrap });
    open.add(h);
    const client = await connect(h.url, { WebSocket: t.WebSocket, reconnectDelayMs: 10 });
    open.add(client);
    const data = bytes(3 * CHUNK + 17, 23);
    const asked: number[] = []; // offsets the source was opened at
    const source = (offset: number) => (asked.push(offset), data.subarray(offset));
    const events: UploadEvent[] = [];
    await new Promise<void>((resolve, reject) =>
      client.upload(source, { name: 'lost-ack.bin' }).subscribe({ next: (e) => events.push(e), error: reject, complete: resolve }),
    );

    expect(cut.manifests).toHaveLength(1); // committed once, on the first socket
    const uploadId = (events[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    expect(events.filter((e) => e.type === 'started')).toEqual([
      { type: 'started', uploadId, offset: 0 },
      { type: 'started', uploadId, offset: data.length },
    ]);
    const last = events.at(-1)!;
    if (last.type !== 'committed') throw new Error(`ended with ${last.type}`);
    expect(cut.manifests[0]).toBe(`files/${last.file.id}.json`);
    expect(t.sockets).toHaveLength(2);
    expect(t.frames[1]).toBe(0); // the resume sent no data…
    expect(asked).toEqual([0]); // …and did not even open the source again
    expect((await h.store.list()).map((f) => f.id)).toEqual([last.file.id]);
    expect(Buffer.compare(await collect(client.download(last.file.id)), data)).toBe(0);
  });

  it('on the wire: started with offset = size and credit 0, then committed', async () => {
    const h = await startHarness({});
    open.add(h);
    const a = await RawClient.open(h.url);
    open.add(a);
    const data = bytes(2 * CHUNK + 5, 24);
    const file = await rawPut(a, 1, data, 'twice.bin');
    const first = a.events.find((e) => e.kind === 'msg' && e.msg.type === 'started');
    const uploadId = (first as { msg: ServerMessageOf<'started'> }).msg.uploadId;

    const b = await RawClient.open(h.url);
    open.add(b);
    b.send({ type: 'upload', stream: 7, uploadId, size: data.length });
    const started = await b.onStream<ServerMessageOf<'started'>>(7);
    expect(started).toEqual({ type: 'started', stream: 7, uploadId, offset: data.length, credit: 0 });
    expect(await b.onStream(7)).toEqual({ type: 'committed', stream: 7, file });
    // The stream is over: the id is free again (a status request on it is answered normally).
    b.send({ type: 'status', stream: 7, uploadId });
    expect(await b.onStream(7)).toMatchObject({ type: 'status', offset: data.length });
    expect((await h.store.list()).map((f) => f.id)).toEqual([file.id]);
  });
});
