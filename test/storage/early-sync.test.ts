// The fs store's background data syncs of deferred puts (fs-io.ts: syncSoon / synced / dropSync).
// A sync that stays pending or fails with EIO is a fault a test cannot cause on a real disk, so
// FileHandle#sync is replaced by a controllable one; files, links and directories stay real.
import { constants, promises as fsp } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dropSync, synced, syncSoon } from '../../src/storage/fs-io.js';
import { createFsStore } from '../../src/storage/fs.js';
import { tempDir } from '../helpers/core.js';

interface PendingSync {
  file: string;
  settle(err?: Error): void;
}

let pending: PendingSync[];
let started: string[];
/** Every path opened read-only, as syncPath does, while a test runs (also those whose open failed). */
let opened: string[];
/** Syncs answer at once (the store's other syncs: directories, the rest of a flush). */
let auto: boolean;
/** Handles whose sync started and that are not closed yet: a test ends once there are none. */
const unclosed = new Set<object>();

beforeEach(async () => {
  pending = [];
  started = [];
  opened = [];
  auto = false;
  const probe = await fsp.open(path.join(await tempDir('early-sync-probe'), 'p'), 'w');
  const FileHandleProto = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
  await probe.close();
  // The path of each handle opened read-only (syncPath opens the file again to sync it).
  const paths = new WeakMap<object, string>();
  const open = fsp.open.bind(fsp);
  vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
    if (args[1] === constants.O_RDONLY) opened.push(String(args[0]));
    const h = await open(...args);
    paths.set(h, String(args[0]));
    const close = h.close.bind(h); // an own property of each handle, not on the prototype
    h.close = async () => {
      await close();
      unclosed.delete(h);
    };
    return h;
  });
  vi.spyOn(FileHandleProto, 'sync').mockImplementation(function (this: object) {
    const file = paths.get(this) ?? '?';
    started.push(file);
    unclosed.add(this);
    if (auto) return Promise.resolve();
    return new Promise<void>((resolve, reject) => pending.push({ file, settle: (err) => (err ? reject(err) : resolve()) }));
  });
});
afterEach(async () => {
  settleAll();
  await until(() => unclosed.size === 0); // the queue is empty for the next test
  vi.restoreAllMocks();
});

/** From now on every sync succeeds at once, the pending ones too. */
function settleAll(): void {
  auto = true;
  for (const p of pending.splice(0)) p.settle();
}

const eio = () => Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
/** Lets the queued opens and syncs run (no clock involved: it waits for a condition). */
const until = (check: () => boolean) => vi.waitFor(() => expect(check()).toBe(true), { timeout: 15_000, interval: 5 });

async function files(n: number): Promise<string[]> {
  const dir = await tempDir('early-sync');
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const f = path.join(dir, `f${i}`);
      await writeFile(f, `data ${i}`);
      return f;
    }),
  );
}

describe('background syncs of staged files', () => {
  // A sync starts by opening its file, synchronously inside syncSoon / synced / the queue's pump:
  // `opened` right after such a call says exactly which syncs have started.
  it('run two at a time in the process, in the order they were asked for', async () => {
    const [a, b, c, d] = await files(4);
    const s = [a!, b!, c!, d!].map((f) => syncSoon(f));
    expect(opened).toEqual([a, b]);
    await until(() => pending.length === 2);
    pending.shift()!.settle();
    await until(() => opened.length === 3);
    expect(opened).toEqual([a, b, c]); // one finished, one more started
    for (const p of pending.splice(0)) p.settle();
    await until(() => opened.length === 4);
    await until(() => pending.length === 1);
    pending.shift()!.settle();
    await Promise.all(s.map((x) => synced(x)));
    expect(started).toEqual([a, b, c, d]); // none synced twice
  });

  it('a file that is needed now is synced at once, not behind the queue', async () => {
    const [a, b, c, d] = await files(4);
    const [sa, sb] = [syncSoon(a!), syncSoon(b!)];
    syncSoon(c!);
    const sd = syncSoon(d!);
    const needed = synced(sd);
    expect(opened).toEqual([a, b, d]); // c still waits for a running sync to finish
    await until(() => pending.some((p) => p.file === d));
    pending.find((p) => p.file === d)!.settle();
    await needed;
    settleAll();
    // Once a's and b's syncs are done, the queue has started whatever it held behind them.
    await Promise.all([synced(sa), synced(sb)]);
    expect(opened).toEqual([a, b, d, c]); // and d is not synced again from the queue
  });

  it('a dropped sync never runs', async () => {
    const [a, b, c, d] = await files(4);
    syncSoon(a!);
    syncSoon(b!);
    const sc = syncSoon(c!);
    syncSoon(d!);
    dropSync(sc);
    await until(() => pending.length === 2);
    for (const p of pending.splice(0)) p.settle();
    await until(() => opened.length === 3);
    expect(opened).toEqual([a, b, d]);
  });

  it('a failed sync fails whoever needs the file', async () => {
    const [a] = await files(1);
    const s = syncSoon(a!);
    await until(() => pending.length === 1);
    pending.shift()!.settle(eio());
    await expect(synced(s)).rejects.toThrow(/EIO/);
  });
});

describe('fs store: flush of deferred puts', () => {
  it('fails when a staged chunk could not be synced, and places none of them', async () => {
    const dir = await tempDir('early-sync-store');
    const store = createFsStore(dir, { fsync: true });
    const keys = ['aa/one', 'bb/two', 'cc/three'];
    for (const [i, k] of keys.entries()) await store.put(k, new TextEncoder().encode(`chunk ${i}`), { defer: true });
    await until(() => pending.length === 2);
    pending.shift()!.settle(eio()); // the first chunk's data never reached the disk
    settleAll(); // the rest sync fine; the flush must still fail, naming what it was doing
    await expect(store.flush!(keys)).rejects.toMatchObject({
      code: 'storage',
      message: expect.stringMatching(/flush 3 staged objects failed: EIO/),
    });
    for (const k of keys) expect(await store.has(k)).toBe(false);
    expect(await readdir(path.join(dir, 'tmp'))).toEqual([]); // staged temp files are removed
  });

  it('a chunk staged again drops the first copy and its queued sync', async () => {
    const dir = await tempDir('early-sync-store');
    const store = createFsStore(dir, { fsync: true });
    const [a, b] = await files(2);
    syncSoon(a!); // two syncs of other files hold the queue
    syncSoon(b!);
    await until(() => started.length === 2);
    await store.put('aa/one', new TextEncoder().encode('first'), { defer: true });
    const [firstTmp] = await readdir(path.join(dir, 'tmp'));
    await store.put('aa/one', new TextEncoder().encode('second'), { defer: true });
    expect(await readdir(path.join(dir, 'tmp'))).not.toContain(firstTmp);
    settleAll();
    await store.flush!(['aa/one']);
    expect(opened.some((f) => f.endsWith(firstTmp!))).toBe(false); // its sync was not even tried
    expect(new TextDecoder().decode(await store.get('aa/one'))).toBe('second');
  });
});
