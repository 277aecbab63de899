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
  code: string;
  message: string;
  index?: number;
  key?: string;
}

export interface VerifyReport {
  files: number;
  chunks: number;
  bytes: number;
  problems: VerifyProblem[];
}
