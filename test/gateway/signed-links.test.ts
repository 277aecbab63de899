import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkQuery } from '../../src/gateway/links.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { CHUNK, request, startTestServer, upload, type TestServer } from '../helpers/http-server.js';
import { tempDir } from '../helpers/core.js';

const TOKEN = 'link-test-token';
const SECRET = 's'.repeat(40);
const auth = { Authorization: `Bearer ${TOKEN}` };
const data = randomBytes(3 * CHUNK + 5);

let t: TestServer;
let id: string;
let other: string;
beforeAll(async () => {
  t = await startTestServer({ tokens: [TOKEN], server: { linkSecret: SECRET } });
  id = (await upload(t.url, 'shared.bin', data, auth)).id;
  other = (await upload(t.url, 'other.bin', randomBytes(100), auth)).id;
});
afterAll(() => t?.close());

const makeLink = async (fileId: string, body: unknown = { expiresIn: 600 }, headers: Record<string, string> = auth) =>
  request(`${t.url}/v1/files/${fileId}/links`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
  });

describe('signed links on a server with --token', () => {
  it('POST /v1/files/ID/links → { url, expires }; the URL serves the file, a range and HEAD without a token', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await makeLink(id);
    expect(r.status).toBe(200);
    const { url, expires } = r.json<{ url: string; expires: string }>();
    expect(url.startsWith(`${t.url}/v1/files/${id}?expires=`)).toBe(true);
    const exp = Date.parse(expires) / 1000;
    expect(exp).toBeGreaterThanOrEqual(before + 600);
    expect(exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 600);

    const whole = await request(url);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(data)).toBe(true);
    const maxAge = Number(/max-age=(\d+)/.exec(String(whole.headers['cache-control']))![1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(600); // no cache keeps it longer than the link works
    const part = await request(url, { headers: { Range: `bytes=${CHUNK - 2}-${CHUNK + 2}` } });
    expect(part.status).toBe(206);
    expect(part.body.equals(data.subarray(CHUNK - 2, CHUNK + 3))).toBe(true);
    const head = await request(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(data.length));
  });

  it('expired, tampered and other-file links are 403 forbidden; a token does not rescue a bad link', async () => {
    const { url } = (await makeLink(id)).json<{ url: string }>();
    const u = new URL(url);
    const expired = `${t.url}/v1/files/${id}?${linkQuery(Buffer.from(SECRET), id, Math.floor(Date.now() / 1000) - 1)}`;
    const later = new URL(url);
    later.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600));
    const flipped = new URL(url);
    const sig = u.searchParams.get('sig')!;
    flipped.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    const foreign = `${t.url}/v1/files/${id}?${linkQuery(Buffer.from('x'.repeat(40)), id, Math.floor(Date.now() / 1000) + 60)}`;
    const cases: [string, string][] = [
      ['expired', expired],
      ['expiry moved', later.href],
      ['signature changed', flipped.href],
      ['signed by another secret', foreign],
      ['another file with this signature', url.replace(id, other)],
      ['no signature', `${t.url}/v1/files/${id}?expires=${u.searchParams.get('expires')}`],
    ];
    for (const [label, link] of cases) {
      for (const headers of [{}, auth]) {
        const r = await request(link, { headers });
        expect(r.status, label).toBe(403);
        expect(r.json().error.code, label).toBe('forbidden');
      }
    }
    expect((await request(expired)).json().error.message).toMatch(/expired/);
  });

  it('without a link the token-less request stays 401; link parameters on other routes do not authorize', async () => {
    const { url } = (await makeLink(id)).json<{ url: string }>();
    const q = new URL(url).search;
    expect((await request(`${t.url}/v1/files/${id}`)).status).toBe(401);
    expect((await request(`${t.url}/v1/files/${id}/meta${q}`)).status).toBe(401);
    expect((await request(`${t.url}/v1/files${q}`)).status).toBe(401);
    expect((await request(`${t.url}/v1/files/${id}${q}`, { method: 'DELETE' })).status).toBe(401);
    expect((await request(`${t.url}/v1/files/${id}/meta`)).status).toBe(401);
    expect((await request(`${t.url}/v1/files/${id}`, { headers: auth })).status).toBe(200); // still there
  });

  it('making a link needs the token, a file that exists and a bounded expiresIn (default 1 h)', async () => {
    expect((await makeLink(id, { expiresIn: 60 }, {})).status).toBe(401);
    expect((await makeLink('0000000000000000aaaa')).status).toBe(404);
    const said: string[] = [];
    for (const bad of [{ expiresIn: 0 }, { expiresIn: 8 * 86400 }, { expiresIn: 'soon' }, { expiresIn: 1.5 }, { expires: 5 }]) {
      const r = await makeLink(id, bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.json().error.code).toBe('bad_request');
      said.push(r.json().error.message);
    }
    // In the user's terms, naming the field.
    expect(said.slice(0, 4)).toEqual([
      expect.stringMatching(/expiresIn.*must be at least 1 s/),
      expect.stringMatching(/expiresIn.*must be at most 604800 s \(7 days\)/),
      expect.stringMatching(/expiresIn.*must be a number of seconds/),
      expect.stringMatching(/expiresIn.*must be whole seconds/),
    ]);
    const plain = await request(`${t.url}/v1/files/${id}/links`, { method: 'POST', headers: auth });
    expect(plain.status).toBe(200);
    const hours = (Date.parse(plain.json().expires) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(0.99);
    expect(hours).toBeLessThanOrEqual(1);
    expect((await request(`${t.url}/v1/files/${id}/links`, { method: 'POST', headers: auth, body: Buffer.alloc(5000, 32) })).status).toBe(
      413,
    );
  });

  it('chunkstream link ID --expires 10m prints a URL that downloads without a token', async () => {
    assertBuilt();
    const r = await cli(['link', id, '--expires', '10m', '--server', t.url, '--token', TOKEN]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const url = r.stdout.toString().trim();
    const got = await request(url);
    expect(got.body.equals(data)).toBe(true);
    const exp = Number(new URL(url).searchParams.get('expires'));
    expect(exp - Date.now() / 1000).toBeLessThanOrEqual(600);
    const bad = await cli(['link', id, '--expires', '9d', '--server', t.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^chunkstream: invalid_option: --expires: /);
    const noToken = await cli(['link', id, '--server', t.url]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/^chunkstream: unauthorized: /);
  });
});

describe('the generated link secret lives in the store', () => {
  it('a restarted server and a second gateway on the same directory accept the first one’s links', async () => {
    const dir = await tempDir('links');
    const a = await startTestServer({ dir, server: { publicUrl: 'https://files.example/' } });
    const fid = (await upload(a.url, 'x.txt', Buffer.from('shared secret'))).id;
    const { url } = (await request(`${a.url}/v1/files/${fid}/links`, { method: 'POST' })).json<{ url: string }>();
    expect(url.startsWith(`https://files.example/v1/files/${fid}?`)).toBe(true); // --public-url is the base
    const stored = JSON.parse(await readFile(path.join(a.dir, 'config', 'link-secret.json'), 'utf8'));
    expect(stored).toMatchObject({ version: 1, secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const b = await startTestServer({ dir });
    try {
      const local = url.replace('https://files.example', b.url);
      expect((await request(local)).body.toString()).toBe('shared secret');
      await a.close();
      const again = await startTestServer({ dir });
      try {
        expect((await request(url.replace('https://files.example', again.url))).status).toBe(200);
      } finally {
        await again.close();
      }
    } finally {
      await b.close();
      await a.close();
    }
  });
});
