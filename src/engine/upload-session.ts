import { lastValueFrom, from } from 'rxjs';
import { BadRequestError, TooLargeError, toChunkstreamError, ConflictError } from '../errors.js';
import { newId } from '../catalog/catalog.js';
import { isCommittedUpload, type ChunkRef, type Manifest, type Session } from '../catalog/schema.js';
import { checkName, MAX_METADATA_CHARS, mediaTypeSchema } from '../catalog/model.js';
import { checkObjectName } from '../catalog/names.js';
import { bindName, precheck } from './names.js';
import { streamHash, type StreamHash } from '../internal/hashing.js';
import { SlabPool, type Slab } from '../internal/slabs.js';
import { concatMapEager } from '../operators/concatMapEager.js';
import { createDemand } from '../operators/demand.js';
import { checkExpected, markCommitted, markedManifest } from './committed.js';
import { dropLive, settle, settled, unpark, type EngineContext } from './context.js';
import { ensureMigrated } from './migrate.js';
import { chunkFailed } from './damage.js';
import { readVerified } from './readChunk.js';
import type { Transfer } from './transfer.js';
import type { ChunkWriter, OpenUpload, UploadOptions } from './upload-types.js';
import { checkNotExpired } from './uploads.js';

/**
 * Progress is saved (staged chunks flushed, then the session) once SAVE_EVERY_CHUNKS more chunks
 * are stored or SAVE_EVERY_MS passed since the last save, and when an upload is interrupted. So a
 * resume after a crash (no chance to save) resends at most SAVE_EVERY_CHUNKS + uploadConcurrency
 * chunks, or about a second of data; after a clean interruption, only chunks that were in flight.
 */
export const SAVE_EVERY_CHUNKS = 8;
export const SAVE_EVERY_MS = 1000;

type Opened = OpenUpload | { uploadId: string; manifest: Manifest };

/** How long the session of a non-resumable upload outlives its last save (its process may have died). */
export const CRASHED_UPLOAD_TTL_MS = 60 * 60 * 1000;

/** A new session, or the one `uploadId` names (re-reading its stored prefix for the file hash), or its committed file. */
export async function openUpload(ctx: EngineContext, options: UploadOptions, t: Transfer): Promise<Opened> {
  const { signal } = t;
  if (options.expectedSize !== undefined && options.expectedSize > ctx.options.maxFileSize) {
    throw new TooLargeError(
      'size',
      ctx.options.maxFileSize,
      `file of ${options.expectedSize} bytes exceeds maxFileSize (${ctx.options.maxFileSize})`,
    );
  }
  const now = ctx.options.now();
  // Nobody can resume an upload that is not resumable: if its process dies (kill -9, no
  // clean-up), its session must not keep its chunks for the whole upload TTL. It lives for
  // CRASHED_UPLOAD_TTL_MS past its last save instead (refreshed at every save while it runs).
  const refreshMs = options.resumable === false ? Math.min(ctx.options.uploadTtlMs, CRASHED_UPLOAD_TTL_MS) : undefined;
  const expires = new Date(now + (refreshMs ?? ctx.options.uploadTtlMs)).toISOString();
  let session: Session;
  if (options.uploadId) {
    await settled(ctx, options.uploadId);
    const found = await ctx.catalog.loadUpload(options.uploadId, { signal });
    // Already committed: a caller expecting other bytes is told so, else it gets the file.
    const done = (manifest: Manifest) => (checkExpected(options, manifest.size, manifest.sha256), { uploadId: found.uploadId, manifest });
    if (isCommittedUpload(found)) return done(await markedManifest(ctx, found, { signal }));
    const manifest = found.fileId ? await ctx.catalog.findManifest(found.fileId, { signal }) : undefined;
    if (manifest) {
      await bindName(ctx, manifest, found.target, { signal }); // a commit cut off before its name
      await settle(ctx, found.uploadId, markCommitted(ctx, found.uploadId, manifest.id)); // finish a commit cut off before its marker
      return done(manifest);
    }
    checkNotExpired(found, now); // before anything refreshes its expiry
    const length = options.expectedSize ?? found.length;
    if (found.length !== undefined && length !== found.length) {
      throw new BadRequestError('size', `upload ${found.uploadId} was declared ${found.length} bytes, not ${length}`);
    }
    // Older sessions reserve their file id now (saved below with the new expiry).
    session = { ...found, fileId: found.fileId ?? newId(), expires, ...(length !== undefined ? { length } : {}) };
  } else {
    // Migrated before this upload can commit: else the first listing of a fresh store would judge
    // its file against the name's earlier ones by `created` alone (one millisecond apart, or none).
    await ensureMigrated(ctx, { signal });
    const name = options.replace ? checkObjectName(options.name) : checkName(options.name);
    const cond = {
      ...(options.ifNoneMatch !== undefined ? { ifNoneMatch: options.ifNoneMatch } : {}),
      ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    };
    if (options.replace) await precheck(ctx, name, cond, { signal }); // refused before any byte is read
    const created = new Date(now).toISOString();
    session = {
      version: 1,
      uploadId: newId(),
      name,
      chunkSize: ctx.options.chunkSize,
      size: 0,
      chunks: [],
      created,
      expires,
      fileId: newId(),
      ...(options.replace ? { target: { replace: true as const, ...cond } } : {}),
    };
    if (options.expectedSize !== undefined) session.length = options.expectedSize;
    Object.assign(session, describing(options));
  }
  const offset = session.size + (session.tail?.size ?? 0);
  if (options.offset !== undefined && options.offset !== offset) {
    throw new ConflictError(`upload ${session.uploadId} is at offset ${offset}, not ${options.offset}`);
  }
  if (session.length !== undefined && offset > session.length) {
    throw new BadRequestError('size', `upload ${session.uploadId} holds ${offset} bytes, more than its declared ${session.length}`);
  }
  const hash = unpark(ctx, session.uploadId, session.size) ?? (await rehash(ctx, session, t));
  let first: OpenUpload['first'];
  try {
    if (session.tail) first = await readTail(ctx, session, session.tail, session.chunkSize, t);
    await ctx.catalog.saveSession(session, { signal });
  } catch (err) {
    hash.drop();
    throw err;
  }
  const allOrNothing = typeof options.segment === 'object' && options.segment.accept !== undefined;
  const { resumable = true } = options;
  const kept = typeof resumable === 'function' ? resumable : () => resumable;
  return tracker(ctx, session, offset, hash, first, signal, { allOrNothing, kept, refreshMs });
}

