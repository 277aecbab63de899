// Upload ids remembered across page reloads, per file (name, size, lastModified): picking the
// same file again resumes where the server's durable offset stands.

const PREFIX = 'chunkstream.upload:';
/** Past the server's default upload TTL (24 h), with a margin; the server has the final word. */
const MAX_AGE_MS = 3 * 24 * 3600_000;

export interface Remembered {
  uploadId: string;
  saved: number;
}

export function fileKey(file: File): string {
  return PREFIX + JSON.stringify([file.name, file.size, file.lastModified]);
}

export function recall(file: File): string | undefined {
  try {
    const r = JSON.parse(localStorage.getItem(fileKey(file)) ?? 'null') as Remembered | null;
    return typeof r?.uploadId === 'string' ? r.uploadId : undefined;
  } catch {
    return undefined;
  }
}

export function remember(file: File, uploadId: string): void {
  try {
    localStorage.setItem(fileKey(file), JSON.stringify({ uploadId, saved: Date.now() } satisfies Remembered));
  } catch {
    // Storage full or disabled: the upload still works, it just will not survive a reload.
  }
}

export function forget(file: File): void {
  localStorage.removeItem(fileKey(file));
}

/** Drops entries too old to resume (called once at start). */
export function pruneRemembered(now = Date.now()): void {
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const key = localStorage.key(i);
    if (!key?.startsWith(PREFIX)) continue;
    try {
      const r = JSON.parse(localStorage.getItem(key) ?? 'null') as Remembered | null;
      if (!r || !(now - r.saved < MAX_AGE_MS)) localStorage.removeItem(key);
    } catch {
      localStorage.removeItem(key);
    }
  }
}
