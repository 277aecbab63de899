import { describe, expect, it } from 'vitest';
import { acquireGcLease, GC_LEASE_PREFIX, type GcLease, type LeaseAttempt } from '../../../src/engine/gc-lease.js';
import type { GcEvent, GcRunner } from '../../../src/gateway/ops/gc-schedule.js';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { createFsStore, createMemoryStore, openStore, type ChunkStore, type Store } from '../../../src/index.js';
import { bytes, put, tempDir, CHUNK, closeAfterEach } from '../../helpers/core.js';
import { assertBuilt, cli } from '../../helpers/http-cli.js';
import { request } from '../../helpers/http-server.js';
import { memoryLog, parseMetrics, sample } from '../../helpers/ops.js';

const open = closeAfterEach();

const acquired = (a: LeaseAttempt): GcLease => {
  if (!a.acquired) throw new Error(`lease held by ${a.holder}`);
  return a.lease;
};
async function leaseKeys(store: ChunkStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(GC_LEASE_PREFIX)) keys.push(o.key);
  return keys.sort();
}

describe('gc lease (one gc at a time per store)', () => {
  it('is held until released or expired; a crashed holder blocks no longer than its TTL; renewing extends it', async () => {
    const store = createMemoryStore();
    let now = Date.parse('2030-01-01T00:00:00Z');
    const clock = () => now;
    const a = acquired(await acquireGcLease(store, { holder: 'gw-a', ttlMs: 1000, now: clock }));
    expect(a.generation).toBe(1);
    expect(await acquireGcLease(store, { holder: 'gw-b', ttlMs: 1000, now: clock })).toEqual({
      acquired: false,
      holder: 'gw-a',
      expires: '2030-01-01T00:00:01.000Z',
    });
    now += 900;
    await a.renew();
    now += 900; // past the first expiry, within the renewed one
    expect((await acquireGcLease(store, { holder: 'gw-b', ttlMs: 1000, now: clock })).acquired).toBe(false);
    await a.release();
    const b = acquired(await acquireGcLease(store, { holder: 'gw-b', ttlMs: 1000, now: clock }));
    expect(b.generation).toBe(2);
    // gw-b "crashes": never releases. After its TTL the next gateway takes over.
    now += 999;
    expect((await acquireGcLease(store, { holder: 'gw-c', ttlMs: 1000, now: clock })).acquired).toBe(false);
    now += 1;
    const c = acquired(await acquireGcLease(store, { holder: 'gw-c', ttlMs: 1000, now: clock }));
    expect(c.generation).toBe(3);
    expect(await leaseKeys(store)).toEqual([`${GC_LEASE_PREFIX}000000000002.json`, `${GC_LEASE_PREFIX}000000000003.json`]);
    // The crashed holder cannot renew a lease that ran out.
    await expect(b.renew()).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/expired before it was renewed/) });
    await c.release();
  });

  it('of gateways racing for the next generation exactly one wins; a stale one that creates an old generation steps down', async () => {
    const store = createMemoryStore();
    const attempts = await Promise.all(['a', 'b', 'c', 'd'].map((h) => acquireGcLease(store, { holder: h, ttlMs: 60_000 })));
    expect(attempts.filter((x) => x.acquired)).toHaveLength(1);
    const winner = attempts.find((x) => x.acquired)!;
    for (const x of attempts) if (!x.acquired) expect(x.holder).toBe((winner as { lease: GcLease }).lease.holder);
    await acquired(winner).release();
    for (let i = 0; i < 3; i++) await acquired(await acquireGcLease(store, { holder: `later-${i}`, ttlMs: 60_000 })).release();
    const holder = acquired(await acquireGcLease(store, { holder: 'current', ttlMs: 60_000 }));
    expect(holder.generation).toBe(5);
    // A gateway that listed long ago (it saw generation 1, since deleted) creates generation 2 …
    let first = true;
    const stale: ChunkStore = {
      ...store,
      list: (prefix, o) => {
        if (!first) return store.list(prefix, o);
        first = false;
        return (async function* () {
          yield { key: `${GC_LEASE_PREFIX}000000000001.json`, size: 1, modified: new Date(0) };
        })();
      },
      get: async (key, o) => {
        if (key.endsWith('000000000001.json')) {
          const released = {
            version: 1,
            generation: 1,
            holder: 'old',
            acquired: new Date(0).toISOString(),
            expires: new Date(0).toISOString(),
          };
          return new TextEncoder().encode(JSON.stringify(released));
        }
        return store.get(key, o);
      },
    };
    // … and then sees generation 5 held: it does not run.
    expect(await acquireGcLease(stale, { holder: 'stale', ttlMs: 60_000 })).toMatchObject({ acquired: false, holder: 'current' });
    await holder.release();
  });
});

