import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK, request, socketPair, startTestServer, upload, type TestServer } from '../helpers/http-server.js';

/**
 * Memory bound of a download, as the store's gauge counts it: `downloadConcurrency` chunks read
 * ahead + 1 chunk written to the response and not yet taken by the socket. Not counted (and
 * not ours to bound): what the kernel's socket buffers hold, and less than the response's
 * highWaterMark (16 KiB) of userland slack after a write() that returned true.
 */
const N = 2;
const BOUND = (N + 1) * CHUNK;
const CHUNKS = 64;

let t: TestServer;
let data: Buffer;
let id: string;
beforeAll(async () => {
  t = await startTestServer({ downloadConcurrency: N });
  data = randomBytes(CHUNKS * CHUNK);
  id = (await upload(t.url, 'big.bin', data)).id;
});
afterAll(async () => {
  await t?.close();
});

/** Resolves once `n` more chunk reads have settled (an event of the backend, not a timer). */
function settledReads(n: number): Promise<void> {
  const target = t.reads.settled + n;
  return new Promise((resolve) => {
    t.reads.onSettled = () => {
      if (t.reads.settled >= target) {
        t.reads.onSettled = undefined;
        resolve();
      }
    };
  });
}

const freshPeak = () => (t.store.gauge.peak = t.store.gauge.held); // the upload's peak is not ours

describe('HTTP download backpressure', () => {
  it('a reader that takes nothing stops the reads at N + 1 chunks (in-memory socket, no kernel buffers)', async () => {
    freshPeak();
    const started = t.reads.started;
    const [client, serverSide] = socketPair();
    t.running.server.emit('connection', serverSide);
    const firstReads = settledReads(N + 1);
    client.write(`GET /v1/files/${id} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    await firstReads;
    // Deliveries of the settled reads ran before onSettled (it is scheduled with setImmediate):
    // a server ignoring write()'s return would already have started more reads than this.
    expect(t.reads.started - started).toBeLessThanOrEqual(N + 2);
    expect(t.store.gauge.held).toBeLessThanOrEqual(BOUND);

    // Now read everything: the bytes are right and the bound held throughout.
    const parts: Buffer[] = [];
    let total = 0;
    await new Promise<void>((resolve, reject) => {
      client.on('data', (d: Buffer) => {
        parts.push(d);
        total += d.length;
        const head = Buffer.concat(parts).indexOf('\r\n\r\n');
        if (head >= 0 && total - head - 4 >= data.length) resolve();
      });
      client.on('error', reject);
    });
    const all = Buffer.concat(parts);
    const body = all.subarray(all.indexOf('\r\n\r\n') + 4);
    expect(all.subarray(0, 15).toString()).toBe('HTTP/1.1 200 OK');
    expect(body.equals(data)).toBe(true);
    expect(t.reads.started - started).toBe(CHUNKS); // each chunk read once
    expect(t.store.gauge.peak).toBeLessThanOrEqual(BOUND);
    client.destroy();
  });

  it('a slow TCP reader (paused response) keeps store.gauge.peak within (N + 1) × chunkSize', async () => {
    freshPeak();
    const ahead = settledReads(N + 1); // registered first: the server may run ahead before we see headers
    const body = await new Promise<Buffer>((resolve, reject) => {
      const read = async (res: http.IncomingMessage) => {
        res.pause();
        await ahead; // the server reads ahead until the socket pushes back
        const parts: Buffer[] = [];
        try {
          for await (const piece of res) {
            parts.push(piece as Buffer);
            await new Promise((r) => setImmediate(r)); // consume slower than the server produces
          }
          resolve(Buffer.concat(parts));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
      const req = http.get(`${t.url}/v1/files/${id}`, { agent: false }, (res) => void read(res));
      req.on('error', reject);
    });
    expect(body.equals(data)).toBe(true);
    expect(t.store.gauge.peak).toBeLessThanOrEqual(BOUND);
    expect(t.store.gauge.held).toBe(0);
  });

  it('a client disconnecting mid-download cancels the reads; the server keeps serving', async () => {
    freshPeak();
    let inflightAborted: boolean[] = [];
    const serverClosed = new Promise<void>((resolve) => {
      t.running.server.once('request', (_req, res: http.ServerResponse) => {
        // Registered after the handler's own 'close' listener: this runs once it has reacted.
        res.once('close', () => {
          inflightAborted = [...t.reads.inflight].map((s) => s.aborted);
          resolve();
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${t.url}/v1/files/${id}`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy(); // mid-body: the server has more to send
          resolve();
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    });
    await serverClosed;
    expect(inflightAborted.every(Boolean)).toBe(true);
    expect(t.store.gauge.held).toBe(0);
    expect(t.running.server.listening).toBe(true);

    const again = await request(`${t.url}/v1/files/${id}`, { headers: { Range: 'bytes=100-199' } });
    expect(again.status).toBe(206);
    expect(again.body.equals(data.subarray(100, 200))).toBe(true);
    expect(t.store.gauge.held).toBe(0);
  });
});
