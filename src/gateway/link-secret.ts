import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { InternalError, StorageError, isChunkstreamError } from '../errors.js';
import type { CallOptions, ChunkStore } from '../storage/types.js';

/** Where a generated link secret lives: an object of the store, beside `files/` and `chunks/`. */
export const LINK_SECRET_KEY = 'config/link-secret.json';

const secretFileSchema = z
  .object({ version: z.literal(1), secret: z.string().regex(/^[A-Za-z0-9_-]{43,}$/), created: z.iso.datetime() })
  .strict();

const encoder = new TextEncoder();

/**
 * The HMAC key of signed links. A configured one (`--link-secret`, a file) is used as given.
 * Otherwise it is read from the store object `config/link-secret.json`, created once with 32
 * random bytes: every gateway on the same directory or bucket (and the same one after a restart)
 * then signs and checks alike, with no extra configuration. The object is written with
 * `ifNotExists` and read back, so gateways racing to create it settle on the stored one (on a
 * backend without conditional puts two first starts in the same instant may still differ: pass
 * `--link-secret` there). Read lazily on first use and cached; a failed read is retried next time.
 */
export function linkSecretProvider(chunkStore: ChunkStore, configured?: string): () => Promise<Uint8Array> {
  if (configured !== undefined) {
    const key = encoder.encode(configured);
    return async () => key;
  }
  let cached: Promise<Uint8Array> | undefined;
  // Shared by concurrent callers, so no one request's signal may abort it.
  return () => {
    cached ??= loadOrCreate(chunkStore, {}).catch((err) => {
      cached = undefined;
      throw err;
    });
    return cached;
  };
}

async function loadOrCreate(store: ChunkStore, o: CallOptions): Promise<Uint8Array> {
  const found = await read(store, o);
  if (found) return found;
  const body = { version: 1, secret: randomBytes(32).toString('base64url'), created: new Date().toISOString() };
  await store.put(LINK_SECRET_KEY, encoder.encode(JSON.stringify(body)), { ...o, ifNotExists: true });
  const stored = await read(store, o);
  if (!stored) throw new StorageError('store', `${LINK_SECRET_KEY} vanished right after it was written`);
  return stored;
}

async function read(store: ChunkStore, o: CallOptions): Promise<Uint8Array | undefined> {
  let raw: Uint8Array;
  try {
    raw = await store.get(LINK_SECRET_KEY, o);
  } catch (err) {
    if (isChunkstreamError(err) && err.code === 'not_found') return undefined;
    throw err;
  }
  let parsed;
  try {
    parsed = secretFileSchema.safeParse(JSON.parse(new TextDecoder().decode(raw)));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    throw new InternalError(
      `${LINK_SECRET_KEY} in the store is corrupt; delete it to generate a new secret (links signed so far stop working) or pass --link-secret`,
    );
  }
  return Buffer.from(parsed.data.secret, 'base64url');
}
