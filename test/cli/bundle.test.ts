// The CLI is one esbuild bundle (scripts/build-cli.mjs; `npm test` builds it first). A native
// addon cannot be bundled: bufferutil looks for its prebuilt binary beside its own file, so
// inlined into dist/cli/ it found none and `chunkstream serve` unmasked every uploaded WebSocket
// frame in a JS loop (measured: 512 MiB uploads in 3.4–4.4 s, 1.8–2.8 s with the addon).
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

  it('finds the native addon from where the bundle requires it', () => {
    // The bundle's require is createRequire(import.meta.url) of its own files (the banner).
    const util = createRequire(path.join(cliDir, 'main.js'))('bufferutil') as { mask: unknown; unmask: unknown };
    expect(String(util.unmask)).toContain('[native code]');
    expect(String(util.mask)).toContain('[native code]');
  });
});
