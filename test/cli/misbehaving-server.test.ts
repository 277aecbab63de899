import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, type CliResult } from '../helpers/http-cli.js';

// The CLI against servers (or proxies in front of one) that do not behave like chunkstream.
let server: http.Server;
let url: string;
const FILE = Buffer.from('0123456789abcdefghij');
const ID = 'a'.repeat(29);

beforeAll(async () => {
  assertBuilt();
  server = http.createServer((req, res) => {
    if (req.url === `/v1/files/${ID}`) {
      // Ignores Range, as RFC 9110 allows and some proxies do: 200 with the whole file.
      res.writeHead(200, { 'Content-Length': FILE.length, ETag: `"${'0'.repeat(64)}"` }).end(FILE);
      return;
    }
    // An error page that never ends, until the client hangs up.
    res.writeHead(500, { 'Content-Type': 'text/html' });
    const pump = () => {
      while (!res.destroyed && res.write('<p>oops</p>'.repeat(1000)));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The CLI, or a marker once it has not finished after 20 s (a hang is the bug). */
async function bounded(args: string[]): Promise<CliResult | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 20_000)));
  try {
    return await Promise.race([cli(args), hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe('CLI against a misbehaving server', () => {
  it('get --range refuses a 200 whole-file answer instead of printing the wrong bytes', async () => {
    const r = await bounded(['get', ID, '--range', '0-4', '--server', url]);
    expect(r).not.toBe('hung');
    const res = r as CliResult;
    expect(res.code).toBe(1);
    expect(res.stdout.length).toBe(0);
    expect(res.stderr).toMatch(/^chunkstream: bad_request: range 0-4: the server answered 200/);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an endless error body is cut: one line on stderr, exit 1', async () => {
    const r = await bounded(['ls', '--server', url]);
    expect(r).not.toBe('hung');
    const res = r as CliResult;
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^chunkstream: internal: HTTP 500: <p>oops/);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });
});
