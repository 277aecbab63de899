import type { HeldBytes } from '../../internal/gauge.js';

/**
 * The pull-based source an upload reads from: data frames are pushed in as they arrive, the
 * store pulls them out at its own pace. A piece counts in `gauge` from arrival until the store
 * asks for the next one (so the piece it is cutting is counted too); then `consumed` reports
 * its size, which the gateway returns to the client as credit. The client never has more than
 * its credit in flight, so the queue stays bounded without ever pausing the socket.
 */
export class Inbox implements AsyncIterable<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  private current = 0;
  private ended = false;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly gauge: HeldBytes,
    private readonly consumed: (bytes: number) => void,
  ) {}

  push(piece: Uint8Array): void {
    if (this.closed || this.ended) return;
    this.gauge.add(piece.byteLength);
    this.queue.push(piece);
    this.notify();
  }

  /** No more data: the iteration finishes once the queue is drained. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Cancelled: drops everything queued, now. */
  close(): void {
    this.closed = true;
    this.ended = true;
    this.queue.length = 0;
    this.current = 0;
    this.gauge.close();
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        this.release(true); // asked for more: the previous piece is consumed
        const piece = this.queue.shift();
        if (piece) {
          this.current = piece.byteLength;
          yield piece;
        } else if (this.ended) return;
        else await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.release(false);
    }
  }

  private release(grant: boolean): void {
    const n = this.current;
    if (n === 0) return;
    this.current = 0;
    this.gauge.release(n);
    if (grant && !this.ended) this.consumed(n);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
