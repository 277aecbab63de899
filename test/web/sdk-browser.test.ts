import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { assertBuilt, serve, type ServeChild } from '../helpers/http-cli.js';
import { startProxy, type Proxy } from '../helpers/ws-fault-proxy.js';
import { bytes, tempDir } from '../helpers/core.js';

// The browser build of the SDK (/client.js, as served) in Chromium, imported by a page of the
// server's origin. The in-page code is passed as strings: vitest rewrites `import()` in test
// functions, and a function given to page.evaluate must survive as plain browser JavaScript.
let browser: Browser;
let tmp: string;
let server: ServeChild;
let proxy: Proxy;
let page: Page;
let problems: string[];

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('web-sdk');
  server = await serve(['--port', '0', '--dir', path.join(tmp, 'store'), '--chunk-size', '64KiB']);
  proxy = await startProxy(Number(new URL(server.url).port));
  browser = await launchBrowser();
  ({ page, problems } = await browser.page());
  await page.goto(`${proxy.url}/config.json`);
  await page.evaluate(`(async () => {
    const sdk = await import('/client.js');
    const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const concat = (parts) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let at = 0;
      for (const p of parts) { out.set(p, at); at += p.byteLength; }
      return out;
    };
    const pattern = (n, seed) => {
      const out = new Uint8Array(n);
      let x = seed >>> 0 || 1;
      for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff; }
      return out;
    };
    const last = (obs) => new Promise((resolve, reject) => { let v; obs.subscribe({ next: (x) => (v = x), error: reject, complete: () => resolve(v) }); });
    const all = (obs) => new Promise((resolve, reject) => { const parts = []; obs.subscribe({ next: (x) => parts.push(x), error: reject, complete: () => resolve(concat(parts)) }); });
    const client = await sdk.connect(new URL('/v1/ws', location.href).href.replace(/^http/, 'ws'));
    window.t = { sdk, client, hex, pattern, last, all, sha: async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes)) };
  })()`);
});
afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.stop();
});

