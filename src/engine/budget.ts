import { ChunkstreamError, InvalidOptionError } from '../errors.js';

/** Default server-wide budget; raised to fit one transfer if the chunk size needs more. */
export const DEFAULT_MAX_TRANSFER_BYTES = 1024 ** 3;
/**
 * Default share of the budget one client (a token, else an address) may hold: without a share, 51 stalled
 * clients from one address could hold all of it, and every other upload would get 503.
 */
export const DEFAULT_MAX_CLIENT_SHARE = 0.25;

/** A transfer was refused because the server's transfer budget is spent (HTTP 503, Retry-After). */
export class BusyError extends ChunkstreamError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
    message = `the server is busy: a transfer needs ${bytes} bytes of its ${limit}-byte transfer budget (maxTransferBytes), retry later`,
  ) {
    super('busy', message);
  }
}

/** One transfer's share of the budget. `release()` is idempotent and may be passed around detached. */
export interface Reservation {
  readonly bytes: number;
  readonly release: () => void;
  /**
   * Gives back what the transfer can no longer use (a download near its end holds at most its
   * remaining chunks): the reservation becomes min(its bytes, `bytes`). Never grows.
   */
  readonly shrink?: (bytes: number) => void;
}

/**
 * Admission control for the whole server (HTTP and WebSocket share one): every transfer reserves
 * its worst-case memory bound before it starts and gives it back when it ends, so the sum of what
 * transfers may hold never exceeds `limit`, however many sockets and streams clients open. It is
 * arithmetic on declared bounds, not a measurement: deterministic, no timing involved.
 */
export class TransferBudget {
  reserved = 0;
  /** Bytes reserved per client key, for the clients holding some now. */
  private readonly byClient = new Map<string, number>();
  /** What one client may hold at once: `clientShare` of the limit. */
  readonly clientLimit: number;
  /** Most ever reserved at once (writable, so tests can measure one phase). */
  peak = 0;
  /** Transfers holding a reservation now. */
  transfers = 0;

  /** Told of every refusal (metrics count them). */
  onRefused: ((err: BusyError) => void) | undefined;
  private draining: { idle: Promise<void>; resolve: () => void } | undefined;

  constructor(
    readonly limit: number,
    /** Share of `limit` one client may hold (0 < share ≤ 1); 1: no per-client limit. */
    readonly clientShare = 1,
  ) {
    if (!(clientShare > 0 && clientShare <= 1)) throw new InvalidOptionError('maxClientShare', `must be in (0, 1] (got ${clientShare})`);
    this.clientLimit = Math.floor(limit * clientShare);
  }

  /**
   * Reserves `bytes` or throws BusyError. A transfer larger than the whole budget is admitted
   * only alone; `client` (a token's or an address's key) may hold at most `clientLimit`, except
   * that its first transfer always fits its share (so the share never forbids one transfer).
   */
  reserve(bytes: number, client?: string): Reservation {
    const fits = !this.draining && (this.reserved + bytes <= this.limit || (this.transfers === 0 && bytes > this.limit));
    const clientHeld = client === undefined ? 0 : (this.byClient.get(client) ?? 0);
    const withinShare = clientHeld === 0 || clientHeld + bytes <= this.clientLimit;
    if (!fits || !withinShare) {
      const err = this.draining
        ? this.drainingError(bytes)
        : fits
          ? new BusyError(
              bytes,
              this.limit,
              `the server is busy for this client: it holds ${clientHeld} bytes of its ${this.clientLimit}-byte share of the transfer budget (maxClientShare ${this.clientShare}), retry when one of its transfers ended`,
            )
          : new BusyError(bytes, this.limit);
      this.onRefused?.(err);
      throw err;
    }
    this.reserved += bytes;
    this.transfers++;
    if (client !== undefined) this.byClient.set(client, clientHeld + bytes);
    if (this.reserved > this.peak) this.peak = this.reserved;
    let released = false;
    let held = bytes;
    const giveBack = (n: number) => {
      held -= n;
      this.reserved -= n;
      if (client === undefined) return;
      const left = (this.byClient.get(client) ?? n) - n;
      if (left > 0) this.byClient.set(client, left);
      else this.byClient.delete(client);
    };
    return {
      get bytes() {
        return held;
      },
      release: () => {
        if (released) return;
        released = true;
        giveBack(held);
        this.transfers--;
        if (this.transfers === 0) this.draining?.resolve();
      },
      shrink: (to: number) => {
        if (!released && to >= 0 && to < held) giveBack(held - to);
      },
    };
  }

