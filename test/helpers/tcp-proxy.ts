import net from 'node:net';

/**
 * A TCP proxy in front of a server on 127.0.0.1, counting the bytes it forwards each way. It can
 * hold bytes back: once `up` (client → server) or `down` (server → client) reaches its limit,
 * the rest waits (the sender sees backpressure) until `release()`, or the connections are `cut()`.
 * Counts are of bytes forwarded, so a test can say how much a client sent or received.
 */
export interface TcpProxy {
  url: string;
  up: number;
  down: number;
  /** Lets everything through from now on (held bytes too). */
  release(): void;
  /** Resets every connection (a dropped network). */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, limits: { up?: number; down?: number } = {}): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const held: (() => void)[] = [];
  let released = false;

  const forward = (from: net.Socket, to: net.Socket, dir: 'up' | 'down') => {
    from.on('data', (chunk: Buffer) => {
      const limit = released ? Infinity : (limits[dir] ?? Infinity);
      const room = Math.max(0, limit - proxy[dir]);
      const now = chunk.subarray(0, room);
      if (now.length) {
        proxy[dir] += now.length;
        to.write(now);
      }
      if (now.length < chunk.length) {
        from.pause();
        const rest = chunk.subarray(now.length);
        held.push(() => {
          proxy[dir] += rest.length;
          to.write(rest);
          from.resume();
        });
      }
    });
    from.on('end', () => to.end());
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream, 'up');
    forward(upstream, client, 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: TcpProxy = {
    url: `http://127.0.0.1:${port}`,
    up: 0,
    down: 0,
    release() {
      released = true;
      held.splice(0).forEach((h) => h());
    },
    cut() {
      for (const s of sockets) s.resetAndDestroy();
    },
    async close() {
      this.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
