import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeClock } from '../../helpers/clock.js';
import { eventually } from '../../helpers/eventually.js';
import { bytes } from '../../helpers/core.js';
import { CHUNK, request, startTestServer, type TestServer } from '../../helpers/http-server.js';
import { metadata, tus } from '../../helpers/tus.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const OCTETS = { 'Content-Type': 'application/offset+octet-stream' };
const sha256 = (b: Uint8Array) => `sha256 ${createHash('sha256').update(b).digest('base64')}`;

async function create(headers: Record<string, string | number>, body?: Uint8Array): Promise<string> {
  const r = await tus(`${server!.url}/v1/tus/`, 'POST', headers, body);
  expect(r.status, r.body.toString()).toBe(201);
  expect(r.headers['tus-resumable']).toBe('1.0.0');
  return new URL(r.headers.location!, server!.url).href;
}
const offsetOf = async (url: string) => Number((await tus(url, 'HEAD')).headers['upload-offset']);
const patch = (url: string, offset: number, body: Uint8Array, headers: Record<string, string | number> = {}) =>
  tus(url, 'PATCH', { ...OCTETS, 'Upload-Offset': offset, ...headers }, body);
const uploadIdOf = (url: string) => url.split('/').pop()!;

/** A PATCH whose body is sent only in part: the socket stays open until `end()` (the rest) or `cut()`. */
function partialPatch(url: string, offset: number, whole: Buffer, sent: number) {
  const u = new URL(url);
  const socket = net.connect(Number(u.port), u.hostname);
  const head =
    `PATCH ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n` +
    `Upload-Offset: ${offset}\r\nContent-Length: ${whole.length}\r\nConnection: close\r\n\r\n`;
  let answer = '';
  socket.setEncoding('latin1').on('data', (d: string) => (answer += d));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.write(head);
  socket.write(whole.subarray(0, sent));
  return {
    end: async () => (socket.write(whole.subarray(sent)), await closed, answer),
    /** Half-closes after the part sent: every byte written arrives, then the body is cut short. */
    cut: async () => (socket.end(), await closed),
  };
}

