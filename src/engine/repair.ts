import { isChunkstreamError } from '../errors.js';
import { checkId } from '../catalog/model.js';
import type { Manifest } from '../catalog/schema.js';
import { SlabPool } from '../internal/slabs.js';
import type { CallOptions } from '../storage/types.js';
import type { EngineContext } from './context.js';
import { chunkFailed, chunkSpan, damagedKeys } from './damage.js';
import type { DamagedChunk, RepairReport } from './gc-types.js';
import { readVerified } from './readChunk.js';

/**
 * Re-checks every file that names a chunk known damaged (moved aside or found missing: the
 * notes under `quarantine/`), reading only those chunks: a chunk an upload stored again makes its
 * files whole. Each such file is reported `whole` or `damaged` (with what is still missing), and
 * the notes of chunks that are whole again — or that no file names any more — are removed.
 */
export async function repairFiles(ctx: EngineContext, id?: string, options: CallOptions = {}): Promise<RepairReport> {
  const report: RepairReport = { files: [], whole: 0, damaged: 0, released: 0 };
  const known = await damagedKeys(ctx.store, options);
  if (known.size === 0) return report;
  const verdict = new Map<string, DamagedChunk['reason'] | 'whole'>(); // per key, checked once
  const named = new Set<string>();
  const ids = id === undefined ? ctx.catalog.fileIds(options) : single(checkId(id));
  for await (const fid of ids) {
    let m: Manifest;
    try {
      m = await ctx.catalog.readManifest(fid, options);
    } catch (err) {
      if (id === undefined && isChunkstreamError(err) && ['not_found', 'corrupt_manifest'].includes(err.code)) continue; // verify reports those
      throw err;
    }
    const touched = m.chunks.some((c) => known.has(c.key));
    if (!touched) continue;
    const damaged: DamagedChunk[] = [];
    for (const [index, ref] of m.chunks.entries()) {
      if (!known.has(ref.key)) continue;
      named.add(ref.key);
      let v = verdict.get(ref.key);
      if (v === undefined) {
        v = await check(ctx, m, index, options);
        if (v === 'missing') v = known.get(ref.key)!.reason; // moved aside as corrupt: still said so
        verdict.set(ref.key, v);
      }
      if (v !== 'whole') damaged.push({ index, ...chunkSpan(m, index), reason: v });
    }
    report.files.push({ id: m.id, name: m.name, status: damaged.length ? 'damaged' : 'whole', damaged });
    if (damaged.length) report.damaged++;
    else report.whole++;
  }
  // Notes stay while some file still waits for the chunk (stat says so); the rest have done their work.
  for (const [key, k] of known) {
    const done = verdict.get(key) === 'whole' || (id === undefined && !named.has(key));
    if (!done) continue;
    for (const r of k.records) await ctx.store.delete(r, options);
    report.released++;
  }
  return report;
}

/** Reads one chunk of `m` and checks it; a bad one is moved aside again (chunkFailed). */
async function check(ctx: EngineContext, m: Manifest, index: number, options: CallOptions): Promise<DamagedChunk['reason'] | 'whole'> {
  const pool = new SlabPool(m.chunkSize);
  const slab = pool.take();
  try {
    await readVerified(ctx.store, m.chunks[index]!, slab, { fileId: m.id, index }, options.signal);
    return 'whole';
  } catch (err) {
    const e = await chunkFailed(ctx, m, index, err);
    if (isChunkstreamError(e) && e.code === 'missing_chunk') return 'missing';
    if (isChunkstreamError(e) && e.code === 'integrity') return 'corrupt';
    throw e;
  } finally {
    pool.give(slab);
    pool.close();
  }
}

async function* single(id: string): AsyncGenerator<string> {
  yield id;
}
