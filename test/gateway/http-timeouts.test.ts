import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/gateway/server.js';
import { createMemoryStore, openStore, type Store } from '../../src/index.js';
import { tempDir } from '../helpers/core.js';

// Slow or stalled clients must not pin a socket (and an upload's buffers) forever.
let running: RunningServer | undefined;
let store: Store | undefined;
let dir: string | undefined;

afterEach(async () => {
  await running?.close();
  await store?.close();
  running = store = dir = undefined;
});

async function start(o: { headersTimeoutMs?: number; bodyIdleTimeoutMs?: number }) {
  dir = await tempDir('http-timeouts');
  store = openStore({ chunkStore: createMemoryStore(), chunkSize: 64 * 1024 });
  running = await startServer({ store, port: 0, host: '127.0.0.1', dir, ...o });
  return running;
}

/** A raw socket: everything it received, and a promise for its close. */
function connect(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  let text = '';
  sock.on('data', (d) => (text += d.toString('latin1')));
  sock.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  const opened = new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  return { sock, opened, closed, received: () => text };
}

describe('HTTP timeouts', () => {
  it('a client trickling its headers (slowloris) is disconnected by headersTimeout', async () => {
    const r = await start({ headersTimeoutMs: 200 });
    expect(r.server.headersTimeout).toBe(200); // Node's default with requestTimeout 0 was 0: off
    const c = connect(r.port);
    await c.opened;
    c.sock.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n'); // never the blank line
    // Keep trickling header bytes until the server gives up (bounded: fails if it never does).
    let cut = false;
    void c.closed.then(() => (cut = true));
    for (let i = 0; i < 400 && !cut; i++) {
      if (!c.sock.destroyed) c.sock.write(`X-Slow-${i}: a\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(cut).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a socket that connects and sends nothing, or one byte, is closed too (fd exhaustion)', async () => {
    const r = await start({ headersTimeoutMs: 200 });
    const silent = connect(r.port);
    const oneByte = connect(r.port);
    await Promise.all([silent.opened, oneByte.opened]);
    oneByte.sock.write('G');
    await Promise.all([silent.closed, oneByte.closed]); // a socket left open fails the test by its timeout
    // A prompt request on a fresh socket is unaffected.
    const ok = connect(r.port);
    await ok.opened;
    ok.sock.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await ok.closed;
    expect(ok.received()).toMatch(/^HTTP\/1\.1 200/);
  }, 15_000); // a socket the server never closes fails here

  it('an upload whose client stalls mid-body gets 408 timeout; nothing committed, nothing held', async () => {
    const r = await start({ bodyIdleTimeoutMs: 300 });
    const c = connect(r.port);
    await c.opened;
    c.sock.write('PUT /v1/files?name=stalled.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n');
    c.sock.write(Buffer.alloc(100_000, 7)); // then nothing more, socket left open
    await c.closed; // the server closes the connection after the 408
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
    const body = c.received().slice(c.received().indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body).error.code).toBe('timeout');
    expect(store!.gauge.held).toBe(0);
    expect(await store!.list()).toEqual([]);
  }, 15_000);

  it('a slow-but-steady upload body is not cut by the idle limit', async () => {
    const r = await start({ bodyIdleTimeoutMs: 2000 });
    const c = connect(r.port);
    await c.opened;
    const piece = Buffer.alloc(10_000, 1);
    c.sock.write(
      `PUT /v1/files?name=slow.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: ${piece.length * 8}\r\n\r\n`,
    );
    for (let i = 0; i < 8; i++) {
      c.sock.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 100)); // well under the idle limit each time
    }
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 201/);
    expect((await store!.list()).map((f) => f.size)).toEqual([80_000]);
  });
});
