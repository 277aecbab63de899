import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkKey } from '../../src/catalog/catalog.js';
import { connect } from '../../src/client/index.js';
import { openStore } from '../../src/index.js';
import { collect } from '../helpers/core.js';
import { CHUNK, request, startTestServer, upload, type TestServer } from '../helpers/http-server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ store: { cacheBytes: 64 * CHUNK } });
});
afterAll(async () => {
  await t?.close();
});

const metric = async (line: RegExp) => Number(line.exec((await request(`${t.url}/metrics`)).body.toString())?.[1] ?? 0);
const hits = () => metric(/^chunkstream_chunk_cache_reads_total\{result="hit"\} (\d+)/m);
const misses = () => metric(/^chunkstream_chunk_cache_reads_total\{result="miss"\} (\d+)/m);

describe('hot chunks from memory, through the gateway', () => {
  it('a second GET (and a range, and a WebSocket download) reads nothing from the store; the metrics count hits and misses', async () => {
    const data = randomBytes(8 * CHUNK + 77);
    const { id } = await upload(t.url, 'hot.bin', data);
    const first = await request(`${t.url}/v1/files/${id}`);
    expect(first.body.equals(data)).toBe(true);
    const reads = t.reads.started;
    expect(await misses()).toBe(9);
    const again = await request(`${t.url}/v1/files/${id}`);
    expect(again.body.equals(data)).toBe(true);
    const range = await request(`${t.url}/v1/files/${id}`, { headers: { Range: `bytes=${CHUNK - 3}-${3 * CHUNK + 4}` } });
    expect(range.status).toBe(206);
    expect(range.body.equals(data.subarray(CHUNK - 3, 3 * CHUNK + 5))).toBe(true);
    // The WebSocket gateway writes its frame header before each chunk: it gets a copy in a slab of its own.
    const client = await connect(`${t.url.replace('http', 'ws')}/v1/ws`);
    try {
      for (let i = 0; i < 2; i++) expect((await collect(client.download(id))).equals(data)).toBe(true);
    } finally {
      await client.close();
    }
    expect(t.reads.started).toBe(reads);
    expect(await hits()).toBe(9 + 4 + 2 * 9); // the range covers chunks 0-3
    expect(t.store.gauge.held).toBe(0);
  });

  it('a byte flipped on disk after caching: the cache serves the verified bytes; a cold reader of the disk refuses them', async () => {
    const data = randomBytes(3 * CHUNK);
    const { id } = await upload(t.url, 'flip.bin', data);
    expect((await request(`${t.url}/v1/files/${id}`)).body.equals(data)).toBe(true);
    const file = path.join(t.dir, ...chunkKey((await t.store.manifest(id)).chunks[1]!.key).split('/'));
    const raw = await readFile(file);
    raw[9]! ^= 0x20;
    await writeFile(file, raw);
    expect((await request(`${t.url}/v1/files/${id}`)).body.equals(data)).toBe(true);
    // A reader without this cache (another gateway on the store) reads the disk and refuses them.
    const cold = openStore({ dir: t.dir, chunkSize: CHUNK, fsync: false });
    await expect(collect(cold.download(id))).rejects.toMatchObject({ code: 'integrity', index: 1 });
    await cold.close();
  });
});