describe('tus protocol at /v1/tus/ (raw requests)', () => {
  it('OPTIONS tells the version, extensions, max size and checksum algorithms', async () => {
    server = await startTestServer();
    const r = await request(`${server.url}/v1/tus/`, { method: 'OPTIONS' });
    expect(r.status).toBe(204);
    expect(r.headers['tus-version']).toBe('1.0.0');
    expect(String(r.headers['tus-extension']).split(',')).toEqual(
      expect.arrayContaining(['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration', 'checksum']),
    );
    expect(r.headers['tus-extension']).not.toContain('concatenation');
    expect(r.headers['tus-max-size']).toBeUndefined(); // no --max-file-size: no limit to announce
    expect(String(r.headers['tus-checksum-algorithm']).split(',')).toContain('sha256');
  });

  it('wrong or missing Tus-Resumable: 412 with Tus-Version; wrong Content-Type: 415; wrong offset: 409 — nothing changes', async () => {
    server = await startTestServer();
    const url = await create({ 'Upload-Length': 1000 });
    for (const v of ['0.2.2', '']) {
      const r = await request(url, {
        method: 'PATCH',
        headers: { ...OCTETS, 'Tus-Resumable': v, 'Upload-Offset': 0 },
        body: Buffer.alloc(10),
      });
      expect(r.status).toBe(412);
      expect(r.headers['tus-version']).toBe('1.0.0');
    }
    expect((await request(`${server.url}/v1/tus/`, { method: 'POST', headers: { 'Upload-Length': 5 } })).status).toBe(412);
    for (const type of ['text/plain', 'application/octet-stream']) {
      const r = await tus(url, 'PATCH', { 'Content-Type': type, 'Upload-Offset': 0 }, Buffer.alloc(10));
      expect(r.status).toBe(415);
      expect(r.json().error.code).toBe('unsupported_media_type');
    }
    expect((await patch(url, 0, Buffer.alloc(300, 1))).status).toBe(204);
    const r = await patch(url, 100, Buffer.alloc(10));
    expect(r.status).toBe(409);
    expect(r.json().error.message).toContain('300');
    expect((await patch(url, 0, Buffer.alloc(10))).status).toBe(409);
    expect(await offsetOf(url)).toBe(300);
    expect((await tus(url, 'PATCH', OCTETS, Buffer.alloc(1))).status).toBe(400); // no Upload-Offset
  });

  it('too large: Upload-Length over the maximum, or a body past Upload-Length, is 413 before any byte is stored', async () => {
    server = await startTestServer({ store: { maxFileSize: 5 * CHUNK } });
    expect(Number((await request(`${server.url}/v1/tus/`, { method: 'OPTIONS' })).headers['tus-max-size'])).toBe(5 * CHUNK);
    const big = await tus(`${server.url}/v1/tus/`, 'POST', { 'Upload-Length': 5 * CHUNK + 1 });
    expect(big.status).toBe(413);
    expect(big.json().error.code).toBe('too_large');
    const url = await create({ 'Upload-Length': 100 });
    expect((await patch(url, 0, Buffer.alloc(101))).status).toBe(413);
    expect((await patch(url, 0, Buffer.alloc(60))).status).toBe(204);
    expect((await patch(url, 60, Buffer.alloc(41))).status).toBe(413);
    expect(await offsetOf(url)).toBe(60);
    const deferred = await create({ 'Upload-Defer-Length': 1 });
    expect((await patch(deferred, 0, Buffer.alloc(10), { 'Upload-Length': 5 * CHUNK + 1 })).status).toBe(413);
  });

  it('Upload-Checksum: a mismatch is 460 and appends nothing (mid-chunk, many chunks); a match is stored; unknown algorithm 400', async () => {
    server = await startTestServer();
    const data = Buffer.from(bytes(12 * CHUNK + 99, 8));
    const url = await create({ 'Upload-Length': data.length, 'Upload-Metadata': metadata({ filename: 'sum.bin' }) });
    const a = CHUNK + 7;
    expect((await patch(url, 0, data.subarray(0, a), { 'Upload-Checksum': sha256(data.subarray(0, a)) })).status).toBe(204);
    const wrong = Buffer.from(data.subarray(a, 11 * CHUNK));
    const r = await patch(url, a, wrong, { 'Upload-Checksum': sha256(Buffer.alloc(1)) });
    expect(r.status).toBe(460);
    expect(r.json().error.code).toBe('checksum_mismatch');
    expect(await offsetOf(url)).toBe(a);
    expect((await server.store.uploadStatus(uploadIdOf(url))).offset).toBe(a); // durably: nothing of it was recorded
    expect((await patch(url, a, wrong, { 'Upload-Checksum': 'crc32 AAAAAA==' })).status).toBe(400);
    expect((await patch(url, a, wrong, { 'Upload-Checksum': 'sha256 !!' })).status).toBe(400);
    const rest = data.subarray(a);
    const done = await patch(url, a, rest, { 'Upload-Checksum': sha256(rest) });
    expect(done.status).toBe(204);
    const id = done.headers['chunkstream-file-id'] as string;
    expect((await request(`${server.url}/v1/files/${id}`)).body.equals(data)).toBe(true);

    // creation-with-upload whose checksum fails creates nothing.
    const bad = await tus(
      `${server.url}/v1/tus/`,
      'POST',
      { ...OCTETS, 'Upload-Length': 10, 'Upload-Checksum': sha256(Buffer.alloc(1)) },
      Buffer.alloc(5),
    );
    expect(bad.status).toBe(460);
    expect(await server.store.listUploads()).toEqual([]);
    // With a reason phrase of its own (Node has none for 460 and would say "unknown").
    const phrase = await fetch(`${server.url}/v1/tus/`, {
      method: 'POST',
      headers: { ...OCTETS, 'Tus-Resumable': '1.0.0', 'Upload-Length': '10', 'Upload-Checksum': sha256(Buffer.alloc(1)) },
      body: Buffer.alloc(5),
    });
    expect([phrase.status, phrase.statusText]).toEqual([460, 'Checksum Mismatch']);
  });

  it('termination: DELETE is 204, then HEAD and PATCH are 404', async () => {
    server = await startTestServer();
    const url = await create({ 'Upload-Length': 10 });
    expect((await patch(url, 0, Buffer.alloc(4))).status).toBe(204);
    expect((await tus(url, 'DELETE')).status).toBe(204);
    expect((await tus(url, 'HEAD')).status).toBe(404);
    expect((await patch(url, 4, Buffer.alloc(6))).status).toBe(404);
    expect((await tus(url, 'DELETE')).status).toBe(404);
    expect((await tus(`${server.url}/v1/tus/not-an-id!`, 'HEAD')).status).toBe(400);
  });

  it('an expired upload is 410 on HEAD and PATCH, and 404 once gc removed it', async () => {
    const clock = fakeClock();
    server = await startTestServer({ store: { uploadTtlMs: 1000, now: clock.now } });
    const created = await tus(`${server.url}/v1/tus/`, 'POST', { 'Upload-Length': 10 });
    const url = new URL(created.headers.location!, server.url).href;
    const expires = Date.parse(String(created.headers['upload-expires']));
    expect(expires).toBeGreaterThan(clock.now() - 1000); // HTTP dates keep whole seconds
    expect(expires).toBeLessThanOrEqual(clock.now() + 1000);
    clock.advance(999);
    expect((await tus(url, 'HEAD')).status).toBe(200);
    clock.advance(1);
    expect((await tus(url, 'HEAD')).status).toBe(410);
    const r = await patch(url, 0, Buffer.alloc(10));
    expect(r.status).toBe(410);
    expect(r.json().error.code).toBe('expired');
    await server.store.gc({ graceMs: 0 });
    expect((await tus(url, 'HEAD')).status).toBe(404);
  });

  it('metadata: filename and filetype kept and echoed; missing gives a dated name; malformed or unsafe is 400', async () => {
    server = await startTestServer();
    const meta = metadata({ filename: 'notes/2024 résumé.txt', filetype: 'text/plain; charset=utf-8', extra: 'x' });
    const url = await create({ 'Upload-Length': 3, 'Upload-Metadata': meta });
    const head = await tus(url, 'HEAD');
    expect(head.headers['upload-metadata']).toBe(meta);
    expect(head.headers['upload-length']).toBe('3');
    expect(head.headers['cache-control']).toBe('no-store');
    const id = (await patch(url, 0, Buffer.from('abc'))).headers['chunkstream-file-id'] as string;
    expect(await server.store.stat(id)).toMatchObject({ name: 'notes/2024 résumé.txt', type: 'text/plain; charset=utf-8' });

    const anon = await create({ 'Upload-Length': 0, 'Upload-Metadata': metadata({ filetype: 'image/png' }) });
    const file = (await server.store.list()).find((f) => f.name !== 'notes/2024 résumé.txt')!;
    expect(file.name).toMatch(/^upload-\d{8}T\d{6}Z\.png$/);
    expect((await tus(anon, 'HEAD')).headers['chunkstream-file-id']).toBe(file.id); // 0 bytes: committed at creation
    await create({ 'Upload-Length': 1, 'Upload-Metadata': metadata({ filename: 'odd.bin', filetype: 'not a type' }) }); // ignored type
    await create({ 'Upload-Length': 1, 'Upload-Metadata': 'filename' }); // a key without a value: the default name
    // Downloads take their Content-Type from the name's extension, else from the declared type.
    const plain = await create({ 'Upload-Length': 2, 'Upload-Metadata': metadata({ filename: 'CHANGES', filetype: 'text/markdown' }) });
    const plainId = (await patch(plain, 0, Buffer.from('# '))).headers['chunkstream-file-id'] as string;
    expect((await request(`${server.url}/v1/files/${plainId}`)).headers['content-type']).toBe('text/markdown');
    const named = await create({ 'Upload-Length': 2, 'Upload-Metadata': metadata({ filename: 'a.json', filetype: 'text/html' }) });
    const namedId = (await patch(named, 0, Buffer.from('{}'))).headers['chunkstream-file-id'] as string;
    expect((await request(`${server.url}/v1/files/${namedId}`)).headers['content-type']).toBe('application/json');

    for (const bad of [
      'filename !!!',
      'a YQ==,a YQ==',
      'bad key YQ==',
      metadata({ filename: '../../etc/passwd' }),
      metadata({ filename: 'a\\b' }),
    ]) {
      const r = await tus(`${server.url}/v1/tus/`, 'POST', { 'Upload-Length': 1, 'Upload-Metadata': bad });
      expect(r.status, bad).toBe(400);
      expect(r.json().error.message, bad).toMatch(/Upload-Metadata/);
    }
    const noLength = await tus(`${server.url}/v1/tus/`, 'POST', {});
    expect(noLength.status).toBe(400);
    expect(noLength.json().error.message).toContain('Upload-Length');
    expect((await tus(`${server.url}/v1/tus/`, 'POST', { 'Upload-Length': 5, 'Upload-Defer-Length': 1 })).status).toBe(400);
    expect((await tus(`${server.url}/v1/tus/`, 'POST', { 'Upload-Concat': 'partial', 'Upload-Length': 5 })).status).toBe(400);
    expect((await tus(`${server.url}/v1/tus/`, 'GET')).status).toBe(405);
  });

  it('deferred length: declared on a later PATCH (even an empty one after a mid-chunk tail), then fixed', async () => {
    server = await startTestServer();
    const data = Buffer.from(bytes(CHUNK + 500, 2));
    const url = await create({ 'Upload-Defer-Length': 1 });
    expect((await tus(url, 'HEAD')).headers['upload-defer-length']).toBe('1');
    expect((await patch(url, 0, data)).status).toBe(204);
    expect((await patch(url, data.length, Buffer.alloc(0), { 'Upload-Length': data.length - 1 })).status).toBe(400);
    const done = await patch(url, data.length, Buffer.alloc(0), { 'Upload-Length': data.length });
    expect(done.status).toBe(204);
    const id = done.headers['chunkstream-file-id'] as string;
    expect((await request(`${server.url}/v1/files/${id}`)).body.equals(data)).toBe(true);
    // A retried last PATCH (its answer was lost) is told the same file; another offset is 409.
    const again = await patch(url, data.length, Buffer.alloc(0));
    expect([again.status, again.headers['chunkstream-file-id']]).toEqual([204, id]);
    expect((await patch(url, 3, Buffer.alloc(0))).status).toBe(409);
    expect((await patch(url, data.length, Buffer.alloc(1))).status).toBe(413); // nothing fits past the end
  });

  it('a PATCH cut off mid-body keeps every byte that arrived, durably, mid-chunk', async () => {
    server = await startTestServer();
    const data = Buffer.from(bytes(4 * CHUNK, 4));
    const url = await create({ 'Upload-Length': data.length });
    const sent = 2 * CHUNK + 12345;
    await partialPatch(url, 0, data, sent).cut();
    await eventually(async () => (await server!.store.uploadStatus(uploadIdOf(url))).offset === sent, 'the cut PATCH to pause');
    expect(await offsetOf(url)).toBe(sent);
    expect((await server.store.listUploads()).map((u) => u.offset)).toEqual([sent]); // `chunkstream uploads` agrees, tail included
    const done = await patch(url, sent, data.subarray(sent));
    const id = done.headers['chunkstream-file-id'] as string;
    expect((await request(`${server.url}/v1/files/${id}`)).body.equals(data)).toBe(true);
  });

  it('a HEAD takes over from a PATCH still running for a client that gave up on it: that PATCH ends, keeping what it got', async () => {
    server = await startTestServer();
    const data = Buffer.from(bytes(5 * CHUNK, 6));
    const url = await create({ 'Upload-Length': data.length });
    const stuck = partialPatch(url, 0, data, 3 * CHUNK); // the rest never comes
    await eventually(() => server!.running.budget.reserved > 0, 'the PATCH to be running');
    const head = await tus(url, 'HEAD');
    expect(head.status).toBe(200);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeLessThanOrEqual(3 * CHUNK); // what the server had read of it, durably
    expect(await stuck.end()).toBe(''); // its connection was closed, with no answer
    expect(server.running.budget.reserved).toBe(0);
    const done = await patch(url, offset, data.subarray(offset));
    expect(done.status).toBe(204);
    expect((await request(`${server.url}/v1/files/${String(done.headers['chunkstream-file-id'])}`)).body.equals(data)).toBe(true);
  });

  it('a PATCH beyond the transfer budget is 503 busy with Retry-After, stores nothing, and succeeds later', async () => {
    // Room for one upload's (4 + 1) × 64 KiB, not two (the minimum the WebSocket window needs).
    server = await startTestServer({ server: { maxTransferBytes: 9 * CHUNK } });
    const data = Buffer.from(bytes(2 * CHUNK, 1));
    const a = await create({ 'Upload-Length': data.length });
    const b = await create({ 'Upload-Length': data.length });
    const running = partialPatch(a, 0, data, 1000);
    await eventually(() => server!.running.budget.reserved > 0, 'the first PATCH to be admitted');
    const refused = await patch(b, 0, data);
    expect(refused.status).toBe(503);
    expect(refused.json().error.code).toBe('busy');
    expect(refused.headers['retry-after']).toBe('1');
    expect(await offsetOf(b)).toBe(0);
    expect(await running.end()).toMatch(/^HTTP\/1\.1 204/);
    expect(server.running.budget.reserved).toBe(0);
    expect((await patch(b, 0, data)).status).toBe(204);
  });
});
