import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytes, tempDir } from '../helpers/core.js';
import { openStore } from '../../src/engine/store.js';
import { promisify } from 'node:util';
import { assertBuilt, cli, MAIN } from '../helpers/http-cli.js';
import { testServerPerSuite, upload } from '../helpers/http-server.js';

// Issue 25, "Friction": what surprised a newcomer at the CLI.
let tmp: string;
let store: string[];
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('friction');
  store = ['--dir', path.join(tmp, 'store'), '--chunk-size', '64KiB'];
  env = { CHUNKSTREAM_STATE_DIR: path.join(tmp, 'state') };
  await writeFile(path.join(tmp, 'in.bin'), randomBytes(200_000));
});

describe('gc takes its grace period as a duration, like every other flag', () => {
  it('--grace 1h keeps a removed file’s chunks, --grace 0 removes them; --grace-ms still takes ms (and units)', async () => {
    const put = await cli(['put', path.join(tmp, 'in.bin'), ...store], { env });
    expect(put.code, put.stderr).toBe(0);
    expect((await cli(['rm', put.stdout.toString().trim(), ...store.slice(0, 2)])).code).toBe(0);
    const gc = async (...flags: string[]) => {
      const r = await cli(['gc', ...flags, ...store.slice(0, 2)]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout.toString()) as { removedChunks: number }).removedChunks;
    };
    expect(await gc('--grace', '1h')).toBe(0);
    expect(await gc('--grace-ms', '1h')).toBe(0);
    expect(await gc('--grace-ms', '3600000')).toBe(0);
    expect(await gc('--grace', '0')).toBe(4);
  });

  it('--grace and --grace-ms together, or a bare --grace number: exit 2, naming the flag', async () => {
    const both = await cli(['gc', '--grace', '0', '--grace-ms', '0', ...store.slice(0, 2)]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^chunkstream: invalid_option: --grace and --grace-ms both set the grace period: give one\n$/);
    const bare = await cli(['gc', '--grace', '90', ...store.slice(0, 2)]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^chunkstream: invalid_option: --grace: must be a duration .*add a unit \(90s/);
  });
});

