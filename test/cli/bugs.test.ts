import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, constants, openSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli-child.js';
import { eventually } from '../helpers/eventually.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { startTestServer, upload, testServerPerSuite } from '../helpers/http-server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { tempDir } from '../helpers/core.js';

// Issue 8, "Bugs": each of these failed before the fix.
let tmp: string;
let store: string[];
let id: string;
const data = randomBytes(300_000);
const ONE_LINE = /^chunkstream: [a-z_]+: [^\n]+\n$/;

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('bugs');
  await writeFile(path.join(tmp, 'in.bin'), data);
  store = ['--dir', path.join(tmp, 'store'), '--chunk-size', '64KiB'];
  const put = await cli(['put', path.join(tmp, 'in.bin'), ...store]);
  expect(put.stderr).toBe('');
  id = put.stdout.toString().trim();
});

const local = () => store.slice(0, 2);

describe('get -o writes through to what is not a regular file', () => {
  it('a FIFO: the reader gets every byte, and the FIFO is still a FIFO', async () => {
    const fifo = path.join(tmp, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    // Our own write end keeps the pipe from reporting EOF until the CLI has written (or not).
    const rfd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const wfd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const reader = new net.Socket({ fd: rfd, readable: true, writable: false });
    const got: Buffer[] = [];
    reader.on('data', (d: Buffer) => got.push(d));
    const ended = once(reader, 'end');
    const r = await cli(['get', id, '-o', fifo, ...local()]);
    closeSync(wfd);
    await ended;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Buffer.concat(got).equals(data)).toBe(true);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it('a symlink: its target gets the bytes, the link stays a link', async () => {
    const real = path.join(tmp, 'real.bin');
    const link = path.join(tmp, 'link.bin');
    await writeFile(real, 'old content');
    await symlink(real, link);
    const r = await cli(['get', id, '-o', link, ...local()]);
    expect(r.stderr).toBe('');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((await readFile(real)).equals(data)).toBe(true);
    expect((await readdir(tmp)).filter((f) => f.endsWith('.part') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('a dangling symlink: the file it names is created', async () => {
    const link = path.join(tmp, 'dangling.bin');
    await symlink('created-by-get.bin', link);
    const r = await cli(['get', id, '-o', link, ...local()]);
    expect(r.stderr).toBe('');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((await readFile(path.join(tmp, 'created-by-get.bin'))).equals(data)).toBe(true);
  });

  it('a character device (our own /dev/null node) stays a device', async () => {
    let device = path.join(tmp, 'null');
    try {
      execFileSync('mknod', [device, 'c', '1', '3']); // root: a device node only this test can break
    } catch {
      device = '/dev/null'; // not root: the old rename over /dev/null fails with EACCES anyway
    }
    const r = await cli(['get', id, '-o', device, ...local()]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await lstat(device)).isCharacterDevice()).toBe(true);
  });
});

describe('put of a directory without -r', () => {
  it('is one line, exit 2, and leaves nothing in the store', async () => {
    const dirStore = path.join(tmp, 'dirput');
    const r = await cli(['put', path.join(tmp), '--dir', dirStore]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).toContain('is a directory: put -r');
    expect(await readdir(path.join(dirStore, 'tmp')).catch(() => [])).toEqual([]);
    expect(await readdir(dirStore).catch(() => [])).toEqual([]);
  });

  it('also against a server', async () => {
    const t = await startTestServer();
    try {
      const r = await cli(['put', tmp, '--server', t.url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(ONE_LINE);
      expect(await readdir(path.join(t.dir, 'tmp')).catch(() => [])).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('Ctrl-C during get -o FILE', () => {
  const t = testServerPerSuite();

  it('removes the partial file and says so', async () => {
    const big = randomBytes(4 * 1024 * 1024);
    const file = await upload(t.url, 'big.bin', big);
    // The proxy passes 1 MiB of the answer, then holds the rest: the get is stuck half-way.
    const proxy = await startTcpProxy(Number(new URL(t.url).port), { down: 1024 * 1024 });
    const dir = await mkdtemp(path.join(tmp, 'sigint-'));
    const target = path.join(dir, 'big.bin');
    try {
      const run = spawnCli(['get', file.id, '-o', target, '--server', proxy.url]);
      await eventually(async () => {
        const names = await readdir(dir);
        const sizes = await Promise.all(names.map((n) => stat(path.join(dir, n)).then((s) => s.size)));
        return sizes.some((s) => s > 0) ? true : undefined;
      }, 'part of the download on disk');
      run.child.kill('SIGINT');
      const { code, stderr } = await run.exited;
      expect(code).toBe(130);
      expect(stderr).toMatch(/removed the partial download .*big\.bin.*with --continue it is kept, to resume\)\n/);
      expect(stderr).toMatch(/chunkstream: aborted: interrupted \(Ctrl-C\)\n$/);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

describe('paths that cannot hold a store', () => {
  it('serve --dir <regular file> is refused at start: exit 2, one line, never "listening"', async () => {
    const file = path.join(tmp, 'in.bin');
    const run = spawnCli(['serve', '--port', '0', '--dir', file]);
    // Before the fix it served (and answered every PUT with 500): stop it if it says it listens.
    let exited = false;
    const listening = eventually(() => exited || run.stdout().toString().includes('listening'), 'listening or exit').then(() =>
      run.child.kill('SIGKILL'),
    );
    const { code, stderr, stdout } = await run.exited;
    exited = true;
    await listening;
    expect(stdout.toString()).not.toContain('listening');
    expect(code).toBe(2);
    expect(stderr).toMatch(ONE_LINE);
    expect(stderr).toMatch(/^chunkstream: invalid_option: --dir: .*in\.bin is a file, not a directory/);
  });

  it('put and serve on a path where no directory can be made (procfs) fail at once with exit 2, not hang', async () => {
    // Node 20's recursive mkdir never returns on /proc: this would time out before the fix.
    const put = await cli(['put', path.join(tmp, 'in.bin'), '--dir', '/proc/chunkstream-test/store']);
    expect(put.code).toBe(2);
    expect(put.stderr).toMatch(/^chunkstream: invalid_option: --dir: \/proc\/chunkstream-test\/store cannot hold a store: /);
    const serve = await cli(['serve', '--port', '0', '--dir', '/proc/chunkstream-test']);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toMatch(ONE_LINE);
    // A missing path elsewhere is still created, several levels deep.
    const deep = path.join(tmp, 'new', 'deeper', 'store');
    expect((await cli(['put', path.join(tmp, 'in.bin'), '--dir', deep])).code).toBe(0);
    expect((await stat(path.join(deep, 'files'))).isDirectory()).toBe(true);
  });

  it.each([['ls'], ['stat', 'a'.repeat(29)], ['get', 'a'.repeat(29)], ['verify'], ['gc'], ['uploads'], ['rm', 'a'.repeat(29)]])(
    '%s on a missing directory says there is no store, exit 1, and creates nothing',
    async (...args) => {
      const missing = path.join(tmp, 'no-such-store');
      const r = await cli([...args, '--dir', missing]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(ONE_LINE);
      expect(r.stderr).toMatch(/^chunkstream: not_found: no store at .*no-such-store: no such directory/);
      await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    },
  );

  it('ls on a directory that holds something else is no store either; an empty one is an empty store', async () => {
    const other = await mkdtemp(path.join(tmp, 'other-'));
    await writeFile(path.join(other, 'notes.txt'), 'not a store');
    const r = await cli(['ls', '--dir', other]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^chunkstream: not_found: no store at .*: the directory holds none of files\//);
    const empty = await mkdtemp(path.join(tmp, 'empty-'));
    const e = await cli(['ls', '--dir', empty]);
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
  });
});

describe('the AWS SDK on Node 20', () => {
  it('an S3 error is the one line, without NodeVersionSupportWarning', async () => {
    // Nothing listens on port 1: the SDK retries, then the command fails with one line.
    const r = await cli(['ls', '--store', 's3://chunkstream-test/x', '--s3-endpoint', 'http://127.0.0.1:1'], {
      env: { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_REGION: 'us-east-1' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('NodeVersionSupportWarning');
    expect(r.stderr).toMatch(ONE_LINE);
  });
});
