import { isChunkstreamError, toChunkstreamError } from '../errors.js';
import { isChunkObjectKey, parseManifest } from '../catalog/catalog.js';
import { checkId } from '../catalog/model.js';
import { SlabPool } from '../internal/slabs.js';
import type { CallOptions } from '../storage/types.js';
import type { GcOptions, GcReport, VerifyReport } from './gc-types.js';
import type { EngineContext } from './context.js';
import { gcNotes } from './gc-notes.js';
import { chunkFailed, chunkSpan } from './damage.js';
import { readVerified } from './readChunk.js';
import { isExpired } from './uploads.js';
import { MarkSet } from '../internal/mark-set.js';

const SHA = /[0-9a-f]{64}/g;
/** Temp files younger than this may belong to a write in flight, whatever the grace period. */
export const TEMP_MIN_AGE_MS = 3600_000;
const decoder = new TextDecoder();

/**
 * Mark and sweep. Marked: every chunk a manifest, an unexpired upload session or a file retired
 * less than the grace period ago names, and every chunk an upload in this process is writing
 * (committed-upload markers name none). Swept: unmarked chunks older than the grace period. The grace period covers uploads in other
 * processes between storing a chunk and recording it in their session (a deduplicated put
 * refreshes the chunk's time). Expired sessions and markers are deleted.
 */
export async function collectGarbage(ctx: EngineContext, options: GcOptions = {}): Promise<GcReport> {
  const { signal } = options;
  const dryRun = options.dryRun === true;
  const graceMs = options.graceMs ?? ctx.options.gcGraceMs;
  // Candidates are decided by time first, so that anything marked later is still protected.
  const cutoff = new Date(ctx.options.now() - graceMs);
  const report: GcReport = {
    removedChunks: 0,
    removedBytes: 0,
    keptChunks: 0,
    keptReferencedChunks: 0,
    keptRecentChunks: 0,
    keptRecentBytes: 0,
    graceMs,
    expiredUploads: 0,
    keptUploads: 0,
    removedTemp: 0,
    tempMinAgeMs: Math.max(graceMs, TEMP_MIN_AGE_MS),
    dryRun,
    notes: [],
  };
  // 1. Mark what sessions, manifests, retired files in their grace and this process's uploads
  //    reference, into a compact set (8 bytes a key): nothing else is held for the whole run.
  const marked = new MarkSet();
  for await (const id of ctx.catalog.sessionIds({ signal })) {
    try {
      const s = await ctx.catalog.loadSession(id, { signal });
      if (isExpired(s.expires, ctx.options.now())) {
        if (!dryRun) await ctx.catalog.deleteSession(id, { signal });
        report.expiredUploads++;
        continue;
      }
      report.keptUploads++;
      for (const c of s.chunks) marked.add(c.key);
      if (s.tail) marked.add(s.tail.key);
    } catch (err) {
      if (isChunkstreamError(err) && (err.code === 'not_found' || err.code === 'corrupt_manifest')) continue;
      throw err;
    }
  }
  // Committed-upload markers name no chunks (their manifest protects those): only expiry matters.
  for await (const id of ctx.catalog.committedIds({ signal })) {
    try {
      const m = await ctx.catalog.loadCommitted(id, { signal });
      if (Date.parse(m.expires) > ctx.options.now()) continue;
      if (!dryRun) await ctx.catalog.deleteCommitted(id, { signal });
      report.expiredUploads++;
    } catch (err) {
      if (isChunkstreamError(err) && (err.code === 'not_found' || err.code === 'corrupt_manifest')) continue;
      throw err;
    }
  }
  for await (const id of ctx.catalog.fileIds({ signal })) {
    let raw: Uint8Array;
    try {
      raw = await ctx.catalog.readRaw(id, { signal });
    } catch (err) {
      if (isChunkstreamError(err) && err.code === 'not_found') continue; // removed meanwhile
      throw err;
    }
    try {
      for (const c of parseManifest(id, raw).chunks) marked.add(c.key);
    } catch {
      // A corrupt manifest still protects every key it mentions: never lose what may be repairable.
      for (const k of decoder.decode(raw).match(SHA) ?? []) marked.add(k);
    }
  }
  // Files a store to their name replaced (or removed by name): kept for the grace, so readers
  // streaming them finish; then their record goes and their chunks with it.
  for await (const r of ctx.catalog.retired({ signal })) {
    if (Date.parse(r.retired) > cutoff.getTime()) for (const c of r.manifest.chunks) marked.add(c.key);
    else if (!dryRun) await ctx.catalog.dropRetired(r.manifest.id, { signal });
  }
  // 2. Sweep chunks as they are listed. Listing after marking is safe: a chunk an upload stored or
  //    deduplicated since the cutoff is younger than it (a deduplicated put refreshes the time), and
  //    one stored earlier is in the session or manifest read above.
  const isMarked = (key: string) => marked.has(key) || ctx.live.has(key);
  for await (const o of ctx.store.list('chunks/', { signal })) {
    const key = isChunkObjectKey(o.key);
    if (!key) continue;
    if (isMarked(key)) report.keptReferencedChunks++;
    else if (o.modified > cutoff) {
      report.keptRecentChunks++;
      report.keptRecentBytes += o.size;
    } else {
      if (!dryRun) {
        await ctx.store.delete(o.key, { signal });
        ctx.cache?.delete(key); // a chunk gc removed is not served from memory either
      }
      report.removedChunks++;
      report.removedBytes += o.size;
    }
  }
  report.keptChunks = report.keptReferencedChunks + report.keptRecentChunks;
  // Temp files belong to writes in flight, whatever the grace period: only old ones are debris.
  const tempCutoff = new Date(ctx.options.now() - report.tempMinAgeMs);
  if (ctx.store.sweep) report.removedTemp = await ctx.store.sweep(tempCutoff, { signal, dryRun });
  report.notes = gcNotes(report);
  return report;
}

/** Re-reads and checks every chunk of one file or of all files; problems are listed, not thrown. */
export async function verifyFiles(ctx: EngineContext, id?: string, options: CallOptions = {}): Promise<VerifyReport> {
  const report: VerifyReport = { files: 0, chunks: 0, bytes: 0, problems: [] };
  const ids = id === undefined ? ctx.catalog.fileIds(options) : single(checkId(id));
  for await (const fid of ids) {
    report.files++;
    let manifest;
    try {
      manifest = await ctx.catalog.readManifest(fid, options);
    } catch (err) {
      if (id !== undefined && isChunkstreamError(err) && err.code === 'not_found') throw err;
      const e = toChunkstreamError(err);
      report.problems.push({ id: fid, code: e.code, message: e.message });
      continue;
    }
    const pool = new SlabPool(manifest.chunkSize);
    const slab = pool.take();
    for (const [index, ref] of manifest.chunks.entries()) {
      try {
        await readVerified(ctx.store, ref, slab, { fileId: fid, index }, options.signal);
        report.chunks++;
        report.bytes += ref.size;
      } catch (err) {
        if (toChunkstreamError(err).code === 'aborted') throw err;
        // Moved aside if corrupt (the next upload of its bytes heals it); said in the file's terms.
        const e = toChunkstreamError(await chunkFailed(ctx, manifest, index, err));
        const { start, end } = chunkSpan(manifest, index);
        report.problems.push({ id: fid, name: manifest.name, code: e.code, message: e.message, index, start, end, key: ref.key });
      }
    }
    pool.give(slab);
    pool.close();
  }
  return report;
}

async function* single(id: string): AsyncGenerator<string> {
  yield id;
}
