import WebSocket from 'ws';
import { FRAME_HEADER_BYTES, FrameType, decodeFrame, encodeFrame, type Frame } from '../../src/protocol/frames.js';
import type { ServerMessage } from '../../src/protocol/messages.js';

type Event = { kind: 'msg'; msg: ServerMessage } | { kind: 'frame'; frame: Frame };

/**
 * A protocol client written against the raw `ws` API (no SDK), for tests that must send what
 * the SDK never would. Every message and frame is recorded; `next` awaits a matching one.
 */
export class RawClient {
  readonly events: Event[] = [];
  private waiters: { pred: (e: Event) => boolean; resolve: (e: Event) => void; reject: (err: Error) => void }[] = [];
  private readonly consumed = new Set<Event>();
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      const e: Event = isBinary
        ? { kind: 'frame', frame: decodeFrame(new Uint8Array(data)) }
        : { kind: 'msg', msg: JSON.parse(data.toString()) };
      this.events.push(e);
      const i = this.waiters.findIndex((w) => w.pred(e));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(e);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        for (const w of this.waiters) w.reject(new Error(`socket closed (${code} ${reason.toString()}) while waiting`));
        this.waiters = [];
        resolve({ code, reason: reason.toString() });
      }),
    );
    ws.on('error', () => undefined);
  }

  /** Opens a socket; unless `awaitReady` is false, waits for the server's `ready`. */
  static async open(url: string, options: { headers?: Record<string, string>; awaitReady?: boolean } = {}): Promise<RawClient> {
    const ws = new WebSocket(url, { headers: options.headers });
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
    if (options.awaitReady !== false) await client.message((m) => m.type === 'ready');
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  sendData(stream: number, offset: number, payload: Uint8Array): void {
    this.ws.send(encodeFrame(FrameType.UPLOAD_DATA, stream, offset, payload));
  }

  /** The first matching event not consumed by an earlier `next` (in arrival order), or the next to arrive. */
  next(pred: (e: Event) => boolean): Promise<Event> {
    const found = this.events.find((e) => !this.consumed.has(e) && pred(e));
    if (found) {
      this.consumed.add(found);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) =>
      this.waiters.push({
        pred: (e) => !this.consumed.has(e) && pred(e),
        resolve: (e) => {
          this.consumed.add(e);
          resolve(e);
        },
        reject,
      }),
    );
  }

  async message<T extends ServerMessage = ServerMessage>(pred: (m: ServerMessage) => boolean): Promise<T> {
    const e = await this.next((e) => e.kind === 'msg' && pred(e.msg));
    return (e as unknown as { msg: T }).msg;
  }

  /** The next message on `stream` (error, reply, …). */
  onStream<T extends ServerMessage = ServerMessage>(stream: number | null, type?: ServerMessage['type']): Promise<T> {
    return this.message<T>((m) => 'stream' in m && m.stream === stream && (!type || m.type === type));
  }

  close(): Promise<unknown> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    return this.closed;
  }
}

export { FRAME_HEADER_BYTES };