/** The optional type and metadata a new upload keeps (validated here: sessions are only validated when read). */
function describing(options: UploadOptions): Pick<Session, 'type' | 'metadata'> {
  const out: Pick<Session, 'type' | 'metadata'> = {};
  if (options.type !== undefined) {
    const r = mediaTypeSchema.safeParse(options.type);
    if (!r.success) throw new BadRequestError('type', r.error.issues[0]?.message ?? 'invalid');
    out.type = r.data;
  }
  if (options.metadata !== undefined) {
    if (typeof options.metadata !== 'string' || options.metadata.length > MAX_METADATA_CHARS)
      throw new BadRequestError('metadata', `must be a string of at most ${MAX_METADATA_CHARS} characters`);
    out.metadata = options.metadata;
  }
  return out;
}

/** The running file hash did not survive the interruption: hash the stored prefix again (verified, in order). */
async function rehash(ctx: EngineContext, session: Session, t: Transfer): Promise<StreamHash> {
  const hash = streamHash();
  if (session.chunks.length === 0) return hash;
  const pool = new SlabPool(session.chunkSize, t.gauge);
  // A read is handed on only when the hash took the last one (a credit): N reads + 1 hashing is
  // the (N + 1) bound. Without credits, reads faster than the hash would queue up in between.
  const credits = createDemand();
  credits.request(1);
  try {
    await lastValueFrom(
      from(session.chunks).pipe(
        concatMapEager(
          async (ref: ChunkRef, index: number) => {
            const slab = pool.take();
            return {
              slab,
              view: await readVerified(ctx.store, ref, slab, { index }, t.signal).catch(async (err: unknown) => {
                pool.give(slab);
                throw await chunkFailed(ctx, { ...session, id: session.uploadId }, index, err); // a corrupt one is moved aside
              }),
            };
          },
          ctx.options.uploadConcurrency,
          { demand: credits.demand$ },
        ),
        concatMapEager(async ({ slab, view }) => {
          try {
            await hash.update(view);
          } finally {
            pool.give(slab);
            credits.request(1);
          }
        }, 1),
      ),
      { defaultValue: undefined },
    );
    return hash;
  } catch (err) {
    hash.drop();
    throw err;
  } finally {
    pool.close();
  }
}

async function readTail(
  ctx: EngineContext,
  session: Session,
  tail: ChunkRef,
  chunkSize: number,
  t: Transfer,
): Promise<{ slab: Slab; length: number }> {
  const pool = new SlabPool(chunkSize, t.gauge);
  const slab = pool.take();
  try {
    await readVerified(ctx.store, tail, slab, { index: -1 }, t.signal);
    return { slab, length: tail.size };
  } catch (err) {
    pool.give(slab);
    throw await chunkFailed(ctx, { ...session, id: session.uploadId, chunks: [...session.chunks, tail] }, session.chunks.length, err);
  }
}

