import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { z } from 'zod';
import { InvalidOptionError, RangeNotSatisfiableError } from '../errors.js';
import { sleep, throwIfAborted } from '../internal/abort.js';
import { resolveOptions } from '../internal/options.js';
import { conditionalPuts, PROBE_PREFIX } from './s3-conditional.js';
import { BodyError, isMissing, readBody, readBodyInto, statusOf, toStoreError } from './s3-support.js';
import { checkKey } from './util.js';
import { createS3NameIndex } from './name-index-s3.js';
import type { CallOptions, ChunkStore, GetOptions, LateBuffer, PutOptions, PutResult, StoredObject } from './types.js';

const s3OptionsSchema = z
  .object({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name (3-63 of [a-z0-9.-])'),
    prefix: z
      .string()
      .max(512)
      .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), 'must not contain "." or ".." segments'),
    endpoint: z.url().optional(),
    region: z.string().min(1),
    credentials: z
      .object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() })
      .strict()
      .optional(),
    forcePathStyle: z.boolean().optional(),
    maxSockets: z.number().int().min(1).max(4096),
    maxAttempts: z.number().int().min(1).max(20),
    requestTimeoutMs: z.number().int().min(0),
    pageSize: z.number().int().min(1).max(1000),
    client: z.custom<S3Client>((v) => v instanceof S3Client, 'must be an S3Client').optional(),
    conditionalWrites: z.union([z.literal('auto'), z.boolean()]),
  })
  .strict();

export type S3StoreOptions = Partial<z.input<typeof s3OptionsSchema>> & { bucket: string };

/** An S3 ChunkStore: the options it resolved and whether the server enforces conditional puts. */
export interface S3Store extends ChunkStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  /** Probes (once) whether the server honours `If-None-Match: *`; `conditionalWrites: 'auto'` does this lazily. */
  conditionalWrites(options?: CallOptions): Promise<boolean>;
}

/**
 * Objects live at `${prefix}/${key}` in one bucket. A put is one PutObject (atomic on S3);
 * `ifNotExists` uses `If-None-Match: *` where the server enforces it, else HEAD-then-PUT, which
 * is safe here because chunk keys are content hashes and manifest ids are random.
 */
