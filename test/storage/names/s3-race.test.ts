import { randomBytes } from 'node:crypto';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type FileInfo, type UploadEvent } from '../../../src/index.js';
import { CHUNK, bytes, collect } from '../../helpers/core.js';
import { startS3Proxy, type S3ProxyHandle } from '../../helpers/s3proxy.js';
import { startS3rver, type S3rverHandle } from '../../helpers/s3rver.js';

let server: S3rverHandle;
let proxy: S3ProxyHandle;
beforeAll(async () => {
  server = await startS3rver();
  proxy = await startS3Proxy(server.endpoint, { conditional: true, sortedListing: true }); // S3's conditional writes
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

/** Two "gateways": stores with their own S3 clients on one bucket and prefix, no coordinator. */
function twoGateways() {
  const prefix = `race-${randomBytes(6).toString('hex')}`;
  return [0, 1].map(() => openStore({ chunkStore: server.store({ endpoint: proxy.endpoint, prefix }), chunkSize: CHUNK }));
}

const committed = (e: UploadEvent) => {
  if (e.type !== 'committed') throw new Error(`ended with ${e.type}`);
  return e;
};

describe('two gateways on one bucket store to one name at once', () => {
  it('one wins, every other file was replaced by exactly one store (nothing lost), and gc keeps the winner', async () => {
    const [a, b] = twoGateways() as [ReturnType<typeof openStore>, ReturnType<typeof openStore>];
    const contents = Array.from({ length: 8 }, (_, i) => bytes(CHUNK + 100 * i, 50 + i));
    const results = await Promise.all(
      contents.map((c, i) => lastValueFrom((i % 2 ? b : a).uploadTo('shared/name.bin', c)).then(committed)),
    );
    const winner = await a.lookup('shared/name.bin');
    expect((await b.lookup('shared/name.bin')).id).toBe(winner.id);
    const ids = results.map((r) => r.file.id);
    expect(ids).toContain(winner.id);
    // Each store displaced the file that was there: the files form one chain, no file is dropped twice or unseen.
    const replaced = results.flatMap((r) => (r.replaced ? [r.replaced.id] : []));
    expect(new Set(replaced).size).toBe(replaced.length);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect([...replaced, winner.id].sort()).toEqual([...ids].sort());
    for (const id of replaced) await expect(a.stat(id)).rejects.toMatchObject({ code: 'not_found' });
    await a.gc({ graceMs: 0 });
    const data = contents[ids.indexOf(winner.id)]!;
    expect((await collect(b.download(winner.id))).equals(Buffer.from(data))).toBe(true);
    expect((await b.verify()).problems).toEqual([]);
    expect((await a.list({ prefix: 'shared/' })).files.map((f: FileInfo) => f.id)).toEqual([winner.id]);
  });

  it('with If-None-Match: * exactly one creates; the other is refused with precondition_failed', async () => {
    const [a, b] = twoGateways() as [ReturnType<typeof openStore>, ReturnType<typeof openStore>];
    const outcomes = await Promise.allSettled(
      [a, b, a, b].map((s, i) => lastValueFrom(s.uploadTo('once', bytes(10 + i, i), { ifNoneMatch: '*' }))),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'precondition_failed' });
    expect((await b.list({ prefix: '' })).files).toHaveLength(1);
    expect(await a.list()).toHaveLength(1); // the refused uploads left no manifest behind
  });
});
