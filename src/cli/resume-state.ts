import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * What `put` remembers so that running the same command again resumes instead of starting
 * over: per (store, absolute path, size, mtime, name), the upload id. One small JSON file per
 * upload under the user's state directory, written atomically; a changed file (size or mtime)
 * is a new key, so it is never resumed onto the old bytes. Kept after the commit too: a re-run
 * of a multi-file put reports the files already stored instead of sending them again.
 */
const entrySchema = z
  .object({
    version: z.literal(1),
    where: z.string(),
    path: z.string(),
    size: z.number(),
    mtimeMs: z.number(),
    name: z.string(),
    uploadId: z.string(),
    created: z.string(),
    fileId: z.string().optional(),
  })
  .strict();

export type StateEntry = z.infer<typeof entrySchema>;
export type StateKey = Pick<StateEntry, 'where' | 'path' | 'size' | 'mtimeMs' | 'name'>;

/** Entries older than this are dropped (stores keep unfinished uploads 24 h by default). */
const MAX_AGE_MS = 30 * 86_400_000;

/** `CHUNKSTREAM_STATE_DIR`, else `$XDG_STATE_HOME/chunkstream`, else `~/.local/state/chunkstream`. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CHUNKSTREAM_STATE_DIR) return path.resolve(env.CHUNKSTREAM_STATE_DIR);
  const base = env.XDG_STATE_HOME ? env.XDG_STATE_HOME : path.join(homedir(), '.local', 'state');
  return path.join(base, 'chunkstream');
}

export class ResumeState {
  private readonly dir = path.join(stateDir(), 'uploads');

  private file(key: StateKey): string {
    const digest = createHash('sha256')
      .update(JSON.stringify([key.where, key.path, key.size, key.mtimeMs, key.name]))
      .digest('hex');
    return path.join(this.dir, `${digest.slice(0, 32)}.json`);
  }

  async get(key: StateKey): Promise<StateEntry | undefined> {
    const raw = await readFile(this.file(key), 'utf8').catch(() => undefined);
    if (raw === undefined) return undefined;
    const r = entrySchema.safeParse(safeJson(raw));
    // A hash collision or a hand-edited file must not resume someone else's upload.
    if (!r.success || JSON.stringify(pick(r.data)) !== JSON.stringify(pick(key))) return undefined;
    return r.data;
  }

  /** Best effort: a state directory we cannot write costs resumability, never the upload. */
  async set(entry: StateEntry): Promise<void> {
    const file = this.file(entry);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, JSON.stringify(entry), { mode: 0o600 });
      await rename(tmp, file);
    } catch {
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  async delete(key: StateKey): Promise<void> {
    await rm(this.file(key), { force: true }).catch(() => undefined);
  }

  /** Forgets every entry of this upload (after `uploads abort`). */
  async forgetUpload(uploadId: string): Promise<void> {
    for (const { file, entry } of await this.entries())
      if (entry?.uploadId === uploadId) await rm(file, { force: true }).catch(() => undefined);
  }

  /** Drops entries too old to matter (and unreadable ones). */
  async prune(now = Date.now()): Promise<void> {
    for (const { file, entry, mtimeMs } of await this.entries()) {
      if (!entry || now - mtimeMs > MAX_AGE_MS) await rm(file, { force: true }).catch(() => undefined);
    }
  }

  private async entries(): Promise<{ file: string; entry?: StateEntry; mtimeMs: number }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      const file = path.join(this.dir, n);
      const [raw, st] = await Promise.all([readFile(file, 'utf8').catch(() => ''), stat(file).catch(() => undefined)]);
      if (!st) continue;
      const r = entrySchema.safeParse(safeJson(raw));
      out.push({ file, entry: r.success ? r.data : undefined, mtimeMs: st.mtimeMs });
    }
    return out;
  }
}

const pick = (k: StateKey): StateKey => ({ where: k.where, path: k.path, size: k.size, mtimeMs: k.mtimeMs, name: k.name });

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
