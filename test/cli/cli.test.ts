import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, serve, type ServeChild } from '../helpers/http-cli.js';
import { tempDir, CHUNK } from '../helpers/core.js';

let tmp: string;
const data = randomBytes(3 * CHUNK + 1234);

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('cli');
  await writeFile(path.join(tmp, 'in.bin'), data);
});
afterAll(async () => {});

const ok = (r: { code: number | null; stderr: string }) => expect(r.stderr === '' ? r.code : r.stderr).toBe(0);
const ONE_LINE = /^chunkstream: [a-z_]+: [^\n]+\n$/;

describe('CLI on a local store', () => {
  it('put / ls / stat / get / verify / rm / gc', async () => {
    const store = ['--dir', path.join(tmp, 'local')];
    const put = await cli(['put', path.join(tmp, 'in.bin'), '--name', 'ré sumé.bin', '--chunk-size', '64KiB', ...store]);
    ok(put);
    const id = put.stdout.toString().trim();
    expect(id).toMatch(/^[0-9a-z]{16,64}$/);

    const piped = await cli(['put', '-', ...store], { input: Buffer.from('from stdin') });
    ok(piped);
    expect(piped.stdout.toString()).toMatch(/^[0-9a-z]{16,64}\n$/);

    const ls = await cli(['ls', '--json', ...store]);
    ok(ls);
    const files = JSON.parse(ls.stdout.toString());
    expect(files.map((f: { name: string }) => f.name).sort()).toEqual(['ré sumé.bin', 'stdin']);
    const stat = await cli(['stat', id, ...store]);
    ok(stat);
    expect(JSON.parse(stat.stdout.toString())).toMatchObject({ id, size: data.length, chunkCount: 4, chunkSize: CHUNK });

    const out = path.join(tmp, 'out.bin');
    ok(await cli(['get', id, '-o', out, ...store]));
    expect((await readFile(out)).equals(data)).toBe(true);
    expect((await readdir(tmp)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const range = await cli(['get', id, '--range', `${CHUNK - 2}-${CHUNK + 2}`, ...store]);
    ok(range);
    expect(range.stdout.equals(data.subarray(CHUNK - 2, CHUNK + 3))).toBe(true);

    const verify = await cli(['verify', ...store]);
    ok(verify);
    expect(JSON.parse(verify.stdout.toString())).toMatchObject({ files: 2, chunks: 5, problems: [] });

    ok(await cli(['rm', id, ...store]));

    const gc = await cli(['gc', '--grace-ms', '0', ...store]);
    ok(gc);
    expect(JSON.parse(gc.stdout.toString())).toMatchObject({ removedChunks: 4 });
  });

  it('a failing get -o leaves no file under the target name; verify reports the damage', async () => {
    const dir = path.join(tmp, 'damaged');
    const put = await cli(['put', path.join(tmp, 'in.bin'), '--dir', dir, '--chunk-size', '64KiB']);
    ok(put);
    const id = put.stdout.toString().trim();
    // Flip a byte of chunk 2 on disk: the download fails mid-stream, after chunks 0 and 1 were written.
    const manifest = JSON.parse(await readFile(path.join(dir, 'files', `${id}.json`), 'utf8'));
    const key: string = manifest.chunks[2].key;
    const chunkFile = path.join(dir, 'chunks', key.slice(0, 2), key.slice(2, 4), key);
    const bytes = await readFile(chunkFile);
    bytes[0]! ^= 0xff;
    await writeFile(chunkFile, bytes);

    const target = path.join(tmp, 'never.bin');
    const r = await cli(['get', id, '-o', target, '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).toMatch(/^chunkstream: integrity: chunk 2 /);
    expect((await readdir(tmp)).filter((f) => f.includes('never'))).toEqual([]);

    const verify = await cli(['verify', id, '--dir', dir]);
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.stdout.toString()).problems).toEqual([expect.objectContaining({ id, index: 2, code: 'integrity' })]);
    expect(verify.stderr).toMatch(/^chunkstream: integrity: 1 problem\(s\) found/);
  });
});

describe('CLI against `chunkstream serve`', () => {
  let server: ServeChild;
  const token = 'cli-test-token';
  beforeAll(async () => {
    server = await serve(['--port', '0', '--dir', path.join(tmp, 'remote'), '--chunk-size', '64KiB'], { CHUNKSTREAM_TOKEN: token });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('put / ls / get / rm through the HTTP API; a wrong token is refused', async () => {
    const remote = ['--server', server.url, '--token', token];
    const put = await cli(['put', path.join(tmp, 'in.bin'), ...remote]);
    ok(put);
    const id = put.stdout.toString().trim();

    const ls = await cli(['ls', '--json', '--server', server.url], { env: { CHUNKSTREAM_TOKEN: token } });
    ok(ls);
    expect(JSON.parse(ls.stdout.toString())).toEqual([expect.objectContaining({ id, name: 'in.bin', size: data.length })]);

    const out = path.join(tmp, 'remote-out.bin');
    ok(await cli(['get', id, '-o', out, ...remote]));
    expect((await readFile(out)).equals(data)).toBe(true);
    const range = await cli(['get', id, '--range', `${2 * CHUNK}-`, ...remote]);
    expect(range.stdout.equals(data.subarray(2 * CHUNK))).toBe(true);

    const denied = await cli(['ls', '--server', server.url, '--token', 'wrong']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('chunkstream: unauthorized: the bearer token is not valid (check --token or CHUNKSTREAM_TOKEN)\n');
    const missing = await cli(['ls', '--server', server.url]);
    expect(missing.stderr).toBe(
      'chunkstream: unauthorized: an Authorization: Bearer <token> header is required: pass --token TOKEN or set CHUNKSTREAM_TOKEN\n',
    );

    ok(await cli(['rm', id, ...remote]));
    const gone = await cli(['stat', id, ...remote]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^chunkstream: not_found: /);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const { code, stderr } = await server.stop();
    expect(code).toBe(0);
    expect(stderr).toContain('SIGTERM: shutting down');
  });
});

describe('CLI usage', () => {
  it.each([
    [['serve', '--port', 'abc'], {}, /^chunkstream: invalid_option: --port: must be an integer/],
    [['serve', '--port', '70000'], {}, /^chunkstream: invalid_option: --port: /],
    [['serve'], { CHUNKSTREAM_PORT: '-1' }, /^chunkstream: invalid_option: CHUNKSTREAM_PORT: /],
    [['serve', '--host', '0.0.0.0', '--port', '0'], {}, /^chunkstream: invalid_option: --host: refusing .*without tokens/],
    [
      ['put', 'x', '--chunk-size', '1KiB', '--dir', '.'],
      {},
      /^chunkstream: invalid_option: --chunk-size: must be 64KiB\.\.64MiB \(got 1KiB\)$/m,
    ],
    [['serve', '--tokens-file', '/nonexistent/tokens'], {}, /^chunkstream: invalid_option: --tokens-file: cannot read /],
    [['serve', '--max-transfer-bytes', '1MiB'], {}, /^chunkstream: invalid_option: --max-transfer-bytes: must be at least /],
    [
      ['serve'],
      { CHUNKSTREAM_MAX_TRANSFER_BYTES: 'lots' },
      /^chunkstream: invalid_option: CHUNKSTREAM_MAX_TRANSFER_BYTES: must be a whole number of bytes/,
    ],
    [['put', '--bogus'], {}, /^chunkstream: invalid_option: Unknown option '--bogus'$/m],
    [['get', 'x', '--range', '5-2'], {}, /^chunkstream: invalid_option: --range: /],
    [['frobnicate'], {}, /^chunkstream: invalid_option: unknown command "frobnicate"/],
  ] as const)('%j → exit 2 with one line', async (args, env, message) => {
    const r = await cli([...args], { env: env, cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).toMatch(message);
    expect(r.stdout.length).toBe(0);
  });

  it('--help on every command', async () => {
    for (const command of ['serve', 'put', 'get', 'ls', 'stat', 'rm', 'gc', 'verify', 'uploads']) {
      const r = await cli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toMatch(new RegExp(`^Usage: chunkstream ${command}`));
    }
  });

  it('serve without tokens warns on stderr (and still serves loopback)', async () => {
    const s = await serve(['--port', '0', '--dir', path.join(tmp, 'open')]);
    const { code, stderr } = await s.stop();
    expect(code).toBe(0);
    expect(stderr).toMatch(/^chunkstream: warning: no tokens configured/);
  });

  it('--help lists every command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['serve', 'put', 'get', 'ls', 'stat', 'rm', 'gc', 'verify', 'uploads'])
      expect(r.stdout.toString()).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });
});