  /** Bytes `client` holds now. */
  heldBy(client: string): number {
    return this.byClient.get(client) ?? 0;
  }

  /** The refusal while draining (also for what is not a transfer: a new WebSocket, a health check). */
  drainingError(bytes = 0): BusyError {
    return new BusyError(bytes, this.limit, 'the server is shutting down: it finishes the transfers in flight and takes no new ones');
  }

  /** Whether drain() was called: every new reservation is refused. */
  get isDraining(): boolean {
    return this.draining !== undefined;
  }

  /** Refuses every new reservation from now on (busy); resolves once no transfer holds one. */
  drain(): Promise<void> {
    if (!this.draining) {
      let resolve!: () => void;
      const idle = new Promise<void>((r) => (resolve = r));
      this.draining = { idle, resolve };
      if (this.transfers === 0) resolve();
    }
    return this.draining.idle;
  }
}

export interface TransferShape {
  chunkSize: number;
  uploadConcurrency: number;
  downloadConcurrency: number;
  /** The WebSocket window: download read-ahead and upload credit, in chunks. */
  window: number;
}

/**
 * Upload: the engine's (uploadConcurrency + 1) chunks, plus `credit` chunks queued by the gateway
 * (WS). With a known `size`, never more slabs than the file has chunks, and never more queued
 * than the file has bytes: a 5-byte PUT holds one slab, not uploadConcurrency + 1.
 */
export function uploadBound(s: Pick<TransferShape, 'chunkSize' | 'uploadConcurrency'>, creditChunks: number, size?: number): number {
  const slabs = s.uploadConcurrency + 1;
  if (size === undefined) return (slabs + creditChunks) * s.chunkSize;
  const chunks = Math.max(1, Math.ceil(size / s.chunkSize));
  return Math.min(slabs, chunks) * s.chunkSize + Math.min(creditChunks * s.chunkSize, size);
}

/**
 * Download of `range` (inclusive, or the whole file) reading `ahead` chunks ahead: at most
 * ahead + 1 chunks of the file are held (read ahead + one in transit). Small files and ranges
 * reserve only the chunks they cover, so many tiny downloads do not look like big ones.
 */
export function downloadBound(
  m: { size: number; chunkSize: number; chunks: readonly { size: number }[] },
  range: { start: number; end: number } | undefined,
  ahead: number,
): number {
  if (m.size === 0) return 0;
  const first = Math.floor((range?.start ?? 0) / m.chunkSize);
  const last = Math.floor((range?.end ?? m.size - 1) / m.chunkSize);
  const held = ahead + 1;
  if (last - first + 1 > held) return held * m.chunkSize;
  let sum = 0;
  for (let i = first; i <= last; i++) sum += m.chunks[i]?.size ?? m.chunkSize;
  return sum;
}

/** The largest single reservation the server's own settings produce: the budget must fit it. */
export function minimumBudget(s: TransferShape): number {
  return Math.max(uploadBound(s, s.window), (Math.max(s.downloadConcurrency, s.window) + 1) * s.chunkSize);
}

/**
 * The budget for these settings: `given`, which must fit one transfer of each kind (else an
 * InvalidOptionError naming maxTransferBytes), or the default raised to that minimum.
 */
export function resolveBudgetLimit(given: number | undefined, s: TransferShape): number {
  const min = minimumBudget(s);
  if (given === undefined) return Math.max(DEFAULT_MAX_TRANSFER_BYTES, min);
  if (given < min) {
    throw new InvalidOptionError(
      'maxTransferBytes',
      `must be at least ${min} bytes: one upload may hold (uploadConcurrency ${s.uploadConcurrency} + 1 + window ${s.window}) chunks, ` +
        `a download (concurrency + 1) chunks, of ${s.chunkSize} bytes (got ${given})`,
    );
  }
  return given;
}
