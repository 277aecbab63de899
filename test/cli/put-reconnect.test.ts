import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli-child.js';
import { tempDir } from '../helpers/core.js';
import { assertBuilt, MAIN } from '../helpers/http-cli.js';
import { testServerPerSuite } from '../helpers/http-server.js';
import { startProxy } from '../helpers/ws-fault-proxy.js';

// Issue 25, bug 3: after the SDK reconnected and resumed a `put --server`, the bytes re-sent
// from the server's offset were counted again (122 %, `"sent"` past the size), and nothing said
// the connection had dropped.
const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('reconnect');
  env = { CHUNKSTREAM_STATE_DIR: path.join(tmp, 'state') };
});

describe('put --server, the connection cut half-way: resumed by itself', () => {
  const t = testServerPerSuite();

  for (const json of [true, false]) {
    it(json ? '--json: "sent" is the size, and a reconnected event names the offset' : 'a line says it reconnected and where', async () => {
      const data = randomBytes(8 * MiB);
      const file = path.join(tmp, `big-${json}.bin`);
      await writeFile(file, data);
      const proxy = await startProxy(Number(new URL(t.url).port));
      try {
        const cut = proxy.cutAfter(5 * MiB); // once: the reconnection goes through
        const run = spawnCli(['put', file, '--server', proxy.url, ...(json ? ['--json'] : [])], env);
        await cut;
        const { code, stdout, stderr } = await run.exited;
        expect(code, stderr).toBe(0);
        expect(proxy.wsConnections).toBeGreaterThan(1);
        if (json) {
          const r = JSON.parse(stdout.toString()) as {
            sha256: string;
            size: number;
            resumedFrom: number;
            sent: number;
            reconnects: number;
          };
          expect(r).toMatchObject({ sha256: sha(data), size: data.length, resumedFrom: 0, reconnects: 1 });
          expect(r.sent).toBe(data.length); // each byte of the file once, however often the tail was re-sent
          const event = stderr.split('\n').find((l) => l.startsWith('{'));
          expect(JSON.parse(event ?? 'null')).toEqual({
            event: 'reconnected',
            name: path.basename(file),
            uploadId: expect.stringMatching(/^[0-9a-z]+$/),
            offset: expect.any(Number),
          });
        } else {
          expect(stderr).toMatch(
            /^chunkstream: big-false\.bin: the connection dropped; reconnected and resumed at \d+\.\d MiB of 8\.0 MiB\n$/m,
          );
        }
      } finally {
        await proxy.close();
      }
    });
  }

  it('at a terminal, the progress line ends at 100 % of the size, never past it', async () => {
    const data = randomBytes(8 * MiB);
    const file = path.join(tmp, 'tty.bin');
    await writeFile(file, data);
    const proxy = await startProxy(Number(new URL(t.url).port));
    try {
      const cut = proxy.cutAfter(5 * MiB);
      // A real pseudo-terminal (util-linux `script`, as in terminal.test.ts): the meter draws only there.
      const command = [process.execPath, MAIN, 'put', file, '--server', proxy.url].map((a) => `'${a}'`).join(' ');
      const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      await cut;
      expect(code, output).toBe(0);
      const percents = [...output.matchAll(/put tty\.bin +(\d+)%/g)].map((m) => Number(m[1]));
      expect(Math.max(...percents)).toBe(100);
      expect(output).toMatch(/put tty\.bin +100% +8\.0 MiB \/ 8\.0 MiB/);
      expect(output).toMatch(/reconnected and resumed at/);
    } finally {
      await proxy.close();
    }
  });
});
