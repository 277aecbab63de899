import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/core.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');

describe('README', () => {
  it('the embedded API example runs as written', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Embedded API'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    // Inside the package, `import 'chunkstream'` resolves to this package's dist/ (self-reference).
    const dir = path.join(root, 'test', '.readme-run');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `example-${process.pid}.ts`);
    await writeFile(file, code!);
    const cwd = await tempDir();
    const pkg = '{"name":"demo","version":"1.0.0"}\n';
    await writeFile(path.join(cwd, 'package.json'), pkg);
    try {
      const { stdout } = await run(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), file], { cwd });
      expect(stdout).toMatch(new RegExp(`stored [0-9a-z]{29} ${pkg.length} bytes`));
      expect(stdout).toContain(`read back ${pkg.length} bytes; starts with ${JSON.stringify(pkg.slice(0, 20))}`);
      expect(stdout).toContain('removedChunks: 1');
    } finally {
      await rm(file, { force: true });
    }
  });
});