export function createS3Store(options: S3StoreOptions): S3Store {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', '[s3] must be an object');
  const o = resolveOptions(
    s3OptionsSchema,
    {
      prefix: '',
      region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
      maxSockets: 50,
      maxAttempts: 4,
      requestTimeoutMs: 300_000,
      pageSize: 1000,
      conditionalWrites: 'auto',
    },
    options,
  );
  const prefix = o.prefix.replace(/^\/+|\/+$/g, '');
  const base = prefix ? `${prefix}/` : '';
  const owned = !o.client;
  quietNodeVersionWarning();
  const client =
    o.client ??
    new S3Client({
      region: o.region,
      endpoint: o.endpoint,
      forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
      credentials: o.credentials,
      maxAttempts: o.maxAttempts,
      // Checksums only where S3 requires them: s3rver and older gateways mis-store aws-chunked bodies.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: 10_000,
        requestTimeout: o.requestTimeoutMs,
        httpAgent: { keepAlive: true, maxSockets: o.maxSockets },
        httpsAgent: { keepAlive: true, maxSockets: o.maxSockets },
      },
    });
  const Bucket = o.bucket;
  const full = (key: string) => (checkKey('s3', key), base + key);

  /** Runs one SDK call with the caller's signal, mapping whatever it throws to a coded error. */
  const send = async <T>(
    op: string,
    key: string,
    signal: AbortSignal | undefined,
    call: (o: { abortSignal?: AbortSignal }) => Promise<T>,
  ): Promise<T> => {
    throwIfAborted(signal);
    try {
      return await call({ abortSignal: signal });
    } catch (err) {
      throw toStoreError(op, key, err, signal);
    }
  };
  const putObject = (key: string, data: Uint8Array, signal?: AbortSignal) =>
    send('put', key, signal, (so) =>
      client.send(new PutObjectCommand({ Bucket, Key: full(key), Body: data, ContentLength: data.byteLength }), so),
    );
  const head = async (key: string, signal?: AbortSignal): Promise<HeadObjectCommandOutput | undefined> => {
    throwIfAborted(signal);
    try {
      return await client.send(new HeadObjectCommand({ Bucket, Key: full(key) }), { abortSignal: signal });
    } catch (err) {
      if (isMissing(err) && !signal?.aborted) return undefined;
      throw toStoreError('head', key, err, signal);
    }
  };

  const conditional = conditionalPuts(
    { client, bucket: Bucket, base, full, send, head, putObject, get: (key, signal) => store.get(key, { signal }) },
    o.conditionalWrites,
  );

  const getOnce = async (key: string, opts: GetOptions): Promise<Uint8Array> => {
    const { range, signal } = opts;
    const out = await send('get', key, signal, (so) =>
      client.send(new GetObjectCommand({ Bucket, Key: full(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }), so),
    );
    const data = await readBody(out.Body, out.ContentLength, signal);
    if (!range) return data;
    // Cut to the range asked for: some servers widen it (s3rver answers bytes=0-0 with everything)
    // or ignore Range altogether (a 200 without Content-Range starts at byte 0).
    const first = Number(/^bytes (\d+)-/.exec(out.ContentRange ?? '')?.[1] ?? 0);
    if (first > range.start) throw new BodyError(`range ${range.start}-${range.end} answered from byte ${first}`);
    return data.subarray(range.start - first, range.end - first + 1);
  };

  /** The SDK retried failed requests; a body cut off mid-way is retried here, with backoff. */
  const withBodyRetries = async <T>(key: string, signal: AbortSignal | undefined, read: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await read();
      } catch (err) {
        if (!(err instanceof BodyError) || attempt >= o.maxAttempts) throw toStoreError('get', key, err, signal);
        await sleep(50 * 2 ** attempt, signal);
      }
    }
  };

  /**
   * A whole object into the caller's buffer: ranged, so a corrupt (longer) object never sends more
   * than it holds. A late buffer is taken when the response arrived (and kept for a retry).
   */
  const readInto = (key: string, into: Uint8Array | LateBuffer, signal?: AbortSignal): Promise<Uint8Array> => {
    const size = into instanceof Uint8Array ? into.byteLength : into.size;
    let target = into instanceof Uint8Array ? into : undefined;
    if (size === 0) return into instanceof Uint8Array ? Promise.resolve(into) : into.take();
    return withBodyRetries(key, signal, async () => {
      const out = await send('get', key, signal, (so) =>
        client.send(new GetObjectCommand({ Bucket, Key: full(key), Range: `bytes=0-${size - 1}` }), so),
      );
      try {
        target ??= await (into as LateBuffer).take();
      } catch (err) {
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw err;
      }
      const buf = target;
      // A server that ignores Range (a 200 with everything) is read only as far as the buffer goes.
      const n = await readBodyInto(out.Body, buf, Math.min(out.ContentLength ?? 0, size), signal).catch((err) => {
        if (err instanceof BodyError && /longer than/.test(err.message)) return size;
        throw err;
      });
      return buf.subarray(0, n);
    });
  };

  const store: S3Store = {
    name: 's3',
    bucket: Bucket,
    prefix,
    client,
    get capabilities() {
      return { conditionalPut: conditional.enforced(), rangeGet: true, lateInto: true };
    },
    conditionalWrites: (opts = {}) => conditional.probe(opts.signal),
    names: createS3NameIndex({ client, bucket: Bucket, base, conditional: (signal) => conditional.probe(signal) }),

    async put(key: string, data: Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
      full(key);
      throwIfAborted(opts.signal);
      if (opts.ifNotExists) return conditional.putIfAbsent(key, data, opts.signal);
      await putObject(key, data, opts.signal);
      // S3 does not say whether it replaced an object; a HEAD per session save is not worth it.
      return { created: true };
    },

    async get(key: string, opts: GetOptions = {}): Promise<Uint8Array> {
      full(key);
      if (opts.range) checkRange(opts.range);
      const into = opts.range ? undefined : (opts.into ?? opts.lateInto);
      if (into) return readInto(key, into, opts.signal);
      try {
        return await withBodyRetries(key, opts.signal, () => getOnce(key, opts));
      } catch (err) {
        if (isRangeError((err as { cause?: unknown }).cause ?? err)) {
          throw new RangeNotSatisfiableError(-1, `[s3] range ${opts.range?.start}-${opts.range?.end} of ${key} is outside the object`);
        }
        throw err;
      }
    },

    async has(key: string, opts: CallOptions = {}): Promise<boolean> {
      return (await head(key, opts.signal)) !== undefined;
    },

    async delete(key: string, opts: CallOptions = {}): Promise<void> {
      try {
        await send('delete', key, opts.signal, (so) => client.send(new DeleteObjectCommand({ Bucket, Key: full(key) }), so));
      } catch (err) {
        if ((err as { code?: string }).code !== 'not_found') throw err;
      }
    },

    // A server-side copy, then the delete: the bytes never come through here. Not atomic (S3 has
    // no rename), but a crash between the two leaves both, and the next failed read moves it again.
    async move(from: string, to: string, opts: CallOptions = {}): Promise<void> {
      const src = full(from);
      await send('move', from, opts.signal, (so) =>
        client.send(new CopyObjectCommand({ Bucket, Key: full(to), CopySource: encodeURI(`${Bucket}/${src}`) }), so),
      );
      await store.delete(from, opts);
    },

    async *list(listPrefix: string, opts: CallOptions = {}): AsyncIterable<StoredObject> {
      let token: string | undefined;
      do {
        const page = await send('list', listPrefix, opts.signal, (so) =>
          client.send(new ListObjectsV2Command({ Bucket, Prefix: base + listPrefix, ContinuationToken: token, MaxKeys: o.pageSize }), so),
        );
        for (const c of page.Contents ?? []) {
          const key = c.Key?.slice(base.length);
          if (!key || key.startsWith(PROBE_PREFIX)) continue;
          yield { key, size: c.Size ?? 0, modified: c.LastModified ?? new Date(0) };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async close(): Promise<void> {
      if (owned) client.destroy();
    },
  };
  return store;
}

function checkRange(range: { start: number; end: number }): void {
  const { start, end } = range;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end >= start)) {
    throw new RangeNotSatisfiableError(-1, `[s3] invalid range ${start}-${end}`);
  }
}

function isRangeError(err: unknown): boolean {
  const e = err as { name?: string; cause?: { name?: string } } | null;
  return e?.name === 'InvalidRange' || e?.cause?.name === 'InvalidRange' || statusOf(e?.cause ?? err) === 416;
}

/**
 * The SDK prints a 9-line NodeVersionSupportWarning on Node < 22 (about its releases after
 * January 2027) before anything else, burying a one-line error; chunkstream supports Node 20
 * and the user has nothing to act on. Off unless the variable was set (then it decides).
 */
function quietNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
