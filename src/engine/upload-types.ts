import type { FileHandle } from 'node:fs/promises';
import type { FileInfo, Session } from '../catalog/schema.js';
import type { HeldBytes } from '../internal/gauge.js';
import type { StreamHash } from '../internal/hashing.js';
import type { TransferMeter } from './observer.js';
import type { Slab } from '../internal/slabs.js';
import type { ByteSource } from '../internal/source.js';
import type { PutOptions, PutResult } from '../storage/types.js';

/** The upload's public types, and what its steps (session, chunks, commit) share. */

export interface UploadOptions {
  /** File name (metadata only). Required unless resuming. */
  name?: string;
  /**
   * Store to the name (what `store.uploadTo` sets): the name follows S3's key rules (1–1024 bytes
   * of UTF-8), and at commit the file atomically replaces the name's file, which is removed (its
   * chunks go to gc after the grace). Without it, `name` is an upload's file name (path-safe
   * rules): the new file becomes the name's file and earlier ones stay reachable by id.
   */
  replace?: boolean;
  /** With `replace`: create only; the upload fails with `precondition_failed` (412) if the name holds a file. */
  ifNoneMatch?: '*';
  /** With `replace`: replace only the file with this ETag (its SHA-256, quoted or not; `*`: any file), else `precondition_failed`. */
  ifMatch?: string;
  /** Resume this unfinished upload: the source must start at the offset it reports. */
  uploadId?: string;
  signal?: AbortSignal;
  /** Also counts this transfer's held bytes (the store's gauge always does). */
  gauge?: HeldBytes;
  /**
   * Resuming: the source starts at this byte. Fails with `conflict`, before anything is read,
   * unless the upload's durable offset is exactly this (a tus PATCH's Upload-Offset).
   */
  offset?: number;
  /** Refuse to commit unless the file has exactly this many bytes (kept with the upload: a resume need not repeat it). */
  expectedSize?: number;
  /** Refuse to commit unless the file's SHA-256 (hex) is this. */
  expectedSha256?: string;
  /** Overrides the store's uploadConcurrency for this transfer. */
  concurrency?: number;
  /**
   * The source is one segment of the file (a tus PATCH): when it ends before the file's declared
   * size (`expectedSize`, now or from an earlier segment) — or the size is not known yet — the
   * upload is not committed but paused: everything received is made durable, a partial last chunk
   * included, and the Observable completes with `paused` at that exact offset. A segment whose
   * source fails (a dropped connection) pauses the same way, keeping what arrived.
   *
   * With `accept`, the segment is all or nothing (a tus PATCH with Upload-Checksum): its progress
   * is not saved while it runs, and `accept()` is called once its source has ended, before
   * anything of it is recorded. If it throws (or rejects), the upload fails with that error and its
   * session stays exactly as it was before the segment.
   */
  segment?: boolean | SegmentOptions;
  /** The file's media type (kept in its manifest); only when the upload is created. */
  type?: string;
  /** Opaque client metadata kept with the unfinished upload and returned by uploadStatus; only when it is created. */
  metadata?: string;
  /** Labels this transfer for the store's observers and adds up its bytes (default: the ambient one, see withMeter). */
  meter?: TransferMeter;
  /**
   * false (or a function answering false when the upload ends): nobody will resume this upload —
   * its id was never given out (an HTTP PUT), or its client gave it up (a cancelled web upload).
   * Ending without a commit then drops its session at once (its stored chunks are left for gc)
   * instead of keeping it resumable until it expires. Default true.
   */
  resumable?: boolean | (() => boolean);
}

export interface SegmentOptions {
  /** Throws to refuse the segment (e.g. its checksum does not match): nothing of it is appended. */
  accept?: () => void | Promise<void>;
}

export type UploadEvent =
  /** `alreadyCommitted`: a resume of an upload that had committed; `committed` follows at once. */
  | { type: 'started'; uploadId: string; offset: number; alreadyCommitted?: true }
  | { type: 'progress'; uploadId: string; bytes: number; chunks: number; held: number; peakHeld: number }
  /** A segment ended before the file did: `offset` bytes are durable; resume with the same uploadId before `expires`. */
  | { type: 'paused'; uploadId: string; offset: number; expires: string; interrupted?: true }
  /** `created` and `replaced` only for a store to a name (`replace`): whether the name was new, and the file it held. */
  | { type: 'committed'; file: FileInfo; created?: boolean; replaced?: FileInfo };

/** A source, or a function of the offset to start from (for resumed uploads). A FileHandle is read from that offset. */
export type UploadSource = ByteSource | FileHandle | ((offset: number) => ByteSource | FileHandle);

/** An upload in progress: its session (the durable state), staged chunk writes, and file hash. */
export interface OpenUpload {
  readonly session: Session;
  /** Bytes stored so far (whole chunks + tail): where the source starts. */
  readonly offset: number;
  readonly writer: ChunkWriter;
  readonly hash: StreamHash;
  /** The tail of an earlier segment, read back into a slab: the next chunk continues it. */
  first?: { slab: Slab; length: number };
  /** An all-or-nothing segment (`segment.accept`): progress is recorded only when it is accepted. */
  readonly allOrNothing: boolean;
  /** Chunk keys this upload holds live (gc spares them). */
  readonly keys: string[];
  /** A segment's source failed (its client went away): the upload pauses with what arrived. */
  interruptedSource?: boolean;
  /** Set by the upload: a save that fails in the background fails the upload. */
  onError?: (err: unknown) => void;
  /** The prefix grew: saves if due (at once, or within SAVE_EVERY_MS). */
  advanced(): void;
  /** Waits for the save in flight, if any (rejects if it failed). */
  idle(): Promise<void>;
  /** Flushes staged chunks and saves the session now. */
  save(): Promise<void>;
  /** Committed or paused: nothing to record on teardown. */
  settle(): void;
  /** Teardown: records the stored prefix (best effort, awaited by status/resume/close), releases the rest. */
  interrupted(): void;
}

/** An upload's chunk puts: deferred where the store can flush, and flushed before they are recorded. */
export interface ChunkWriter {
  put(key: string, data: Uint8Array, options: PutOptions): Promise<PutResult>;
  /** Makes every chunk put so far durable and visible. */
  flush(signal?: AbortSignal): Promise<void>;
}
