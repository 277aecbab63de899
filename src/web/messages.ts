// What a person should read for each error code the SDK and the server give.
import { formatBytes } from './format.js';

export interface CodedError {
  code?: string;
  message?: string;
}

export function errorCode(err: unknown): string {
  const code = (err as CodedError | null)?.code;
  return typeof code === 'string' ? code : 'internal';
}

/**
 * Codes a Retry cannot fix: the same file, name and server give the same answer (a name the
 * server refuses, a file over its size limit, an option it rejects). The page offers no Retry
 * for them; the message says what to change instead.
 */
const FINAL = new Set(['bad_request', 'too_large', 'invalid_option', 'source_overflow', 'unsupported_media_type']);

export function canRetry(err: unknown): boolean {
  return !FINAL.has(errorCode(err));
}

/**
 * `too_large` in sizes people read. The server says `file of 157286400 bytes exceeds maxFileSize
 * (1048576)` (a declared size) or `file exceeds maxFileSize (1048576 bytes)` (found while
 * reading); `size` is the file's own, when the page knows it.
 */
function tooLarge(detail: string, size?: number): string {
  const limit = /maxFileSize \((\d+)(?: bytes)?\)/.exec(detail)?.[1];
  const had = size ?? Number(/of (\d+) bytes/.exec(detail)?.[1] ?? NaN);
  if (limit === undefined) return `Too large for this server: ${detail}`;
  const what = Number.isFinite(had) ? `This file is ${formatBytes(had)}` : 'This file is too large';
  return `${what}: this server takes files up to ${formatBytes(Number(limit))}.`;
}

export function describe(err: unknown, context: { size?: number } = {}): string {
  const code = errorCode(err);
  const detail = String((err as CodedError | null)?.message ?? err);
  switch (code) {
    case 'unauthorized':
      return 'The server did not accept the token. Enter a valid one.';
    case 'busy':
      return 'The server is busy (all of its transfer memory is in use). Nothing was lost; try again in a moment.';
    case 'integrity':
      return 'Integrity check failed: the data did not match its SHA-256, so nothing was saved. The stored copy may be damaged (chunkstream verify checks it).';
    case 'missing_chunk':
      return `Part of this file is missing on the server, so nothing was saved. Uploading the same file again restores it. (${detail})`;
    case 'connection_lost':
      return 'Lost the connection to the server.';
    case 'not_found':
      return `Not found (it may have been deleted): ${detail}`;
    case 'aborted':
      return 'Cancelled.';
    case 'too_large':
      return tooLarge(detail, context.size);
    case 'bad_request':
      return `The server refused it: ${detail}`;
    default:
      return `${detail} (${code})`;
  }
}
