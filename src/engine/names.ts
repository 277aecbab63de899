import { ConflictError, NotFoundError, PreconditionFailedError, isChunkstreamError } from '../errors.js';
import { newId } from '../catalog/catalog.js';
import { checkObjectName, makeCursor, resolveListQuery, type ListQuery } from '../catalog/names.js';
import { fileInfo, type FileInfo, type Manifest } from '../catalog/schema.js';
import { compareNames } from '../storage/name-index.js';
import type { CallOptions } from '../storage/types.js';
import type { EngineContext } from './context.js';
import { ensureMigrated } from './migrate.js';
import type { ListItem, ListPage, NameBinding, NameConditions } from './names-types.js';

export type { ListItem, ListPage, NameBinding, NameConditions } from './names-types.js';

const MAX_SWAPS = 16;

type Current = { info: FileInfo; version: string } | undefined;

async function current(ctx: EngineContext, name: string, options: CallOptions): Promise<Current> {
  const r = await ctx.names.get(name, options);
  if (!r) return undefined;
  try {
    return { info: JSON.parse(r.value) as FileInfo, version: r.version };
  } catch {
    // An unreadable entry is replaced by the next store to the name; until then the name holds nothing.
    return {
      info: { id: '', name, size: 0, sha256: '', chunkSize: 1, chunkCount: 0, created: new Date(0).toISOString() },
      version: r.version,
    };
  }
}

const bare = (etag: string) =>
  etag
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1')
    .toLowerCase();

/** Throws a 412 when the name's current file does not meet the conditions. */
export function checkConditions(name: string, cur: Current, cond: NameConditions = {}): void {
  if (cond.ifNoneMatch === '*' && cur) throw new PreconditionFailedError(`name ${JSON.stringify(name)} exists (If-None-Match: *)`);
  if (cond.ifMatch !== undefined) {
    if (!cur) throw new PreconditionFailedError(`name ${JSON.stringify(name)} holds no file (If-Match)`);
    if (cond.ifMatch !== '*' && bare(cond.ifMatch) !== cur.info.sha256) {
      throw new PreconditionFailedError(`name ${JSON.stringify(name)} holds another file than If-Match names`);
    }
  }
}

/** Checks the conditions against the name as it is now (before an upload reads any byte). */
export async function precheck(ctx: EngineContext, name: string, cond: NameConditions, options: CallOptions = {}): Promise<void> {
  await ensureMigrated(ctx, options);
  checkConditions(name, await current(ctx, name, options), cond);
}

/**
 * Makes `manifest` the file of its name: one compare-and-swap on the index, retried while other
 * writers change the name, the conditions checked against each state read. `replace`: the file
 * it displaced is removed (its chunks go to gc after the grace; readers streaming it finish).
 * Without: the displaced file stays reachable by id (an upload that only names its file).
 * The manifest exists before the swap, so a crash leaves the name on the old file or the new one.
 */
export async function bindName(
  ctx: EngineContext,
  manifest: Manifest,
  target: (NameConditions & { replace?: boolean }) | undefined,
  options: CallOptions = {},
): Promise<NameBinding> {
  const file = fileInfo(manifest);
  const value = JSON.stringify(file);
  for (let i = 0; i < MAX_SWAPS; i++) {
    const cur = await current(ctx, manifest.name, options);
    if (cur?.info.id === file.id) return { file, created: false }; // bound already (a resumed commit)
    if (target) checkConditions(manifest.name, cur, target);
    if (!(await ctx.names.swap(manifest.name, value, cur?.version, options))) continue;
    if (target?.replace && cur?.info.id) await retire(ctx, cur.info.id); // gc-able after the grace; a crash here leaves it reachable by id
    return { file, created: !cur, ...(cur?.info.id ? { replaced: cur.info } : {}) };
  }
  throw new ConflictError(`name ${JSON.stringify(manifest.name)} kept changing under ${MAX_SWAPS} attempts to store it`);
}

/** The displaced file leaves, its chunks kept for the grace (best effort: a failure leaves it reachable by id). */
async function retire(ctx: EngineContext, id: string): Promise<void> {
  await ctx.catalog.retireManifest(id, new Date(ctx.options.now())).catch(() => undefined);
}

export async function lookup(ctx: EngineContext, name: string, options: CallOptions = {}): Promise<FileInfo> {
  checkObjectName(name);
  await ensureMigrated(ctx, options);
  const cur = await current(ctx, name, options);
  if (!cur?.info.id) throw new NotFoundError(`name ${JSON.stringify(name)}`);
  return cur.info;
}

