import { Worker } from 'node:worker_threads';
import { InternalError } from '../errors.js';
import { collectGarbage, onCollect } from './reclaim.js';

// Relative to internal/ whether this module is itself (tsc output, tests) or inlined into a bundle.
const THREAD = new URL('../internal/hash-thread.js', import.meta.url);

export type Task = Record<string, unknown>;

/**
 * One hash thread. Its tasks run in the order they were posted (postMessage is FIFO and the thread
 * handles one message at a time). Ref'd only while a task is pending, so an idle thread never
 * keeps the process alive; if it dies, its pending tasks fail and the next task starts a new
 * thread (a whole-file hash that lived on the old one then fails its next update: its state is
 * gone, and hash-task.js refuses updates out of sequence).
 */
export class HashThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextReq = 1;
  private retired = false;

  /** Tasks posted and not answered: how busy the thread is. */
  get load(): number {
    return this.pending.size;
  }

  run(task: Task): Promise<unknown> {
    const worker = this.thread();
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...task, req });
    });
  }

  /** Stops the thread once its pending tasks are done. */
  retire(): void {
    this.retired = true;
    if (this.pending.size === 0) void this.worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    collectGarbage(); // before the thread's isolate exists, so it has `gc` too (reclaim.ts)
    const worker = new Worker(THREAD);
    // The thread holds its own handle on every slab it hashed: it must collect for a dropped slab's memory to go.
    const offCollect = onCollect(() => worker.postMessage({ op: 'gc' }));
    const fail = (err: Error) => {
      offCollect();
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('message', (m: { req: number; value?: unknown; error?: string }) => {
      const p = this.pending.get(m.req);
      if (!p) return;
      this.pending.delete(m.req);
      if (this.pending.size === 0) {
        worker.unref();
        if (this.retired) void worker.terminate();
      }
      if (m.error !== undefined) p.reject(new InternalError(`hash thread: ${m.error}`));
      else p.resolve(m.value);
    });
    worker.on('error', (err) => fail(new InternalError(`hash thread: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => fail(new InternalError(`hash thread exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

/** A fixed set of hash threads, started on first use: digests go to the least busy one. */
export class HashThreads {
  private readonly threads: HashThread[] = [];

  constructor(readonly size: number) {}

  /** The least busy thread (ties: the first), starting threads up to `size` as work arrives. */
  pick(): HashThread {
    let best: HashThread | undefined;
    for (const t of this.threads) if (!best || t.load < best.load) best = t;
    if ((!best || best.load > 0) && this.threads.length < this.size) {
      best = new HashThread();
      this.threads.push(best);
    }
    return best!;
  }

  /** Round robin, for pinning a stream to one thread for its whole life. */
  private next = 0;
  pin(): HashThread {
    while (this.threads.length < this.size) this.threads.push(new HashThread());
    return this.threads[this.next++ % this.threads.length]!;
  }

  retire(): void {
    for (const t of this.threads) t.retire();
  }
}
