import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { spawnCli } from '../helpers/cli-child.js';
import { tempDir } from '../helpers/core.js';
import { eventually } from '../helpers/eventually.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { testServerPerSuite } from '../helpers/http-server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { startProxy, type Proxy } from '../helpers/ws-fault-proxy.js';

// Issue 25, bug 4: Ctrl-C of `put --fresh` said "run the same command again to resume it", but
// that command (with --fresh) starts over, and left the first attempt in `uploads`.
const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('fresh');
  env = { CHUNKSTREAM_STATE_DIR: path.join(tmp, 'state') };
});

describe('Ctrl-C of put --fresh', () => {
  const t = testServerPerSuite();
  const port = () => Number(new URL(t.url).port);
  const uploadsOf = async (name: string) => (await t.store.listUploads()).filter((u) => u.name === name);

  /**
   * `put --fresh` through the proxy (one server URL for every run: put remembers uploads per
   * URL), its WebSocket bytes held after 2 MiB more, interrupted once 1 MiB of a new upload is stored.
   */
  async function interruptedFreshPut(proxy: Proxy, file: string, name: string) {
    void proxy.holdAfter(proxy.wsUp + 2 * MiB);
    try {
      const before = new Set((await uploadsOf(name)).map((u) => u.uploadId));
      const run = spawnCli(['put', file, '--fresh', '--server', proxy.url], env);
      const started = async () => (await uploadsOf(name)).some((u) => u.offset >= MiB && !before.has(u.uploadId));
      await eventually(started, 'a part of a new upload stored');
      run.child.kill('SIGINT');
      return await run.exited;
    } finally {
      proxy.release();
    }
  }

  it('names the command that resumes it (without --fresh), which does; a second --fresh drops the first attempt', async () => {
    const data = randomBytes(4 * MiB);
    const file = path.join(tmp, 'fresh.bin');
    await writeFile(file, data);
    const proxy = await startProxy(port());
    onTestFinished(() => proxy.close());
    const first = await interruptedFreshPut(proxy, file, 'fresh.bin');
    expect(first.code).toBe(130);
    expect(first.stderr).toMatch(/fresh\.bin was not stored: run the same command again without --fresh to resume it/);
    expect(await uploadsOf('fresh.bin')).toHaveLength(1);

    const second = await interruptedFreshPut(proxy, file, 'fresh.bin');
    expect(second.code).toBe(130);
    expect(await uploadsOf('fresh.bin')).toHaveLength(1); // the first attempt went: --fresh never resumes it

    const again = await cli(['put', file, '--server', proxy.url, '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    const r = JSON.parse(again.stdout.toString()) as { sha256: string; resumedFrom: number };
    expect(r.sha256).toBe(sha(data));
    expect(r.resumedFrom).toBeGreaterThanOrEqual(MiB);
    expect(await uploadsOf('fresh.bin')).toEqual([]);
  });

  it('without --fresh, the note still says the same command', async () => {
    const data = randomBytes(4 * MiB);
    const file = path.join(tmp, 'plain.bin');
    await writeFile(file, data);
    const stalled = await startTcpProxy(port(), { up: 2 * MiB });
    try {
      const run = spawnCli(['put', file, '--server', stalled.url], env);
      await eventually(async () => (await uploadsOf('plain.bin')).some((u) => u.offset >= MiB), 'a part stored');
      run.child.kill('SIGINT');
      const { code, stderr } = await run.exited;
      expect(code).toBe(130);
      expect(stderr).toMatch(/plain\.bin was not stored: run the same command again to resume it/);
    } finally {
      await stalled.close();
    }
  });
});
