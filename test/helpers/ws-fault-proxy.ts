import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 between a browser and the server, to cause real connection faults:
 * it forwards bytes unchanged (HTTP and WebSocket alike), tells WebSocket connections apart by
 * their upgrade request, counts their bytes each way, and on demand cuts them (both sockets
 * destroyed: the browser sees the connection drop), refuses new ones, or holds their upstream
 * bytes back.
 */
export interface Proxy {
  url: string;
  /** WebSocket connections accepted so far. */
  readonly wsConnections: number;
  /** Bytes the browser sent over WebSockets (after the upgrade request), in total. */
  readonly wsUp: number;
  /** Bytes the server sent over WebSockets, in total. */
  readonly wsDown: number;
  /** Cuts every WebSocket connection once `bytes` more bytes went up (or down) over them; resolves then. */
  cutAfter(bytes: number, direction?: 'up' | 'down'): Promise<void>;
  /** Refuse (cut at once) new WebSocket connections while true. */
  refuseWs: boolean;
  /** While set, upstream WebSocket bytes past this total are held back (released by `release`). */
  holdAfter(bytes: number): Promise<void>;
  release(): void;
  close(): Promise<void>;
}

interface Conn {
  client: net.Socket;
  upstream: net.Socket;
  ws: boolean;
  up: number;
  down: number;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const conns = new Set<Conn>();
  let wsConnections = 0;
  let wsUp = 0;
  let wsDown = 0;
  let cut: { until: number; direction: 'up' | 'down'; done: () => void } | undefined;
  let hold: { bytes: number; reached: () => void; queued: [Conn, Buffer][] } | undefined;

  const destroy = (c: Conn) => {
    c.client.destroy();
    c.upstream.destroy();
    conns.delete(c);
  };
  const checkCut = (c: Conn) => {
    if (!cut || !c.ws) return;
    if ((cut.direction === 'up' ? wsUp : wsDown) < cut.until) return;
    const { done } = cut;
    cut = undefined;
    for (const other of [...conns]) if (other.ws) destroy(other);
    done();
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const c: Conn = { client, upstream, ws: false, up: 0, down: 0 };
    conns.add(c);
    let first = true;
    client.on('data', (d: Buffer) => {
      if (first) {
        first = false;
        c.ws = /^upgrade:\s*websocket/im.test(d.subarray(0, 4096).toString('latin1'));
        if (c.ws && proxy.refuseWs) return destroy(c);
        if (c.ws) wsConnections++;
        upstream.write(d);
        return;
      }
      if (c.ws && hold && c.up + d.length > hold.bytes) {
        hold.queued.push([c, d]);
        hold.reached();
        return;
      }
      if (c.ws) {
        c.up += d.length;
        wsUp += d.length;
      }
      upstream.write(d);
      checkCut(c);
    });
    upstream.on('data', (d: Buffer) => {
      if (c.ws) {
        c.down += d.length;
        wsDown += d.length;
      }
      client.write(d);
      checkCut(c);
    });
    // Forwarding without backpressure is fine here: tests move a few MB at most.
    for (const s of [client, upstream]) {
      s.on('error', () => destroy(c));
      s.on('close', () => destroy(c));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const proxy: Proxy = {
    url: `http://127.0.0.1:${port}`,
    get wsConnections() {
      return wsConnections;
    },
    get wsUp() {
      return wsUp;
    },
    get wsDown() {
      return wsDown;
    },
    refuseWs: false,
    cutAfter: (bytes, direction = 'up') =>
      new Promise<void>((done) => (cut = { until: bytes + (direction === 'up' ? wsUp : wsDown), direction, done })),
    holdAfter: (bytes) =>
      new Promise<void>((reached) => {
        let told = false;
        hold = { bytes, queued: [], reached: () => (told ? undefined : ((told = true), reached())) };
      }),
    release() {
      const h = hold;
      hold = undefined;
      for (const [c, d] of h?.queued ?? []) {
        if (!conns.has(c)) continue;
        c.up += d.length;
        wsUp += d.length;
        c.upstream.write(d);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of [...conns]) destroy(c);
        server.close(() => resolve());
      }),
  };
  return proxy;
}
