import type { RawData, WebSocket } from 'ws';
import { toChunkstreamError } from '../../errors.js';
import { publicMessage } from '../public-error.js';
import {
  AuthTimeoutError,
  CloseCode,
  MalformedMessageError,
  StreamInUseError,
  TooManyStreamsError,
  UnauthorizedError,
  toWireCode,
  type ProtocolError,
} from '../../protocol/errors.js';
import { FrameType, decodeFrame, type Frame } from '../../protocol/frames.js';
import { MessageRejection, PROTOCOL_VERSION, parseClientMessage, type ClientMessage, type ServerMessage } from '../../protocol/messages.js';
import type { Reservation } from '../../engine/budget.js';
import { copiesOnWrite } from '../lending.js';
import { startDownload } from './download.js';
import type { WsPeer } from '../ops/access-log.js';
import type { GatewayShared, StreamContext, StreamHandle } from './types.js';
import { startRequest } from './requests.js';
import { Outbox } from './outbox.js';
import { startUpload } from './upload.js';

/** Default bound on what one client can make the server track (docs/protocol.md § Streams; --max-ws-streams). */
export const MAX_STREAMS = 256;
export const AUTH_DEADLINE_MS = 10_000;
const decoder = new TextDecoder();

export class WsConnection {
  private readonly streams = new Map<number, StreamHandle>();
  /** Budget reservations of this connection's streams: any left when the socket closes are released. */
  private readonly reservations = new Set<Reservation>();
  private readonly out: Outbox;
  private authTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private alive = true;
  private readonly lend: boolean;
  /** Streams opened on this connection so far (the close log line). */
  opened = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly shared: GatewayShared,
    private authenticated: boolean,
    private readonly peer: WsPeer = { id: '-' },
  ) {
    this.out = new Outbox(ws);
    this.lend = copiesOnWrite((ws as unknown as { _socket?: unknown })._socket); // ws keeps its socket there
    ws.on('error', () => undefined); // ws closes the socket itself (1002, 1007, 1009); 'close' follows
    ws.on('close', () => {
      this.teardown();
      // Streams release their own reservations (a download once its last frame's send callback
      // ran); whatever a stream still holds when its socket is gone is released here, never leaked.
      for (const r of this.reservations) r.release();
      this.reservations.clear();
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    if (authenticated) this.ready();
    else {
      this.authTimer = setTimeout(() => this.refuse(new AuthTimeoutError(AUTH_DEADLINE_MS)), AUTH_DEADLINE_MS);
      this.authTimer.unref();
    }
  }

  /** Cancels every stream, then closes with 1001 (terminating a peer that does not answer). */
  async shutdown(): Promise<void> {
    this.teardown();
    if (this.ws.readyState === this.ws.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(CloseCode.GOING_AWAY, 'server shutting down');
      setTimeout(() => this.ws.terminate(), 2000).unref();
    });
  }

  /** Called every HEARTBEAT_MS: a peer silent since the last ping (half-open TCP) is dropped. */
  heartbeat(): void {
    if (!this.alive) return this.ws.terminate();
    this.alive = false;
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }

  private teardown(): void {
    this.closed = true;
    clearTimeout(this.authTimer);
    const handles = [...this.streams.values()];
    this.streams.clear();
    for (const h of handles) h.cancel();
  }

  private ready(): void {
    this.send({ type: 'ready', version: PROTOCOL_VERSION, maxFrameBytes: this.shared.maxFrameBytes, window: this.shared.window });
  }

  private refuse(err: ProtocolError): void {
    this.sendError(null, err);
    this.teardown();
    // A close reason is at most 123 bytes of UTF-8: keep it ASCII and short.
    this.ws.close(err.closeCode, err.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 120));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    this.alive = true;
    let stream: number | null = null;
    try {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      if (!this.authenticated) return this.authenticate(bytes, isBinary);
      if (isBinary) {
        const frame = decodeFrame(bytes);
        stream = frame.stream;
        this.onFrame(frame);
      } else {
        const msg = parseClientMessage(decoder.decode(bytes));
        stream = 'stream' in msg ? msg.stream : null;
        this.onControl(msg);
      }
    } catch (err) {
      this.sendError(err instanceof MessageRejection ? err.stream : stream, err);
    }
  }

  private authenticate(bytes: Uint8Array, isBinary: boolean): void {
    let msg: ClientMessage | undefined;
    try {
      msg = isBinary ? undefined : parseClientMessage(decoder.decode(bytes));
    } catch {
      msg = undefined;
    }
    if (msg?.type !== 'auth') return this.refuse(new UnauthorizedError('the first message must be {"type":"auth","token":"…"}'));
    if (!this.shared.tokens.check(msg.token))
      return this.refuse(new UnauthorizedError(msg.token === '' ? 'a token is required' : 'invalid token'));
    this.authenticated = true;
    clearTimeout(this.authTimer);
    this.ready();
  }

  private onFrame(frame: Frame): void {
    if (frame.type !== FrameType.UPLOAD_DATA)
      throw new MalformedMessageError('frame.type', 'clients send only upload data frames (type 1)');
    this.live(frame.stream, 'upload')?.data!(frame);
  }

  private onControl(msg: ClientMessage): void {
    switch (msg.type) {
      case 'auth':
        return; // already authenticated (header, or auth off): harmless
      case 'upload':
        return this.open(msg.stream, msg.type, (ctx) => startUpload(ctx, msg));
      case 'download':
        return this.open(msg.stream, msg.type, (ctx) => startDownload(ctx, msg));
      case 'list':
      case 'stat':
      case 'remove':
      case 'status':
        return this.open(msg.stream, msg.type, (ctx) => startRequest(ctx, msg));
      case 'end':
        return this.live(msg.stream, 'upload')?.end!();
      case 'credit':
        return this.live(msg.stream, 'download')?.credit!(msg.chunks);
      case 'cancel': {
        const handle = this.streams.get(msg.stream);
        this.streams.delete(msg.stream);
        if (msg.discard) handle?.discard?.();
        handle?.cancel();
        // Always answered, so a client knows nothing more will come for this id.
        return this.send({ type: 'cancelled', stream: msg.stream });
      }
    }
  }

  /**
   * The running transfer of that kind on `stream`, or undefined: data frames, `end` and `credit`
   * for a stream that is over (or that the id now names another kind of) are dropped, not
   * answered. They are late — sent before the client saw the stream's final message — and an
   * `error` for them would reach the client after it reused the id, failing the new stream.
   * (TCP keeps order: anything sent after the client reopened an id reaches the new stream.)
   */
  private live(stream: number, kind: StreamHandle['kind']): StreamHandle | undefined {
    const handle = this.streams.get(stream);
    return handle?.kind === kind ? handle : undefined;
  }

  private open(stream: number, type: string, start: (ctx: StreamContext) => StreamHandle): void {
    this.opened++;
    const log = this.shared.log?.stream(this.peer, stream, type);
    const max = this.shared.maxStreams;
    const refused = this.streams.has(stream)
      ? new StreamInUseError(stream)
      : this.streams.size >= max
        ? new TooManyStreamsError(max)
        : undefined;
    if (refused) {
      log?.end({ outcome: 'error', error: refused });
      throw refused;
    }
    let handle: StreamHandle | undefined;
    let over = false;
    const finish = () => {
      over = true;
      log?.end({ outcome: 'ok' });
      if (handle && this.streams.get(stream) === handle) this.streams.delete(stream);
    };
    const ctx: StreamContext = {
      stream,
      lend: this.lend,
      meter: log?.meter ?? { protocol: 'ws', bytes: 0 },
      shared: this.shared,
      send: (msg) => this.send(msg),
      sendFrame: (frame, sent) => this.out.frame(frame, sent),
      finish,
      reserve: (bytes) => {
        const r = this.shared.budget.reserve(bytes, this.peer.client);
        this.reservations.add(r);
        return {
          bytes,
          release: () => {
            this.reservations.delete(r);
            r.release();
          },
          shrink: r.shrink,
        };
      },
      fail: (err) => {
        if (over) return;
        log?.end({ outcome: 'error', error: err });
        ctx.meter.stoppedBy ??= err; // a transfer still running ends failed with this, as the log says
        finish();
        handle?.cancel();
        this.sendError(stream, err);
      },
    };
    let started: StreamHandle;
    try {
      started = start(ctx);
    } catch (err) {
      log?.end({ outcome: 'error', error: err }); // refused at once (busy): answered by onMessage
      throw err;
    }
    // Cancelled from outside (cancel message, socket closed): nothing more goes out for it.
    handle = { ...started, cancel: () => ((over = true), log?.end({ outcome: 'cancelled' }), started.cancel()) };
    if (!over) this.streams.set(stream, handle);
  }

  private send(msg: ServerMessage): void {
    this.out.json(msg);
  }

  private sendError(stream: number | null, err: unknown): void {
    const e = toChunkstreamError(err);
    this.send({ type: 'error', stream, code: toWireCode(e.code), message: publicMessage(e) });
  }
}
