import { abortError } from './abort.js';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * A counting semaphore served first come, first served: `acquire` resolves once fewer than
 * `limit` holders remain. FIFO matters to its users: the download's chunk i asks for room before
 * chunk i + 1, so the chunk the consumer waits for is never starved by the ones behind it.
 * A waiter whose signal aborts leaves the queue at once with an AbortError (no listener left behind).
 */
export class Limiter {
  private held = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly limit: number) {}

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.held < this.limit && this.waiting.length === 0) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiting.push(w);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (!next) {
      this.held--;
      return;
    }
    next.signal?.removeEventListener('abort', next.onAbort!);
    next.resolve(); // the freed place passes straight to the next waiter
  }
}
