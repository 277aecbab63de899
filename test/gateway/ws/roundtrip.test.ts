import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Client, type UploadEvent } from '../../../src/client/index.js';
import { CHUNK, bytes, collect, startHarness, type Harness } from '../../helpers/ws-harness.js';

let h: Harness;
let client: Client;

beforeAll(async () => {
  h = await startHarness();
  client = await connect(h.url);
});
afterAll(async () => {
  await client?.close();
  await h?.close();
});

async function put(data: Uint8Array, name = 'f.bin') {
  const events = await lastValueFrom(client.upload(data, { name }).pipe(toArray()));
  const last = events.at(-1) as UploadEvent;
  if (last.type !== 'committed') throw new Error('not committed');
  return { file: last.file, events };
}

describe('ws gateway + client: round trips', () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['exactly one chunk', CHUNK],
    ['several chunks, not a multiple', 3 * CHUNK + 12_345],
    ['larger than the upload credit', 9 * CHUNK + 1],
  ])('%s (%i bytes) uploads, commits and downloads byte-identical', async (_label, size) => {
    const data = bytes(size, size + 7);
    const { file, events } = await put(data);
    expect(events[0]).toMatchObject({ type: 'started', offset: 0 });
    expect(file.size).toBe(size);
    expect(file.chunkCount).toBe(Math.ceil(size / CHUNK));
    expect(await h.store.stat(file.id)).toMatchObject({ size, sha256: file.sha256 });
    const back = await collect(client.download(file.id));
    expect(Buffer.compare(back, data)).toBe(0);
  });

  it('multiplexes concurrent uploads and downloads on one socket', async () => {
    const inputs = [5 * CHUNK + 3, 2 * CHUNK, 7 * CHUNK - 1, 1000].map((n, i) => bytes(n, 100 + i));
    const files = await Promise.all(inputs.map((d, i) => put(d, `m${i}.bin`).then((r) => r.file)));
    const outs = await Promise.all(files.map((f) => collect(client.download(f.id))));
    outs.forEach((out, i) => expect(Buffer.compare(out, inputs[i]!)).toBe(0));
    // And uploads interleaved with downloads of the files just stored.
    const more = inputs.map((d) => d.slice().reverse());
    const [up, down] = await Promise.all([
      Promise.all(more.map((d, i) => put(d, `r${i}.bin`).then((r) => r.file))),
      Promise.all(files.map((f) => collect(client.download(f.id)))),
    ]);
    down.forEach((out, i) => expect(Buffer.compare(out, inputs[i]!)).toBe(0));
    for (const [i, f] of up.entries()) expect(Buffer.compare(await collect(client.download(f.id)), more[i]!)).toBe(0);
  });

  it('serves byte ranges (inclusive ends, clamped to the file)', async () => {
    const data = bytes(4 * CHUNK + 500, 42);
    const { file } = await put(data);
    const cases: [number, number | undefined][] = [
      [0, 0],
      [10, 20],
      [CHUNK - 1, CHUNK], // across a chunk edge
      [CHUNK, 2 * CHUNK - 1], // exactly one chunk
      [100, undefined], // open end
      [3 * CHUNK + 7, 10 ** 12], // end beyond the file
      [data.length - 1, undefined], // last byte
    ];
    for (const [start, end] of cases) {
      const got = await collect(client.download(file.id, { range: { start, end } }));
      const last = Math.min(end ?? data.length - 1, data.length - 1);
      expect(Buffer.compare(got, data.subarray(start, last + 1)), `range ${start}-${end}`).toBe(0);
    }
  });

  it('lists, stats and removes files', async () => {
    const { file } = await put(bytes(123, 5), 'listed.bin');
    expect((await client.list()).map((f) => f.id)).toContain(file.id);
    expect(await client.stat(file.id)).toEqual(file);
    expect(await client.remove(file.id)).toEqual(file);
    await expect(client.stat(file.id)).rejects.toMatchObject({ code: 'not_found' });
    expect((await client.list()).map((f) => f.id)).not.toContain(file.id);
  });

  it('accepts every supported source type', async () => {
    const data = bytes(2 * CHUNK + 77, 9);
    const parts = [data.subarray(0, 1000), data.subarray(1000, 90_000), data.subarray(90_000)];
    async function* gen() {
      yield* parts;
    }
    const sources = [
      data,
      data.slice().buffer,
      new Blob([data]),
      parts,
      gen(),
      new ReadableStream<Uint8Array>({
        start(c) {
          for (const p of parts) c.enqueue(p);
          c.close();
        },
      }),
      (offset: number) => data.subarray(offset),
    ];
    for (const source of sources) {
      const events = await lastValueFrom(client.upload(source, { name: 's.bin' }).pipe(toArray()));
      const last = events.at(-1) as Extract<UploadEvent, { type: 'committed' }>;
      expect(Buffer.compare(await collect(client.download(last.file.id)), data)).toBe(0);
    }
  });
});
