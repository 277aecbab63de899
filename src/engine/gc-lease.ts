import { z } from 'zod';
import { ChunkstreamError, isChunkstreamError } from '../errors.js';
import type { CallOptions, ChunkStore } from '../storage/types.js';

/** Lease objects live beside the link secret: gc never touches `config/`. */
export const GC_LEASE_PREFIX = 'config/gc-lease/';
const keyOf = (generation: number) => `${GC_LEASE_PREFIX}${String(generation).padStart(12, '0')}.json`;
const GENERATION = /^config\/gc-lease\/(\d{12})\.json$/;

const leaseSchema = z.object({
  version: z.literal(1),
  generation: z.number().int().min(1),
  holder: z.string().min(1),
  acquired: z.iso.datetime(),
  expires: z.iso.datetime(),
  released: z.boolean().optional(),
});
type LeaseRecord = z.infer<typeof leaseSchema>;

export interface GcLeaseOptions extends CallOptions {
  /** Who asks (host, pid, random): said in the messages of those who find the lease held. */
  holder: string;
  /** The lease ends this long after it was taken or last renewed: a crashed holder blocks nobody longer. */
  ttlMs: number;
  /** Clock (tests). */
  now?: () => number;
  /** A holder known to be dead (a process of this machine that no longer exists) holds nothing. */
  holderGone?: (holder: string) => boolean;
}

export interface GcLease {
  readonly generation: number;
  readonly holder: string;
  /** Extends the lease to now + ttlMs; rejects (and the lease is lost) if it had already expired. */
  renew(): Promise<void>;
  /** Ends the lease now, so the next gateway need not wait for its expiry. */
  release(): Promise<void>;
}

