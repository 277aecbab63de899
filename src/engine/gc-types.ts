// The reports gc and verify return: a module of their own, so that the observer, the notes and
// the gateway can name them without importing gc itself.
import type { CallOptions } from '../storage/types.js';

export interface GcOptions extends CallOptions {
  /** Only chunks older than this are candidates (default: the store's gcGraceMs). */
  graceMs?: number;
  /** Report what would be removed without removing it. */
  dryRun?: boolean;
}

export interface GcReport {
  removedChunks: number;
  removedBytes: number;
  /** Chunks kept, for either reason below. */
  keptChunks: number;
  /** Kept because a file, an unexpired upload or an upload running here names them. */
  keptReferencedChunks: number;
  /** Kept although nothing names them: newer than the grace period (an upload elsewhere may not have recorded them yet). */
  keptRecentChunks: number;
  keptRecentBytes: number;
  /** The grace period this run used. */
  graceMs: number;
  /** Expired upload sessions and committed-upload markers removed. */
  expiredUploads: number;
  /** Unexpired upload sessions: kept, with every chunk they name. */
  keptUploads: number;
  /** Temp files of interrupted writes (crash leftovers) removed: those older than tempMinAgeMs (the grace period, at least 1 h). */
  removedTemp: number;
  tempMinAgeMs: number;
  dryRun: boolean;
  /** What was kept and why, in words. */
  notes: string[];
}

export interface VerifyProblem {
  id: string;
  /** The file's name, when its manifest could be read. */
  name?: string;
  code: string;
  message: string;
  /** The chunk at fault: its index and its bytes in the file (inclusive). */
  index?: number;
  start?: number;
  end?: number;
  key?: string;
}

export interface VerifyReport {
  files: number;
  chunks: number;
  bytes: number;
  problems: VerifyProblem[];
}

/** A chunk a file names that a read found bad or absent, in the file's terms. */
export interface ChunkFault {
  reason: 'corrupt' | 'missing';
  fileId: string;
  name: string;
  index: number;
  /** The chunk's bytes in the file, inclusive. */
  start: number;
  end: number;
  /** The chunk's SHA-256 (for the operator's log: never sent to clients). */
  key: string;
  /** Where the corrupt bytes went (`quarantine/…`), for the log. */
  movedTo?: string;
}

/** A damaged chunk of one file, as stat and repair report it. */
export interface DamagedChunk {
  index: number;
  start: number;
  end: number;
  reason: 'corrupt' | 'missing';
}

/** What `repair` found: each file that named a damaged chunk, whole again or still damaged. */
export interface RepairReport {
  files: { id: string; name: string; status: 'whole' | 'damaged'; damaged: DamagedChunk[] }[];
  whole: number;
  damaged: number;
  /** Damaged chunks whose notes were removed: stored again by an upload, or named by no file. */
  released: number;
}
