import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/gateway/server.js';
import { defaultWebDir, PAGE_CSP } from '../../src/gateway/web.js';
import { tempDir } from '../helpers/core.js';

let server: RunningServer;
let open: RunningServer;
let dir: string;
const TOKEN = 'web-static-token';

beforeAll(async () => {
  dir = await tempDir('web-static');
  server = await startServer({ port: 0, dir: path.join(dir, 'a'), tokens: [TOKEN] });
  open = await startServer({ port: 0, dir: path.join(dir, 'b') });
});
afterAll(async () => {
  await server?.close();
  await open?.close();
});

/** A raw request, so paths reach the server exactly as written (fetch would normalise `..`). */
function raw(port: number, request: string): Promise<{ status: number; head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
    const parts: Buffer[] = [];
    socket.on('data', (d) => parts.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(parts);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), head, body: all.subarray(split + 4) });
    });
  });
}

describe('the web page and /client.js, served by the server', () => {
  it('serves the page at / without a token, with a strict CSP, while the API still wants one', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).not.toMatch(/unsafe|\*|https?:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/app.js">');
    // Nothing from another origin: no CDN fonts, scripts or styles.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect((await fetch(`${server.url}/v1/files`)).status).toBe(401);
    expect(await (await fetch(`${server.url}/config.json`)).json()).toEqual({ auth: true, links: true });
    expect(await (await fetch(`${open.url}/config.json`)).json()).toEqual({ auth: false, links: true });
  });

  it('serves each asset with its Content-Type, an ETag (304 when it matches), gzip when asked, HEAD without a body', async () => {
    const types: Record<string, string> = {
      '/index.html': 'text/html; charset=utf-8',
      '/app.js': 'text/javascript; charset=utf-8',
      '/client.js': 'text/javascript; charset=utf-8',
      '/app.css': 'text/css; charset=utf-8',
      '/favicon.svg': 'image/svg+xml',
      '/favicon.ico': 'image/svg+xml',
    };
    for (const [p, type] of Object.entries(types)) {
      const file = await readFile(path.join(defaultWebDir(), p === '/favicon.ico' ? 'favicon.svg' : p.slice(1)));
      const plain = await raw(server.port, `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(plain.status, p).toBe(200);
      expect(plain.head).toContain(`Content-Type: ${type}`);
      expect(plain.head).toContain('Cache-Control: no-cache');
      expect(plain.head).toContain('X-Content-Type-Options: nosniff');
      expect(Buffer.compare(plain.body, file), p).toBe(0);
      const etag = /ETag: (\S+)/.exec(plain.head)![1]!;
      const again = await fetch(`${server.url}${p}`, { headers: { 'If-None-Match': etag, 'Accept-Encoding': 'identity' } });
      expect(again.status, p).toBe(304);
      const head = await raw(server.port, `HEAD ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      expect(head.head).toContain(`Content-Length: ${file.length}`);
    }
    const zipped = await raw(
      server.port,
      'GET /client.js HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: br, gzip\r\nConnection: close\r\n\r\n',
    );
    expect(zipped.head).toContain('Content-Encoding: gzip');
    expect(zipped.head).toContain('Vary: Accept-Encoding');
    expect(Buffer.compare(gunzipSync(zipped.body), await readFile(path.join(defaultWebDir(), 'client.js')))).toBe(0);
    const refused = await raw(
      server.port,
      'GET /client.js HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip;q=0\r\nConnection: close\r\n\r\n',
    );
    expect(refused.head).not.toContain('Content-Encoding');
  });

  it('serves only its fixed files: traversal and other paths are not files from disk', async () => {
    const attempts = [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/client.js/../../package.json',
      '//etc/passwd',
      '/index.html/',
      '/sizes.json',
      '/web/client.js',
      '/dist/web/client.js',
      '/client.js%00.html',
      '/CLIENT.JS',
    ];
    const secret = await readFile('package.json', 'utf8');
    for (const p of attempts) {
      const r = await raw(open.port, `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect([400, 404], p).toContain(r.status);
      expect(r.body.toString()).not.toContain(secret.slice(0, 40));
      expect(r.head, p).toContain('application/json');
    }
  });

  it('answers other methods on its files with 405 and Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${open.url}/client.js`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect((await res.json()).error.code).toBe('method_not_allowed');
    }
  });

  it('can be turned off: web: false leaves / to the API (404)', async () => {
    const s = await startServer({ port: 0, dir: path.join(dir, 'c'), web: false });
    try {
      expect((await fetch(`${s.url}/`)).status).toBe(404);
      expect((await fetch(`${s.url}/client.js`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it('resolves chunkstream/client to the browser build under the browser condition, to the Node build otherwise', async () => {
    const run = promisify(execFile);
    const resolve = async (...flags: string[]) =>
      (
        await run(process.execPath, [...flags, '--input-type=module', '-e', "console.log(import.meta.resolve('chunkstream/client'))"])
      ).stdout.trim();
    expect(await resolve('--conditions=browser')).toBe(`file://${path.resolve('dist/web/client.js')}`);
    expect(await resolve()).toBe(`file://${path.resolve('dist/client/index.js')}`);
    const served = Buffer.from(await (await fetch(`${open.url}/client.js`)).arrayBuffer());
    expect(Buffer.compare(served, await readFile('dist/web/client.js'))).toBe(0);
    // One self-contained ES module: no bare imports left for a browser to fail on.
    expect(served.toString()).not.toMatch(/\bfrom\s*["'](rxjs|zod|@noble)/);
  });
});
