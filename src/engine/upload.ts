import { setMaxListeners } from 'node:events';
import { createHash } from 'node:crypto';
import { Observable, concat, defer, finalize, map, of, switchMap } from 'rxjs';
import { BadRequestError, TooLargeError } from '../errors.js';
import { chunkKey, newId } from '../catalog/catalog.js';
import {
  checkName,
  fileInfo,
  isCommittedUpload,
  manifestSchema,
  type ChunkRef,
  type FileInfo,
  type Manifest,
  type Session,
} from '../catalog/schema.js';
import { abortable, fromAbortable } from '../internal/abort.js';
import { chunkBytes, type Chunk } from '../internal/chunker.js';
import { HeldBytes } from '../internal/gauge.js';
import { sha256Hex, sha256HexPooled, usesHashPool } from '../internal/hash.js';
import { toByteIterable, type ByteSource } from '../internal/source.js';
import { fromPull } from '../operators/fromPull.js';
import { mergeMapBounded } from '../operators/mergeMapBounded.js';
import { alreadyCommitted, checkExpected, markCommitted, markedManifest } from './committed.js';
import { dropLive, holdLive, settle, settled, type EngineContext } from './context.js';
import { readVerified } from './readChunk.js';

export interface UploadOptions {
  /** File name (metadata only). Required unless resuming. */
  name?: string;
  /** Resume this unfinished upload: the source must start at the offset it reports. */
  uploadId?: string;
  signal?: AbortSignal;
  /** Also counts this transfer's held bytes (the store's gauge always does). */
  gauge?: HeldBytes;
  /** Refuse to commit unless the file has exactly this many bytes. */
  expectedSize?: number;
  /** Refuse to commit unless the file's SHA-256 (hex) is this. */
  expectedSha256?: string;
  /** Overrides the store's uploadConcurrency for this transfer. */
  concurrency?: number;
}

export type UploadEvent =
  /** `alreadyCommitted`: a resume of an upload that had committed; `committed` follows at once. */
  | { type: 'started'; uploadId: string; offset: number; alreadyCommitted?: true }
  | { type: 'progress'; uploadId: string; bytes: number; chunks: number; held: number; peakHeld: number }
  | { type: 'committed'; file: FileInfo };

/** A source, or a function of the offset to start from (for resumed uploads). */
export type UploadSource = ByteSource | ((offset: number) => ByteSource);

/**
 * source bytes ─chunk─▶ a b c d …   (pulled one chunk per free slot)
 * store (mergeMapBounded, N):  [a][b]  [c][d]   (≤ N chunks in flight, + 1 being cut)
 * then: commit the manifest (under the file id the session reserved) in one atomic put, and
 * replace the session with a committed marker, so a resume by upload id learns the outcome.
 */
