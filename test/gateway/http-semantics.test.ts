import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHUNK, request, upload, testServerPerSuite } from '../helpers/http-server.js';

const t = testServerPerSuite();

const size = 2 * CHUNK + 100;
const data = randomBytes(size);
let id: string;
let etag: string;
let lastModified: string;
beforeAll(async () => {
  id = (await upload(t.url, 'report.pdf', data)).id;
  const head = await request(`${t.url}/v1/files/${id}`, { method: 'HEAD' });
  etag = String(head.headers.etag);
  lastModified = String(head.headers['last-modified']);
});
const file = (headers: Record<string, string>, method = 'GET') => request(`${t.url}/v1/files/${id}`, { method, headers });
const shift = (date: string, s: number) => new Date(Date.parse(date) + s * 1000).toUTCString();

describe('conditional requests (RFC 9110 § 13)', () => {
  it.each(['GET', 'HEAD'])('%s: If-Match with another tag, a weak tag, or If-Unmodified-Since before the file → 412', async (method) => {
    const failing: Record<string, string>[] = [
      { 'If-Match': '"other"' },
      { 'If-Match': `W/${etag}` },
      { 'If-Unmodified-Since': shift(lastModified, -3600) },
    ];
    for (const headers of failing) {
      const r = await file(headers, method);
      expect(r.status, JSON.stringify(headers)).toBe(412);
      if (method === 'GET') expect(r.json().error.code).toBe('precondition_failed');
      expect(r.headers['cache-control']).toBe('no-store');
    }
  });

  it('GET: If-Match with its tag (in a list) or *, or If-Unmodified-Since at the file time → 200 with the bytes', async () => {
    const holding: Record<string, string>[] = [
      { 'If-Match': `"x", ${etag}` },
      { 'If-Match': '*' },
      { 'If-Unmodified-Since': lastModified },
    ];
    for (const headers of holding) {
      const r = await file(headers);
      expect(r.status, JSON.stringify(headers)).toBe(200);
      expect(r.body.equals(data)).toBe(true);
    }
  });

  it('If-Modified-Since at or after the file time → 304 without a body; before → 200', async () => {
    for (const since of [lastModified, shift(lastModified, 60)]) {
      const r = await file({ 'If-Modified-Since': since });
      expect(r.status).toBe(304);
      expect(r.body.length).toBe(0);
      expect(r.headers.etag).toBe(etag);
      expect(r.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    }
    const stale = await file({ 'If-Modified-Since': shift(lastModified, -1) });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(data)).toBe(true);
    // If-None-Match decides when both are sent (RFC 9110; nginx would want both to match).
    expect((await file({ 'If-None-Match': etag, 'If-Modified-Since': shift(lastModified, -3600) })).status).toBe(304);
    expect((await file({ 'If-None-Match': '"other"', 'If-Modified-Since': lastModified })).status).toBe(200);
  });

  it('If-Range with the file date → 206; another date or a weak tag → 200 with the whole file', async () => {
    const hit = await file({ Range: 'bytes=0-9', 'If-Range': lastModified });
    expect(hit.status).toBe(206);
    expect(hit.body.equals(data.subarray(0, 10))).toBe(true);
    for (const ifRange of [shift(lastModified, -1), shift(lastModified, 1), `W/${etag}`]) {
      const miss = await file({ Range: 'bytes=0-9', 'If-Range': ifRange });
      expect(miss.status, ifRange).toBe(200);
      expect(miss.body.equals(data)).toBe(true);
    }
    expect((await file({ Range: 'bytes=0-9', 'If-Range': etag })).status).toBe(206);
  });

  it('DELETE: a failed If-Match / If-Unmodified-Since / If-None-Match is 412 and the file stays; a matching one deletes', async () => {
    const victim = (await upload(t.url, 'victim.bin', randomBytes(1000))).id;
    const del = (headers: Record<string, string>) => request(`${t.url}/v1/files/${victim}`, { method: 'DELETE', headers });
    const meta = await request(`${t.url}/v1/files/${victim}/meta`);
    const since = String((await request(`${t.url}/v1/files/${victim}`, { method: 'HEAD' })).headers['last-modified']);
    const failing: Record<string, string>[] = [
      { 'If-Match': '"other"' },
      { 'If-Unmodified-Since': shift(since, -3600) },
      { 'If-None-Match': '*' },
    ];
    for (const headers of failing) {
      const r = await del(headers);
      expect(r.status, JSON.stringify(headers)).toBe(412);
      expect(r.json().error.code).toBe('precondition_failed');
      expect((await request(`${t.url}/v1/files/${victim}/meta`)).status).toBe(200);
    }
    expect((await del({ 'If-Match': `"${meta.json().sha256}"` })).status).toBe(204);
    expect((await request(`${t.url}/v1/files/${victim}/meta`)).status).toBe(404);
    // A file that does not exist is 404 whatever the conditions (RFC 9110 § 13.2.1).
    expect((await del({ 'If-Match': '*' })).status).toBe(404);
  });
});

describe('Range units and representation headers', () => {
  it('a Range with an unknown unit is ignored: 200 with the whole file', async () => {
    const r = await file({ Range: 'items=0-1' });
    expect(r.status).toBe(200);
    expect(r.headers['content-range']).toBeUndefined();
    expect(r.body.equals(data)).toBe(true);
  });

  it('Content-Type from the name, nosniff, attachment, a sandbox CSP and an immutable private Cache-Control', async () => {
    const r = await file({});
    expect(r.headers).toMatchObject({
      'content-type': 'application/pdf',
      'x-content-type-options': 'nosniff',
      'content-disposition': 'attachment; filename=report.pdf',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
    });
    const html = (await upload(t.url, 'page.html', Buffer.from('<script>alert(1)</script>'))).id;
    const h = await request(`${t.url}/v1/files/${html}`);
    expect(h.headers['content-type']).toBe('text/html');
    expect(h.headers['content-disposition']).toBe('attachment; filename=page.html'); // never rendered on our origin
    expect(h.headers['x-content-type-options']).toBe('nosniff');
    const unknown = (await upload(t.url, 'NOTES', Buffer.from('x'))).id;
    expect((await request(`${t.url}/v1/files/${unknown}`)).headers['content-type']).toBe('application/octet-stream');
  });

  it('the ASCII filename= fallback transliterates (curl -OJ and wget save it): résumé 2.pdf → resume 2.pdf', async () => {
    const fid = (await upload(t.url, 'résumé 2.pdf', Buffer.from('%PDF'))).id;
    const r = await request(`${t.url}/v1/files/${fid}`);
    expect(r.headers['content-disposition']).toBe(`attachment; filename="resume 2.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%202.pdf`);
  });
});
