import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli-child.js';
import { tempDir } from '../helpers/core.js';
import { eventually } from '../helpers/eventually.js';
import { assertBuilt } from '../helpers/http-cli.js';
import { upload } from '../helpers/http-server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { startServer } from '../../src/gateway/server.js';

// Issue 25, friction: `get --server` gave up at once when the server restarted, where
// `put --server` redials. It now asks again with a backoff (the SDK's: 100 ms × 2^n, 5 times).
const MiB = 1024 * 1024;

beforeAll(() => assertBuilt());

/** Listens on `port`: the first connection is reset (a server not up yet), then every later one is forwarded to `target`. */
async function comesBackAfterOneRefusal(port: number, target: number): Promise<{ refused: Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let onRefused!: () => void;
  const refused = new Promise<void>((resolve) => (onRefused = resolve));
  let seen = 0;
  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (seen++ === 0) {
      client.resetAndDestroy();
      return onRefused();
    }
    const upstream = net.connect(target, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    refused,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('get --server across a server restart', () => {
  it('redials with a backoff and finishes the file from where it was cut', async () => {
    const dir = await tempDir('store');
    const first = await startServer({ dir, port: 0, host: '127.0.0.1' });
    const data = randomBytes(8 * MiB);
    const info = await upload(first.url, 'restart.bin', data);
    // The proxy holds the download at 3 MiB, so the restart comes mid-file whatever the speed.
    const proxy = await startTcpProxy(first.port, { down: 3 * MiB });
    const port = Number(new URL(proxy.url).port);
    const out = path.join(await tempDir('out'), 'restart.bin');
    const child = spawnCli(['get', info.id, '-o', out, '--server', proxy.url]);
    const part = path.join(path.dirname(out), `.restart.bin.${info.id}.part`);
    let back: Awaited<ReturnType<typeof comesBackAfterOneRefusal>> | undefined;
    const second = await startServer({ dir, port: 0, host: '127.0.0.1' });
    try {
      await eventually(async () => ((await stat(part).catch(() => undefined))?.size ?? 0) > 2 * MiB, 'part of it on disk');
      // The server goes away mid-file (connections reset) and refuses the first request after
      // that; then it is back, on the same address.
      await first.close();
      await proxy.close();
      back = await comesBackAfterOneRefusal(port, second.port);
      const { code, stderr } = await child.exited;
      await back.refused; // the CLI did meet the refusal
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect((await readFile(out)).equals(data)).toBe(true);
    } finally {
      child.child.kill();
      await back?.close();
      await second.close();
    }
  });
});
