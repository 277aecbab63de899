import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
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

  it("the Server section's shell example runs as written (curl and the built CLI, on a free port)", async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Server'), readme.indexOf('## CLI'));
    const script = /```sh\n(chunkstream serve --port 8080[\s\S]*?)```/.exec(section)?.[1];
    expect(script).toBeDefined();
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const cwd = await tempDir();
    const bin = path.join(cwd, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'chunkstream'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'dist/cli/main.js')}" "$@"\n`);
    await chmod(path.join(bin, 'chunkstream'), 0o755);
    await copyFile(path.join(root, 'README.md'), path.join(cwd, 'README.md'));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHUNKSTREAM_')));
    // The trap stops the example's background server even when a line of it fails.
    const guarded = `trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${script!.replaceAll('8080', String(port))}`;
    const { stdout } = await run('bash', ['-e', '-o', 'pipefail', '-c', guarded], {
      cwd,
      env: { ...env, PATH: `${bin}:${process.env.PATH}` },
    });
    const original = await readFile(path.join(cwd, 'README.md'));
    expect((await readFile(path.join(cwd, 'copy.md'))).equals(original)).toBe(true); // through the signed link
    expect((await readFile(path.join(cwd, 'notes.md'))).equals(original)).toBe(true); // curl -OJ named it
    expect(stdout).toContain('Content-Type: text/markdown'); // a part header of the multipart answer
    expect(stdout).toContain('"files":[');
  });
});