export type LeaseAttempt = { acquired: true; lease: GcLease } | { acquired: false; holder: string; expires: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * At most one gc at a time per store, across gateways: a lease object written through the
 * ChunkStore itself (so one directory or one bucket is all the coordination there is).
 *
 * Leases are numbered generations, `config/gc-lease/000000000007.json`. To take the lease, read
 * the highest generation; if it is held (not released, not expired) give up, else create the next
 * one with `ifNotExists` — of gateways racing for the same number exactly one creates it. Only its
 * creator ever writes a generation again (renew, release), so no compare-and-swap is needed. A
 * creator then reads its object back (a backend without conditional puts may let a racer
 * overwrite it) and lists again: a higher generation means it was too slow, and it steps down.
 * Old generations are deleted by the next holder. An expired lease (its holder crashed, or stalled
 * past it) is simply superseded by the next generation.
 */
export async function acquireGcLease(store: ChunkStore, o: GcLeaseOptions): Promise<LeaseAttempt> {
  const now = o.now ?? Date.now;
  const call = { signal: o.signal };
  const before = await generations(store, call);
  const top = before.at(-1);
  if (top !== undefined) {
    const current = await read(store, top, call);
    // A holder killed with no clean-up (kill -9) would block every gc until its lease expired.
    if (current && held(current, now()) && o.holderGone?.(current.holder) !== true) {
      return { acquired: false, holder: current.holder, expires: current.expires };
    }
  }
  const generation = (top ?? 0) + 1;
  const taken = now();
  const record = (ttl: number, released?: true): LeaseRecord => ({
    version: 1,
    generation,
    holder: o.holder,
    acquired: new Date(taken).toISOString(),
    expires: new Date(now() + ttl).toISOString(),
    ...(released ? { released } : {}),
  });
  const write = (r: LeaseRecord, ifNotExists = false) =>
    store.put(keyOf(generation), encoder.encode(JSON.stringify(r)), { ...call, ifNotExists });
  const { created } = await write(record(o.ttlMs), true);
  const mine = created ? await read(store, generation, call) : undefined;
  if (!mine || mine.holder !== o.holder) {
    const other = mine ?? (await read(store, generation, call));
    return { acquired: false, holder: other?.holder ?? 'another gateway', expires: other?.expires ?? new Date(now()).toISOString() };
  }
  const after = await generations(store, call);
  const highest = after.at(-1) ?? generation; // a listing that lags behind our own write: ours is the one we know
  if (highest > generation) {
    await write(record(0, true)).catch(() => undefined); // ours is stale: leave it released
    const other = await read(store, highest, call);
    return { acquired: false, holder: other?.holder ?? 'another gateway', expires: other?.expires ?? new Date(now()).toISOString() };
  }
  for (const g of after) if (g < generation - 1) await store.delete(keyOf(g), call).catch(() => undefined);
  let expires = Date.parse(mine.expires);
  let over = false;
  const lease: GcLease = {
    generation,
    holder: o.holder,
    async renew() {
      if (over) throw new LeaseLostError(generation, 'it was released');
      if (now() >= expires) {
        over = true;
        throw new LeaseLostError(generation, 'it expired before it was renewed');
      }
      const r = record(o.ttlMs);
      await write(r);
      expires = Date.parse(r.expires);
    },
    async release() {
      if (over) return;
      over = true;
      // Past its expiry the next generation may exist already: nothing of ours to end.
      if (now() < expires) await write(record(0, true));
    },
  };
  return { acquired: true, lease };
}

/** How long a gc lease lasts unless renewed: a holder that crashed blocks gc no longer than this. */
export const DEFAULT_GC_LEASE_MS = 300_000;

export type LeaseRun<T> = { ran: true; value: T } | { ran: false; holder: string; expires: string };

/**
 * Runs `fn` holding the store's gc lease, or not at all (`ran: false`, who holds it). The lease is
 * renewed every third of its TTL while `fn` runs; if renewing fails, `fn`'s signal aborts rather
 * than let it overlap with a gateway that took over. Released when `fn` settles.
 */
export async function underGcLease<T>(
  store: ChunkStore,
  o: GcLeaseOptions & { onAcquired?: (lease: GcLease) => void },
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<LeaseRun<T>> {
  const attempt = await acquireGcLease(store, o);
  if (!attempt.acquired) return { ran: false, holder: attempt.holder, expires: attempt.expires };
  const { lease } = attempt;
  const controller = new AbortController();
  const onAbort = () => controller.abort(o.signal!.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const renewal = setInterval(() => void lease.renew().catch((err) => controller.abort(err)), Math.max(50, Math.floor(o.ttlMs / 3)));
  renewal.unref();
  try {
    o.onAcquired?.(lease);
    return { ran: true, value: await fn(controller.signal) };
  } finally {
    clearInterval(renewal);
    o.signal?.removeEventListener('abort', onAbort);
    await lease.release().catch(() => undefined); // unreleased, it expires by itself
  }
}

/** The gc lease ran out under its holder (stalled past its expiry): the run stops, another gateway may start one. */
export class LeaseLostError extends ChunkstreamError {
  constructor(
    readonly generation: number,
    why: string,
  ) {
    super('conflict', `gc lease ${generation} was lost: ${why}`);
  }
}

/** Another gateway (or process) holds the store's gc lease: a gc is running there. */
export class GcRunningError extends ChunkstreamError {
  constructor(
    readonly holder: string,
    readonly expires: string,
  ) {
    super('conflict', `a gc of this store is already running (${holder}, lease until ${expires}): try again later`);
  }
}

const held = (r: LeaseRecord, now: number) => r.released !== true && Date.parse(r.expires) > now;

async function generations(store: ChunkStore, o: CallOptions): Promise<number[]> {
  const found: number[] = [];
  for await (const obj of store.list(GC_LEASE_PREFIX, o)) {
    const m = GENERATION.exec(obj.key);
    if (m) found.push(Number(m[1]));
  }
  return found.sort((a, b) => a - b);
}

/** A generation's record; undefined if it vanished or is unreadable (then it holds nothing). */
async function read(store: ChunkStore, generation: number, o: CallOptions): Promise<LeaseRecord | undefined> {
  let raw: Uint8Array;
  try {
    raw = await store.get(keyOf(generation), o);
  } catch (err) {
    if (isChunkstreamError(err) && err.code === 'not_found') return undefined;
    throw err;
  }
  try {
    const r = leaseSchema.safeParse(JSON.parse(decoder.decode(raw)));
    return r.success && r.data.generation === generation ? r.data : undefined;
  } catch {
    return undefined;
  }
}