/** Blocks a store's chunk listing (gc's first step) until opened. */
function blockingList(inner: ChunkStore) {
  let blocked = false;
  let release!: () => void;
  let gate = Promise.resolve();
  const store: ChunkStore = {
    ...inner,
    put: inner.put.bind(inner),
    get: inner.get.bind(inner),
    has: inner.has.bind(inner),
    delete: inner.delete.bind(inner),
    flush: inner.flush?.bind(inner),
    sweep: inner.sweep?.bind(inner),
    list: (prefix, o) => {
      const wait = prefix === 'chunks/' && blocked ? gate : undefined;
      return (async function* () {
        await wait;
        yield* inner.list(prefix, o);
      })();
    },
  };
  return {
    store,
    block: () => {
      blocked = true;
      gate = new Promise<void>((r) => (release = r));
    },
    open: () => ((blocked = false), release()),
  };
}

function events(runner: GcRunner, into: { who: string; e: GcEvent }[], who: string) {
  runner.on('gc', (e) => into.push({ who, e }));
}
const next = (runner: GcRunner, pred: (e: GcEvent) => boolean) =>
  new Promise<GcEvent>((resolve) => {
    const on = (e: GcEvent) => {
      if (!pred(e)) return;
      runner.off('gc', on);
      resolve(e);
    };
    runner.on('gc', on);
  });

async function serverOn(store: Store, o: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const s = await startServer({ store, port: 0, host: '127.0.0.1', logger: memoryLog().logger, ...o });
  open.add(s);
  return s;
}

function fsStore(dir: string, chunkStore?: ChunkStore): Store {
  const store = openStore({ chunkStore: chunkStore ?? createFsStore(dir, { fsync: false }), chunkSize: CHUNK });
  open.add(store);
  return store;
}

