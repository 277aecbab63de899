import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkKey } from '../../src/catalog/catalog.js';
import { connect } from '../../src/client/index.js';
import { collect } from '../helpers/core.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { CHUNK, request, upload, testServerPerSuite } from '../helpers/http-server.js';

const t = testServerPerSuite();
const wsUrl = () => `${t.url.replace('http', 'ws')}/v1/ws`;

const chunkFile = async (id: string, index: number) =>
  path.join(t.dir, ...chunkKey((await t.store.manifest(id)).chunks[index]!.key).split('/'));

/** GET on its own connection: what arrived, and whether the connection was cut mid-body. */
function getCut(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; cut: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        const done = (cut: boolean) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), cut });
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => done(false));
        res.on('error', () => done(true));
      })
      .on('error', reject);
  });
}

const metric = async (line: RegExp) => {
  const text = (await request(`${t.url}/metrics`)).body.toString();
  return Number(line.exec(text)?.[1] ?? 0);
};

describe('a corrupt chunk heals when its bytes are uploaded again', () => {
  beforeAll(() => assertBuilt());

  it('flipped on disk: HTTP, range, WS and verify fail on it; it is moved aside, counted; put of the good file makes the old one whole', async () => {
    const data = randomBytes(4 * CHUNK + 99);
    const { id } = await upload(t.url, 'heal.bin', data);
    const file = await chunkFile(id, 1);
    const bytes = await readFile(file);
    bytes[5]! ^= 0x40;
    await writeFile(file, bytes);

    // HTTP GET: chunk 0 goes out, then the connection is cut (never a byte of chunk 1).
    const whole = await getCut(`${t.url}/v1/files/${id}`);
    expect(whole.status).toBe(200);
    expect(whole.cut).toBe(true);
    expect(whole.body.equals(data.subarray(0, whole.body.length))).toBe(true);
    expect(whole.body.length).toBeLessThanOrEqual(CHUNK);
    // A range over it, and the WebSocket SDK: a coded answer naming the file, never the store's key.
    const range = await request(`${t.url}/v1/files/${id}`, { headers: { Range: `bytes=${CHUNK + 1}-${CHUNK + 10}` } });
    expect(range.status).toBe(500);
    expect(range.json().error).toMatchObject({
      code: 'integrity',
      message: expect.stringMatching(/chunk 1 .*bytes 65536-131071 of "heal\.bin"/),
    });
    expect(range.body.toString()).not.toMatch(/chunks\/|quarantine\//);
    const client = await connect(wsUrl());
    try {
      await expect(collect(client.download(id))).rejects.toMatchObject({ code: 'integrity' });
    } finally {
      await client.close();
    }
    expect(await metric(/^chunkstream_chunks_quarantined_total\{reason="corrupt"\} (\d+)/m)).toBe(1);
    const meta = await request(`${t.url}/v1/files/${id}/meta`);
    expect(meta.json().damaged).toEqual([{ index: 1, start: CHUNK, end: 2 * CHUNK - 1, reason: 'corrupt' }]);

    // verify (CLI child process against the server): exit 1, the chunk named in the file's terms.
    const v = await cli(['verify', id, '--server', t.url]);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout.toString()).problems).toEqual([
      expect.objectContaining({ id, name: 'heal.bin', code: 'integrity', index: 1, start: CHUNK }),
    ]);
    expect(v.stderr).toMatch(/^chunkstream: integrity: 1 problem\(s\) found, first: chunk 1 /);

    // The good file again (a new file): stored whole, and the earlier file is whole with it.
    const again = await cli(['put', '-', '--name', 'heal-again.bin', '--server', t.url], { input: data });
    expect(again.code, again.stderr).toBe(0);
    const back = await request(`${t.url}/v1/files/${id}`);
    expect(back.status).toBe(200);
    expect(back.body.equals(data)).toBe(true);
    const repaired = await cli(['verify', '--repair', '--server', t.url]);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(JSON.parse(repaired.stdout.toString())).toMatchObject({
      whole: 2,
      damaged: 0,
      files: expect.arrayContaining([{ id, name: 'heal.bin', status: 'whole', damaged: [] }]),
    });
    expect((await request(`${t.url}/v1/files/${id}/meta`)).json().damaged).toBeUndefined();
  });

  it('a deleted chunk: 500 missing_chunk in the file terms before the first byte (HTTP, range, WS, CLI), healed by a put', async () => {
    const data = randomBytes(3 * CHUNK);
    const { id } = await upload(t.url, 'lost.bin', data);
    await rm(await chunkFile(id, 0));
    for (const headers of [{}, { Range: 'bytes=5-9' }] as Record<string, string>[]) {
      const r = await request(`${t.url}/v1/files/${id}`, { headers });
      expect(r.status).toBe(500);
      expect(r.json()).toEqual({
        error: {
          code: 'missing_chunk',
          message: `file ${id} ("lost.bin") is missing chunk 0 (bytes 0-65535): upload the file again to restore it`,
        },
      });
    }
    const client = await connect(wsUrl());
    try {
      await expect(collect(client.download(id))).rejects.toMatchObject({
        code: 'missing_chunk',
        message: expect.stringContaining('chunk 0'),
      });
    } finally {
      await client.close();
    }
    const get = await cli(['get', id, '--server', t.url]);
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/^chunkstream: missing_chunk: file \w+ \("lost\.bin"\) is missing chunk 0 \(bytes 0-65535\)/);
    const notYet = await cli(['verify', '--repair', id, '--server', t.url]);
    expect(notYet.code).toBe(1);
    expect(notYet.stderr).toMatch(/still damaged: chunk 0 \(bytes 0-65535\) is missing/);

    const again = await cli(['put', '-', '--name', 'lost.bin', '--server', t.url], { input: data });
    expect(again.code, again.stderr).toBe(0);
    expect((await request(`${t.url}/v1/files/${id}`)).body.equals(data)).toBe(true);
  });

  it('a corrupt manifest is 500 corrupt_manifest for that file only, naming no store key or path', async () => {
    const { id } = await upload(t.url, 'm.bin', randomBytes(10));
    const m = path.join(t.dir, 'files', `${id}.json`);
    await writeFile(m, (await readFile(m)).subarray(0, 20));
    const r = await request(`${t.url}/v1/files/${id}`);
    expect(r.status).toBe(500);
    expect(r.json().error.code).toBe('corrupt_manifest');
    expect(r.body.toString()).not.toContain(t.dir);
  });
});
