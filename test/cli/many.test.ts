import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom } from 'rxjs';
import { openStore } from '../../src/index.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { tempDir } from '../helpers/core.js';

// Issue 8, "Missing": several files at once, trees with folder names, --json / -q, and the
// friction items that need no server: --version, exact sizes, conflicting flags, per-command help.
let tmp: string;
let env: Record<string, string>;
beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('many');
  env = { CHUNKSTREAM_STATE_DIR: path.join(tmp, 'state') };
});

const ok = (r: { code: number | null; stderr: string }) => expect(r.stderr === '' ? r.code : r.stderr).toBe(0);
const lines = (b: Buffer) => b.toString().trim().split('\n');

async function tree(root: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {
    'top.txt': Buffer.from('top\n'),
    'sub/b.bin': randomBytes(150_000),
    'sub/deeper/c d é.txt': Buffer.from('nested\n'),
    'other/z.bin': randomBytes(10),
  };
  for (const [name, data] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), data);
  }
  return files;
}

describe('CLI: several files at once', () => {
  it('--version and -V print the version from package.json', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      ok(r);
      expect(r.stdout.toString()).toBe(`chunkstream ${version}\n`);
    }
  });

  it('put A B C prints "ID  NAME" lines; rm ID… removes them, naming any that fail', async () => {
    const store = ['--dir', path.join(tmp, 'multi')];
    for (const n of ['a', 'b', 'c']) await writeFile(path.join(tmp, `${n}.txt`), `file ${n}\n`);
    const put = await cli(['put', ...['a', 'b', 'c'].map((n) => path.join(tmp, `${n}.txt`)), ...store], { env });
    ok(put);
    const stored = lines(put.stdout).map((l) => l.split('  '));
    expect(stored.map(([, name]) => name)).toEqual(['a.txt', 'b.txt', 'c.txt']);
    const ids = stored.map(([id]) => id!);
    const missing = 'z'.repeat(29);
    const rm = await cli(['rm', ids[0]!, missing, ids[1]!, ...store]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toBe(
      `chunkstream: ${missing}: not_found: file ${missing} not found\nchunkstream: not_found: 1 of 3 not removed (see above)\n`,
    );
    const ls = await cli(['ls', '--json', ...store]);
    expect(JSON.parse(ls.stdout.toString()).map((f: { id: string }) => f.id)).toEqual([ids[2]]);
    ok(await cli(['rm', ids[2]!, ...store]));
  });

  it('ls sorts by name or size, reverses, filters by a glob, and --long adds exact size, SHA-256 prefix and chunks', async () => {
    const store = ['--dir', path.join(tmp, 'sorted')];
    const sizes: Record<string, number> = { 'b.bin': 3000, 'a.bin': 10, 'c.txt': 200_000 };
    for (const [n, size] of Object.entries(sizes)) await writeFile(path.join(tmp, n), randomBytes(size));
    ok(await cli(['put', ...Object.keys(sizes).map((n) => path.join(tmp, n)), ...store], { env }));
    const names = async (...args: string[]) => lines((await cli(['ls', ...args, ...store])).stdout).map((l) => l.split(/\s+/).at(-1));
    expect(await names('--sort', 'name')).toEqual(['a.bin', 'b.bin', 'c.txt']);
    expect(await names('--sort', 'size')).toEqual(['a.bin', 'b.bin', 'c.txt']);
    expect(await names('--sort', 'size', '--reverse')).toEqual(['c.txt', 'b.bin', 'a.bin']);
    expect(await names('*.bin', '--sort', 'name')).toEqual(['a.bin', 'b.bin']);
    const long = lines((await cli(['ls', '--long', '--sort', 'size', ...store])).stdout);
    expect(long[2]).toMatch(/\b200000\b.*\b[0-9a-f]{8,}\b.*\b1\b.*c\.txt$/); // exact bytes, digest prefix, 1 chunk
    const bad = await cli(['ls', '--sort', 'colour', ...store]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--sort/);
  });

  it('uploads abort ID on a local store forgets an unfinished upload and keeps nothing of it', async () => {
    const dir = path.join(tmp, 'aborts');
    const store = openStore({ dir });
    async function* failing() {
      yield randomBytes(5 * 1024 * 1024);
      throw new Error('source cut');
    }
    await expect(lastValueFrom(store.upload(failing(), { name: 'half.bin' }))).rejects.toThrow(/source cut/);
    const [pending] = await store.listUploads();
    await store.close();
    expect(pending).toMatchObject({ name: 'half.bin' });
    const listed = JSON.parse((await cli(['uploads', '--json', '--dir', dir])).stdout.toString());
    expect(listed.map((u: { uploadId: string }) => u.uploadId)).toEqual([pending!.uploadId]);
    ok(await cli(['uploads', 'abort', pending!.uploadId, '--dir', dir]));
    expect(JSON.parse((await cli(['uploads', '--json', '--dir', dir])).stdout.toString())).toEqual([]);
    const again = await cli(['uploads', 'abort', pending!.uploadId, '--dir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not_found/);
  });

  it('put -r DIR names files by their path in DIR; get -O and -o DIR/ recreate the tree byte for byte', async () => {
    const src = path.join(tmp, 'tree');
    const files = await tree(src);
    await symlink('/etc', path.join(src, 'etc-link')); // not followed
    const store = ['--dir', path.join(tmp, 'trees')];
    const put = await cli(['put', '-r', src, '--json', ...store], { env });
    expect(put.code).toBe(0);
    expect(put.stderr).toMatch(/^chunkstream: skipped .*etc-link: a symlink to a directory or device\n$/);
    const stored = lines(put.stdout).map((l) => JSON.parse(l));
    expect(stored.map((f) => f.name)).toEqual(['other/z.bin', 'sub/b.bin', 'sub/deeper/c d é.txt', 'top.txt']);
    for (const f of stored)
      expect(f).toMatchObject({ size: files[f.name]!.length, resumedFrom: 0, sent: files[f.name]!.length, alreadyStored: false });

    const ids = stored.map((f) => f.id);
    const cwd = await mkdtemp(path.join(tmp, 'get-O-'));
    const got = await cli(['get', ...ids, '-O', '--dir', path.resolve(tmp, 'trees')], { cwd });
    ok(got);
    expect(lines(got.stdout).sort()).toEqual(Object.keys(files).sort());
    for (const [name, data] of Object.entries(files)) expect((await readFile(path.join(cwd, name))).equals(data)).toBe(true);

    const into = path.join(tmp, 'into');
    ok(await cli(['get', ...ids, '-o', `${into}/`, ...store]));
    for (const [name, data] of Object.entries(files)) expect((await readFile(path.join(into, name))).equals(data)).toBe(true);
    expect((await readdir(path.join(into, 'sub'))).sort()).toEqual(['b.bin', 'deeper']); // no partial files left

    // Running the same put again sends nothing: every file is reported as stored by the earlier run.
    const again = await cli(['put', '-r', src, '--json', ...store], { env });
    expect(again.code).toBe(0);
    expect(lines(again.stdout).map((l) => JSON.parse(l))).toEqual(
      stored.map((f) => expect.objectContaining({ id: f.id, sent: 0, alreadyStored: true })),
    );
    const q = await cli(['put', '-r', src, '-q', '--fresh', ...store], { env });
    expect(q.code).toBe(0);
    expect(q.stdout.length).toBe(0);
    expect(JSON.parse((await cli(['ls', '--json', ...store])).stdout.toString())).toHaveLength(8); // --fresh stored them anew
  });

  it('get -O never writes outside the directory: a symlinked folder on the way is refused', async () => {
    const store = ['--dir', path.join(tmp, 'escape')];
    const src = path.join(tmp, 'esc-src');
    await mkdir(path.join(src, 'sub'), { recursive: true });
    await writeFile(path.join(src, 'sub', 'x.txt'), 'x');
    const put = await cli(['put', '-r', src, ...store], { env });
    ok(put);
    const id = lines(put.stdout)[0]!.split('  ')[0]!;
    const cwd = await mkdtemp(path.join(tmp, 'esc-cwd-'));
    const outside = await mkdtemp(path.join(tmp, 'outside-'));
    await symlink(outside, path.join(cwd, 'sub'));
    const r = await cli(['get', id, '-O', '--dir', path.resolve(tmp, 'escape')], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^chunkstream: bad_request: refusing to save "sub\/x.txt" under \.: .*sub is a symbolic link\n$/);
    expect(await readdir(outside)).toEqual([]);
  });

  it('put checks every input before sending any: a missing file or a clashing name stops it up front', async () => {
    const store = ['--dir', path.join(tmp, 'upfront')];
    await writeFile(path.join(tmp, 'one.txt'), '1');
    const missing = await cli(['put', path.join(tmp, 'one.txt'), path.join(tmp, 'nope.txt'), ...store], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^chunkstream: not_found: .*nope\.txt: no such file or directory\n$/);
    await mkdir(path.join(tmp, 'again'), { recursive: true });
    await writeFile(path.join(tmp, 'again', 'one.txt'), '2');
    const clash = await cli(['put', path.join(tmp, 'one.txt'), path.join(tmp, 'again', 'one.txt'), ...store], { env });
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/would both be stored as "one\.txt"/);
    await expect(readdir(path.join(tmp, 'upfront'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('CLI: sizes, conflicting flags, per-command help', () => {
  it('SI and IEC sizes are exact; a bare M is refused; limits are said in units', async () => {
    await writeFile(path.join(tmp, 'sz.txt'), 'size test');
    const chunkOf = async (size: string) => {
      const r = await cli(['put', path.join(tmp, 'sz.txt'), '--json', '--fresh', '--chunk-size', size, '--dir', path.join(tmp, 'sizes')], {
        env,
      });
      ok(r);
      return JSON.parse(r.stdout.toString()).chunkSize;
    };
    expect(await chunkOf('4MB')).toBe(4_000_000);
    expect(await chunkOf('4mb')).toBe(4_000_000);
    expect(await chunkOf('4MiB')).toBe(4_194_304);
    expect(await chunkOf('1.5MiB')).toBe(1_572_864);
    expect(await chunkOf('65536')).toBe(65_536);
    for (const [size, message] of [
      ['4M', /^chunkstream: invalid_option: --chunk-size: ambiguous unit in "4M": write 4MB \(SI, ×1000\) or 4MiB \(IEC, ×1024\)\n$/],
      ['1KiB', /^chunkstream: invalid_option: --chunk-size: must be 64KiB\.\.64MiB \(got 1KiB\)\n$/],
      ['100MB', /^chunkstream: invalid_option: --chunk-size: must be 64KiB\.\.64MiB \(got 100MB\)\n$/],
      ['0.5B', /^chunkstream: invalid_option: --chunk-size: must be a whole number of bytes/],
    ] as const) {
      const r = await cli(['put', path.join(tmp, 'sz.txt'), '--chunk-size', size, '--dir', path.join(tmp, 'sizes')], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it.each([
    [
      ['put', 'x', '--server', 'http://127.0.0.1:1', '--chunk-size', '1MiB'],
      "--chunk-size does not apply with --server (the server's own setting applies)",
    ],
    [['ls', '--server', 'http://127.0.0.1:1', '--dir', 'x'], '--dir does not apply with --server (it names a local store)'],
    [['ls', '--dir', 'x', '--store', 'file://y'], '--dir and --store both name a store: give one'],
    [['ls', '--s3-endpoint', 'http://127.0.0.1:1'], '--s3-endpoint applies only with --store s3://BUCKET/PREFIX'],
    [['ls', '--token', 't'], '--token applies only with --server'],
    [['get', 'x', '-o', 'f', '-O'], '-o and -O both say where to write: give one'],
    [['get', 'a', 'b', '-o', '-'], 'several ids need -O or -o DIR/: each file is saved under its stored name'],
    [['put', 'x', '--json', '-q'], '--json and -q/--quiet contradict each other: give one'],
    [['ls', '--chunk-size', '1MiB'], "Unknown option '--chunk-size'"],
  ])('%j is a usage error: %s', async (args, message) => {
    const r = await cli(args, { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`chunkstream: invalid_option: ${message}\n`);
  });

  it('a CHUNKSTREAM_* variable that does not apply is ignored, not an error', async () => {
    await writeFile(path.join(tmp, 'env.txt'), 'env');
    const r = await cli(['put', path.join(tmp, 'env.txt'), '--dir', path.join(tmp, 'envstore')], {
      env: { ...env, CHUNKSTREAM_SERVER: 'http://127.0.0.1:1', CHUNKSTREAM_TOKEN: 'unused', CHUNKSTREAM_S3_ENDPOINT: 'http://127.0.0.1:1' },
    });
    ok(r);
  });

  it('per-command --help lists only the flags that command takes', async () => {
    const help = async (c: string) => (await cli([c, '--help'])).stdout.toString();
    const get = await help('get');
    expect(get).toContain('--download-concurrency');
    expect(get).toContain('--continue');
    expect(get).not.toContain('--chunk-size');
    expect(get).not.toContain('--upload-concurrency');
    const put = await help('put');
    expect(put).toContain('--chunk-size');
    expect(put).not.toContain('--download-concurrency');
    const ls = await help('ls');
    expect(ls).not.toMatch(/--(chunk-size|upload-concurrency|download-concurrency)/);
    expect(await help('serve')).not.toContain('--server');
  });
});
