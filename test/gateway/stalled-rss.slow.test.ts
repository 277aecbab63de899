import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bytes, tempDir } from '../helpers/core.js';
import { eventually } from '../helpers/eventually.js';
import { assertBuilt, cli, serve, type ServeChild } from '../helpers/http-cli.js';

const MiB = 1024 * 1024;
const BUDGET = 256 * MiB;
/** The slab cache (internal/slabs.ts) and the garbage a collection may wait for (internal/reclaim.ts). */
const CACHES = 128 * MiB + 64 * MiB;
/** What a serve process holds besides transfers and caches: code, heap, sockets. Stated in docs/architecture.md. */
const CONSTANT = 160 * MiB;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

async function reserved(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^chunkstream_transfer_budget_reserved_bytes (\S+)/m.exec(text)?.[1] ?? NaN);
}

/**
 * Issue 20's stalled-download rounds against the built `serve`: clients that ask for a file and
 * never read it, then go away. Before slabs were reclaimed (reclaim.ts) and mapped on their own
 * (slabs.ts), RSS grew by about the budget every round and never came back (3 GB after 4 rounds
 * of a 1 GiB budget); the budget's counters said 0 all along, so only RSS can tell.
 */
describe('stalled downloads give their memory back (RSS of the serve process)', () => {
  let server: ServeChild;
  let id: string;
  let pid: number;
  let start: number;

  beforeAll(async () => {
    assertBuilt();
    const dir = await tempDir('stalled-rss');
    const file = path.join(dir, 'f24');
    await writeFile(file, bytes(24 * MiB, 7));
    const store = path.join(dir, 'store');
    const put = await cli(['put', '--dir', store, '--json', file]);
    expect(put.code, put.stderr).toBe(0);
    id = (JSON.parse(put.stdout.toString()) as { id: string }).id;
    server = await serve([
      '--dir',
      store,
      '--port',
      '0',
      '--metrics-public',
      '--max-transfer-bytes',
      String(BUDGET),
      '--max-client-share',
      '100%',
    ]);
    pid = server.child.pid!;
    start = rssOf(pid);
  });
  afterAll(() => server?.stop());

  it('four rounds of non-readers: RSS stays within budget + caches + constant, and comes back after', async () => {
    const port = Number(new URL(server.url).port);
    let peak = 0;
    for (let round = 0; round < 4; round++) {
      // More clients than the budget admits: the rest are refused (503), as they should be.
      const sockets = Array.from({ length: 16 }, () => {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.on('error', () => undefined);
        s.on('connect', () => {
          s.write(`GET /v1/files/${id} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
          s.pause(); // never reads: the server's writes back up into its own buffers
        });
        return s;
      });
      // The budget full: every admitted download holds its read-ahead.
      await eventually(async () => (await reserved(server.url)) > BUDGET - 20 * MiB, 'the budget filled');
      await eventually(() => {
        peak = Math.max(peak, rssOf(pid));
        return true;
      }, 'RSS sampled');
      for (const s of sockets) s.destroy();
      await eventually(async () => (await reserved(server.url)) === 0, 'every reservation released');
    }
    expect(peak).toBeLessThanOrEqual(start + BUDGET + CACHES + CONSTANT);
    // Back within 64 MiB of the start once the process is idle (the slab cache's idle trim, then a collection).
    await eventually(() => rssOf(pid) <= start + 64 * MiB, 'RSS back within 64 MiB of its start', { timeoutMs: 60_000, intervalMs: 500 });
  }, 180_000);

  it('a mixed load with aborted HTTP and WebSocket downloads mid-body: RSS comes back after', async () => {
    const port = Number(new URL(server.url).port);
    let peak = 0;
    const sample = () => (peak = Math.max(peak, rssOf(pid)));
    // A curl that goes away after the first bytes of the body.
    const cutGet = () =>
      new Promise<void>((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1' });
        let got = 0;
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.on('data', (d: Buffer) => {
          if ((got += d.length) <= 5 * MiB) return;
          sample();
          s.destroy();
        });
        s.write(`GET /v1/files/${id} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      });
    // An SDK-like WebSocket reader that drops its socket after the first chunk frame.
    const cutWs = () =>
      new Promise<void>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`);
        ws.on('error', () => resolve());
        ws.on('close', () => resolve());
        ws.on('open', () => ws.send(JSON.stringify({ type: 'download', stream: 1, id, credit: 4 })));
        ws.on('message', (_d, binary) => {
          if (!binary) return;
          sample();
          ws.terminate();
        });
      });
    const wholeGet = async () => {
      const r = await fetch(`${server.url}/v1/files/${id}`);
      const body = Buffer.from(await r.arrayBuffer());
      expect(body.length).toBe(24 * MiB);
    };
    const put = async (i: number) => {
      const r = await fetch(`${server.url}/v1/files?name=mixed-${i}.bin`, { method: 'PUT', body: bytes(3 * MiB + i, i) });
      expect(r.status).toBe(201);
    };
    const ops = [cutGet, cutWs, wholeGet, cutGet, cutWs, put] as const;
    for (let round = 0; round < 8; round++) {
      // 12 at once, a mix; 503 busy answers are part of the mix (the budget is small).
      await Promise.all(Array.from({ length: 12 }, (_, k) => ops[(round + k) % ops.length]!(round * 12 + k).catch(() => undefined)));
    }
    expect(peak).toBeLessThanOrEqual(start + BUDGET + CACHES + CONSTANT);
    await eventually(async () => (await reserved(server.url)) === 0, 'every reservation released');
    await eventually(() => rssOf(pid) <= start + 64 * MiB, 'RSS back within 64 MiB of its start', { timeoutMs: 60_000, intervalMs: 500 });
  }, 180_000);
});
