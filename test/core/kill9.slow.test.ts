import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli-child.js';
import { eventually } from '../helpers/eventually.js';
import { assertBuilt, cli, serve } from '../helpers/http-cli.js';
import { tempDir } from '../helpers/core.js';

/**
 * kill -9 at the worst moments (issue 20's fault suite): a process that dies with no clean-up
 * of any kind leaves every committed file whole, nothing half-visible, and a store the next run
 * finishes. Moments are found by looking at a frozen process (SIGSTOP, look, SIGCONT), so they
 * are reached however fast the machine is, never by sleeping.
 */
const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const chunkCount = async (dir: string) => {
  let n = 0;
  for (const a of await readdir(path.join(dir, 'chunks')).catch(() => [])) {
    for (const b of await readdir(path.join(dir, 'chunks', a)).catch(() => [])) n += (await readdir(path.join(dir, 'chunks', a, b))).length;
  }
  return n;
};

async function putFile(dir: string, file: string, data: Buffer): Promise<string> {
  await writeFile(file, data);
  const r = await cli(['put', file, '--dir', dir, '--chunk-size', '64KiB', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.toString()) as { id: string }).id;
}

/** Freezes `child` whenever `probe` holds, kills it there; resolves with what the probe saw. */
async function killWhen<T>(child: ReturnType<typeof spawnCli>, probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const seen = await eventually(async () => {
    child.child.kill('SIGSTOP');
    const v = await probe();
    if (v !== undefined) return v;
    child.child.kill('SIGCONT');
    return undefined;
  }, what);
  child.child.kill('SIGKILL');
  await child.exited;
  return seen;
}

let tmp: string;
beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('kill9');
});

describe('kill -9 during gc', () => {
  it('half-way through deleting: kept files stay whole, the next gc finishes, nothing it needs is gone', async () => {
    const dir = path.join(tmp, 'gc-store');
    const keep = randomBytes(4 * MiB);
    const shared = Buffer.concat([keep.subarray(0, 2 * MiB), randomBytes(30 * MiB)]); // shares 32 chunks with keep
    const keepId = await putFile(dir, path.join(tmp, 'keep.bin'), keep);
    const goneId = await putFile(dir, path.join(tmp, 'gone.bin'), shared);
    expect((await cli(['rm', goneId, '--dir', dir])).code).toBe(0);
    const before = await chunkCount(dir);
    const after = 64; // keep's chunks: what a finished gc leaves

    const run = spawnCli(['gc', '--dir', dir, '--grace-ms', '0']);
    const mid = await killWhen(
      run,
      async () => {
        const n = await chunkCount(dir);
        return n < before && n > after ? n : undefined;
      },
      'gc half-way through its deletes',
    );
    expect(mid).toBeGreaterThan(after);

    const verify = await cli(['verify', '--dir', dir]);
    expect(verify.code, verify.stderr + verify.stdout.toString()).toBe(0);
    expect(sha((await cli(['get', keepId, '--dir', dir])).stdout)).toBe(sha(keep));

    const again = await cli(['gc', '--dir', dir, '--grace-ms', '0']);
    expect(again.code, again.stderr).toBe(0);
    expect(await chunkCount(dir)).toBe(after);
    expect(sha((await cli(['get', keepId, '--dir', dir])).stdout)).toBe(sha(keep));
  });
});

