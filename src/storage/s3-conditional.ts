import { createHash, randomBytes } from 'node:crypto';
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { StorageError } from '../errors.js';
import { abortError } from '../internal/abort.js';
import { isConditionalConflict, isPreconditionFailed, statusOf, toStoreError } from './s3-support.js';
import type { PutResult } from './types.js';

/** Where probe objects go (under the store's prefix); list() hides them. */
export const PROBE_PREFIX = '_chunkstream-probe/';

/** What `put(…, { ifNotExists })` needs from the store around it. */
export interface ConditionalContext {
  client: S3Client;
  bucket: string;
  /** Store prefix with its trailing slash, or ''. */
  base: string;
  /** Validates a key and returns the object key. */
  full(key: string): string;
  send<T>(op: string, key: string, signal: AbortSignal | undefined, call: (o: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T>;
  head(key: string, signal?: AbortSignal): Promise<HeadObjectCommandOutput | undefined>;
  putObject(key: string, data: Uint8Array, signal?: AbortSignal): Promise<unknown>;
  get(key: string, signal?: AbortSignal): Promise<Uint8Array>;
}

/**
 * `ifNotExists` puts: `If-None-Match: *` where the server enforces it (found by one probe in
 * 'auto' mode), else HEAD-then-PUT — safe for chunkstream's keys, since a racing writer of a chunk
 * writes the same bytes (content-addressed) and manifest ids are random.
 */
export function conditionalPuts(ctx: ConditionalContext, mode: 'auto' | boolean) {
  const { client, bucket: Bucket } = ctx;
  let enforced: boolean | undefined = mode === 'auto' ? undefined : mode;
  let probing: Promise<boolean> | undefined;

  // Write one probe object twice: a 412 for the second means the server enforces If-None-Match;
  // a 200 (s3rver ignores it), a 4xx or 501 refusing the header means it does not. Other 5xx
  // or network trouble: undecided, the next ifNotExists put probes again.
  const runProbe = async (): Promise<boolean> => {
    const Key = `${ctx.base}${PROBE_PREFIX}${randomBytes(8).toString('hex')}`;
    const put = () => client.send(new PutObjectCommand({ Bucket, Key, Body: new Uint8Array(0), IfNoneMatch: '*' }));
    const refused = (err: unknown) => {
      const s = statusOf(err);
      return s === 501 || (s !== undefined && s >= 400 && s < 500 && !isPreconditionFailed(err));
    };
    try {
      try {
        await put();
      } catch (err) {
        if (refused(err)) return (enforced = false);
        throw err;
      }
      try {
        await put();
        return (enforced = false);
      } catch (err) {
        if (isPreconditionFailed(err)) return (enforced = true);
        if (refused(err)) return (enforced = false);
        throw err;
      }
    } catch (err) {
      throw toStoreError('probe conditional writes with', Key.slice(ctx.base.length), err);
    } finally {
      await client.send(new DeleteObjectCommand({ Bucket, Key })).catch(() => undefined);
    }
  };

  /** Resolves whether puts are enforced by the server; one probe serves all callers. */
  const probe = (signal?: AbortSignal): Promise<boolean> => {
    if (enforced !== undefined) return Promise.resolve(enforced);
    probing ??= runProbe().finally(() => (probing = undefined));
    if (!signal) return probing;
    // A caller's abort ends its wait, not the probe other callers share.
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      probing!.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  };

  /**
   * Makes an existing object look new to gc. CopyObject onto itself is a server-side touch. A
   * server that keeps the old time (s3rver) gets the object's own bytes written again: ours when
   * the ETag says they are equal (content-addressed chunks), else the stored ones, re-read.
   */
  const refresh = async (key: string, data: Uint8Array, existing: HeadObjectCommandOutput, signal?: AbortSignal): Promise<void> => {
    const Key = ctx.full(key);
    const { CopyObjectResult: copied } = await ctx.send('refresh', key, signal, (so) =>
      client.send(new CopyObjectCommand({ Bucket, Key, CopySource: encodeURI(`${Bucket}/${Key}`), MetadataDirective: 'REPLACE' }), so),
    );
    const before = existing.LastModified;
    const after = copied?.LastModified;
    if (before && after && after > before) return;
    const same = (copied?.ETag ?? existing.ETag) === `"${createHash('md5').update(data).digest('hex')}"`;
    await ctx.putObject(key, same ? data : await ctx.get(key, signal), signal);
  };

  const putIfAbsent = async (key: string, data: Uint8Array, signal?: AbortSignal): Promise<PutResult> => {
    if (await probe(signal)) {
      for (let attempt = 0; ; attempt++) {
        try {
          await client.send(
            new PutObjectCommand({ Bucket, Key: ctx.full(key), Body: data, ContentLength: data.byteLength, IfNoneMatch: '*' }),
            {
              abortSignal: signal,
            },
          );
          return { created: true };
        } catch (err) {
          // 409: another conditional write to this key is in flight (AWS); ask again.
          if (isConditionalConflict(err) && attempt < 5 && !signal?.aborted) continue;
          if (!isPreconditionFailed(err) || signal?.aborted) throw toStoreError('put', key, err, signal);
        }
        // Exists: touch it. Gone again (gc) between the 412 and the HEAD: put it again.
        const existing = await ctx.head(key, signal);
        if (existing) {
          await refresh(key, data, existing, signal);
          return { created: false };
        }
        if (attempt >= 5) throw new StorageError('s3', `put ${key}: the object keeps vanishing between a 412 and a HEAD`);
      }
    }
    const existing = await ctx.head(key, signal);
    if (existing) {
      await refresh(key, data, existing, signal);
      return { created: false };
    }
    await ctx.putObject(key, data, signal);
    return { created: true };
  };

  return { probe, putIfAbsent, enforced: () => enforced === true };
}
