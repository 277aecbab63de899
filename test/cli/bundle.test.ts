// The CLI is one esbuild bundle (scripts/build-cli.mjs; `npm test` builds it first). A native
// addon cannot be bundled: bufferutil looks for its prebuilt binary beside its own file, so
// inlined into dist/cli/ it found none and `chunkstream serve` unmasked every uploaded WebSocket
// frame in a JS loop (512 MiB SDK uploads: median 3.6 s, 1.9 s with the addon; bench/ws-upload.ts).
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const cliDir = path.resolve(import.meta.dirname, '../../dist/cli');

async function bundle(): Promise<string[]> {
  const files = (await readdir(cliDir)).filter((f) => f.endsWith('.js'));
  return Promise.all(files.map((f) => readFile(path.join(cliDir, f), 'utf8')));
}

describe('the CLI bundle', () => {
  it('leaves bufferutil outside, and ws requires it at run time', async () => {
    const code = await bundle();
    expect(code.some((c) => c.includes('node_modules/bufferutil/'))).toBe(false);
    expect(code.some((c) => c.includes('__require("bufferutil")'))).toBe(true);
  });

  it('gets, from where the bundle requires it, the bufferutil this install has', () => {
    // The bundle's require is createRequire(import.meta.url) of its own files (the banner). An
    // optional dependency may be missing (no prebuilt binary and no compiler): then both miss it.
    const load = (from: string): unknown => {
      try {
        return createRequire(from)('bufferutil');
      } catch {
        return 'missing';
      }
    };
    const installed = load(import.meta.filename);
    expect(load(path.join(cliDir, 'main.js'))).toBe(installed);
    if (installed !== 'missing') expect(String((installed as { unmask: unknown }).unmask)).toContain('[native code]');
  });
});