export function upload(ctx: EngineContext, source: UploadSource, options: UploadOptions): Observable<UploadEvent> {
  return new Observable<UploadEvent>((subscriber) => {
    const gauge = new HeldBytes(ctx.gauge, options.gauge);
    const controller = new AbortController();
    setMaxListeners(256, controller.signal); // one listener per chunk in flight, not a leak
    const onAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const signal = controller.signal;
    const held: string[] = [];
    const hash = createHash('sha256');
    let saving: Promise<void> | undefined;
    let dirty = false;
    let savedChunks = 0; // chunks in the last session snapshot known to be stored
    let total = 0;
    let current: Session | undefined; // set once the session exists; cleared when committed
    const concurrency = options.concurrency ?? ctx.options.uploadConcurrency;

    // Already committed: a caller expecting other bytes is told so, else it gets the file.
    const done = (uploadId: string, manifest: Manifest) => (checkExpected(options, manifest.size, manifest.sha256), { uploadId, manifest });

    const prepare = async (): Promise<Session | { uploadId: string; manifest: Manifest }> => {
      if (options.expectedSize !== undefined && options.expectedSize > ctx.options.maxFileSize) {
        throw new TooLargeError(
          'size',
          ctx.options.maxFileSize,
          `file of ${options.expectedSize} bytes exceeds maxFileSize (${ctx.options.maxFileSize})`,
        );
      }
      const now = Date.now();
      const expires = new Date(now + ctx.options.uploadTtlMs).toISOString();
      let session: Session;
      if (options.uploadId) {
        await settled(ctx, options.uploadId);
        const found = await ctx.catalog.loadUpload(options.uploadId, { signal });
        if (isCommittedUpload(found)) return done(found.uploadId, await markedManifest(ctx, found, { signal }));
        const manifest = found.fileId ? await ctx.catalog.findManifest(found.fileId, { signal }) : undefined;
        if (manifest) {
          await settle(ctx, found.uploadId, markCommitted(ctx, found.uploadId, manifest.id)); // finish a commit cut off before its marker
          return done(found.uploadId, manifest);
        }
        // Older sessions reserve their file id now (saved below with the new expiry).
        session = { ...found, fileId: found.fileId ?? newId(), expires };
        // Re-hash the stored prefix: the running hash did not survive the interruption.
        for (const [i, ref] of session.chunks.entries()) {
          hash.update(await readVerified(ctx.store, ref, { index: i }, signal));
        }
      } else {
        const name = checkName(options.name);
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
        };
      }
      total = session.size;
      await ctx.catalog.saveSession(session, { signal });
      savedChunks = session.chunks.length;
      current = session;
      return session;
    };

    const save = (session: Session) => {
      dirty = true;
      saving ??= (async () => {
        while (dirty) {
          dirty = false;
          const snapshot = { ...session, chunks: [...session.chunks] };
          await ctx.catalog.saveSession(snapshot, { signal });
          savedChunks = snapshot.chunks.length;
        }
      })()
        .catch((err) => subscriber.error(err))
        .finally(() => (saving = undefined));
    };

    const storeChunk = (chunk: Chunk, base: number) =>
      fromAbortable(async (s): Promise<{ index: number; ref: ChunkRef }> => {
        // Opt-in hash pool: hashed on a worker while this thread goes on with the whole-file hash
        // and the next chunk. A buffer the chunker allocated moves there and back; the caller's
        // bytes are copied once into a shared slab instead.
        let data = chunk.data;
        let key: string;
        if (usesHashPool(data.byteLength)) ({ hex: key, data } = await sha256HexPooled(data, { owned: chunk.owned }));
        else key = sha256Hex(data);
        holdLive(ctx, key);
        held.push(key);
        await ctx.store.put(chunkKey(key), data, { signal: s, ifNotExists: true });
        return { index: base + chunk.index, ref: { key, size: data.byteLength } };
      }, signal).pipe(finalize(() => gauge.release(chunk.held)));

    const storeAll = (session: Session, source: ByteSource) => {
      const pull = fromPull(chunkBytes(toByteIterable(source, ctx.options.sourceBufferBytes), session.chunkSize, gauge));
      const base = session.chunks.length;
      const done = new Map<number, ChunkRef>();
      return pull.values$.pipe(
        mergeMapBounded(
          (chunk: Chunk) => {
            total += chunk.data.byteLength;
            if (total > ctx.options.maxFileSize)
              throw new TooLargeError('size', ctx.options.maxFileSize, `file exceeds maxFileSize (${ctx.options.maxFileSize} bytes)`);
            if (options.expectedSize !== undefined && total > options.expectedSize) {
              throw new BadRequestError('size', `source has more than the expected ${options.expectedSize} bytes`);
            }
            hash.update(chunk.data);
            return storeChunk(chunk, base);
          },
          concurrency,
          { request: pull.request },
        ),
        map(({ index, ref }): UploadEvent => {
          // Only a contiguous prefix is resumable: record chunks in order.
          done.set(index, ref);
          for (let next = done.get(session.chunks.length); next; next = done.get(session.chunks.length)) {
            done.delete(session.chunks.length);
            session.chunks.push(next);
            session.size += next.size;
          }
          save(session);
          return {
            type: 'progress',
            uploadId: session.uploadId,
            bytes: session.size,
            chunks: session.chunks.length,
            held: gauge.held,
            peakHeld: gauge.peak,
          };
        }),
      );
    };

    const commit = async (session: Session): Promise<UploadEvent> => {
      while (saving) await saving;
      const sha256 = hash.digest('hex');
      checkExpected(options, session.size, sha256);
      const manifest = manifestSchema.parse({
        version: 1,
        id: session.fileId ?? newId(),
        name: session.name,
        size: session.size,
        sha256,
        chunkSize: session.chunkSize,
        chunks: session.chunks,
        created: new Date().toISOString(),
      });
      const committing = (async () => {
        // Not created: a resume of this upload elsewhere committed it first, and that is the file.
        const created = await ctx.catalog.commitManifest(manifest, { signal });
        current = undefined;
        const file = created ? manifest : ((await ctx.catalog.findManifest(manifest.id)) ?? manifest);
        await markCommitted(ctx, session.uploadId, file.id);
        return file;
      })();
      // If this upload is interrupted now, status and resume still wait for the commit's outcome.
      void settle(
        ctx,
        session.uploadId,
        committing.then(
          () => undefined,
          () => undefined,
        ),
      );
      return { type: 'committed', file: fileInfo(await committing) };
    };

    subscriber.add(
      defer(prepare)
        .pipe(
          switchMap((session) =>
            'manifest' in session
              ? alreadyCommitted(session.uploadId, session.manifest) // the source is never opened
              : concat(
                  of<UploadEvent>({ type: 'started', uploadId: session.uploadId, offset: session.size }),
                  defer(() => storeAll(session, typeof source === 'function' ? source(session.size) : source)),
                  defer(() => commit(session)),
                ),
          ),
          abortable(options.signal),
        )
        .subscribe(subscriber),
    );
    return () => {
      options.signal?.removeEventListener('abort', onAbort);
      controller.abort();
      // An interrupted upload records how far it got (saves in flight were just aborted), so a
      // resume sends only what is missing. Best effort: at worst a resume resends a few chunks.
      if (current && current.chunks.length > savedChunks) {
        void settle(
          ctx,
          current.uploadId,
          ctx.catalog.saveSession({ ...current, chunks: [...current.chunks] }).catch(() => undefined),
        );
      }
      for (const key of held) dropLive(ctx, key);
      gauge.close();
    };
  });
}
