import { createHash, getHashes, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { extension } from 'mime-types';
import { checkName, MAX_METADATA_CHARS, mediaTypeSchema } from '../../catalog/model.js';
import { BadRequestError, PreconditionFailedError, UnsupportedMediaTypeError } from '../../errors.js';
import { decodeSegment } from '../routes.js';

/** The one protocol version spoken (tus 1.0.0), and the extensions implemented (docs/tus.md). */
export const TUS_VERSION = '1.0.0';
export const TUS_EXTENSIONS = ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration', 'checksum'];
export const TUS_CONTENT_TYPE = 'application/offset+octet-stream';
/** Upload-Checksum algorithms, by their tus names (the IANA "Hash Function Textual Names"); sha256 first. */
export const CHECKSUM_ALGORITHMS = ['sha256', 'sha1', 'sha512', 'md5'].filter((a) => getHashes().includes(a));
/** The response header that names the committed file (its id, for /v1/files/ID). */
export const FILE_ID_HEADER = 'Chunkstream-File-Id';
const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** Every request but OPTIONS must speak our version: else 412 (the caller adds Tus-Version). */
export function checkTusResumable(h: IncomingHttpHeaders): void {
  const v = header(h, 'tus-resumable');
  if (v?.trim() !== TUS_VERSION) {
    throw new PreconditionFailedError(
      v === undefined
        ? `Tus-Resumable: required (this server speaks tus ${TUS_VERSION})`
        : `Tus-Resumable: version ${JSON.stringify(v.slice(0, 40))} is not supported (this server speaks tus ${TUS_VERSION})`,
    );
  }
}

/** A non-negative integer header (Upload-Offset, Upload-Length), or undefined if absent. */
export function byteCount(h: IncomingHttpHeaders, name: string, field: string): number | undefined {
  const v = header(h, name);
  if (v === undefined) return undefined;
  const n = /^\d{1,16}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isSafeInteger(n)) throw new BadRequestError(field, `must be a non-negative integer (got ${JSON.stringify(v.slice(0, 40))})`);
  return n;
}

/** Whether the body is `application/offset+octet-stream` (parameters and case aside). */
export function isOffsetStream(h: IncomingHttpHeaders): boolean {
  return header(h, 'content-type')?.split(';')[0]?.trim().toLowerCase() === TUS_CONTENT_TYPE;
}

export function requireOffsetStream(h: IncomingHttpHeaders): void {
  if (!isOffsetStream(h)) {
    const got = header(h, 'content-type');
    throw new UnsupportedMediaTypeError(
      `Content-Type: must be ${TUS_CONTENT_TYPE}${got === undefined ? '' : ` (got ${JSON.stringify(got.slice(0, 80))})`}`,
    );
  }
}

/** The upload's declared size: Upload-Length, or Upload-Defer-Length: 1 (undefined); exactly one of them. */
export function declaredLength(h: IncomingHttpHeaders): number | undefined {
  const length = byteCount(h, 'upload-length', 'Upload-Length');
  const defer = header(h, 'upload-defer-length');
  if (defer !== undefined && defer.trim() !== '1') throw new BadRequestError('Upload-Defer-Length', 'must be 1');
  if (length === undefined && defer === undefined) throw new BadRequestError('Upload-Length', 'required (or Upload-Defer-Length: 1)');
  if (length !== undefined && defer !== undefined) throw new BadRequestError('Upload-Length', 'not together with Upload-Defer-Length');
  return length;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}|[A-Za-z0-9+/]{3})?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Upload-Metadata: comma-separated `key base64value` pairs (a value may be empty, then the space
 * may go), keys non-empty, unique, without spaces or commas. Values are raw bytes: decoded later
 * as UTF-8 where a text is meant.
 */
