import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Client } from '../../src/client/index.js';
import { startTestServer, upload, type TestServer } from '../helpers/http-server.js';

let t: TestServer;
let client: Client;
let id: string;
beforeAll(async () => {
  t = await startTestServer();
  client = await connect(`${t.url.replace('http', 'ws')}/v1/ws`);
  id = (await upload(t.url, 'w.bin', Buffer.alloc(200_000, 3))).id;
});
afterAll(async () => {
  await client?.close();
  await t?.close();
});

describe('client download window', () => {
  // window 0 granted no credit and renewed none: the Observable never completed nor failed.
  it.each([0, -1, 1.5, Number.NaN])('window %s fails at once with invalid_option', async (window) => {
    const r = await lastValueFrom(client.download(id, { window }).pipe(toArray())).then(
      () => 'completed',
      (err: { code?: string; message: string }) => `${err.code}: ${err.message}`,
    );
    expect(r).toMatch(/^invalid_option: .*window/);
  });

  it('an unknown option (a misspelt window) fails at once, naming it', async () => {
    const err = await lastValueFrom(client.download(id, { windw: 4 } as never)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_option', option: 'windw' });
  });

  it('the connection still serves a download with a valid window', async () => {
    const parts = await lastValueFrom(client.download(id, { window: 1 }).pipe(toArray()));
    expect(parts.reduce((n, p) => n + p.byteLength, 0)).toBe(200_000);
    expect(t.store.gauge.held).toBe(0);
  });
});
