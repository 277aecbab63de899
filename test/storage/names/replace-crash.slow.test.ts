import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createFsStore, openStore } from '../../../src/index.js';
import { CHUNK, collect, tempDir } from '../../helpers/core.js';
import { content } from './replace-data.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'replace-child.ts');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Runs the child until it stops at its n-th store operation (then SIGKILL) or finishes. */
function runChild(dir: string, seed: number, stopAt: number): Promise<'killed' | 'done'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, 'the/name', String(seed), String(stopAt)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let outcome: 'killed' | 'done' | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('stopped at')) {
        outcome = 'killed';
        child.kill('SIGKILL');
      }
      if (out.includes('done')) outcome = 'done';
    });
    child.on('error', reject);
    child.on('close', () => (outcome ? resolve(outcome) : reject(new Error(`child ended without a word: ${out}`))));
  });
}

describe('kill -9 during a replace', () => {
  it('leaves the name on the old file or the new one, whole, and gc keeps it whole', async () => {
    const dir = await tempDir('replace-crash');
    const first = openStore({ dir, chunkSize: CHUNK });
    await lastValueFrom(first.uploadTo('the/name', content(1)));
    await first.close();
    let current = 1;
    const outcomes: string[] = [];
    // Stop at each store operation of one replace in turn, until a replace runs to its end.
    for (let stopAt = 1; stopAt < 40; stopAt++) {
      const seed = 100 + stopAt;
      const outcome = await runChild(dir, seed, stopAt);
      const fs = createFsStore(dir);
      const store = openStore({ chunkStore: fs, chunkSize: CHUNK });
      const file = await store.lookup('the/name'); // never on nothing
      expect([sha(content(current)), sha(content(seed))]).toContain(file.sha256);
      const expected = file.sha256 === sha(content(seed)) ? content(seed) : content(current);
      await store.gc({ graceMs: 0 }); // nothing the name's file needs goes
      expect((await collect(store.download(file.id))).equals(Buffer.from(expected))).toBe(true);
      expect((await store.verify(file.id)).problems).toEqual([]);
      outcomes.push(`${stopAt}:${outcome}:${file.sha256 === sha(content(seed)) ? 'new' : 'old'}`);
      if (file.sha256 === sha(content(seed))) current = seed;
      await store.close();
      await fs.close?.();
      if (outcome === 'done') break;
    }
    expect(outcomes.at(-1)).toMatch(/:done:new$/);
    // Killed before the name moved, and after it (removing the old manifest, the commit marker).
    expect(outcomes.some((o) => o.endsWith(':killed:old'))).toBe(true);
    expect(outcomes.some((o) => o.endsWith(':killed:new'))).toBe(true);
  }, 120_000);
});
