import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** scripts/build-web.mjs writes the sizes it prints to dist/web/sizes.json; README quotes them. */
describe("README's browser bundle sizes", () => {
  it('are what the build measured (rounded as README writes them)', async () => {
    const sizes = JSON.parse(await readFile(path.join(root, 'dist/web/sizes.json'), 'utf8')) as Record<
      string,
      { bytes: number; gzip: number }
    >;
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const client = /\*\*(\d+) kB minified, (\d+) kB gzipped\*\*/.exec(readme);
    const worker = /`hash-worker\.js` \((\d+\.\d) kB\)/.exec(readme);
    expect(client, 'README states the size of client.js').not.toBeNull();
    expect(worker, 'README states the size of hash-worker.js').not.toBeNull();
    const built = {
      client: `${Math.round(sizes['client.js']!.bytes / 1000)} kB / ${Math.round(sizes['client.js']!.gzip / 1000)} kB gzipped`,
      worker: `${(sizes['hash-worker.js']!.bytes / 1000).toFixed(1)} kB`,
    };
    expect(
      { client: `${client![1]} kB / ${client![2]} kB gzipped`, worker: `${worker![1]} kB` },
      'update README to the sizes `npm run build` printed',
    ).toEqual(built);
  });
});