function tracker(
  ctx: EngineContext,
  session: Session,
  offset: number,
  hash: StreamHash,
  first: OpenUpload['first'],
  signal: AbortSignal,
  { allOrNothing, kept, refreshMs }: { allOrNothing: boolean; kept: () => boolean; refreshMs?: number },
): OpenUpload {
  const writer = chunkWriter(ctx);
  let saving: Promise<void> | undefined;
  let dirty = false;
  let failure: Error | undefined;
  let savedChunks = session.chunks.length;
  let savedAt = Date.now();
  let over = false;
  let timer: NodeJS.Timeout | undefined;
  const snapshot = (): Session => ({
    ...session,
    chunks: [...session.chunks],
    ...(refreshMs !== undefined ? { expires: new Date(ctx.options.now() + refreshMs).toISOString() } : {}),
  });
  const write = async (s: Session, sig?: AbortSignal) => {
    await writer.flush(sig);
    await ctx.catalog.saveSession(s, { signal: sig });
    savedChunks = s.chunks.length;
    savedAt = Date.now();
  };
  // Nobody can resume it: staged puts are flushed (orphans for gc, no staged write lingers), then
  // the session goes, so nothing names its chunks any more. Not abortable, like the record below.
  const discard = () =>
    (async () => {
      await saving?.catch(() => undefined);
      await writer.flush().catch(() => undefined);
      await ctx.catalog.deleteSession(session.uploadId);
    })().catch(() => undefined);
  const open: OpenUpload = {
    session,
    offset,
    writer,
    hash,
    first,
    allOrNothing,
    keys: [],
    advanced() {
      if (over || allOrNothing) return; // an all-or-nothing segment is recorded once, when accepted
      const wait = savedAt + SAVE_EVERY_MS - Date.now();
      if (session.chunks.length - savedChunks < SAVE_EVERY_CHUNKS && wait > 0) {
        // A source that stalls must not leave stored chunks out of the session (its lease) for long.
        timer ??= setTimeout(() => ((timer = undefined), open.advanced()), wait).unref();
        return;
      }
      clearTimeout(timer);
      timer = undefined;
      dirty = true;
      saving ??= (async () => {
        while (dirty) {
          dirty = false;
          await write(snapshot(), signal);
        }
      })()
        .catch((err: unknown) => {
          failure ??= err instanceof Error ? err : toChunkstreamError(err);
          if (!over) open.onError?.(err);
        })
        .finally(() => (saving = undefined));
    },
    async idle() {
      while (saving) await saving;
      if (failure) throw failure;
    },
    async save() {
      await open.idle();
      await write(snapshot(), signal);
    },
    settle() {
      over = true;
      clearTimeout(timer);
    },
    interrupted() {
      clearTimeout(timer);
      const release = () => {
        for (const key of open.keys.splice(0)) dropLive(ctx, key);
      };
      open.first = undefined; // its slab is garbage now: nothing reads it
      if (over) return release();
      over = true;
      hash.drop();
      if (!kept()) return void settle(ctx, session.uploadId, discard().finally(release));
      const s = snapshot();
      // An all-or-nothing segment that did not finish leaves the session as it was.
      const progressed = !allOrNothing && s.chunks.length > savedChunks;
      // Not abortable (the transfer's signal is aborted now): a resume must find what was stored.
      // Chunks stored out of order are flushed too (durable orphans for gc): no staged write lingers.
      const record = (async () => {
        await saving?.catch(() => undefined);
        if (progressed) await write(s);
        await writer.flush();
      })()
        .catch(() => undefined)
        .finally(release); // gc spares the chunks until they are recorded
      void settle(ctx, session.uploadId, record);
    },
  };
  return open;
}

/**
 * Chunk puts are deferred when the store can flush (fs: no sync per chunk) and flushed together
 * before a session save or the commit names them; on any other store each put is durable at once.
 */
function chunkWriter(ctx: EngineContext): ChunkWriter {
  const { store } = ctx;
  if (!store.flush) return { put: (key, data, options) => store.put(key, data, options), flush: async () => undefined };
  const pending = new Set<string>();
  return {
    async put(key, data, options) {
      const r = await store.put(key, data, { ...options, defer: true });
      pending.add(key);
      return r;
    },
    async flush(signal) {
      if (pending.size === 0) return;
      const keys = [...pending];
      pending.clear();
      await store.flush!(keys, { signal });
    },
  };
}
