import type { Store } from '../../engine/store.js';
import type { Frame } from '../../protocol/frames.js';
import type { ServerMessage } from '../../protocol/messages.js';
import type { TokenChecker } from '../auth.js';
import type { Reservation, TransferBudget } from '../../engine/budget.js';
import type { TransferMeter } from '../../engine/observer.js';
import type { WsLog } from '../ops/access-log.js';

/** What all connections of one gateway share. */
export interface GatewayShared {
  store: Store;
  tokens: TokenChecker;
  maxFrameBytes: number;
  window: number;
  /** Server-wide admission control: transfers reserve their bound here (engine/budget.ts). */
  budget: TransferBudget;
  /** Upload id → takes the upload away from the stream writing it (a resume elsewhere wins). */
  uploads: Map<string, (uploadId: string) => void>;
  /** Streams one connection may have open at once (--max-ws-streams). */
  maxStreams: number;
  /** A download stream that sends nothing this long (no credit, or a socket that does not drain) fails with `timeout`. */
  sendTimeoutMs: number;
  /** One access log line per stream; none without it. */
  log?: WsLog;
}

/** One transfer or request on a connection, by stream id. */
export interface StreamHandle {
  readonly kind: 'upload' | 'download' | 'request';
  /** Stops at once: unsubscribes the store pipeline, releases what it holds. Idempotent. */
  cancel(): void;
  /** An upload's client gave it up for good (`cancel {discard: true}`): set before cancel, its session goes too. */
  discard?(): void;
  data?(frame: Frame): void;
  end?(): void;
  credit?(chunks: number): void;
}

/** What a stream may do on its connection. */
export interface StreamContext {
  readonly stream: number;
  readonly shared: GatewayShared;
  /** The socket copies what it writes before the send callback: downloads may send from the engine's own buffers. */
  readonly lend: boolean;
  /** Labels the stream's transfer (`ws`) and counts its bytes for the log. */
  readonly meter: TransferMeter;
  send(msg: ServerMessage): void;
  /** A binary frame as one message, not copied; `sent` runs once ws flushed it (or failed). */
  sendFrame(frame: Uint8Array, sent: () => void): void;
  /** The stream is over: its id may be reused. */
  finish(): void;
  /** Reports `err` on the stream, cancels it and frees its id. */
  fail(err: unknown): void;
  /**
   * Reserves `bytes` of the server's transfer budget (throws BusyError when it does not fit).
   * The stream releases it when it ends; the connection releases any left when its socket closes.
   */
  reserve(bytes: number): Reservation;
}
