import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Proxy, type ProxiedRequest, type S3ProxyHandle } from '../../helpers/s3proxy.js';
import { startS3rver, type S3rverHandle } from '../../helpers/s3rver.js';
import { describeNameSpaceConformance } from './conformance.js';

let server: S3rverHandle;
let proxy: S3ProxyHandle;
beforeAll(async () => {
  server = await startS3rver();
  // s3rver ignores conditional writes and walks its directories to list: the proxy stands in for S3 on both.
  proxy = await startS3Proxy(server.endpoint, { conditional: true, sortedListing: true });
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

const PREFIX_BYTES = 'names-xxxxxxxxxxxxxxxx/'.length + 'names/'.length;

describeNameSpaceConformance('s3 (s3rver, conditional writes and S3 listing order by proxy)', {
  chunkStore: async () => server.store({ endpoint: proxy.endpoint, prefix: `names-${randomBytes(8).toString('hex')}` }),
  maxNameBytes: 1024 - PREFIX_BYTES,
  oddNames: ['a\\b', ' ', 'tab\there', 'x y/z'],
});

describe('s3 name index: requests', () => {
  it('a page costs one LIST (+ one GET per file on it), whatever the number of names; a folder page one request', async () => {
    const counted = await startS3Proxy(proxy.endpoint);
    const store = server.store({ endpoint: counted.endpoint, prefix: `count-${randomBytes(6).toString('hex')}` });
    const index = store.names!;
    let requests: string[] = [];
    counted.events.on('request', (r: ProxiedRequest) => requests.push(`${r.method} ${/list-type=2/.test(r.url) ? 'LIST' : 'object'}`));
    const fill = async (from: number, to: number) => {
      for (let i = from; i < to; i++) await index.swap(`d${String(i).padStart(4, '0')}/x`, `{"i":${i}}`, undefined);
    };
    const pageCost = async () => {
      requests = [];
      const folders = await index.list({ prefix: '', delimiter: '/', limit: 10 });
      const folderCost = requests.length;
      requests = [];
      const files = await index.list({ prefix: 'd0001/', limit: 10 });
      return { folders: folders.folders.length, folderCost, files: files.entries.length, fileCost: [...requests] };
    };
    await fill(0, 20);
    const small = await pageCost();
    await fill(20, 120);
    const large = await pageCost();
    expect(small).toEqual({ folders: 10, folderCost: 1, files: 1, fileCost: ['GET LIST', 'GET object'] });
    expect(large).toEqual(small);
    await store.close?.();
    await counted.close();
  });

  it('a name longer than the bucket prefix leaves room for is too_large, naming name', async () => {
    const store = server.store({ endpoint: proxy.endpoint, prefix: 'long' });
    await expect(store.names!.get('x'.repeat(1024))).rejects.toMatchObject({ code: 'too_large', field: 'name' });
    await store.close?.();
  });
});
