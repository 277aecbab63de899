import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkKey } from '../../src/catalog/catalog.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { CHUNK, request, upload, testServerPerSuite } from '../helpers/http-server.js';

const t = testServerPerSuite();

/** Flips one byte of chunk `index` of file `id` on disk: the store will fail to verify it. */
async function corrupt(id: string, index: number): Promise<void> {
  const m = await t.store.manifest(id);
  const file = path.join(t.dir, ...chunkKey(m.chunks[index]!.key).split('/'));
  const bytes = await readFile(file);
  bytes[7] = bytes[7]! ^ 0xff;
  await writeFile(file, bytes);
}

/** GET on its own connection, reporting what arrived even when the connection is cut. */
function getCut(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; cut: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        const done = (cut: boolean) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), cut });
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => done(false));
        res.on('error', () => done(true));
      })
      .on('error', reject);
  });
}

describe('integrity failures over HTTP', () => {
  it('a corrupt first chunk → 500 integrity before any header of the file: no file byte is sent', async () => {
    const data = randomBytes(3 * CHUNK);
    const { id } = await upload(t.url, 'first.bin', data);
    await corrupt(id, 0);
    const cases: Record<string, string>[] = [{}, { Range: 'bytes=10-20' }, { Range: `bytes=0-0,${2 * CHUNK}-${2 * CHUNK}` }];
    for (const headers of cases) {
      const r = await getCut(`${t.url}/v1/files/${id}`, headers);
      expect(r.status, JSON.stringify(headers)).toBe(500);
      expect(r.cut).toBe(false);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.headers['content-length']).toBe(String(r.body.length));
      expect(JSON.parse(r.body.toString())).toEqual({
        error: { code: 'integrity', message: expect.stringMatching(/chunk 0 .* failed verification/) },
      });
      expect(r.headers.etag).toBeUndefined();
    }
    // Chunks after it are fine: a range that does not touch chunk 0 is served.
    const tail = await request(`${t.url}/v1/files/${id}`, { headers: { Range: `bytes=${CHUNK}-` } });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(data.subarray(CHUNK))).toBe(true);
    expect(t.running.budget.reserved).toBe(0);
  });

  it('a corrupt later chunk cuts the response after the good chunks; a request starting there gets the coded 500', async () => {
    const data = randomBytes(4 * CHUNK);
    const { id } = await upload(t.url, 'later.bin', data);
    await corrupt(id, 2);
    const r = await getCut(`${t.url}/v1/files/${id}`);
    expect(r.status).toBe(200);
    expect(r.cut).toBe(true);
    expect(r.body.length).toBeLessThanOrEqual(2 * CHUNK); // never a byte of chunk 2
    expect(r.body.equals(data.subarray(0, r.body.length))).toBe(true);
    const at = await request(`${t.url}/v1/files/${id}`, { headers: { Range: `bytes=${2 * CHUNK}-` } });
    expect(at.status).toBe(500);
    expect(at.json().error.code).toBe('integrity');
  });
});

describe('chunkstream get --server', () => {
  beforeAll(() => assertBuilt());

  it('a file with a corrupt later chunk: exit 1 with code integrity (not econnreset), no output file', async () => {
    const { id } = await upload(t.url, 'cli.bin', randomBytes(4 * CHUNK + 10));
    await corrupt(id, 3);
    const out = path.join(t.dir, 'out.bin');
    for (const args of [['-o', out], []]) {
      const r = await cli(['get', id, ...args, '--server', t.url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^chunkstream: integrity: chunk 3 .* failed verification/);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('a download cut by the network resumes where it stopped (If-Range) and completes, checked', async () => {
    const data = randomBytes(6 * CHUNK + 3);
    const { id } = await upload(t.url, 'resume.bin', data);
    // A proxy that cuts the first connection after ~2.5 chunks of the response.
    let connections = 0;
    const proxy = net.createServer((client) => {
      const n = ++connections;
      const upstream = net.connect(t.running.port, '127.0.0.1');
      let sent = 0;
      upstream.on('data', (d: Buffer) => {
        sent += d.length;
        if (n === 1 && sent > 2.5 * CHUNK) return void (client.destroy(), upstream.destroy());
        client.write(d);
      });
      client.on('data', (d) => upstream.write(d));
      for (const s of [client, upstream]) s.on('error', () => undefined).on('close', () => (client.destroy(), upstream.destroy()));
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const out = path.join(t.dir, 'resumed.bin');
      const r = await cli(['get', id, '-o', out, '--server', `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect((await readFile(out)).equals(data)).toBe(true);
      expect(connections).toBeGreaterThanOrEqual(2);
    } finally {
      proxy.close();
    }
  });
});