export function parseMetadata(raw: string | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (raw === undefined || raw.trim() === '') return out;
  // Kept with the upload and echoed by HEAD: bounded like the session field.
  if (raw.length > MAX_METADATA_CHARS) throw new BadRequestError('Upload-Metadata', `longer than ${MAX_METADATA_CHARS} characters`);
  for (const pair of raw.split(',')) {
    const m = /^([^\s,]+)(?: ([^\s,]*))?$/.exec(pair.trim());
    if (!m) throw new BadRequestError('Upload-Metadata', `malformed pair ${JSON.stringify(pair.slice(0, 60))}: must be "key base64value"`);
    const [, key, value = ''] = m;
    if (out.has(key!)) throw new BadRequestError('Upload-Metadata', `key ${JSON.stringify(key!.slice(0, 60))} given twice`);
    if (!BASE64.test(value)) throw new BadRequestError('Upload-Metadata', `value of ${JSON.stringify(key!.slice(0, 60))} is not base64`);
    out.set(key!, Buffer.from(value, 'base64'));
  }
  return out;
}

/**
 * The file's name and type from the metadata: `filename` (or Uppy's `name`), under the same
 * checks as every name, or — missing — `upload-<UTC time>` with the type's extension; `filetype`
 * (or `type`) is kept when it is a valid media type and ignored otherwise (browsers send "" for
 * unknown types).
 */
export function describeFile(meta: Map<string, Buffer>, now = new Date()): { name: string; type?: string } {
  const typeRaw = meta.get('filetype') ?? meta.get('type');
  const typeText = typeRaw === undefined ? undefined : text(typeRaw, 'filetype');
  const type = typeText !== undefined && mediaTypeSchema.safeParse(typeText).success ? typeText : undefined;
  const typed = type !== undefined ? { type } : {};
  const nameRaw = meta.get('filename') ?? meta.get('name');
  if (nameRaw !== undefined && nameRaw.length > 0)
    return { name: checkName(text(nameRaw, 'filename'), 'Upload-Metadata filename'), ...typed };
  const ext = type ? extension(type) : false;
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return { name: `upload-${stamp}${ext ? `.${ext}` : ''}`, ...typed };
}

function text(value: Buffer, key: string): string {
  try {
    return utf8.decode(value);
  } catch {
    throw new BadRequestError('Upload-Metadata', `${key} is not valid UTF-8`);
  }
}

/** A parsed Upload-Checksum: a running hash of the PATCH body and the digest it must end with. */
export interface Checksum {
  algorithm: string;
  expected: Buffer;
  hash: Hash;
}

/** `Upload-Checksum: <algorithm> <base64 digest>`; an unknown algorithm is a 400 (the spec's answer). */
export function parseChecksum(h: IncomingHttpHeaders): Checksum | undefined {
  const v = header(h, 'upload-checksum');
  if (v === undefined) return undefined;
  const m = /^\s*([A-Za-z0-9-]+) ([A-Za-z0-9+/=]+)\s*$/.exec(v);
  if (!m) throw new BadRequestError('Upload-Checksum', 'must be "<algorithm> <base64 digest>"');
  const algorithm = m[1]!.toLowerCase();
  if (!CHECKSUM_ALGORITHMS.includes(algorithm)) {
    throw new BadRequestError(
      'Upload-Checksum',
      `algorithm ${JSON.stringify(algorithm)} is not supported (${CHECKSUM_ALGORITHMS.join(', ')})`,
    );
  }
  const hash = createHash(algorithm);
  const expected = Buffer.from(m[2]!, 'base64');
  if (!BASE64.test(m[2]!) || expected.length !== hash.copy().digest().length) {
    throw new BadRequestError('Upload-Checksum', `not a base64 ${algorithm} digest`);
  }
  return { algorithm, expected, hash };
}

/** The method, or X-HTTP-Method-Override (the spec's MUST, for clients behind proxies that pass only GET and POST). */
export function methodOf(req: IncomingMessage): string {
  const o = req.headers['x-http-method-override'];
  return (typeof o === 'string' && o.trim() !== '' ? o.trim() : (req.method ?? 'GET')).toUpperCase();
}

export const decodeId = (segment: string): string => decodeSegment(segment, 'uploadId');

export function strings(h: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
}
