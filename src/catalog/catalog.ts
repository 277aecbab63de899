import { randomBytes } from 'node:crypto';
import { CorruptManifestError, NotFoundError, isChunkstreamError } from '../errors.js';
import type { CallOptions, ChunkStore } from '../storage/types.js';
import {
  committedUploadSchema,
  manifestSchema,
  sessionSchema,
  type CommittedUpload,
  type Manifest,
  type Session,
  type UploadRecord,
} from './schema.js';
import { ID, checkId, describeIssue } from './model.js';

const FILES = 'files/';
const UPLOADS = 'uploads/';
/** Committed-upload markers: a prefix of their own, so `uploads/` lists only unfinished uploads. */
const COMMITTED = 'committed/';
const CHUNKS = 'chunks/';
/** Files a store to their name displaced: their manifest and when, until gc's grace has passed. */
const RETIRED = 'retired/';

/** Chunk keys fan out by prefix so no directory (or S3 partition) grows too large. */
export function chunkKey(sha256: string): string {
  return `${CHUNKS}${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

export function isChunkObjectKey(key: string): string | undefined {
  const m = /^chunks\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(key);
  return m?.[1];
}

/** Time-ordered random ids: sortable by creation, 29 characters of [0-9a-z]. */
export function newId(): string {
  return Date.now().toString(36).padStart(9, '0') + randomBytes(10).toString('hex');
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Manifests and upload sessions, stored as JSON objects beside the chunks. */
export class Catalog {
  constructor(private readonly store: ChunkStore) {}

  async readManifest(id: string, options: CallOptions = {}): Promise<Manifest> {
    checkId(id);
    let raw: Uint8Array;
    try {
      raw = await this.store.get(`${FILES}${id}.json`, options);
    } catch (err) {
      if (isChunkstreamError(err) && err.code === 'not_found') throw new NotFoundError(`file ${id}`);
      throw err;
    }
    return parseManifest(id, raw);
  }

  /** Atomic and exclusive: the manifest appears whole, and never replaces another. */
  async commitManifest(m: Manifest, options: CallOptions = {}): Promise<boolean> {
    const body = encoder.encode(JSON.stringify(m));
    const { created } = await this.store.put(`${FILES}${m.id}.json`, body, { ...options, ifNotExists: true });
    return created;
  }

  /** The manifest, or undefined if there is none (corrupt ones still throw). */
  async findManifest(id: string, options: CallOptions = {}): Promise<Manifest | undefined> {
    try {
      return await this.readManifest(id, options);
    } catch (err) {
      if (isChunkstreamError(err) && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async removeManifest(id: string, options: CallOptions = {}): Promise<void> {
    await this.store.delete(`${FILES}${checkId(id)}.json`, options);
  }

  /**
   * Takes a file out of the store but keeps its chunks for gc's grace: its manifest goes to
   * `retired/` with the time (gc marks from it until the grace has passed), then the manifest
   * goes. A crash between the two leaves the file reachable by id, never a file without chunks.
   */
  async retireManifest(id: string, retired: Date, options: CallOptions = {}): Promise<void> {
    const m = await this.findManifest(id, options).catch(() => undefined);
    if (m) await this.putJson(RETIRED, id, { version: 1, retired: retired.toISOString(), manifest: m }, options);
    await this.removeManifest(id, options);
  }

  /** Retired files (unreadable records are skipped: a corrupt one protects nothing it cannot name). */
  async *retired(options: CallOptions = {}): AsyncGenerator<{ retired: string; manifest: Manifest }> {
    for await (const id of this.idsUnder(RETIRED, options)) {
      const raw = await this.store.get(`${RETIRED}${id}.json`, options).catch(() => undefined);
      const r = raw ? (parseJson(raw) as { retired?: unknown; manifest?: unknown } | undefined) : undefined;
      if (!r || typeof r.retired !== 'string') continue;
      const m = manifestSchema.safeParse(r.manifest);
      if (m.success) yield { retired: r.retired, manifest: m.data };
    }
  }

  dropRetired(id: string, options: CallOptions = {}): Promise<void> {
    return this.store.delete(`${RETIRED}${checkId(id)}.json`, options);
  }

  /** Every file id with a manifest object (valid or not). */
  fileIds(options: CallOptions = {}): AsyncGenerator<string> {
    return this.idsUnder(FILES, options);
  }

  async readRaw(id: string, options: CallOptions = {}): Promise<Uint8Array> {
    return this.store.get(`${FILES}${checkId(id)}.json`, options);
  }

  async loadSession(uploadId: string, options: CallOptions = {}): Promise<Session> {
    const raw = await this.getUpload(UPLOADS, uploadId, options);
    const r = sessionSchema.safeParse(parseJson(raw));
    if (!r.success) throw new CorruptManifestError(uploadId, `upload session: ${describeIssue(r.error)}`);
    return r.data;
  }

  async loadCommitted(uploadId: string, options: CallOptions = {}): Promise<CommittedUpload> {
    const raw = await this.getUpload(COMMITTED, uploadId, options);
    const r = committedUploadSchema.safeParse(parseJson(raw));
    if (!r.success) throw new CorruptManifestError(uploadId, `committed upload: ${describeIssue(r.error)}`);
    return r.data;
  }

  /** The session, else the committed marker (the session goes only after the marker exists). */
  async loadUpload(uploadId: string, options: CallOptions = {}): Promise<UploadRecord> {
    try {
      return await this.loadSession(uploadId, options);
    } catch (err) {
      if (isChunkstreamError(err) && err.code === 'not_found') return this.loadCommitted(uploadId, options);
      throw err;
    }
  }

  saveCommitted(m: CommittedUpload, options: CallOptions = {}): Promise<void> {
    return this.putJson(COMMITTED, m.uploadId, m, options);
  }

  deleteCommitted(uploadId: string, options: CallOptions = {}): Promise<void> {
    return this.store.delete(`${COMMITTED}${checkId(uploadId, 'uploadId')}.json`, options);
  }

  committedIds(options: CallOptions = {}): AsyncGenerator<string> {
    return this.idsUnder(COMMITTED, options);
  }

  private async getUpload(prefix: string, uploadId: string, options: CallOptions): Promise<Uint8Array> {
    checkId(uploadId, 'uploadId');
    try {
      return await this.store.get(`${prefix}${uploadId}.json`, options);
    } catch (err) {
      if (isChunkstreamError(err) && err.code === 'not_found') throw new NotFoundError(`upload ${uploadId}`);
      throw err;
    }
  }

  saveSession(s: Session, options: CallOptions = {}): Promise<void> {
    return this.putJson(UPLOADS, s.uploadId, s, options);
  }

  deleteSession(uploadId: string, options: CallOptions = {}): Promise<void> {
    return this.store.delete(`${UPLOADS}${checkId(uploadId, 'uploadId')}.json`, options);
  }

  sessionIds(options: CallOptions = {}): AsyncGenerator<string> {
    return this.idsUnder(UPLOADS, options);
  }

  /** Unfinished uploads' ids, with when their session was last saved (their last progress). */
  async *sessionEntries(options: CallOptions = {}): AsyncGenerator<{ id: string; modified: Date }> {
    for await (const o of this.store.list(UPLOADS, options)) {
      const id = o.key.slice(UPLOADS.length, -'.json'.length);
      if (o.key.endsWith('.json') && ID.test(id)) yield { id, modified: o.modified };
    }
  }

  private async putJson(prefix: string, id: string, value: unknown, options: CallOptions): Promise<void> {
    await this.store.put(`${prefix}${id}.json`, encoder.encode(JSON.stringify(value)), options);
  }

  /** Ids of the `<prefix><id>.json` objects; anything else under the prefix is ignored. */
  private async *idsUnder(prefix: string, options: CallOptions): AsyncGenerator<string> {
    for await (const o of this.store.list(prefix, options)) {
      const id = o.key.slice(prefix.length, -'.json'.length);
      if (o.key.endsWith('.json') && ID.test(id)) yield id;
    }
  }
}

function parseJson(raw: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(raw));
  } catch {
    return undefined;
  }
}

export function parseManifest(id: string, raw: Uint8Array): Manifest {
  const json = parseJson(raw);
  if (json === undefined) throw new CorruptManifestError(id, 'not valid UTF-8 JSON');
  const r = manifestSchema.safeParse(json);
  if (!r.success) throw new CorruptManifestError(id, describeIssue(r.error));
  if (r.data.id !== id) throw new CorruptManifestError(id, `id field says ${r.data.id}`);
  return r.data;
}