// The page's pattern(n, seed) above is this, run in the browser.
const pattern = bytes;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('the SDK in Chromium (/client.js)', () => {
  it("runs the README's browser example as written", async () => {
    const readme = await readFile('README.md', 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('### In a browser')))?.[1];
    expect(code).toContain("import('/client.js')");
    const logged: string[] = [];
    const onConsole = (m: { type(): string; text(): string }) => void (m.type() === 'log' && logged.push(m.text()));
    page.on('console', onConsole);
    try {
      await page.evaluate(`(async () => {\n${code}\n})()`);
    } finally {
      page.off('console', onConsole);
    }
    expect(logged).toEqual([`stored hello.txt 21 bytes, sha256 ${sha(new TextEncoder().encode('hello from a browser\n'))}`]);
    expect(problems).toEqual([]);
  });

  it('uploads bytes, downloads them whole and as a range, with sha256 checked on both sides; list, stat, remove', async () => {
    const size = 1_300_000 + 5;
    const r = await page.evaluate<Record<string, any>>(`(async () => {
      const { client, pattern, last, all, sha } = window.t;
      const data = pattern(${size}, 7);
      const { file } = await last(client.upload(data, { name: 'browser.bin' }));
      const whole = await all(client.download(file.id));
      const range = await all(client.download(file.id, { range: { start: 1000, end: 200999 } }));
      const listed = (await client.list()).map((f) => f.id);
      const stat = await client.stat(file.id);
      return { file, sent: await sha(data), got: await sha(whole), size: whole.byteLength, range: await sha(range), rangeSize: range.byteLength, listed, stat };
    })()`);
    const expected = pattern(size, 7);
    expect(r.file.sha256).toBe(sha(expected));
    expect(r.sent).toBe(r.file.sha256);
    expect(r.got).toBe(r.file.sha256);
    expect(r.size).toBe(size);
    expect(r.rangeSize).toBe(200_000);
    expect(r.range).toBe(sha(expected.subarray(1000, 201_000)));
    expect(r.listed).toContain(r.file.id);
    expect(r.stat).toEqual(r.file);
    const removed = await page.evaluate(
      `window.t.client.remove(${JSON.stringify(r.file.id)}).then(() => window.t.client.stat(${JSON.stringify(r.file.id)})).catch((e) => e.code)`,
    );
    expect(removed).toBe('not_found');
    expect(problems).toEqual([]);
  });

  it('resumes a Blob upload cut by a dropped connection, and reports the offset it resumed from', async () => {
    const size = 3 * 1024 * 1024;
    const before = proxy.wsConnections;
    const cut = proxy.cutAfter(1024 * 1024);
    const r = await page.evaluate<{ file: { sha256: string; size: number }; started: string[] }>(`(async () => {
      const { client, pattern, sha } = window.t;
      const blob = new Blob([pattern(${size}, 11)]);
      const events = [];
      const file = await new Promise((resolve, reject) =>
        client.upload(blob, { name: 'resumed.bin' }).subscribe({
          next: (e) => { events.push(e.type === 'started' ? 'started@' + e.offset : e.type); if (e.type === 'committed') resolve(e.file); },
          error: reject,
        }));
      return { file, started: events.filter((e) => e.startsWith('started')) };
    })()`);
    await cut;
    expect(proxy.wsConnections).toBeGreaterThan(before);
    expect(r.file.size).toBe(size);
    expect(r.file.sha256).toBe(sha(pattern(size, 11)));
    // Started twice: at 0, then again after the reconnect at the server's durable offset.
    expect(r.started[0]).toBe('started@0');
    expect(r.started.length).toBeGreaterThanOrEqual(2);
    expect(Number(r.started.at(-1)!.split('@')[1])).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('resumes an abandoned upload by its uploadId (as after a reload), from the offset status() reports', async () => {
    const size = 2 * 1024 * 1024;
    const r = await page.evaluate<{
      status: { name: string; offset: number };
      startedAt: number;
      file: { name: string; sha256: string };
    }>(`(async () => {
      const { client, pattern, last } = window.t;
      const blob = new Blob([pattern(${size}, 17)]);
      // Abandon it half-way (the subscription's end cancels the stream; what was saved stays).
      const uploadId = await new Promise((resolve, reject) => {
        const sub = client.upload(blob, { name: 'later.bin' }).subscribe({
          next: (e) => { if (e.type === 'progress' && e.bytes >= ${size / 2}) { sub.unsubscribe(); resolve(e.uploadId); } },
          error: reject,
        });
      });
      const status = await client.status(uploadId);
      let startedAt = -1;
      const done = await new Promise((resolve, reject) =>
        client.upload(blob, { uploadId }).subscribe({
          next: (e) => { if (e.type === 'started') startedAt = e.offset; if (e.type === 'committed') resolve(e.file); },
          error: reject,
        }));
      return { status, startedAt, file: done };
    })()`);
    expect(r.status.name).toBe('later.bin');
    expect(r.status.offset).toBeGreaterThan(0);
    expect(r.startedAt).toBeGreaterThanOrEqual(r.status.offset);
    expect(r.file).toMatchObject({ name: 'later.bin', sha256: sha(pattern(size, 17)) });
    expect(problems).toEqual([]);
  });

  it('resumes a download cut by a dropped connection and still verifies the whole file', async () => {
    const size = 2 * 1024 * 1024 + 3;
    const id = await page.evaluate<string>(`(async () => {
      const { client, pattern, last } = window.t;
      return (await last(client.upload(pattern(${size}, 13), { name: 'down.bin' }))).file.id;
    })()`);
    const before = proxy.wsConnections;
    const cut = proxy.cutAfter(700 * 1024, 'down');
    const got = await page.evaluate<{ size: number; sha: string }>(`(async () => {
      const { client, all, sha } = window.t;
      const bytes = await all(client.download(${JSON.stringify(id)}));
      return { size: bytes.byteLength, sha: await sha(bytes) };
    })()`);
    await cut;
    expect(proxy.wsConnections).toBeGreaterThan(before);
    expect(got).toEqual({ size, sha: sha(pattern(size, 13)) });
    expect(problems).toEqual([]);
  });
});
