import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Client, type UploadEvent } from '../../src/client/index.js';
import { createMemoryStore, openStore } from '../../src/index.js';
import { bytes } from '../helpers/core.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { request, startTestServer, upload, type TestServer } from '../helpers/http-server.js';

// Names may hold folders ("photos/2024/a.jpg", as `put -r` records them): every layer keeps them.
const NAME = 'photos/2024/été "1".jpg';

describe('names with "/" folders', () => {
  let t: TestServer;
  let client: Client;
  beforeAll(async () => {
    assertBuilt();
    t = await startTestServer();
    client = await connect(`${t.url.replace('http', 'ws')}/v1/ws`);
  });
  afterAll(async () => {
    await client?.close();
    await t?.close();
  });

  it('the engine stores and lists them as given', async () => {
    const store = openStore({ chunkStore: createMemoryStore() });
    const last = await lastValueFrom(store.upload(bytes(10), { name: 'a/b/c.txt' }));
    expect(last).toMatchObject({ type: 'committed', file: { name: 'a/b/c.txt' } });
    expect((await store.list()).map((f) => f.name)).toEqual(['a/b/c.txt']);
  });

  it('HTTP: PUT keeps the name; Content-Disposition offers the last segment only', async () => {
    const file = await upload(t.url, NAME, Buffer.from('jpeg'));
    expect(file.name).toBe(NAME);
    const r = await request(`${t.url}/v1/files/${file.id}`);
    const cd = String(r.headers['content-disposition']);
    expect(cd).toBe(`attachment; filename="ete _1_.jpg"; filename*=UTF-8''%C3%A9t%C3%A9%20%221%22.jpg`);
    expect(cd).not.toContain('photos');
    expect((await request(`${t.url}/v1/files/${file.id}/meta`)).json().name).toBe(NAME);
  });

  it('HTTP: a leading "/", "..", "." or an empty segment is a 400 naming the field', async () => {
    for (const bad of ['/etc/passwd', 'a/../b', 'a/./b', 'a//b', 'a/']) {
      const r = await request(`${t.url}/v1/files?name=${encodeURIComponent(bad)}`, { method: 'PUT', body: Buffer.from('x') });
      expect(r.status).toBe(400);
      expect(r.json().error.message).toMatch(/^name: must be names separated by "\/"/);
    }
  });

  it('WebSocket: upload, list and stat keep the name; a bad one is a bad_request', async () => {
    const events = await lastValueFrom(client.upload(bytes(100), { name: 'docs/read me.txt' }).pipe(toArray()));
    const last = events.at(-1) as UploadEvent;
    expect(last).toMatchObject({ type: 'committed', file: { name: 'docs/read me.txt' } });
    if (last.type !== 'committed') return;
    expect((await client.stat(last.file.id)).name).toBe('docs/read me.txt');
    expect((await client.list()).map((f) => f.name)).toContain('docs/read me.txt');
    await expect(lastValueFrom(client.upload(bytes(1), { name: '../escape' }))).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('ls prints them and filters by folder prefix or glob', async () => {
    await upload(t.url, 'photos/2024/b.jpg', Buffer.from('b'));
    await upload(t.url, 'photos/2025/c.png', Buffer.from('c'));
    const names = async (...args: string[]) => {
      const r = await cli(['ls', ...args, '--server', t.url]);
      expect(r.stderr).toBe('');
      return r.stdout
        .toString()
        .trim()
        .split('\n')
        .map((l) => l.split('  ').at(-1));
    };
    expect(await names('photos/2024/', '--sort', 'name')).toEqual(['photos/2024/b.jpg', NAME]);
    expect(await names('photos/*/*.png')).toEqual(['photos/2025/c.png']);
    expect(await names('photos/*.jpg')).toEqual(['']); // "*" stays within a folder: nothing at the top of photos/
    expect(await names('**.jpg', '--sort', 'name', '--reverse')).toEqual([NAME, 'photos/2024/b.jpg']);
  });
});
