import type { IncomingMessage } from 'node:http';

/**
 * PATCH, DELETE and HEAD of one upload run one at a time in this process, and a newer request
 * takes over: the older one's request is destroyed, so its body ends and the engine pauses it
 * with what arrived (durable), then the newer one goes on. As in tusd: tus clients send again
 * only once they gave up on the previous request, whose connection may linger here unnoticed.
 * Another gateway's requests are not seen; the engine's offset check guards that case.
 */
export class UploadLocks {
  private readonly running = new Map<string, { req: IncomingMessage; done: Promise<void> }>();

  /** Resolves, once every earlier request of `id` here has ended, with the release function. */
  async take(id: string, req: IncomingMessage): Promise<() => void> {
    for (let r = this.running.get(id); r; r = this.running.get(id)) {
      r.req.destroy();
      await r.done;
    }
    let release!: () => void;
    this.running.set(id, { req, done: new Promise<void>((resolve) => (release = resolve)) });
    return () => {
      this.running.delete(id);
      release();
    };
  }
}
