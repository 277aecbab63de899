import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/core.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { testServerPerSuite } from '../helpers/http-server.js';

// Issue 25, friction: `--server http://host/prefix/` dropped the path and asked the proxy's root.
// A server behind a proxy at a sub-path gets every request the CLI sends under that path.
const PREFIX = '/store/a b';
const ENCODED = encodeURI(PREFIX);

/**
 * A reverse proxy at a sub-path, as nginx's `location /store/a%20b/ { proxy_pass http://server/; }`:
 * it strips the prefix, forwards HTTP and WebSocket upgrades, and answers 404 to anything else.
 */
async function prefixProxy(targetPort: number) {
  const seen: string[] = [];
  const strip = (url: string) => (url.startsWith(`${ENCODED}/`) ? url.slice(ENCODED.length) : undefined);
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const to = strip(req.url ?? '');
    if (to === undefined) return void res.writeHead(404).end('not under the prefix');
    const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: to, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    seen.push(`UPGRADE ${req.url}`);
    const to = strip(req.url ?? '');
    if (to === undefined) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    const up = net.connect(targetPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${to} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    for (const s of [up, socket]) s.on('error', () => (up.destroy(), socket.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${ENCODED}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let tmp: string;
let env: Record<string, string>;
beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('prefix');
  env = { CHUNKSTREAM_STATE_DIR: path.join(tmp, 'state') };
});

describe('--server URL with a path (a server behind a proxy sub-path)', () => {
  const t = testServerPerSuite();
  let proxy: Awaited<ReturnType<typeof prefixProxy>>;
  beforeAll(async () => {
    proxy = await prefixProxy(Number(new URL(t.url).port));
  });
  afterAll(() => proxy.close());

  for (const slash of ['/', '']) {
    it(`every command's requests go under the path (${slash ? 'with' : 'without'} a trailing slash), the WebSocket too`, async () => {
      const server = ['--server', `${proxy.url}${slash}`];
      const data = randomBytes(300_000);
      const file = path.join(tmp, `in${slash ? '-slash' : ''}.bin`);
      await writeFile(file, data);
      proxy.seen.length = 0;
      const put = await cli(['put', file, ...server], { env });
      expect(put.stderr).toBe('');
      expect(put.code).toBe(0);
      const id = put.stdout.toString().trim();
      const ok = async (args: string[]) => {
        const r = await cli([...args, ...server], { env });
        expect(r.stderr, args.join(' ')).toBe('');
        expect(r.code, args.join(' ')).toBe(0);
        return r.stdout.toString();
      };
      expect(await ok(['ls'])).toContain(path.basename(file));
      expect(JSON.parse(await ok(['stat', id]))).toMatchObject({ id, size: data.length });
      const out = path.join(tmp, `out${slash ? '-slash' : ''}.bin`);
      await ok(['get', id, '-o', out]);
      expect(
        createHash('sha256')
          .update(await readFile(out))
          .digest('hex'),
      ).toBe(createHash('sha256').update(data).digest('hex'));
      expect(await ok(['link', id])).toMatch(/^http:\/\/.*\/v1\/files\/.*sig=/);
      await ok(['uploads', '--json']);
      await ok(['verify', id]);
      await ok(['rm', id]);
      await ok(['gc', '--dry-run']);
      expect(proxy.seen.some((s) => s.startsWith(`UPGRADE ${ENCODED}/v1/ws`))).toBe(true);
      expect(proxy.seen.filter((s) => !s.split(' ')[1]!.startsWith(`${ENCODED}/v1/`))).toEqual([]);
    });
  }
});