describe('scheduled gc', () => {
  it('removes orphans at --gc-every with the grace period; its outcome is in the log and the metrics', async () => {
    const dir = await tempDir();
    const log = memoryLog();
    const s = await startServer({ dir, port: 0, host: '127.0.0.1', chunkSize: CHUNK, gcEveryMs: 20, gcGraceMs: 0, logger: log.logger });
    open.add(s);
    const kept = await put(s.store, bytes(2 * CHUNK, 1), 'kept.bin');
    const orphan = await put(s.store, bytes(3 * CHUNK + 5, 2), 'orphan.bin');
    let removed = 0;
    const swept = new Promise<void>((resolve) =>
      s.gc.on('gc', (e) => {
        if (e.type === 'done' && e.outcome === 'ok') removed += e.report.removedBytes;
        if (removed >= orphan.size) resolve();
      }),
    );
    await s.store.remove(orphan.id);
    await swept;
    expect(removed).toBe(orphan.size);
    const left: string[] = [];
    for await (const o of s.store.chunkStore.list('chunks/')) left.push(o.key);
    expect(left).toHaveLength(2); // kept.bin's
    expect((await s.store.stat(kept.id)).size).toBe(2 * CHUNK);
    const m = parseMetrics(await s.metrics.text());
    expect(sample(m, 'chunkstream_gc_runs_total', { trigger: 'schedule', outcome: 'ok' })).toBeGreaterThan(0);
    expect(sample(m, 'chunkstream_gc_removed_bytes_total')).toBe(orphan.size);
    expect(sample(m, 'chunkstream_gc_last_success_timestamp_seconds')).toBeGreaterThan(0);
    const line = log.records().find((r) => r.kind === 'gc' && r.removedBytes > 0);
    expect(line).toMatchObject({
      level: 'info',
      trigger: 'schedule',
      outcome: 'ok',
      removedChunks: 4,
      removedBytes: orphan.size,
      graceMs: 0,
    });
  });

  it('two servers on one store never run it at once: while one holds the lease the other skips (and POST /v1/gc is 409)', async () => {
    const dir = await tempDir();
    const slow = blockingList(createFsStore(dir, { fsync: false }));
    const order: { who: string; e: GcEvent }[] = [];
    slow.block();
    const a = await serverOn(fsStore(dir, slow.store), { gcEveryMs: 20, gcGraceMs: 0 });
    events(a.gc, order, 'a');
    await next(a.gc, (e) => e.type === 'start'); // a holds the lease, its gc is stuck listing chunks
    const b = await serverOn(fsStore(dir), { gcEveryMs: 20, gcGraceMs: 0 });
    events(b.gc, order, 'b');
    const skipped = await next(b.gc, (e) => e.type === 'done');
    expect(skipped).toMatchObject({ outcome: 'skipped', holder: a.gc.holder });
    await next(b.gc, (e) => e.type === 'done' && e.outcome === 'skipped'); // and again at its next tick
    const c = await serverOn(fsStore(dir)); // no schedule of its own: only what is asked
    const asked = await request(`${c.url}/v1/gc`, { method: 'POST' });
    expect(asked.status).toBe(409);
    expect(asked.json().error).toMatchObject({ code: 'conflict', message: expect.stringContaining(a.gc.holder) });
    slow.open();
    await next(b.gc, (e) => e.type === 'start'); // a released it: b gets its turn
    expect(
      sample(parseMetrics(await b.metrics.text()), 'chunkstream_gc_runs_total', { trigger: 'schedule', outcome: 'skipped' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(parseMetrics(await c.metrics.text()), 'chunkstream_gc_runs_total', { trigger: 'request', outcome: 'skipped' })).toBe(1);
    expect(overlaps(order)).toEqual([]);
  });

  it('two servers on one store with a fast schedule: runs alternate, none overlaps', async () => {
    const dir = await tempDir();
    const order: { who: string; e: GcEvent }[] = [];
    const servers = await Promise.all(['a', 'b'].map(() => serverOn(fsStore(dir), { gcEveryMs: 10, gcGraceMs: 0 })));
    servers.forEach((s, i) => events(s.gc, order, 'ab'[i]!));
    const runs = (who: string) => order.filter((x) => x.who === who && x.e.type === 'done' && x.e.outcome === 'ok').length;
    await new Promise<void>((resolve) => {
      const check = () => (runs('a') >= 5 && runs('b') >= 5 ? resolve() : undefined);
      for (const s of servers) s.gc.on('gc', check);
    });
    for (const s of servers) await s.gc.stop();
    expect(overlaps(order)).toEqual([]);
    // A run the stop cut short ends in an aborted error (the shutdown, not a failure): no other error may.
    const failed = order.filter(
      (x) => x.e.type === 'done' && x.e.outcome === 'error' && (x.e.error as { code?: string }).code !== 'aborted',
    );
    expect(failed).toEqual([]);
  });
});

/** Runs of different servers whose start came before the other's end (in event order). */
function overlaps(order: { who: string; e: GcEvent }[]): string[] {
  const found: string[] = [];
  let running: string | undefined;
  for (const { who, e } of order) {
    if (e.type === 'start') {
      if (running !== undefined) found.push(`${who} started while ${running} ran`);
      running = who;
    } else if (e.outcome !== 'skipped' && running === who) running = undefined;
  }
  return found;
}

describe('chunkstream gc (CLI, local store)', () => {
  it('takes the same lease: while a server holds it the command fails with conflict, then it runs', async () => {
    assertBuilt();
    const dir = await tempDir();
    const store = fsStore(dir);
    await put(store, bytes(1000, 3));
    const held = acquired(await acquireGcLease(createFsStore(dir), { holder: 'gateway-x:1234:abcd', ttlMs: 60_000 }));
    const refused = await cli(['gc', '--dir', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^chunkstream: conflict: a gc of this store is already running \(gateway-x:1234:abcd, lease until /);
    await held.release();
    const ran = await cli(['gc', '--dir', dir, '--grace-ms', '0']);
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout.toString())).toMatchObject({ removedChunks: 0, keptReferencedChunks: 1 });
    expect((await acquireGcLease(createFsStore(dir), { holder: 'next', ttlMs: 1000 })).acquired).toBe(true); // the CLI released it
  });
});
