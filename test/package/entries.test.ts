import path from 'node:path';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const PEERS = ['pino', 'prom-client', '@aws-sdk/client-s3'];

/** The packages an entry point imports statically (what must be installed for `import` to link), following only static imports. */
async function staticPackages(entry: string): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
    metafile: true,
    outdir: path.join(root, 'node_modules/.cache/entries-test'),
    logLevel: 'silent',
  });
  const inputs = result.metafile.inputs;
  const packages = new Set<string>();
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const im of inputs[file]?.imports ?? []) {
      if (im.kind === 'dynamic-import') continue;
      if (im.external) {
        if (!im.path.startsWith('node:'))
          packages.add(
            im.path
              .split('/')
              .slice(0, im.path.startsWith('@') ? 2 : 1)
              .join('/'),
          );
      } else walk(im.path);
    }
  };
  walk(path.relative(root, path.join(root, entry)));
  return [...packages].sort();
}

// What `npm install chunkstream` leaves out (optional peers) must not be a static import of an
// entry that promises to work without it (test/package/install.slow.test.ts installs and runs them).
describe('entry points and the optional peer dependencies', () => {
  it.each(['src/index.ts', 'src/client/index.ts', 'src/server.ts', 'src/s3.ts'])(
    '%s imports no optional peer statically',
    async (entry) => {
      const packages = await staticPackages(entry);
      for (const peer of PEERS) expect(packages, `${entry} imports ${peer}`).not.toContain(peer);
    },
  );

  it('chunkstream/client needs only rxjs and zod', async () => {
    expect(await staticPackages('src/client/index.ts')).toEqual(['rxjs', 'zod']);
  });
});
