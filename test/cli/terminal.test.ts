import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { assertBuilt, cli, MAIN } from '../helpers/http-cli.js';
import { upload, testServerPerSuite } from '../helpers/http-server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { tempDir } from '../helpers/core.js';

// What a user at a terminal sees: a real pseudo-terminal from util-linux `script` (stdout and
// stderr are both the TTY), keys typed into it (^C is the terminal's SIGINT).
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function tty(args: string[], env: Record<string, string> = {}) {
  const command = [process.execPath, MAIN, ...args].map(quote).join(' ');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHUNKSTREAM_')));
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: { ...clean, ...env, COLUMNS: '200' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => output, exited, type: (keys: string) => child.stdin.write(keys) };
}

let tmp: string;
let store: string[];
let binId: string;
let textId: string;
beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('tty');
  store = ['--dir', path.join(tmp, 'store')];
  await writeFile(path.join(tmp, 'photo.bin'), Buffer.concat([Buffer.from([0xff, 0xd8, 0, 0x10]), randomBytes(200_000)]));
  await writeFile(path.join(tmp, 'notes.txt'), 'plain text, fine on a terminal: é\n');
  const bin = await cli(['put', path.join(tmp, 'photo.bin'), ...store], { env: { CHUNKSTREAM_STATE_DIR: tmp } });
  const text = await cli(['put', path.join(tmp, 'notes.txt'), ...store], { env: { CHUNKSTREAM_STATE_DIR: tmp } });
  binId = bin.stdout.toString().trim();
  textId = text.stdout.toString().trim();
});

describe('CLI at a terminal', () => {
  it('get to a terminal refuses binary data unless -o - asks for it; text goes through', async () => {
    const refused = tty(['get', binId, ...store]);
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toContain(
      'chunkstream: invalid_option: refusing to write binary data to a terminal: use -o FILE, or -o - to write it anyway',
    );
    const forced = tty(['get', binId, '-o', '-', ...store]);
    expect(await forced.exited).toBe(0);
    expect(forced.output()).not.toContain('refusing');
    const text = tty(['get', textId, ...store]);
    expect(await text.exited).toBe(0);
    expect(text.output()).toContain('plain text, fine on a terminal: é');
  });

  it('progress names the file and shows percent, bytes, rate and elapsed time', async () => {
    const get = tty(['get', binId, '-o', path.join(tmp, 'copy.bin'), ...store]);
    expect(await get.exited).toBe(0);
    expect(get.output()).toMatch(/get photo\.bin {2}100% {2}195\.3 KiB \/ 195\.3 KiB {2}\S+ \S+\/s {2}0:\d\d\r?\n/);
    const put = tty(['put', path.join(tmp, 'notes.txt'), '--fresh', ...store], { CHUNKSTREAM_STATE_DIR: tmp });
    expect(await put.exited).toBe(0);
    expect(put.output()).toMatch(/put notes\.txt {2}100% {2}35 B \/ 35 B {2}/);
  });

  describe('Ctrl-C', () => {
    const t = testServerPerSuite();

    it('ends the progress line, then says what it removed', async () => {
      const info = await upload(t.url, 'big.bin', randomBytes(4 * 1024 * 1024));
      const proxy = await startTcpProxy(Number(new URL(t.url).port), { down: 1024 * 1024 });
      try {
        const run = tty(['get', info.id, '-o', path.join(tmp, 'big.bin'), '--server', proxy.url]);
        await eventually(() => /get big\.bin +\d+%/.test(run.output()), 'the progress line');
        run.type('\x03');
        expect(await run.exited).toBe(130);
        // The line ends (the terminal may echo ^C first) before the next message starts.
        expect(run.output()).toMatch(/get big\.bin +\d+%[^\n]*?(\^C)?\r?\nchunkstream: removed the partial download /);
        expect(run.output()).toMatch(/chunkstream: aborted: interrupted \(Ctrl-C\)\r?\n$/);
      } finally {
        await proxy.close();
      }
    });
  });
});
