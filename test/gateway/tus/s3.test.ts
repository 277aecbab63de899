import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/index.js';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { bytes, CHUNK } from '../../helpers/core.js';
import { request } from '../../helpers/http-server.js';
import { startS3rver, type S3rverHandle } from '../../helpers/s3rver.js';
import { tus, tusUpload } from '../../helpers/tus.js';

let s3: S3rverHandle;
const gateways: { running: RunningServer; store: Store }[] = [];

async function gateway() {
  const store = openStore({ chunkStore: s3.store({ prefix: 'tus' }), chunkSize: CHUNK });
  const running = await startServer({ store, port: 0, host: '127.0.0.1' });
  gateways.push({ running, store });
  return { running, store };
}

beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  for (const g of gateways) {
    await g.running.close();
    await g.store.close();
  }
  await s3.close();
});

describe('tus on two gateways over one S3 store', () => {
  it('created and first PATCHes via A; HEAD and the rest via B; the file is the same on both', async () => {
    const a = await gateway();
    const b = await gateway();
    const data = Buffer.from(bytes(6 * CHUNK + 999, 12));
    const chunkSize = CHUNK + 4567;
    const first = await tusUpload(data, {
      endpoint: `${a.running.url}/v1/tus/`,
      metadata: { filename: 'via-a-and-b.bin', filetype: 'application/x-demo' },
      chunkSize,
      stopAfter: (offsets) => offsets.length >= 2,
    });
    const path = new URL(first.url).pathname;
    const head = await tus(`${b.running.url}${path}`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['upload-offset']).toBe(String(2 * chunkSize)); // mid-chunk, the tail in the bucket
    expect(head.headers['upload-length']).toBe(String(data.length));

    let resumedAt = -1;
    const done = await tusUpload(data, {
      uploadUrl: `${b.running.url}${path}`,
      chunkSize,
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH' && resumedAt < 0) resumedAt = Number(req.getHeader('Upload-Offset'));
      },
    });
    expect(resumedAt).toBe(2 * chunkSize);
    for (const g of [a, b]) {
      expect((await request(`${g.running.url}/v1/files/${done.fileId}`)).body.equals(data)).toBe(true);
      const files = (await request(`${g.running.url}/v1/files`)).json<{ files: { id: string; name: string; type?: string }[] }>().files;
      expect(files).toEqual([expect.objectContaining({ id: done.fileId, name: 'via-a-and-b.bin', type: 'application/x-demo' })]);
    }
    // A's view of the upload follows B's commit: a late PATCH there is told the file.
    const late = await tus(`${a.running.url}${path}`, 'HEAD');
    expect(late.headers['chunkstream-file-id']).toBe(done.fileId);
  });
});
