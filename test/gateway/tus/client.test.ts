import { describe, expect, it } from 'vitest';
import { startServer } from '../../../src/gateway/server.js';
import { createFsStore, openStore, withLatency } from '../../../src/index.js';
import { bytes, closeAfterEach } from '../../helpers/core.js';
import { CHUNK, request, startTestServer } from '../../helpers/http-server.js';
import { tus, tusUpload } from '../../helpers/tus.js';
import { tempDir } from '../../helpers/core.js';

const TOKEN = 'tus-s3cret';
const auth = { Authorization: `Bearer ${TOKEN}` };
const open = closeAfterEach();

async function downloaded(url: string, id: string): Promise<Buffer> {
  const r = await request(`${url}/v1/files/${id}`, { headers: auth });
  expect(r.status).toBe(200);
  return r.body;
}

describe('tus-js-client against /v1/tus/', () => {
  it('uploads 0 B, 1 B and a multi-chunk file (tus chunkSize not a multiple of ours): byte-exact, listed under its filename', async () => {
    const server = open.add(await startTestServer({ tokens: [TOKEN] }));
    const endpoint = `${server.url}/v1/tus/`;
    const cases = [
      { name: 'empty.txt', data: Buffer.alloc(0) },
      { name: 'one.bin', data: Buffer.from([0x5a]) },
      { name: 'photos/multi chunk é.bin', data: Buffer.from(bytes(7 * CHUNK + 4321, 5)), chunkSize: 100_000 },
    ];
    for (const c of cases) {
      const done = await tusUpload(c.data, {
        endpoint,
        headers: auth,
        metadata: { filename: c.name, filetype: 'application/x-test' },
        ...(c.chunkSize ? { chunkSize: c.chunkSize } : {}),
      });
      expect(done.fileId, c.name).toMatch(/^[0-9a-z]{16,64}$/);
      if (c.chunkSize) {
        // Every PATCH ended where the client's chunk did, mid-chunk of ours: offsets are byte-exact.
        const expected = Array.from({ length: Math.ceil(c.data.length / c.chunkSize) }, (_, i) =>
          Math.min((i + 1) * c.chunkSize, c.data.length),
        );
        expect(done.offsets).toEqual(expected);
      }
      expect((await downloaded(server.url, done.fileId)).equals(c.data), c.name).toBe(true);
      // The upload URL now reports the committed file.
      const head = await tus(done.url, 'HEAD', {}, undefined, TOKEN);
      expect(head.status).toBe(200);
      expect(head.headers['upload-offset']).toBe(String(c.data.length));
      expect(head.headers['chunkstream-file-id']).toBe(done.fileId);
    }
    const files = (await request(`${server.url}/v1/files`, { headers: auth })).json<{
      files: { name: string; size: number; type?: string }[];
    }>().files;
    expect(files.map((f) => [f.name, f.size, f.type])).toEqual(cases.map((c) => [c.name, c.data.length, 'application/x-test']));
  });

  it('an upload aborted after some PATCHes resumes from the offset HEAD reports', async () => {
    const server = open.add(await startTestServer({ tokens: [TOKEN] }));
    const data = Buffer.from(bytes(9 * CHUNK + 17, 6));
    const chunkSize = 3 * CHUNK - 1000;
    const first = await tusUpload(data, {
      endpoint: `${server.url}/v1/tus/`,
      headers: auth,
      metadata: { filename: 'resumed.bin' },
      chunkSize,
      stopAfter: (offsets) => offsets.length >= 2,
    });
    expect(first.fileId).toBe('');
    const head = await tus(first.url, 'HEAD', {}, undefined, TOKEN);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBe(2 * chunkSize); // what the two answered PATCHes stored, exactly
    expect(head.headers['upload-length']).toBe(String(data.length));

    let resumedFrom = -1;
    const done = await tusUpload(data, {
      uploadUrl: first.url,
      headers: auth,
      chunkSize,
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH' && resumedFrom < 0) resumedFrom = Number(req.getHeader('Upload-Offset'));
      },
    });
    expect(resumedFrom).toBe(offset);
    expect((await downloaded(server.url, done.fileId)).equals(data)).toBe(true);
    const files = (await request(`${server.url}/v1/files`, { headers: auth })).json<{ files: { name: string }[] }>().files;
    expect(files.map((f) => f.name)).toEqual(['resumed.bin']);
  });

  it('deferred length, data during creation and the PATCH method override work as tus-js-client sends them', async () => {
    const server = open.add(await startTestServer({ tokens: [TOKEN] }));
    const data = Buffer.from(bytes(2 * CHUNK + 5, 7));
    const done = await tusUpload(data, {
      endpoint: `${server.url}/v1/tus/`,
      headers: auth,
      metadata: { filename: 'deferred.bin' },
      chunkSize: CHUNK + 3,
      uploadLengthDeferred: true,
      uploadDataDuringCreation: true,
      overridePatchMethod: true,
    });
    expect((await downloaded(server.url, done.fileId)).equals(data)).toBe(true);
  });

  it('without the token every tus request is refused (401) and nothing is created', async () => {
    const server = open.add(await startTestServer({ tokens: [TOKEN] }));
    await expect(tusUpload(Buffer.from('x'), { endpoint: `${server.url}/v1/tus/`, metadata: { filename: 'x' } })).rejects.toThrow(/401/);
    expect(await server.store.listUploads()).toEqual([]);
  });
});

describe('tus memory bound', () => {
  it('a tus upload holds at most (upload concurrency + 1) × chunk size, on the gateway that started it and on one that re-reads it', async () => {
    const dir = await tempDir('tus-mem');
    const open = () =>
      openStore({ chunkStore: withLatency(createFsStore(dir, { fsync: false }), { putMs: 15 }), chunkSize: CHUNK, uploadConcurrency: 2 });
    const bound = (2 + 1) * CHUNK;
    const data = Buffer.from(bytes(40 * CHUNK + 1234, 13));
    const chunkSize = 13 * CHUNK + 777; // each PATCH many chunks, ending mid-chunk (the next reads its tail back)
    const a = open();
    const gwA = await startServer({ store: a, port: 0, host: '127.0.0.1' });
    const b = open();
    const gwB = await startServer({ store: b, port: 0, host: '127.0.0.1' });
    try {
      const first = await tusUpload(data, {
        endpoint: `${gwA.url}/v1/tus/`,
        metadata: { filename: 'mem.bin' },
        chunkSize,
        stopAfter: (o) => o.length >= 2,
      });
      expect(a.gauge.peak).toBeGreaterThanOrEqual(CHUNK); // it measured real chunk buffers
      expect(a.gauge.peak).toBeLessThanOrEqual(bound);
      const done = await tusUpload(data, { uploadUrl: `${gwB.url}${new URL(first.url).pathname}`, chunkSize }); // B re-hashes what A stored
      expect(b.gauge.peak).toBeGreaterThanOrEqual(CHUNK);
      expect(b.gauge.peak).toBeLessThanOrEqual(bound);
      expect((await request(`${gwB.url}/v1/files/${done.fileId}`)).body.equals(data)).toBe(true);
    } finally {
      await gwA.close();
      await gwB.close();
      await a.close();
      await b.close();
    }
  });
});
