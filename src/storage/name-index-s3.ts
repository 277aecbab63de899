import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { TooLargeError } from '../errors.js';
import { compareNames, nameBytes, type NameIndex, type NamePage } from './name-index.js';
import { isMissing, isPreconditionFailed, readBody, toStoreError } from './s3-support.js';

const NAMES = 'names/';
const decoder = new TextDecoder();
const encoder = new TextEncoder();
/** S3's own limit on an object key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
const GET_CONCURRENCY = 16;

export interface S3NameContext {
  client: S3Client;
  bucket: string;
  /** Store prefix with its trailing slash, or ''. */
  base: string;
  /** Whether the server enforces conditional writes (`If-None-Match`, `If-Match`): probed once. */
  conditional(signal?: AbortSignal): Promise<boolean>;
}

/**
 * The S3 store's name index is the bucket itself: one object per name at `names/<name>` (the
 * name as it is, so S3's sorted listing with Prefix, Delimiter and StartAfter is the index, and
 * folders are its CommonPrefixes), holding the name's value; the object's ETag is its version.
 * A swap is a conditional write (`If-None-Match: *` to create, `If-Match: ETag` to replace or
 * delete), so N gateways with no coordinator agree on one winner. A server that does not enforce
 * them gets a HEAD-compare-write instead, which two racing gateways can both pass (docs/deployment.md).
 * A page is one LIST, plus one GET per entry on it (the values: S3 lists no object bodies),
 * whatever the number of names; folders cost nothing more.
 */
export function createS3NameIndex(ctx: S3NameContext): NameIndex {
  const Bucket = ctx.bucket;
  const root = `${ctx.base}${NAMES}`;
  const keyOf = (name: string) => {
    const bytes = nameBytes(root).byteLength + nameBytes(name).byteLength;
    if (bytes > MAX_KEY_BYTES) {
      throw new TooLargeError(
        'name',
        MAX_KEY_BYTES - nameBytes(root).byteLength,
        `name is ${bytes - nameBytes(root).byteLength} bytes: this S3 store keys names of at most ${MAX_KEY_BYTES - nameBytes(root).byteLength}`,
      );
    }
    return root + name;
  };
  const read = async (name: string, signal?: AbortSignal) => {
    try {
      const out = await ctx.client.send(new GetObjectCommand({ Bucket, Key: keyOf(name) }), { abortSignal: signal });
      const body = await readBody(out.Body, out.ContentLength, signal);
      return { value: decoder.decode(body), version: out.ETag ?? '' };
    } catch (err) {
      if (isMissing(err) && !signal?.aborted) return undefined;
      throw toStoreError('get name', NAMES, err, signal);
    }
  };
  /** `enforced`: the write carries its condition; else the caller compared first. */
  const write = async (name: string, value: string | undefined, expected: string | undefined, enforced: boolean, signal?: AbortSignal) => {
    const Key = keyOf(name);
    try {
      if (value === undefined) {
        await ctx.client.send(new DeleteObjectCommand({ Bucket, Key, ...(enforced ? { IfMatch: expected } : {}) }), {
          abortSignal: signal,
        });
      } else {
        const Body = encoder.encode(value);
        const condition = !enforced ? {} : expected === undefined ? { IfNoneMatch: '*' } : { IfMatch: expected };
        await ctx.client.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: Body.byteLength, ...condition }), {
          abortSignal: signal,
        });
      }
      return true;
    } catch (err) {
      if ((isPreconditionFailed(err) || isMissing(err)) && !signal?.aborted) return false;
      throw toStoreError('swap name', NAMES, err, signal);
    }
  };

  return {
    get: (name, options = {}) => read(name, options.signal),
    async swap(name, value, expected, options = {}) {
      const { signal } = options;
      if (value === undefined && expected === undefined) return (await read(name, signal)) === undefined;
      if (await ctx.conditional(signal)) return write(name, value, expected, true, signal);
      // Not enforced by the server: compare, then write (racy across gateways, see above).
      const current = await read(name, signal);
      if (current?.version !== expected) return false;
      return write(name, value, expected, false, signal);
    },
    async list(query, options = {}) {
      const { signal } = options;
      const { prefix, delimiter, startAfter, limit } = query;
      // One more than asked: a cursor that is a folder comes back once as a CommonPrefix (S3 starts after it, inside it).
      const out = await ctx.client
        .send(
          new ListObjectsV2Command({
            Bucket,
            Prefix: keyOf(prefix),
            Delimiter: delimiter,
            StartAfter: startAfter !== undefined && compareNames(startAfter, prefix) > 0 ? keyOf(startAfter) : undefined,
            MaxKeys: Math.min(1000, limit + 1),
          }),
          { abortSignal: signal },
        )
        .catch((err: unknown) => {
          throw toStoreError('list names', NAMES, err, signal);
        });
      const items: { name: string; folder: boolean }[] = [];
      for (const c of out.Contents ?? []) if (c.Key?.startsWith(root)) items.push({ name: c.Key.slice(root.length), folder: false });
      for (const p of out.CommonPrefixes ?? [])
        if (p.Prefix?.startsWith(root)) items.push({ name: p.Prefix.slice(root.length), folder: true });
      // Merged in byte order (S3 returns the two lists apart; some servers count only keys against MaxKeys).
      const kept = items
        .filter((i) => startAfter === undefined || (compareNames(i.name, startAfter) > 0 && !(i.folder && startAfter.startsWith(i.name))))
        .sort((a, b) => compareNames(a.name, b.name));
      const page = kept.slice(0, limit);
      const values = await mapLimited(
        page.filter((i) => !i.folder),
        GET_CONCURRENCY,
        async (i) => ({ name: i.name, record: await read(i.name, signal) }),
      );
      const result: NamePage = {
        entries: values.flatMap((v) => (v.record ? [{ name: v.name, value: v.record.value }] : [])),
        folders: page.filter((i) => i.folder).map((i) => i.name),
        truncated: kept.length > limit || out.IsTruncated === true,
      };
      return result;
    },
  };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