describe('kill -9 of serve during an upload', () => {
  it('the cut upload is never visible; the restarted server serves every committed file; its session expires within the hour', async () => {
    const dir = path.join(tmp, 'serve-store');
    const done = randomBytes(2 * MiB);
    const doneId = await putFile(dir, path.join(tmp, 'done.bin'), done);
    const s = await serve(['--dir', dir, '--port', '0', '--chunk-size', '64KiB']);
    const big = randomBytes(32 * MiB);
    // The body trickles in pieces so that the server is surely mid-upload when it dies.
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        const at = (body as unknown as { at?: number }).at ?? 0;
        if (at >= big.length) return c.close();
        (body as unknown as { at: number }).at = at + MiB;
        await new Promise((r) => setImmediate(r));
        c.enqueue(big.subarray(at, at + MiB));
      },
    });
    const put = fetch(`${s.url}/v1/files?name=cut.bin`, { method: 'PUT', body, duplex: 'half' }).catch((err: unknown) => err);
    await eventually(async () => (await chunkCount(dir)) > 32 + 64, 'the server storing the upload');
    s.child.kill('SIGKILL');
    expect(await put).toBeInstanceOf(Error); // the connection was cut: no answer

    const s2 = await serve(['--dir', dir, '--port', '0']);
    try {
      const list = (await (await fetch(`${s2.url}/v1/files`)).json()) as { files?: { name: string }[] } | { name: string }[];
      const names = (Array.isArray(list) ? list : (list.files ?? [])).map((f) => f.name);
      expect(names).toEqual(['done.bin']);
      const back = Buffer.from(await (await fetch(`${s2.url}/v1/files/${doneId}`)).arrayBuffer());
      expect(sha(back)).toBe(sha(done));
    } finally {
      await s2.stop();
    }
    // Nobody can resume a cut PUT: its session outlives the crash by an hour at most (not the
    // 24 h upload TTL), then gc takes it and its chunks.
    const uploads = JSON.parse((await cli(['uploads', '--dir', dir, '--json'])).stdout.toString()) as { name: string; expires: string }[];
    expect(uploads.map((u) => u.name)).toEqual(['cut.bin']);
    expect(Date.parse(uploads[0]!.expires) - Date.now()).toBeLessThanOrEqual(60 * 60 * 1000);
    const gc = await cli(['gc', '--dir', dir, '--grace-ms', '0']);
    expect(gc.code, gc.stderr).toBe(0);
    expect(sha((await cli(['get', doneId, '--dir', dir])).stdout)).toBe(sha(done));
  });
});

describe('kill -9 during verify --repair', () => {
  it('the damage notes it had not yet dropped are redone by the next run; every file ends whole', async () => {
    const dir = path.join(tmp, 'repair-store');
    const src = path.join(tmp, 'repair-src');
    await mkdir(src, { recursive: true });
    const files = Array.from({ length: 24 }, (_, i) => randomBytes(MiB + i));
    for (const [i, f] of files.entries()) await writeFile(path.join(src, `f${i}.bin`), f);
    expect((await cli(['put', '-r', src, '--dir', dir, '--chunk-size', '64KiB'])).code).toBe(0);
    // A flipped byte in every chunk file: verify moves each aside (24 files × 17 chunks).
    for (const a of await readdir(path.join(dir, 'chunks'))) {
      for (const b of await readdir(path.join(dir, 'chunks', a))) {
        for (const c of await readdir(path.join(dir, 'chunks', a, b))) {
          const h = await open(path.join(dir, 'chunks', a, b, c), 'r+');
          await h.write(Buffer.from([0x5a]), 0, 1, 100);
          await h.close();
        }
      }
    }
    expect((await cli(['verify', '--dir', dir])).code).toBe(1);
    const notes = async () => (await readdir(path.join(dir, 'quarantine')).catch(() => [])).length;
    const damaged = await notes();
    expect(damaged).toBeGreaterThan(24 * 16);
    expect((await cli(['put', '-r', src, '--dir', dir, '--chunk-size', '64KiB', '--fresh'])).code).toBe(0); // stores the chunks again

    const run = spawnCli(['verify', '--repair', '--dir', dir]);
    await killWhen(run, async () => ((await notes()) < damaged ? true : undefined), 'repair dropping its notes');
    const again = await cli(['verify', '--repair', '--dir', dir]);
    expect(again.code, again.stderr).toBe(0);
    expect(await notes()).toBe(0);
    expect((await cli(['verify', '--dir', dir])).code).toBe(0);
  });
});