export async function listPage(ctx: EngineContext, query: ListQuery = {}): Promise<ListPage> {
  const q = resolveListQuery(query);
  const options = { signal: (query as CallOptions).signal };
  await ensureMigrated(ctx, options);
  const page = await ctx.names.list(q, options);
  const files: FileInfo[] = [];
  for (const e of page.entries) {
    try {
      files.push(JSON.parse(e.value) as FileInfo);
    } catch {
      // unreadable entry: skipped (the next store to the name rewrites it)
    }
  }
  const lastEntry = page.entries.at(-1)?.name;
  const lastFolder = page.folders.at(-1);
  const last =
    lastEntry === undefined
      ? lastFolder
      : lastFolder === undefined
        ? lastEntry
        : compareNames(lastEntry, lastFolder) > 0
          ? lastEntry
          : lastFolder;
  return { files, folders: page.folders, next: page.truncated && last !== undefined ? makeCursor(last, q) : null };
}

/** Every file and folder, a page at a time, each page read only when the previous one is consumed. */
export async function* listAll(ctx: EngineContext, query: Omit<ListQuery, 'cursor'> = {}): AsyncGenerator<ListItem> {
  let cursor: string | undefined;
  do {
    const page = await listPage(ctx, { ...query, ...(cursor !== undefined ? { cursor } : {}) });
    // Folders and files interleaved in byte order, as the page holds them.
    const items: ListItem[] = [...page.files.map((file) => ({ file })), ...page.folders.map((folder) => ({ folder }))];
    items.sort((a, b) => compareNames(a.file?.name ?? a.folder!, b.file?.name ?? b.folder!));
    yield* items;
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
}

/** A new file at `to` naming the same chunks as the file at `from` (no byte moves). */
export async function copyName(
  ctx: EngineContext,
  from: string,
  to: string,
  cond: NameConditions = {},
  options: CallOptions = {},
): Promise<NameBinding> {
  checkObjectName(to, 'to');
  const source = await lookup(ctx, checkObjectName(from, 'from'), options);
  checkConditions(to, await current(ctx, to, options), cond);
  const m = await ctx.catalog.readManifest(source.id, options);
  const copy: Manifest = { ...m, id: newId(), name: to, created: new Date(ctx.options.now()).toISOString() };
  await ctx.catalog.commitManifest(copy, options);
  try {
    return await bindName(ctx, copy, { ...cond, replace: true }, options);
  } catch (err) {
    await ctx.catalog.removeManifest(copy.id).catch(() => undefined);
    throw err;
  }
}

/** Copy, then the source name goes (only if it still holds the file that was copied). */
export async function moveName(
  ctx: EngineContext,
  from: string,
  to: string,
  cond: NameConditions = {},
  options: CallOptions = {},
): Promise<NameBinding> {
  if (checkObjectName(from, 'from') === checkObjectName(to, 'to')) return { file: await lookup(ctx, from, options), created: false };
  const source = await lookup(ctx, from, options);
  const bound = await copyName(ctx, from, to, cond, options);
  await removeName(ctx, from, { ifMatch: source.sha256 }, options).catch((err: unknown) => {
    if (!(isChunkstreamError(err) && ['precondition_failed', 'not_found'].includes(err.code))) throw err;
  });
  return bound;
}

/** Removes the name and its file (`ifMatch`: only if it still holds that file). */
export async function removeName(
  ctx: EngineContext,
  name: string,
  cond: Pick<NameConditions, 'ifMatch'> = {},
  options: CallOptions = {},
): Promise<FileInfo> {
  checkObjectName(name);
  await ensureMigrated(ctx, options);
  for (let i = 0; i < MAX_SWAPS; i++) {
    const cur = await current(ctx, name, options);
    if (!cur) throw new NotFoundError(`name ${JSON.stringify(name)}`);
    checkConditions(name, cur, cond);
    if (!(await ctx.names.swap(name, undefined, cur.version, options))) continue;
    if (cur.info.id) await retire(ctx, cur.info.id);
    return cur.info;
  }
  throw new ConflictError(`name ${JSON.stringify(name)} kept changing under ${MAX_SWAPS} attempts to remove it`);
}

/** A file removed by id leaves its name too, if the name still means it. */
export async function unbindFile(ctx: EngineContext, file: FileInfo, options: CallOptions = {}): Promise<void> {
  const cur = await current(ctx, file.name, options);
  if (cur?.info.id === file.id) await ctx.names.swap(file.name, undefined, cur.version, options);
}
