import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request, startTestServer, upload, type TestServer, testServerPerSuite } from '../helpers/http-server.js';

let t: TestServer;
let port: number;
let id: string;
beforeAll(async () => {
  t = await startTestServer({ server: { allowOrigins: ['http://app.example:3000'] } });
  port = t.running.port;
  id = (await upload(t.url, 'a.txt', Buffer.from('hello'))).id;
});
afterAll(() => t?.close());

/** A real `ws` client: resolves 'open' once `ready` arrived, or the refusal's status and body. */
function openWs(
  headers: Record<string, string>,
  p = port,
  o: WebSocket.ClientOptions = {},
): Promise<{ open: true } | { open: false; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${p}/v1/ws`, { headers, ...o });
    ws.on('message', (d) => {
      if (JSON.parse((d as Buffer).toString()).type !== 'ready') return;
      ws.close();
      resolve({ open: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ open: false, status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (err) => (err.message.startsWith('Unexpected server response') ? undefined : reject(err)));
  });
}

/** One raw request with exactly these headers (a browser or curl -H would send them). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  p = port,
): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    const sock = net.connect(p, '127.0.0.1', () => sock.write(`${method} ${path} HTTP/1.1\r\n${lines.join('')}Connection: close\r\n\r\n`));
    let text = '';
    sock.setEncoding('utf8').on('data', (d: string) => (text += d));
    sock.on('error', reject).on('end', () => {
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.split(' ')[1]), head: text.slice(0, split), body: text.slice(split + 4) });
    });
  });
}

describe('cross-site WebSocket hijacking', () => {
  it('an upgrade with a foreign Origin is refused: 403 forbidden, no socket', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${port + 1}`, 'null']) {
      const r = await openWs({ Origin: origin });
      expect(r, origin).toMatchObject({ open: false, status: 403 });
      expect(JSON.parse((r as { body: string }).body).error.code).toBe('forbidden');
    }
  });

  it('also for the old protocol version 8, which sends Sec-WebSocket-Origin', async () => {
    expect(await openWs({}, port, { protocolVersion: 8, origin: 'http://evil.example' })).toMatchObject({ open: false, status: 403 });
    expect(await openWs({}, port, { protocolVersion: 8, origin: 'http://app.example:3000' })).toEqual({ open: true });
  });

  it('same-origin, origin-less and --allow-origin upgrades work', async () => {
    expect(await openWs({ Origin: `http://127.0.0.1:${port}` })).toEqual({ open: true });
    expect(await openWs({ Origin: `http://localhost:${port}`, Host: `localhost:${port}` })).toEqual({ open: true });
    expect(await openWs({})).toEqual({ open: true });
    expect(await openWs({ Origin: 'http://app.example:3000' })).toEqual({ open: true });
  });

  it('a cross-site form POST (CSRF) is refused too; the same request without Origin runs', async () => {
    const evil = await raw('POST', '/v1/gc?graceMs=0', { Host: `127.0.0.1:${port}`, Origin: 'http://evil.example' });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error.code).toBe('forbidden');
    expect((await raw('POST', '/v1/gc?dryRun=1', { Host: `127.0.0.1:${port}` })).status).toBe(200);
  });
});

describe('DNS rebinding: the Host header on a loopback server', () => {
  const routes: [string, string][] = [
    ['GET', '/healthz'],
    ['GET', '/v1/files'],
    ['PUT', '/v1/files?name=x.txt'],
    ['GET', '/v1/files/ID'],
    ['HEAD', '/v1/files/ID'],
    ['DELETE', '/v1/files/ID'],
    ['GET', '/v1/files/ID/meta'],
    ['POST', '/v1/files/ID/verify'],
    ['POST', '/v1/files/ID/links'],
    ['POST', '/v1/verify'],
    ['POST', '/v1/gc'],
    ['GET', '/nothing'],
    ['OPTIONS', '/v1/files'],
  ];

  it.each(routes)('Host: evil.example → 421 misdirected on %s %s', async (method, path) => {
    const r = await raw(method, path.replace('ID', id), { Host: 'evil.example', 'Content-Length': '0' });
    expect(r.status).toBe(421);
    if (method !== 'HEAD')
      expect(JSON.parse(r.body)).toEqual({ error: { code: 'misdirected', message: expect.stringContaining('evil.example') } });
  });

  it('and on the WebSocket upgrade, even same-origin to it (the rebinding page is "same-origin")', async () => {
    const r = await openWs({ Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` });
    expect(r).toMatchObject({ open: false, status: 421 });
    expect(JSON.parse((r as { body: string }).body).error.code).toBe('misdirected');
  });

  it('nothing was changed by the refused requests', async () => {
    expect((await request(`${t.url}/v1/files/${id}`)).body.toString()).toBe('hello');
    expect((await request(`${t.url}/v1/files`)).json().files.map((f: { name: string }) => f.name)).toEqual(['a.txt']);
  });

  it.each([`localhost:PORT`, `127.0.0.1:PORT`, 'localhost', '[::1]:PORT', 'dev.localhost:PORT'])('Host: %s works', async (host) => {
    const r = await raw('GET', `/v1/files/${id}`, { Host: host.replace('PORT', String(port)) });
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello');
  });
});

describe('--allow-host', () => {
  const s = testServerPerSuite({ server: { allowHosts: ['files.example', '.corp.example'] } });
  it('adds names (and subdomains with a leading dot) for HTTP and the upgrade; others stay refused', async () => {
    const get = (host: string) => raw('GET', '/healthz', { Host: host }, s.running.port);
    expect((await get('files.example:8080')).status).toBe(200);
    expect((await get('a.corp.example')).status).toBe(200);
    expect((await get('localhost')).status).toBe(200);
    expect((await get('evil.example')).status).toBe(421);
    expect(await openWs({ Host: 'files.example', Origin: 'http://files.example' }, s.running.port)).toEqual({ open: true });
    expect(await openWs({ Host: 'evil.example' }, s.running.port)).toMatchObject({ open: false, status: 421 });
  });
});
