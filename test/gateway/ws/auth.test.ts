import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/index.js';
import { CHUNK, bytes, collect, startHarness, type Harness } from '../../helpers/ws-harness.js';
import { RawClient } from '../../helpers/ws-raw.js';

let h: Harness;
const TOKEN = 'tok-7f3a9c';

beforeAll(async () => {
  h = await startHarness({ tokens: [TOKEN, 'other-token'] });
});
afterAll(async () => {
  await h?.close();
});

describe('ws gateway: authentication', () => {
  it('accepts a valid Authorization: Bearer header at upgrade (ready at once)', async () => {
    const c = await RawClient.open(h.url, { headers: { Authorization: `Bearer ${TOKEN}` } });
    c.send({ type: 'list', stream: 1 });
    expect(await c.onStream(1, 'files')).toMatchObject({ files: [] });
    await c.close();
  });

  it.each([
    ['a wrong token', `Bearer nope`],
    ['a malformed header', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
  ])('refuses the upgrade with 401 for %s', async (_label, header) => {
    await expect(RawClient.open(h.url, { headers: { Authorization: header } })).rejects.toMatchObject({ status: 401 });
  });

  it('accepts a valid token in a first auth message', async () => {
    const c = await RawClient.open(h.url, { awaitReady: false });
    c.send({ type: 'list', stream: 1 }); // would be refused: nothing but auth counts before ready
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
    const d = await RawClient.open(h.url, { awaitReady: false });
    d.send({ type: 'auth', token: 'other-token' });
    await d.message((m) => m.type === 'ready');
    d.send({ type: 'list', stream: 1 });
    expect(await d.onStream(1, 'files')).toMatchObject({ type: 'files' });
    await d.close();
  });

  it.each([
    ['a wrong token', (c: RawClient) => c.send({ type: 'auth', token: 'nope' })],
    ['a non-auth first message', (c: RawClient) => c.send({ type: 'list', stream: 1 })],
    ['a binary first message', (c: RawClient) => c.ws.send(new Uint8Array(20))],
    ['a malformed auth message', (c: RawClient) => c.send({ type: 'auth', token: 5 })],
  ])('closes with 4401 (after an unauthorized error) on %s', async (_label, act) => {
    const c = await RawClient.open(h.url, { awaitReady: false });
    act(c);
    expect((await c.closed).code).toBe(4401);
    expect(c.events.map((e) => (e.kind === 'msg' ? e.msg : null))).toEqual([
      { type: 'error', stream: null, code: 'unauthorized', message: expect.any(String) },
    ]);
  });

  it('the SDK authenticates with its token, and is refused without one or with a wrong one', async () => {
    const client = await connect(h.url, { token: TOKEN });
    const data = bytes(CHUNK + 1, 4);
    const file = await new Promise<{ id: string }>((resolve, reject) =>
      client.upload(data, { name: 'a.bin' }).subscribe({ next: (e) => e.type === 'committed' && resolve(e.file), error: reject }),
    );
    expect(Buffer.compare(await collect(client.download(file.id)), data)).toBe(0);
    await client.close();
    await expect(connect(h.url, { token: 'wrong' })).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(connect(h.url)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('leaves other paths alone: 404 when no other upgrade listener exists', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.request({
        port: h.port,
        host: '127.0.0.1',
        path: '/elsewhere',
        headers: { Connection: 'Upgrade', Upgrade: 'websocket' },
      });
      req.on('response', (res) => (res.resume(), resolve(res.statusCode)));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(404);
  });

  it('without configured tokens, every connection is accepted', async () => {
    const open = await startHarness();
    try {
      const client = await connect(open.url, { token: 'anything' });
      expect(await client.list()).toEqual([]);
      await client.close();
      const c = await RawClient.open(open.url, { headers: { Authorization: 'Basic eDp5' } }); // ignored: auth is off
      c.send({ type: 'auth', token: '' }); // harmless once ready
      c.send({ type: 'list', stream: 2 });
      expect(await c.onStream(2, 'files')).toMatchObject({ files: [] });
      await c.close();
    } finally {
      await open.close();
    }
  });
});
