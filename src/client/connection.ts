import { AbortError, toChunkstreamError } from '../errors.js';
import { CloseCode, ConnectionLostError, UnauthorizedError, closeError, type ProtocolError } from '../protocol/errors.js';
import { dialError, errorDetail } from './dial-errors.js';
import { decodeFrame, type Frame } from '../protocol/frames.js';
import { parseServerMessage, type ClientMessage, type ServerMessage, type ServerMessageOf } from '../protocol/messages.js';

/** The part of the WebSocket API (browser and `ws`) the client uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** One transfer or request, as the link sees it. */
export interface StreamListener {
  /** Sends the opening message; called once connected, and again after a reconnect. */
  start(): void;
  message(msg: ServerMessage): void;
  frame(frame: Frame): void;
  /** The connection dropped: true to be started again once reconnected, false if it failed itself. */
  lost(err: ProtocolError): boolean;
  fail(err: Error): void;
}

export interface LinkOptions {
  url: string;
  token: string;
  WebSocket: WebSocketConstructor;
  reconnectAttempts: number;
  reconnectDelayMs: number;
}

/**
 * One logical connection over successive sockets: it dials, authenticates (a first `auth`
 * message, which browsers can send where they cannot set headers), routes messages by stream
 * id, and after an unexpected close redials and restarts the streams that can resume.
 */
export class Link {
  private ws: WebSocketLike | undefined;
  private connecting: Promise<void> | undefined;
  private readonly streams = new Map<number, StreamListener>();
  private nextStream = 1;
  private closing = false;
  info: ServerMessageOf<'ready'> | undefined;

  constructor(private readonly options: LinkOptions) {}

  /** Resolves once a socket is ready (dialling, with retries, if there is none). */
  connected(): Promise<void> {
    if (this.closing) return Promise.reject(new AbortError('the client is closed'));
    if (this.ws) return Promise.resolve();
    this.connecting ??= this.redial().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Registers a stream and starts it once connected; returns its id. */
  register(listener: StreamListener): number {
    const id = this.nextStream;
    this.nextStream = this.nextStream >= 0xffffffff ? 1 : this.nextStream + 1;
    this.streams.set(id, listener);
    this.startWhenConnected(id, listener);
    return id;
  }

  release(id: number): void {
    this.streams.delete(id);
  }

  send(msg: ClientMessage): void {
    this.ws?.send(JSON.stringify(msg));
  }

  sendFrame(frame: Uint8Array): void {
    this.ws?.send(frame);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const s of streams) s.fail(new AbortError('the client was closed'));
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState >= 2) return;
    await new Promise<void>((resolve) => {
      ws.onclose = () => resolve();
      ws.close(CloseCode.NORMAL, 'client closed');
    });
  }

  private startWhenConnected(id: number, listener: StreamListener): void {
    this.connected().then(
      () => this.streams.get(id) === listener && listener.start(),
      (err: unknown) => {
        if (this.streams.get(id) !== listener) return;
        this.streams.delete(id);
        listener.fail(toChunkstreamError(err));
      },
    );
  }

  private async redial(): Promise<void> {
    const { reconnectAttempts, reconnectDelayMs } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.dial();
      } catch (err) {
        // Only a dropped or refused connection is worth another try (not a bad token or URL).
        if (!(err instanceof ConnectionLostError) || attempt >= reconnectAttempts || this.closing) throw err;
        // Backoff between attempts is the point here, not synchronisation.
        await new Promise((r) => setTimeout(r, reconnectDelayMs * 2 ** attempt));
      }
    }
  }

  /** Opens one socket; resolves on the server's `ready`, rejects with the close reason. */
  private dial(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const ws = new this.options.WebSocket(this.options.url);
      ws.binaryType = 'arraybuffer';
      let ready = false;
      let refusal: string | undefined;
      let failure: string | undefined;
      ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: this.options.token }));
      // A close event follows; `ws` says why in the error (browsers say nothing).
      ws.onerror = (ev) => (failure = errorDetail(ev));
      ws.onmessage = (ev) => {
        if (typeof ev.data !== 'string') return void (ready && this.onFrame(ev.data));
        let msg: ServerMessage;
        try {
          msg = parseServerMessage(ev.data);
        } catch {
          return; // a server we do not understand: ignore the message rather than guess
        }
        if (ready) return this.onMessage(msg);
        if (msg.type === 'ready') {
          ready = true;
          this.ws = ws;
          this.info = msg;
          resolve();
        } else if (msg.type === 'error') refusal = msg.message;
      };
      ws.onclose = (ev) => {
        if (!ready) return reject(dialError(this.options.url, this.options.token, ev.code, ev.reason || refusal || '', failure));
        this.onClose(ws, closeError(ev.code, ev.reason));
      };
    });
  }

  private onMessage(msg: ServerMessage): void {
    if (msg.type === 'ready' || msg.stream === null) return;
    this.streams.get(msg.stream)?.message(msg);
  }

  private onFrame(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;
    let frame: Frame;
    try {
      frame = decodeFrame(new Uint8Array(data));
    } catch {
      return;
    }
    this.streams.get(frame.stream)?.frame(frame);
  }

  private onClose(ws: WebSocketLike, err: ProtocolError): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    if (this.closing) return;
    const lost = err instanceof UnauthorizedError ? err : new ConnectionLostError(err.message);
    for (const [id, listener] of [...this.streams]) {
      if (listener.lost(lost)) this.startWhenConnected(id, listener);
      else this.streams.delete(id);
    }
  }
}