describe('bad usage exits 2, as the README promises', () => {
  it('a malformed id (stat, get, rm, link, uploads abort) and a bad --name: one line, exit 2, nothing asked of the store', async () => {
    const local = store.slice(0, 2);
    for (const args of [
      ['stat', 'nope', ...local],
      ['get', 'BAD!', ...local],
      ['rm', 'zzz', ...local],
      ['uploads', 'abort', 'zz', ...local],
      ['link', 'zz', '--server', 'http://127.0.0.1:9'],
      ['put', path.join(tmp, 'in.bin'), '--name', '../x', ...local],
      ['put', path.join(tmp, 'in.bin'), '--name', '', ...local],
    ]) {
      const r = await cli(args, { env });
      expect(r.stderr, args.join(' ')).toMatch(/^chunkstream: invalid_option: (id|uploadId|--name): [^\n]+\n$/);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});

describe('serve: a port in use names the flag that chose it', () => {
  it('--metrics-port (or its variable) and --port: one line, exit 1', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const dir = ['--dir', path.join(tmp, 'serve')];
      const metrics = await cli(['serve', '--port', '0', '--metrics-port', String(port), ...dir]);
      expect(metrics.stderr).toMatch(
        new RegExp(`^chunkstream: eaddrinuse: --metrics-port ${port}: 127\\.0\\.0\\.1:${port} is already in use\n$`),
      );
      expect(metrics.code).toBe(1);
      const fromEnv = await cli(['serve', '--port', '0', ...dir], { env: { CHUNKSTREAM_METRICS_PORT: String(port) } });
      expect(fromEnv.stderr).toMatch(new RegExp(`^chunkstream: eaddrinuse: CHUNKSTREAM_METRICS_PORT ${port}: `));
      const api = await cli(['serve', '--port', String(port), ...dir]);
      expect(api.stderr).toMatch(new RegExp(`^chunkstream: eaddrinuse: --port ${port}: `));
      expect(api.code).toBe(1);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });
});

describe('commands that said nothing', () => {
  it('put -r of a directory without files says so', async () => {
    await mkdir(path.join(tmp, 'empty', 'sub'), { recursive: true });
    const r = await cli(['put', '-r', path.join(tmp, 'empty'), ...store], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toBe(`chunkstream: ${path.join(tmp, 'empty')} holds no files: nothing of it is stored\n`);
  });

  it('uploads with nothing pending says so on stderr (stdout stays empty)', async () => {
    const r = await cli(['uploads', '--dir', path.join(tmp, 'store')]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toBe('chunkstream: no unfinished uploads\n');
  });

  it('uploads says of how many bytes: --json has size, a terminal shows "of TOTAL (N%)"', async () => {
    const dir = path.join(tmp, 'pending');
    // An unfinished upload of a declared 4 MiB (two of its 64 KiB chunks stored), and one of no declared size.
    const s = openStore({ dir, chunkSize: 64 * 1024 });
    const cut = (name: string, expectedSize?: number) => {
      const controller = new AbortController();
      return new Promise<void>((resolve) =>
        s.upload(bytes(4 * 1024 * 1024), { name, expectedSize, signal: controller.signal }).subscribe({
          next: (e) => void (e.type === 'progress' && e.chunks >= 2 && controller.abort()),
          error: () => resolve(),
          complete: () => resolve(),
        }),
      );
    };
    await cut('declared.bin', 4 * 1024 * 1024);
    await cut('piped.bin');
    await s.close();
    const listed = JSON.parse((await cli(['uploads', '--json', '--dir', dir])).stdout.toString()) as { name: string; size?: number }[];
    expect(listed.find((u) => u.name === 'declared.bin')).toMatchObject({ size: 4 * 1024 * 1024 });
    expect(listed.find((u) => u.name === 'piped.bin')).not.toHaveProperty('size');
    const command = [process.execPath, MAIN, 'uploads', '--dir', dir].map((a) => `'${a}'`).join(' ');
    const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null']);
    expect(stdout).toMatch(/ \d+\.\d KiB of 4\.0 MiB \(\d%\) .* declared\.bin\r?\n/);
    expect(stdout).toMatch(/ \d+\.\d KiB of \? .* piped\.bin\r?\n/);
  });

  it('ls --long at a terminal has a header line; piped, every line is a file', async () => {
    const local = ['--dir', path.join(tmp, 'long')];
    expect((await cli(['put', path.join(tmp, 'in.bin'), ...local], { env })).code).toBe(0);
    const piped = (await cli(['ls', '--long', ...local])).stdout.toString().trim().split('\n');
    expect(piped).toHaveLength(1);
    expect(piped[0]).toMatch(/in\.bin$/);
    // A real pseudo-terminal (util-linux `script`, as in terminal.test.ts).
    const command = [process.execPath, MAIN, 'ls', '--long', ...local].map((a) => `'${a}'`).join(' ');
    const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null']);
    const [header, row, ...rest] = stdout.trim().split(/\r?\n/);
    expect(header).toMatch(/^ID +BYTES +SIZE +SHA-256 +CHUNKS × OF +CREATED +NAME$/);
    expect(row).toMatch(/ 200000 .*in\.bin$/);
    expect(rest).toEqual([]);
  });
});

describe('get --continue at a terminal', () => {
  it('says where it resumed (with the meter: piped stderr stays clean)', async () => {
    const local = ['--dir', path.join(tmp, 'cont')];
    const data = await readFile(path.join(tmp, 'in.bin'));
    const put = await cli(['put', path.join(tmp, 'in.bin'), ...local], { env });
    const id = put.stdout.toString().trim();
    const out = path.join(tmp, 'cont-out.bin');
    // What a cut download leaves: the first bytes, in the partial file beside the target.
    await writeFile(path.join(tmp, `.cont-out.bin.${id}.part`), data.subarray(0, 100_000));
    const command = [process.execPath, MAIN, 'get', id, '-o', out, '--continue', ...local].map((a) => `'${a}'`).join(' ');
    const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null']);
    expect(stdout).toContain(`chunkstream: ${out}: resuming at 97.7 KiB of 195.3 KiB (the partial download `);
    expect((await readFile(out)).equals(data)).toBe(true);
  });
});

describe('the progress meter and the bytes at one terminal', () => {
  const t = testServerPerSuite();
  const atTerminal = async (...args: string[]) => {
    const command = [process.execPath, MAIN, ...args].map((a) => `'${a}'`).join(' ');
    return (await promisify(execFile)('script', ['-qec', command, '/dev/null'])).stdout;
  };

  it('no meter when stdout is the terminal (the bytes would be drawn over), local and --server', async () => {
    const local = ['--dir', path.join(tmp, 'tty-text')];
    await writeFile(path.join(tmp, 'notes.txt'), 'plain text, read at the terminal\n');
    const id = (await cli(['put', path.join(tmp, 'notes.txt'), ...local], { env })).stdout.toString().trim();
    const file = await upload(t.url, 'notes.txt', Buffer.from('plain text, read at the terminal\n'));
    for (const args of [
      ['get', id, '--range', '0-9', ...local],
      ['get', file.id, '--range', '0-9', '--server', t.url],
    ]) {
      const out = await atTerminal(...args);
      expect(out).toBe('plain text');
    }
  });

  it('with --server the meter is labelled by the stored name, not the id', async () => {
    const file = await upload(t.url, 'notes.md', randomBytes(50_000));
    // Written through (a device): no stat first, the name comes with the answer.
    const out = await atTerminal('get', file.id, '-o', '/dev/null', '--server', t.url);
    expect(out).toMatch(/get notes\.md {2}100%/);
  });
});
