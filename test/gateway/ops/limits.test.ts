import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../../src/gateway/server.js';
import { openStore, createMemoryStore } from '../../../src/index.js';
import { tempDir } from '../../helpers/core.js';
import { assertBuilt, cli, serve } from '../../helpers/http-cli.js';
import { request } from '../../helpers/http-server.js';
import { RawClient } from '../../helpers/ws-raw.js';
import { eventually } from '../../helpers/eventually.js';

beforeAll(assertBuilt);

describe('limit flags: bad values are refused at start, naming the flag (exit 2)', () => {
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['--max-file-size', '10M'], /--max-file-size: ambiguous unit/],
    [['--max-file-size', '0'], /--max-file-size: must be at least 1 byte/],
    [['--upload-ttl', '90'], /--upload-ttl: must be a duration .* add a unit/],
    [['--upload-ttl', '500ms'], /--upload-ttl: must be at least 1s/],
    [['--max-connections', '0'], /--max-connections: must be at least 1/],
    [['--max-connections', 'many'], /--max-connections: must be an integer/],
    [['--max-ws-streams', '0'], /--max-ws-streams: must be at least 1/],
    [[], /CHUNKSTREAM_MAX_WS_STREAMS: must be at most 65536/, { CHUNKSTREAM_MAX_WS_STREAMS: '70000' }],
    [['--body-idle-timeout', '2h'], /--body-idle-timeout: must be at most 1h/],
    [[], /CHUNKSTREAM_BODY_IDLE_TIMEOUT: must be a duration/, { CHUNKSTREAM_BODY_IDLE_TIMEOUT: 'soon' }],
    [['--gc-every', '5ms'], /--gc-every: must be at least 10ms/],
    [['--gc-grace', '-1h'], /--gc-grace: must be a duration/],
    [['--drain-timeout', '2h'], /--drain-timeout: must be at most 1h/],
    [['--metrics-port', '70000'], /--metrics-port: must be 0\.\.65535/],
    [['--log-level', 'loud'], /--log-level: must be one of fatal, error, warn, info, debug, trace, silent/],
    [['--log-format', 'xml'], /--log-format: must be json or pretty/],
  ];
  for (const [args, message, env] of cases) {
    it(`${args.join(' ') || Object.entries(env!)[0]!.join('=')}`, async () => {
      const dir = path.join(await tempDir(), 'data');
      const r = await cli(['serve', '--port', '0', '--dir', dir, ...args], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^chunkstream: invalid_option: /);
      expect(r.stderr).toMatch(message);
      expect(r.stdout.toString()).toBe(''); // it never listened
    });
  }

  it('a store passed in code keeps its own file size and TTL: the server options are refused', async () => {
    const store = openStore({ chunkStore: createMemoryStore() });
    await expect(startServer({ store, port: 0, maxFileSize: 10 })).rejects.toMatchObject({ code: 'invalid_option', option: 'maxFileSize' });
    await expect(startServer({ store, port: 0, uploadTtlMs: 5000 })).rejects.toMatchObject({ option: 'uploadTtlMs' });
    await store.close();
  });
});

describe('limit flags are enforced', () => {
  it('--max-file-size, --upload-ttl, --max-ws-streams and --body-idle-timeout (flags and variables)', async () => {
    const dir = path.join(await tempDir(), 'data');
    const s = await serve(['--port', '0', '--dir', dir, '--max-file-size', '1000', '--upload-ttl', '90s'], {
      CHUNKSTREAM_MAX_WS_STREAMS: '2',
      CHUNKSTREAM_BODY_IDLE_TIMEOUT: '300ms',
    });
    try {
      const put = (n: number, headers: Record<string, string> = {}) =>
        request(`${s.url}/v1/files?name=f.bin`, { method: 'PUT', body: Buffer.alloc(n, 1), headers });
      expect((await put(1000)).status).toBe(201);
      const tooLarge = await put(1001);
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.json().error.message).toMatch(/maxFileSize \(1000\)/);
      expect((await put(1001, { 'Transfer-Encoding': 'chunked' })).json().error.code).toBe('too_large'); // no length announced

      const c = await RawClient.open(`${s.url.replace('http', 'ws')}/v1/ws`);
      try {
        c.send({ type: 'upload', stream: 1, name: 'a.bin', size: 500 });
        await c.onStream(1, 'started');
        c.send({ type: 'upload', stream: 2, name: 'b.bin', size: 5000 });
        expect(await c.onStream(2, 'error')).toMatchObject({ code: 'too_large' }); // > --max-file-size
        c.send({ type: 'upload', stream: 3, name: 'c.bin' });
        await c.onStream(3, 'started');
        c.send({ type: 'upload', stream: 4, name: 'd.bin' });
        expect(await c.onStream(4, 'error')).toMatchObject({
          code: 'too_large',
          message: expect.stringMatching(/more than 2 concurrent streams/),
        });
        // --upload-ttl: an unfinished upload expires 90 s after it started.
        const uploads = (await request(`${s.url}/v1/uploads`)).json().uploads as { name: string; created: string; expires: string }[];
        // (f.bin, the chunked PUT that grew too large, left no upload: nobody knows its id to resume it)
        expect(uploads.map((u) => u.name).sort()).toEqual(['a.bin', 'c.bin']);
        for (const u of uploads) expect(Date.parse(u.expires) - Date.parse(u.created)).toBe(90_000);
      } finally {
        await c.close();
      }

      // --body-idle-timeout: a body that stops arriving is cut with 408.
      const stalled = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          `${s.url}/v1/files?name=slow.bin`,
          { method: 'PUT', agent: false, headers: { 'Content-Length': 900 } },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on('error', reject);
        req.write(Buffer.alloc(10)); // … and nothing more
      });
      expect(stalled.status).toBe(408);
      expect(JSON.parse(stalled.body).error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/no data for 300 ms/) });
    } finally {
      expect((await s.stop()).code).toBe(0);
    }
  });

  it('--max-connections: a connection beyond it gets 503 busy (HTTP and WebSocket) and is closed; a freed slot serves again', async () => {
    const dir = path.join(await tempDir(), 'data');
    const s = await serve(['--port', '0', '--dir', dir, '--max-connections', '2']);
    const { port } = new URL(s.url);
    const idle: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const sock = net.connect(Number(port), '127.0.0.1');
        await new Promise((r) => sock.once('connect', r));
        idle.push(sock);
      }
      // The server sees both before it sees a third (it accepts in order).
      const refused = await request(`${s.url}/v1/files`);
      expect(refused.status).toBe(503);
      expect(refused.headers).toMatchObject({ 'retry-after': '1', connection: 'close' });
      expect(refused.json().error).toMatchObject({
        code: 'busy',
        message: expect.stringMatching(/at most 2 connections at once \(maxConnections\)/),
      });
      await expect(RawClient.open(`${s.url.replace('http', 'ws')}/v1/ws`)).rejects.toMatchObject({ status: 503 });

      idle.pop()!.destroy();
      // The server learns of the close a moment later: until then the answer is still busy.
      await eventually(async () => (await request(`${s.url}/v1/files`)).status === 200, 'a request served once the idle socket closed');
    } finally {
      for (const sock of idle) sock.destroy();
      expect((await s.stop()).code).toBe(0);
    }
  });
});
