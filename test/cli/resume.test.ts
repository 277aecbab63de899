import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli-child.js';
import { eventually } from '../helpers/eventually.js';
import { assertBuilt, cli } from '../helpers/http-cli.js';
import { upload, testServerPerSuite } from '../helpers/http-server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { tempDir } from '../helpers/core.js';

// Issue 8: resume from the CLI. Bytes are counted (the store's session offset, a proxy's
// byte counter), never timed.
const MiB = 1024 * 1024;
let tmp: string;
let env: Record<string, string>;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('resume');
  env = { CHUNKSTREAM_STATE_DIR: path.join(tmp, 'state') };
});

/** The offset of the one unfinished upload in a local store directory, once there is one. */
async function sessionOffset(dir: string): Promise<number | undefined> {
  const names = await readdir(path.join(dir, 'uploads')).catch(() => []);
  if (names.length !== 1) return undefined;
  const s = await readFile(path.join(dir, 'uploads', names[0]!), 'utf8').catch(() => undefined);
  try {
    return s ? (JSON.parse(s) as { size: number }).size : undefined;
  } catch {
    return undefined; // read while being replaced
  }
}

describe('put, killed half-way and run again, sends only what the store lacks', () => {
  it('local store: SIGKILL past half, re-run: less than half is sent, the same sha256 is committed', async () => {
    const data = randomBytes(24 * MiB);
    const file = path.join(tmp, 'local-big.bin');
    await writeFile(file, data);
    const dir = path.join(tmp, 'local-store');
    const args = ['put', file, '--dir', dir, '--chunk-size', '64KiB', '--upload-concurrency', '1', '--json'];
    const first = spawnCli(args, env);
    // Looked at while frozen (SIGSTOP), let go on (SIGCONT) until past half-way and not done:
    // however fast the upload runs, it cannot finish between two looks unseen.
    const offset = await eventually(async () => {
      first.child.kill('SIGSTOP');
      const o = await sessionOffset(dir);
      if (o !== undefined && o > data.length / 2 && o < data.length) return o;
      first.child.kill('SIGCONT');
      return undefined;
    }, 'the upload past half-way');
    first.child.kill('SIGKILL'); // killed while frozen: no clean-up of any kind
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(offset).toBeLessThan(data.length);

    const listed = await cli(['uploads', '--json', '--dir', dir]);
    expect(JSON.parse(listed.stdout.toString())).toEqual([expect.objectContaining({ name: 'local-big.bin', offset: expect.any(Number) })]);

    const again = await cli(args, { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/^chunkstream: local-big\.bin: resuming at /);
    const r = JSON.parse(again.stdout.toString());
    expect(r.resumedFrom).toBeGreaterThan(data.length / 2);
    expect(r.sent).toBe(data.length - r.resumedFrom);
    expect(r.sent).toBeLessThan(data.length / 2);
    expect(r).toMatchObject({ size: data.length, sha256: sha(data), alreadyStored: false });
    const back = await cli(['get', r.id, '--dir', dir]);
    expect(sha(back.stdout)).toBe(sha(data));
    expect(JSON.parse((await cli(['uploads', '--json', '--dir', dir])).stdout.toString())).toEqual([]);
  });

  describe('against a server (WebSocket, through a counting proxy)', () => {
    const t = testServerPerSuite();
    const port = () => Number(new URL(t.url).port);
    const serverOffset = async (name: string) => (await t.store.listUploads()).find((u) => u.name === name)?.offset;

    it('SIGKILL past half, re-run: the proxy counts less than half sent, the same sha256 is committed', async () => {
      const data = randomBytes(8 * MiB);
      const file = path.join(tmp, 'remote-big.bin');
      await writeFile(file, data);
      // The proxy lets 70% through, then holds the rest: the server stores what it got.
      // One proxy (one server URL for both runs): it lets 70% through, then holds the rest.
      const proxy = await startTcpProxy(port(), { up: Math.floor(data.length * 0.7) });
      const first = spawnCli(['put', file, '--server', proxy.url, '--json'], env);
      await eventually(async () => ((await serverOffset('remote-big.bin')) ?? 0) > data.length * 0.6, 'the server past 60%');
      first.child.kill('SIGKILL');
      await first.exited;
      proxy.release();
      const before = proxy.up;

      const again = await cli(['put', file, '--server', proxy.url, '--json'], { env });
      const sent = proxy.up - before; // every byte the re-run sent, HTTP and WebSocket framing included
      await proxy.close();
      expect(again.code).toBe(0);
      const r = JSON.parse(again.stdout.toString());
      expect(r).toMatchObject({ size: data.length, sha256: sha(data) });
      expect(r.resumedFrom).toBeGreaterThan(data.length / 2);
      expect(sent).toBeLessThan(data.length / 2);
      expect((await t.store.stat(r.id)).sha256).toBe(sha(data));
      expect(await t.store.listUploads()).toEqual([]);
    });

    it('Ctrl-C of a put leaves an unfinished upload: uploads lists it, uploads abort drops it, put starts over', async () => {
      const data = randomBytes(4 * MiB);
      const file = path.join(tmp, 'aborted.bin');
      await writeFile(file, data);
      const stalled = await startTcpProxy(port(), { up: 2 * MiB });
      const first = spawnCli(['put', file, '--server', stalled.url], env);
      await eventually(async () => ((await serverOffset('aborted.bin')) ?? 0) >= MiB, 'a part stored');
      first.child.kill('SIGINT');
      const { code, stderr } = await first.exited;
      await stalled.close();
      expect(code).toBe(130);
      expect(stderr).toMatch(/aborted\.bin was not stored: run the same command again to resume it/);

      const remote = ['--server', t.url];
      const list = await cli(['uploads', ...remote]);
      expect(list.code).toBe(0);
      const [line, ...more] = list.stdout.toString().trim().split('\n');
      expect(more).toEqual([]);
      expect(line).toMatch(/^([0-9a-z]{29}) +\d+\.\d MiB +\S+ old +idle \S+ +aborted\.bin$/);
      const uploadId = line!.split(' ')[0]!;
      const json = JSON.parse((await cli(['uploads', '--json', ...remote])).stdout.toString());
      expect(json).toEqual([expect.objectContaining({ uploadId, name: 'aborted.bin', offset: expect.any(Number), expired: false })]);

      const abort = await cli(['uploads', 'abort', uploadId, ...remote], { env });
      expect(abort.stderr).toBe('');
      expect(abort.code).toBe(0);
      expect((await cli(['uploads', ...remote])).stdout.toString()).toBe('');
      const gone = await cli(['uploads', 'abort', uploadId, ...remote]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/^chunkstream: not_found: upload \w+ not found\n$/);

      const again = await cli(['put', file, ...remote, '--json'], { env });
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout.toString())).toMatchObject({ resumedFrom: 0, sent: data.length, sha256: sha(data) });
    });

    it('get -o FILE --continue after a cut: only the rest is fetched, and the whole file is verified', async () => {
      const data = randomBytes(4 * MiB);
      const info = await upload(t.url, 'cut.bin', data);
      const out = path.join(await mkdtemp(path.join(tmp, 'cont-')), 'cut.bin');
      const cutting = await startTcpProxy(port(), { down: 3 * MiB });
      const first = spawnCli(['get', info.id, '-o', out, '--server', cutting.url]);
      const part = path.join(path.dirname(out), `.cut.bin.${info.id}.part`);
      await eventually(async () => ((await stat(part).catch(() => undefined))?.size ?? 0) > 2 * MiB, 'most of it on disk');
      cutting.cut(); // the network drops, and stays down: the CLI's own retry finds nobody
      await cutting.close();
      const { code, stderr } = await first.exited;
      expect(code).toBe(1);
      expect(stderr).toMatch(
        /kept the partial download .*cut\.bin\..*\.part \(.* of 4\.0 MiB\): run the same get with --continue to resume/,
      );
      const have = (await stat(part)).size;
      await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });

      const counting = await startTcpProxy(port());
      const again = await cli(['get', info.id, '-o', out, '--continue', '--server', counting.url]);
      await counting.close();
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      expect((await readFile(out)).equals(data)).toBe(true);
      expect(counting.down).toBeLessThan(data.length - have + 64 * 1024); // the rest, plus headers and the stat
      await expect(stat(part)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('get --continue onto a partial that does not match fails the whole-file check and removes it', async () => {
      const data = randomBytes(MiB);
      const info = await upload(t.url, 'wrong.bin', data);
      const out = path.join(await mkdtemp(path.join(tmp, 'wrong-')), 'wrong.bin');
      const part = path.join(path.dirname(out), `.wrong.bin.${info.id}.part`);
      await writeFile(part, randomBytes(1000)); // not the file's first 1000 bytes
      const r = await cli(['get', info.id, '-o', out, '--continue', '--server', t.url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^chunkstream: integrity: .*whole-file SHA-256 of the download is/m);
      await expect(stat(part)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
      const clean = await cli(['get', info.id, '-o', out, '--continue', '--server', t.url]);
      expect(clean.code).toBe(0);
      expect((await readFile(out)).equals(data)).toBe(true);
    });
  });
});
