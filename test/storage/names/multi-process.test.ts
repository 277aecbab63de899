import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/index.js';
import { collect, tempDir } from '../../helpers/core.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'names-child.ts');
const COUNT = 15;

/** Starts a writer process; resolves `ready` once its store is open, `done` with its report. */
function writer(dir: string, who: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, who, String(COUNT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const done = new Promise<{ sharedCreated: number }>((resolve, reject) => {
    lines.on('line', (l) => (l === 'ready' ? ready() : resolve(JSON.parse(l) as { sharedCreated: number })));
    child.on('close', (code) => reject(new Error(`writer ${who} exited with ${code}`)));
  });
  return { ready: isReady, done };
}

describe('several processes on one fs store', () => {
  it('store to names at once: every name lands, creates are won once, a replaced name holds one whole file', async () => {
    const dir = await tempDir('names-mp');
    const a = writer(dir, 'a');
    const b = writer(dir, 'b');
    await Promise.all([a.ready, b.ready]);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.sharedCreated + rb.sharedCreated).toBe(COUNT); // each shared/i created by exactly one
    const store = openStore({ dir });
    const names: string[] = [];
    for await (const item of store.listAll()) names.push(item.file!.name);
    expect(names.filter((n) => n.startsWith('a/'))).toHaveLength(COUNT);
    expect(names.filter((n) => n.startsWith('b/'))).toHaveLength(COUNT);
    expect(names.filter((n) => n.startsWith('shared/'))).toHaveLength(COUNT);
    const replaced = await store.lookup('replaced');
    expect((await collect(store.download(replaced.id))).toString()).toMatch(/^[ab] \d+$/);
    // Every displaced file was retired, not left behind: the store holds exactly the named files.
    expect(await store.list()).toHaveLength(names.length);
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
  }, 60_000);
});
