import { fmtBytes } from '../internal/format.js';
import type { GcReport } from './gc-types.js';

/** `3600000` → `1 h`: durations as a person reads them. */
export function fmtDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  return `${ms} ms`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * What gc kept and why, in sentences. The usual surprise is `rm ID && gc` freeing nothing: the
 * removed file's chunks are younger than the grace period, which protects uploads in other
 * processes that stored a chunk but have not recorded it in their session yet.
 */
export function gcNotes(r: GcReport): string[] {
  const notes: string[] = [];
  const would = r.dryRun ? 'would be ' : '';
  if (r.keptRecentChunks > 0) {
    notes.push(
      `${plural(r.keptRecentChunks, 'chunk')} (${fmtBytes(r.keptRecentBytes)}) that no file or upload names ${r.keptRecentChunks === 1 ? 'was' : 'were'} kept: ` +
        `${r.keptRecentChunks === 1 ? 'it is' : 'they are'} newer than the grace period (${fmtDuration(r.graceMs)}), which protects uploads in other processes ` +
        `that stored a chunk but have not recorded it yet. A gc after the grace period removes them; --grace-ms 0 does it now, ` +
        `if no upload is running anywhere.`,
    );
  }
  if (r.keptReferencedChunks > 0) {
    notes.push(
      `${plural(r.keptReferencedChunks, 'chunk')} ${r.keptReferencedChunks === 1 ? 'is' : 'are'} in use by files or unfinished uploads.`,
    );
  }
  if (r.keptUploads > 0) {
    notes.push(
      `${plural(r.keptUploads, 'unfinished upload')} ${r.keptUploads === 1 ? 'has' : 'have'} not expired and keep${r.keptUploads === 1 ? 's' : ''} ` +
        `${r.keptUploads === 1 ? 'its' : 'their'} chunks (chunkstream uploads lists them; uploads abort ID drops one).`,
    );
  }
  if (r.expiredUploads > 0) notes.push(`${plural(r.expiredUploads, 'expired upload record')} ${would}removed.`);
  notes.push(
    `Temp files of interrupted writes are removed once older than ${fmtDuration(r.tempMinAgeMs)} (${r.removedTemp} ${would}removed); younger ones may belong to a write in flight.`,
  );
  if (r.dryRun) notes.push('Dry run: nothing was deleted.');
  return notes;
}
