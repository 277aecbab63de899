import { isChunkstreamError } from '../errors.js';
import { fileInfo } from '../catalog/schema.js';
import { compareNames } from '../storage/name-index.js';
import type { CallOptions } from '../storage/types.js';
import type { EngineContext } from './context.js';
import type { MigrationReport } from './names-types.js';

/** Written once the index holds every file's name: a store of an earlier release is migrated once. */
export const MIGRATED_KEY = 'config/names-migrated.json';
const MAX_LISTED = 1000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Before the name index existed, names were metadata and several files could share one. The
 * first listing or lookup of such a store fills the index from the manifests (one pass, memory
 * O(shadowed names)): each name means its newest file (by created, then id), the others stay
 * reachable by id, and the report says how many and which. Idempotent and safe to run in several
 * processes at once (every step is a compare-and-swap towards "the newest"); the marker makes it once.
 */
export function ensureMigrated(ctx: EngineContext, options: CallOptions = {}): Promise<MigrationReport> {
  ctx.migration ??= migrate(ctx, options).catch((err: unknown) => {
    ctx.migration = undefined; // the next call tries again
    throw err;
  });
  return ctx.migration;
}

async function migrate(ctx: EngineContext, options: CallOptions): Promise<MigrationReport> {
  const done = await ctx.store.get(MIGRATED_KEY, options).catch(() => undefined);
  if (done) return JSON.parse(decoder.decode(done)) as MigrationReport;
  const report: MigrationReport = { files: 0, shadowed: 0, shadowedNames: [], migrated: new Date(ctx.options.now()).toISOString() };
  const shared = new Set<string>();
  for await (const id of ctx.catalog.fileIds(options)) {
    let m;
    try {
      m = await ctx.catalog.readManifest(id, options);
    } catch (err) {
      if (isChunkstreamError(err) && ['corrupt_manifest', 'not_found'].includes(err.code)) continue; // verify() reports it
      throw err;
    }
    report.files++;
    const mine = fileInfo(m);
    for (;;) {
      const cur = await ctx.names.get(m.name, options);
      const other = cur ? (JSON.parse(cur.value) as { id: string; created: string }) : undefined;
      if (other?.id === m.id) break;
      const newer = !other || (m.created.localeCompare(other.created) || compareNames(m.id, other.id)) > 0;
      if (other) {
        report.shadowed++;
        shared.add(m.name);
      }
      if (!newer || (await ctx.names.swap(m.name, JSON.stringify(mine), cur?.version, options))) break;
      if (other) report.shadowed--; // lost a race: judged again against what is there now
    }
  }
  report.shadowedNames = [...shared].sort(compareNames).slice(0, MAX_LISTED);
  await ctx.store.put(MIGRATED_KEY, encoder.encode(JSON.stringify(report)), options);
  return report;
}
