import { IntegrityError, MissingChunkError, isChunkstreamError } from '../errors.js';
import { chunkKey } from '../catalog/catalog.js';
import type { Manifest } from '../catalog/schema.js';
import type { ChunkStore, CallOptions } from '../storage/types.js';
import type { EngineContext } from './context.js';
import type { ChunkFault, DamagedChunk } from './gc-types.js';
import { notify } from './observer.js';

/**
 * Where chunks that failed verification are moved aside (`quarantine/<sha256>.<stamp>`), and where
 * a read that found a chunk missing leaves a note (`quarantine/<sha256>.missing`). Both take the
 * key out of `chunks/`, so the next upload of those bytes writes the chunk again (its
 * `ifNotExists` put finds nothing to deduplicate against) and every file naming it is whole again;
 * `stat` and `repair` read the notes back. gc never lists this prefix.
 */
export const QUARANTINE = 'quarantine/';
const RECORD = /^quarantine\/([0-9a-f]{64})\.([a-z0-9-]+)$/;

const busy = new WeakMap<EngineContext, Map<string, Promise<void>>>();

/** Byte range of chunk `index` of `m` (inclusive). */
export function chunkSpan(m: ChunkOwner, index: number): { start: number; end: number } {
  const start = index * m.chunkSize;
  return { start, end: start + (m.chunks[index]?.size ?? 0) - 1 };
}

/**
 * What a failed chunk read becomes. Bytes that did not verify are moved aside (before the error
 * goes on, so a retry or a re-upload already finds the key free); a missing chunk gets a note and
 * becomes a `MissingChunkError` in the file's terms (a 500, never a 404 naming a store key).
 * Observers are told (metrics, the server's log). Anything else is returned as it was. Damage
 * handling never masks the read's own error: a failed move is only left for the next read.
 */
/** What names the chunks read: a file's manifest, or an unfinished upload's session (its id, as the file's). */
export type ChunkOwner = Pick<Manifest, 'id' | 'name' | 'chunkSize' | 'chunks'>;

export async function chunkFailed(ctx: EngineContext, m: ChunkOwner, index: number, err: unknown): Promise<unknown> {
  const ref = m.chunks[index];
  if (!ref || !isChunkstreamError(err)) return err;
  const missing = err.code === 'not_found';
  if (!missing && !(err instanceof IntegrityError && err.index !== undefined)) return err;
  // Its cached bytes were verified, but the store's copy is bad or gone: every reader here now says so, as verify does.
  ctx.cache?.delete(ref.key);
  const { start, end } = chunkSpan(m, index);
  const where = `bytes ${start}-${end} of ${JSON.stringify(m.name)}`;
  // Moved aside by an earlier read: still the integrity failure it was, until an upload heals it.
  if (missing && (await movedAside(ctx.store, ref.key))) {
    return new IntegrityError(
      m.id,
      index,
      ref.key,
      `it failed verification before and was moved aside (${where}): upload the file again to restore it`,
    );
  }
  const fault: ChunkFault = { reason: missing ? 'missing' : 'corrupt', fileId: m.id, name: m.name, index, start, end, key: ref.key };
  // Readers of one bad chunk at once move it once (the second would find it gone).
  const inFlight = busy.get(ctx) ?? new Map<string, Promise<void>>();
  busy.set(ctx, inFlight);
  let work = inFlight.get(ref.key);
  if (!work) {
    work = (async () => {
      try {
        if (missing) await ctx.store.put(`${QUARANTINE}${ref.key}.missing`, new Uint8Array(0));
        else fault.movedTo = await moveAside(ctx.store, ref.key);
        notify(ctx.observers, (o) => o.chunkFault?.(fault));
      } catch {
        // The store is failing too: the read's own error still goes out; the next read tries again.
      }
    })().finally(() => inFlight.delete(ref.key));
    inFlight.set(ref.key, work);
  }
  await work;
  if (missing) return new MissingChunkError(m.id, index, start, end, m.name);
  const detail = err.message.slice(err.message.indexOf('failed verification: ') + 'failed verification: '.length);
  return new IntegrityError(m.id, index, ref.key, `${detail} (${where}; moved aside: upload the file again to restore it)`);
}

/** Whether the bytes of `key` were moved aside as corrupt (and not stored again since: the caller found it missing). */
async function movedAside(store: ChunkStore, key: string): Promise<boolean> {
  try {
    for await (const o of store.list(`${QUARANTINE}${key}.`)) if (!o.key.endsWith('.missing')) return true;
  } catch {
    // Unknown: said missing.
  }
  return false;
}

async function moveAside(store: ChunkStore, key: string): Promise<string> {
  const from = chunkKey(key);
  const to = `${QUARANTINE}${key}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  if (store.move) await store.move(from, to);
  else {
    await store.put(to, await store.get(from));
    await store.delete(from);
  }
  return to;
}

/** The keys of chunks known damaged (moved aside or found missing), from the store's notes. */
export async function damagedKeys(
  store: ChunkStore,
  options: CallOptions = {},
): Promise<Map<string, { reason: 'corrupt' | 'missing'; records: string[] }>> {
  const out = new Map<string, { reason: 'corrupt' | 'missing'; records: string[] }>();
  for await (const o of store.list(QUARANTINE, options)) {
    const r = RECORD.exec(o.key);
    if (!r) continue;
    const entry = out.get(r[1]!) ?? { reason: 'missing' as const, records: [] };
    if (r[2] !== 'missing') entry.reason = 'corrupt';
    entry.records.push(o.key);
    out.set(r[1]!, entry);
  }
  return out;
}

/** The chunks of `m` that the notes name, unless the chunk is back in place (healed by an upload). */
export async function damageOf(
  store: ChunkStore,
  m: Manifest,
  known: Map<string, { reason: 'corrupt' | 'missing' }>,
  options: CallOptions = {},
): Promise<DamagedChunk[]> {
  const out: DamagedChunk[] = [];
  const back = new Map<string, boolean>();
  for (const [index, ref] of m.chunks.entries()) {
    const k = known.get(ref.key);
    if (!k) continue;
    if (!back.has(ref.key)) back.set(ref.key, await store.has(chunkKey(ref.key), options));
    if (!back.get(ref.key)) out.push({ index, ...chunkSpan(m, index), reason: k.reason });
  }
  return out;
}
