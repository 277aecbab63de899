import type { ChunkstreamError } from '../errors.js';

/**
 * What a client may read of an error: the one filter every answer goes through (HTTP bodies,
 * WebSocket error frames, refused upgrades). Store keys (`chunks/12/06/12068f…`, `files/<id>.json`,
 * `tmp/…`) and server paths say how the store is laid out and nothing the client can act on; the
 * full message stays in the server's log (the access line's `err`). A storage or internal error
 * that named one is replaced by a generic sentence; any other message has them cut out.
 */
// config/ stays: /readyz names config/store.json on purpose (what an operator must restore).
const INTERNAL_KEY = /(?<![\w/.-])(?:chunks|files|uploads|committed|quarantine|tmp)\/[A-Za-z0-9._/-]+/g;
// An absolute path as Node's errors quote it: open '/srv/store/tmp/x.tmp', or 'C:\…'.
const SERVER_PATH = /'(?:\/|[A-Za-z]:\\)[^']*'/g;

const GENERIC: Partial<Record<string, string>> = {
  storage: 'the store failed to complete the operation (the server log has the details)',
  internal: 'an internal error occurred (the server log has the details)',
};

export function publicMessage(e: ChunkstreamError): string {
  const cut = e.message.replace(INTERNAL_KEY, 'a stored object').replace(SERVER_PATH, 'a path');
  if (cut === e.message) return e.message;
  const generic = GENERIC[e.code];
  return generic ?? cut;
}
