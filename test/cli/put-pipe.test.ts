import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { request, startTestServer, type TestServer } from '../helpers/http-server.js';
import { tempDir } from '../helpers/core.js';

// `put <(cmd)`, `put /dev/stdin` or a named pipe: stat() says 0 bytes for those, and that 0
// was sent as the expected size, so every such upload failed with "more than the expected 0 bytes".
let dir: string;
let t: TestServer;
beforeAll(async () => {
  assertBuilt();
  dir = await tempDir('put-pipe');
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

/** A named pipe that yields `data` once a reader opens it. */
function fifo(name: string, data: Buffer): string {
  const p = path.join(dir, name);
  execFileSync('mkfifo', [p]);
  // Opening a FIFO for writing waits (in the thread pool) for the reader: the CLI.
  createWriteStream(p).end(data);
  return p;
}

describe('chunkstream put from a pipe', () => {
  const data = Buffer.alloc(150_000, 5);

  it('a local put of a named pipe stores all of its bytes', async () => {
    const r = await cli(['put', fifo('local.fifo', data), '--dir', path.join(dir, 'store')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = r.stdout.toString().trim();
    const got = await cli(['get', id, '--dir', path.join(dir, 'store')]);
    expect(got.code).toBe(0);
    expect(Buffer.compare(got.stdout, data)).toBe(0);
  });

  it('a remote put of a named pipe streams it without a Content-Length', async () => {
    const r = await cli(['put', fifo('remote.fifo', data), '--server', t.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const back = await request(`${t.url}/v1/files/${r.stdout.toString().trim()}`);
    expect(back.status).toBe(200);
    expect(Buffer.compare(back.body, data)).toBe(0);
  });
});
