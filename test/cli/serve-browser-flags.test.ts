import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, serve } from '../helpers/http-cli.js';
import { request } from '../helpers/http-server.js';

let dir: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'chunkstream-serve-flags-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

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
  ])('a bad value (%j) stops serve with exit 2 naming %s', async (args, flag, message) => {
    const r = await cli(['serve', '--port', '0', '--dir', dir, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^chunkstream: invalid_option: ${flag}: .*${message}`));
  });

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
