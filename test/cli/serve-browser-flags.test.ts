import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, serve } from '../helpers/http-cli.js';
import { linkQuery } from '../../src/gateway/links.js';
import { request, upload } from '../helpers/http-server.js';
import { tempDir } from '../helpers/core.js';

let dir: string;
beforeAll(async () => {
  assertBuilt();
  dir = await tempDir('serve-flags');
});

/** `serve` with a bad flag value exits 2, naming the flag and what is wrong. */
async function refusedFlag(args: readonly string[], flag: string, message: string): Promise<void> {
  const r = await cli(['serve', '--port', '0', '--dir', dir, ...args]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(new RegExp(`^chunkstream: invalid_option: ${flag}: .*${message}`));
}

describe('serve: browser-facing flags, from flags or CHUNKSTREAM_* variables', () => {
  it('--allow-host, --allow-origin and --cors-origin (flags, comma lists and variables)', async () => {
    const s = await serve(
      ['--port', '0', '--dir', dir, '--allow-host', 'files.example,.corp.example', '--cors-origin', 'https://app.example'],
      {
        CHUNKSTREAM_ALLOW_ORIGIN: 'http://tool.example:3000, https://other.example',
      },
    );
    try {
      const get = (headers: Record<string, string>) => request(`${s.url}/healthz`, { headers });
      expect((await get({ Host: 'files.example' })).status).toBe(200);
      expect((await get({ Host: 'x.corp.example' })).status).toBe(200);
      expect((await get({ Host: 'evil.example' })).status).toBe(421);
      expect((await get({ Origin: 'http://tool.example:3000' })).status).toBe(200);
      expect((await get({ Origin: 'https://other.example' })).status).toBe(200);
      expect((await get({ Origin: 'https://evil.example' })).status).toBe(403);
      const cors = await get({ Origin: 'https://app.example' });
      expect(cors.headers['access-control-allow-origin']).toBe('https://app.example');
    } finally {
      expect((await s.stop()).code).toBe(0);
    }
  });

  it.each([
    [['--allow-origin', 'https://app.example/path'], '--allow-origin', 'must be an origin'],
    [['--cors-origin', 'app.example'], '--cors-origin', 'must be an origin'],
    [['--allow-host', 'files.example:8443'], '--allow-host', 'without a port'],
    [['--public-url', 'ftp://files.example'], '--public-url', 'http'],
  ])('a bad value (%j) stops serve with exit 2 naming %s', refusedFlag);

  it('names the variable when the value came from one', async () => {
    const r = await cli(['serve', '--port', '0', '--dir', dir], { env: { CHUNKSTREAM_CORS_ORIGIN: 'nope' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^chunkstream: invalid_option: CHUNKSTREAM_CORS_ORIGIN: /);
  });

  it('warns when any origin may use a server without tokens', async () => {
    const s = await serve(['--port', '0', '--dir', dir, '--cors-origin', '*']);
    const { stderr } = await s.stop();
    expect(stderr).toContain('any web page may use this server');
  });
});

describe('serve: the link secret', () => {
  const secret = 'f'.repeat(64);
  it('--link-secret-file (first line) or CHUNKSTREAM_LINK_SECRET signs links; a link signed with it elsewhere works', async () => {
    const file = path.join(dir, 'link-secret');
    await writeFile(file, `${secret}\n# comment\n`);
    for (const [args, env] of [
      [['--link-secret-file', file], {}],
      [[], { CHUNKSTREAM_LINK_SECRET: secret }],
    ] as const) {
      const s = await serve(['--port', '0', '--dir', dir, '--token', 't0k', ...args], env);
      try {
        const { id } = await upload(s.url, 'l.txt', Buffer.from('linked'), { Authorization: 'Bearer t0k' });
        const expires = Math.floor(Date.now() / 1000) + 60;
        const r = await request(`${s.url}/v1/files/${id}?${linkQuery(Buffer.from(secret), id, expires)}`);
        expect(r.body.toString()).toBe('linked');
      } finally {
        await s.stop();
      }
    }
  });

  it.each([
    [['--link-secret', 'x'.repeat(40), '--link-secret-file', 'f'], '--link-secret-file', 'not both'],
    [['--link-secret', 'short'], '--link-secret', 'at least 32'],
    [['--link-secret-file', '/nonexistent/secret'], '--link-secret-file', 'cannot read'],
  ])('%j → exit 2 naming %s', refusedFlag);
});
