import { createHash } from 'node:crypto';

import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser, type WatchedPage } from '../helpers/browser.js';
import { bytes, CHUNK } from '../helpers/core.js';
import { flipProxy } from '../helpers/flip-proxy.js';
import { assertBuilt, serve, type ServeChild } from '../helpers/http-cli.js';
import { tempDir } from '../helpers/core.js';

// The browser SDK checks every whole chunk itself before delivering it: on its hashing worker
// (hash-worker.js, beside client.js), or on the page's thread where no worker can run. A byte
// flipped in transit between a real server and Chromium (a TCP proxy that edits one WebSocket
// message) must fail the download with code `integrity` and deliver nothing of that chunk.
let browser: Browser;
let tmp: string;
let server: ServeChild;
let data: Buffer;
let id: string;
const pages: WatchedPage[] = [];

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('web-verify');
  // The page is the server's; its WebSocket goes to the proxy's port, another origin to the server.
  server = await serve(['--port', '0', '--dir', path.join(tmp, 'store'), '--chunk-size', '64KiB', '--allow-origin', '*']);
  data = Buffer.from(bytes(5 * CHUNK + 9, 23));
  const res = await fetch(`${server.url}/v1/files?name=verify.bin`, { method: 'PUT', body: new Uint8Array(data) });
  ({ id } = (await res.json()) as { id: string });
  browser = await launchBrowser();
});
afterEach(async () => {
  for (const w of pages.splice(0)) await w.page.close();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

interface Outcome {
  code: string | null;
  index: number | null;
  delivered: number;
  prefixOk: boolean;
  whole: string;
}

/** Downloads through the flipping proxy (3rd binary message = chunk 2), then directly; in the page. */
async function downloadInPage(withWorker: boolean): Promise<{ outcome: Outcome; requested: string[]; problems: string[] }> {
  const w = await browser.page();
  pages.push(w);
  const requested: string[] = [];
  w.page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  await w.page.goto(`${server.url}/config.json`);
  if (!withWorker) await w.page.evaluate('delete window.Worker');
  const proxy = await flipProxy(Number(new URL(server.url).port), { nth: 3, at: 48 + 1000 });
  try {
    const outcome = await w.page.evaluate<Outcome>(`(async () => {
      const sdk = await import('/client.js');
      const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
      const expected = await (await fetch('/v1/files/${id}')).arrayBuffer();
      const run = (client) => new Promise((resolve) => {
        const parts = [];
        client.download('${id}').subscribe({ next: (d) => parts.push(d.slice()), error: (e) => resolve({ e, parts }), complete: () => resolve({ e: null, parts }) });
      });
      const flipped = await sdk.connect(${JSON.stringify(proxy.url)}, { reconnectAttempts: 0 });
      const bad = await run(flipped);
      await flipped.close();
      const direct = await sdk.connect(new URL('/v1/ws', location.href).href.replace(/^http/, 'ws'));
      const good = await run(direct);
      await direct.close();
      const join = (parts) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0)); let at = 0; for (const p of parts) { out.set(p, at); at += p.byteLength; } return out; };
      const delivered = join(bad.parts);
      const prefix = new Uint8Array(expected, 0, delivered.byteLength);
      return {
        code: bad.e ? bad.e.code : null,
        index: bad.e ? bad.e.index : null,
        delivered: delivered.byteLength,
        prefixOk: delivered.every((b, i) => b === prefix[i]),
        whole: good.e ? 'error ' + good.e.code : hex(await crypto.subtle.digest('SHA-256', join(good.parts))),
      };
    })()`);
    return { outcome, requested, problems: w.problems };
  } finally {
    await proxy.close();
  }
}

describe('chunk verification in Chromium (/client.js)', () => {
  it('on the hashing worker: a flipped byte fails with integrity, the chunk is never delivered, the clean path is whole', async () => {
    const { outcome, requested, problems } = await downloadInPage(true);
    expect(outcome).toMatchObject({ code: 'integrity', index: 2, prefixOk: true });
    expect(outcome.delivered).toBeLessThanOrEqual(2 * CHUNK); // chunks 0 and 1 at most
    expect(outcome.whole).toBe(createHash('sha256').update(data).digest('hex'));
    expect(requested).toContain('/hash-worker.js');
    expect(problems).toEqual([]);
  });

  it('on the page thread where no Worker exists: the same failure, the same clean result', async () => {
    const { outcome, requested, problems } = await downloadInPage(false);
    expect(outcome).toMatchObject({ code: 'integrity', index: 2, prefixOk: true });
    expect(outcome.delivered).toBeLessThanOrEqual(2 * CHUNK);
    expect(outcome.whole).toBe(createHash('sha256').update(data).digest('hex'));
    expect(requested).not.toContain('/hash-worker.js');
    expect(problems).toEqual([]);
  });
});
