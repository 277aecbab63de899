import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHUNK, request, upload, testServerPerSuite } from '../helpers/http-server.js';

const t = testServerPerSuite();

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('HTTP round trip', () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['several chunks, not a multiple', 3 * CHUNK + 17],
    ['exact multiple of the chunk size', 4 * CHUNK],
  ])('%s (%i bytes): PUT, meta, list, GET, DELETE', async (_label, size) => {
    const data = randomBytes(size);
    const info = await upload(t.url, `f-${size}.bin`, data, { 'X-Content-SHA256': sha(data) });
    expect(info).toMatchObject({ size, sha256: sha(data), name: `f-${size}.bin` });

    const meta = await request(`${t.url}/v1/files/${info.id}/meta`);
    expect(meta.status).toBe(200);
    expect(meta.json()).toEqual(info);
    const list = await request(`${t.url}/v1/files`);
    expect(list.json().files.map((f: { id: string }) => f.id)).toContain(info.id);

    const got = await request(`${t.url}/v1/files/${info.id}`);
    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBe(String(size));
    expect(got.headers['accept-ranges']).toBe('bytes');
    expect(got.headers.etag).toBe(`"${sha(data)}"`);
    expect(got.body.equals(data)).toBe(true);

    expect((await request(`${t.url}/v1/files/${info.id}`, { method: 'DELETE' })).status).toBe(204);
    const gone = await request(`${t.url}/v1/files/${info.id}`);
    expect(gone.status).toBe(404);
    expect(gone.json().error.code).toBe('not_found');
    expect(t.store.gauge.held).toBe(0);
  });

  describe('ranges', () => {
    const size = 3 * CHUNK + 17;
    const data = randomBytes(size);
    let id: string;
    beforeAll(async () => {
      id = (await upload(t.url, 'ranged.bin', data)).id;
    });

    it.each([
      ['first byte', 'bytes=0-0', 0, 0],
      ['last byte', `bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
      ['across a chunk boundary', `bytes=${CHUNK - 5}-${2 * CHUNK + 4}`, CHUNK - 5, 2 * CHUNK + 4],
      ['open-ended', `bytes=${CHUNK + 3}-`, CHUNK + 3, size - 1],
      ['suffix', 'bytes=-100', size - 100, size - 1],
      ['suffix longer than the file', `bytes=-${size + 50}`, 0, size - 1],
      ['end past the file', `bytes=10-${size + 1000}`, 10, size - 1],
    ])('%s → 206 with the matching slice', async (_label, range, start, end) => {
      const r = await request(`${t.url}/v1/files/${id}`, { headers: { Range: range } });
      expect(r.status).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
      expect(r.headers['content-length']).toBe(String(end - start + 1));
      expect(r.body.equals(data.subarray(start, end + 1))).toBe(true);
    });

    it.each(['bytes=' + size + '-', 'bytes=-0', `bytes=${size + 10}-${size + 20}`])(
      '%s → 416 with Content-Range bytes */SIZE',
      async (range) => {
        const r = await request(`${t.url}/v1/files/${id}`, { headers: { Range: range } });
        expect(r.status).toBe(416);
        expect(r.headers['content-range']).toBe(`bytes */${size}`);
        expect(r.json().error.code).toBe('range_not_satisfiable');
      },
    );

    it('several ranges → 206 multipart/byteranges (details in http-multirange.test.ts)', async () => {
      const r = await request(`${t.url}/v1/files/${id}`, { headers: { Range: 'bytes=0-1,5-6' } });
      expect(r.status).toBe(206);
      expect(r.headers['content-type']).toMatch(/^multipart\/byteranges; boundary=/);
    });

    it('If-Range with a stale validator ignores the Range', async () => {
      const r = await request(`${t.url}/v1/files/${id}`, { headers: { Range: 'bytes=0-0', 'If-Range': '"stale"' } });
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(size);
    });

    it('ETag / If-None-Match → 304 without a body; another tag → 200', async () => {
      const etag = `"${sha(data)}"`;
      const r = await request(`${t.url}/v1/files/${id}`, { headers: { 'If-None-Match': `"other", ${etag}` } });
      expect(r.status).toBe(304);
      expect(r.headers.etag).toBe(etag);
      expect(r.body.length).toBe(0);
      const miss = await request(`${t.url}/v1/files/${id}`, { headers: { 'If-None-Match': '"other"' } });
      expect(miss.status).toBe(200);
    });

    it('HEAD: the same headers, no body, no chunk read', async () => {
      const before = t.reads.started;
      const r = await request(`${t.url}/v1/files/${id}`, { method: 'HEAD', headers: { Range: 'bytes=5-9' } });
      expect(r.status).toBe(206);
      expect(r.headers['content-length']).toBe('5');
      expect(r.headers['content-range']).toBe(`bytes 5-9/${size}`);
      expect(r.body.length).toBe(0);
      expect(t.reads.started).toBe(before);
    });
  });

  it('Content-Disposition carries a non-ASCII name (RFC 5987) with an ASCII fallback', async () => {
    const name = 'Größe "résumé" 日本 (1).txt';
    const { id } = await upload(t.url, name, Buffer.from('x'));
    const r = await request(`${t.url}/v1/files/${id}`);
    const cd = String(r.headers['content-disposition']);
    expect(cd).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''[A-Za-z0-9%!#$&+\-.^_`|~]+$/);
    // Transliterated where it can be (ö → oe, ß → ss, é → e); quotes and CJK become _.
    expect(cd).toContain(`filename="Groesse _resume_ __ (1).txt"`);
    expect(decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(cd)![1]!)).toBe(name);
  });

  it('a body that does not match X-Content-SHA256 is refused and not committed', async () => {
    const before = (await request(`${t.url}/v1/files`)).json().files.length;
    const r = await request(`${t.url}/v1/files?name=bad.bin`, {
      method: 'PUT',
      body: randomBytes(1000),
      headers: { 'X-Content-SHA256': '0'.repeat(64) },
    });
    expect(r.status).toBe(400);
    expect(r.json().error).toMatchObject({ code: 'bad_request' });
    expect((await request(`${t.url}/v1/files`)).json().files.length).toBe(before);
  });

  it('/healthz', async () => {
    const r = await request(`${t.url}/healthz`);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ ok: true });
  });
});
