import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK, request, startTestServer, upload, type TestServer, testServerPerSuite } from '../helpers/http-server.js';

/**
 * Sends a request verbatim: clients (and URL parsers) would normalise a traversal path. Not
 * half-closed: the server aborts requests of a client that ended its side.
 */
function raw(url: string, head: string, body = ''): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname, () => sock.write(`${head}\r\nHost: localhost\r\nConnection: close\r\n\r\n${body}`));
    let text = '';
    sock.setEncoding('utf8').on('data', (d: string) => (text += d));
    sock
      .on('error', reject)
      .on('end', () => resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
  });
}

/** Requests every route must refuse with a coded error, whatever the handler (the table is data: http-bad-input.json). */
const badInput: { label: string; method: string; path: string; status: number; code: string }[] = JSON.parse(
  readFileSync(new URL('./http-bad-input.json', import.meta.url), 'utf8'),
);

describe('HTTP bad input', () => {
  let t: TestServer;
  let id: string;
  beforeAll(async () => {
    t = await startTestServer();
    id = (await upload(t.url, 'ok.bin', randomBytes(1000))).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(badInput)('$label: $method $path → $status $code', async ({ method, path: target, status, code }) => {
    const r = await raw(
      t.url,
      `${method} ${target} HTTP/1.1${method === 'PUT' ? '\r\nContent-Length: 3' : ''}`,
      method === 'PUT' ? 'abc' : '',
    );
    expect(r.status).toBe(status);
    expect(JSON.parse(r.body)).toEqual({ error: { code, message: expect.any(String) } });
  });

  it.each([
    ['inverted range', 'bytes=9-2', 400, 'bad_request'],
    ['garbage range', 'bytes=abc', 400, 'bad_request'],
    ['past the end', 'bytes=5000-', 416, 'range_not_satisfiable'],
  ])('%s (%s) → %i %s', async (_label, range, status, code) => {
    const r = await request(`${t.url}/v1/files/${id}`, { headers: { Range: range } });
    expect(r.status).toBe(status);
    expect(r.json().error.code).toBe(code);
  });

  it('a bad X-Content-SHA256 header → 400 before any body is stored', async () => {
    const r = await request(`${t.url}/v1/files?name=x`, {
      method: 'PUT',
      body: Buffer.from('abc'),
      headers: { 'X-Content-SHA256': 'xyz' },
    });
    expect(r.status).toBe(400);
    expect(r.json().error.message).toMatch(/x-content-sha256/);
  });

  it('wrong method → 405 with Allow', async () => {
    const r = await request(`${t.url}/v1/files/${id}`, { method: 'POST' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD, DELETE');
    expect(r.json().error.code).toBe('method_not_allowed');
  });

  it('keeps serving after all of the above', async () => {
    const r = await request(`${t.url}/v1/files/${id}/meta`);
    expect(r.status).toBe(200);
    expect(r.json().id).toBe(id);
  });
});

describe('HTTP auth', () => {
  const t = testServerPerSuite({ tokens: ['alpha-token', 'beta-token'] });

  it.each([
    ['no token', {}],
    ['wrong token', { Authorization: 'Bearer nope' }],
    ['wrong scheme', { Authorization: 'Basic YWxwaGEtdG9rZW4=' }],
  ])('%s → 401 JSON with WWW-Authenticate: Bearer', async (_label, headers) => {
    for (const path of ['/v1/files', '/v1/files/NOT-AN-ID', '/v1/nothing']) {
      const r = await request(`${t.url}${path}`, { headers });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer realm="chunkstream"/);
      expect(r.json().error.code).toBe('unauthorized');
    }
  });

  it('an unauthorised upload stores nothing', async () => {
    const r = await request(`${t.url}/v1/files?name=x.bin`, {
      method: 'PUT',
      body: randomBytes(5000),
      headers: { Authorization: 'Bearer nope' },
    });
    expect(r.status).toBe(401);
    const list = await request(`${t.url}/v1/files`, { headers: { Authorization: 'Bearer alpha-token' } });
    expect(list.json().files).toEqual([]);
  });

  it('either configured token works; /healthz stays open', async () => {
    const data = randomBytes(3000);
    const up = await request(`${t.url}/v1/files?name=a.bin`, {
      method: 'PUT',
      body: data,
      headers: { Authorization: 'Bearer alpha-token' },
    });
    expect(up.status).toBe(201);
    const got = await request(`${t.url}/v1/files/${up.json().id}`, { headers: { Authorization: 'bearer beta-token' } });
    expect(got.status).toBe(200);
    expect(got.body.equals(data)).toBe(true);
    expect((await request(`${t.url}/healthz`)).status).toBe(200);
  });
});

describe('HTTP with a damaged chunk', () => {
  const t = testServerPerSuite();

  it('a download cuts the connection at the bad chunk (never a complete-looking body); verify reports it', async () => {
    const data = randomBytes(3 * CHUNK);
    const { id } = await upload(t.url, 'damaged.bin', data);
    const manifest = JSON.parse(await readFile(path.join(t.dir, 'files', `${id}.json`), 'utf8'));
    const key: string = manifest.chunks[1].key;
    const file = path.join(t.dir, 'chunks', key.slice(0, 2), key.slice(2, 4), key);
    const bytes = await readFile(file);
    bytes[10]! ^= 1;
    await writeFile(file, bytes);

    const cut = await request(`${t.url}/v1/files/${id}`).then(
      (r) => r.body.length,
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(cut).not.toBe(data.length);
    const first = await request(`${t.url}/v1/files/${id}`, { headers: { Range: `bytes=0-${CHUNK - 1}` } });
    expect(first.status).toBe(206);
    expect(first.body.equals(data.subarray(0, CHUNK))).toBe(true);

    const report = await request(`${t.url}/v1/files/${id}/verify`, { method: 'POST' });
    expect(report.status).toBe(200);
    expect(report.json().problems).toEqual([expect.objectContaining({ id, index: 1, code: 'integrity' })]);
    expect(t.store.gauge.held).toBe(0);
  });
});
