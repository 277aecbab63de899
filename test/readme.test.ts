import { execFile, spawn } from 'node:child_process';
import { chmod, cp, mkdir, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/core.js';
import { S3RVER_ENV, startS3rver } from './helpers/s3rver.js';
import { startServer } from '../src/gateway/server.js';

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

  it('the S3 example runs as written from a consumer package that depends on chunkstream', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const code = /```js\n(\/\/ s3-demo\.mjs[\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    // The package as npm would publish it (`files`, `exports`), installed where a user's project has it.
    const consumer = await tempDir();
    await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', consumer], { cwd: root });
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
    const installed = path.join(consumer, 'node_modules', 'chunkstream');
    await mkdir(installed, { recursive: true });
    await run('tar', ['-xzf', path.join(consumer, `chunkstream-${pkg.version}.tgz`), '-C', installed, '--strip-components=1']);
    // Its dependencies, as an install would place them beside it (the registry is not needed for that).
    // The AWS SDK is an optional peer dependency: the README says to install it beside chunkstream.
    for (const dep of [...Object.keys(pkg.dependencies), '@aws-sdk/client-s3']) {
      await mkdir(path.dirname(path.join(consumer, 'node_modules', dep)), { recursive: true });
      await symlink(path.join(root, 'node_modules', dep), path.join(consumer, 'node_modules', dep));
    }
    const deps = { chunkstream: `file:chunkstream-${pkg.version}.tgz`, rxjs: pkg.dependencies.rxjs };
    await writeFile(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: deps }),
    );
    await writeFile(path.join(consumer, 's3-demo.mjs'), code!);
    const s3 = await startS3rver();
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, ...S3RVER_ENV, S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket };
      delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
      const { stdout, stderr } = await run(process.execPath, ['s3-demo.mjs'], { cwd: consumer, env });
      expect(stdout).toBe('committed hello.txt 10\n');
      expect(stderr).toBe(''); // no NodeVersionSupportWarning either
    } finally {
      await s3.close();
    }
  });

  it('the CLI examples run as written (npx chunkstream = the built CLI)', async () => {
    const block = await shBlock('## CLI');
    const cwd = await tempDir();
    for (const f of ['README.md', 'package.json', 'src']) await cp(path.join(root, f), path.join(cwd, f), { recursive: true });
    const { stdout } = await run('bash', ['-e', '-c', block], { cwd, env: await npxEnv(cwd) });
    expect(stdout).toMatch(/^[0-9a-z]{29}\n/); // put README.md
    expect(stdout).toMatch(/^[0-9a-z]{29} {2}cli\/main\.ts$/m); // put -r src
    expect(stdout).toContain('"problems": []'); // verify
    expect(await readFile(path.join(cwd, 'copy.json'), 'utf8')).toBe(await readFile(path.join(root, 'package.json'), 'utf8'));
    expect(await readFile(path.join(cwd, 'restored', 'cli', 'main.ts'), 'utf8')).toBe(
      await readFile(path.join(root, 'src', 'cli', 'main.ts'), 'utf8'),
    );
  });

  it('the curl examples run as written (on a free port instead of 8080)', async () => {
    const port = await freePort();
    const block = (await shBlock('## Server')).replaceAll('8080', String(port));
    const cwd = await tempDir();
    await cp(path.join(root, 'README.md'), path.join(cwd, 'README.md'));
    const stdout = await runServerBlock(block, cwd, port);
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    expect(stdout).toContain('{"files":[{"id":');
    expect(stdout).toContain(readme.slice(0, 100));
    expect(stdout).toContain('{"uploads":[]}');
    expect(stdout).toMatch(/\{"error":\{"code":"not_found","message":"file [0-9a-z]+ not found"\}\}\nexit 22\n$/); // JSON answers end with a newline
    expect(stdout).toContain('Content-Type: text/markdown'); // a part header of the multipart answer
    const original = await readFile(path.join(cwd, 'README.md'));
    expect((await readFile(path.join(cwd, 'notes.md'))).equals(original)).toBe(true); // curl -OJ named it
    expect((await readFile(path.join(cwd, 'copy.md'))).equals(original)).toBe(true); // through the signed link
  });

  it('the tus curl example runs as written (on a free port instead of 8080)', async () => {
    const port = await freePort();
    const block = (await shBlock('### Resumable uploads: tus')).replaceAll('8080', String(port));
    const cwd = await tempDir();
    const stdout = await runServerBlock(block, cwd, port);
    expect(stdout).toMatch(/^Upload-Offset: 7\r?$/im);
    const id = /^Chunkstream-File-Id: ([0-9a-z]+)\r?$/im.exec(stdout)?.[1];
    expect(id).toBeDefined();
    expect(stdout).toContain(`{"files":[{"id":"${id}","name":"hello.txt","size":11,`);
    expect(stdout).toContain('"type":"text/plain"');
  });

  it('the tus-js-client example runs as written (against a server on a free port)', async () => {
    const port = await freePort();
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const code = /```js\n(\/\/ tus-demo\.mjs[\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const running = await startServer({ port, host: '127.0.0.1', dir: await tempDir(), tokens: ['s3cret'] });
    try {
      // Run from the checkout, whose node_modules has tus-js-client (a devDependency).
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code!.replaceAll('8080', String(port))], { cwd: root });
      const id = /^stored as file ([0-9a-z]+)$/m.exec(stdout)?.[1];
      expect(id).toBeDefined();
      expect(await running.store.stat(id!)).toMatchObject({ name: 'hello-tus.txt', size: 25, type: 'text/plain' });
    } finally {
      await running.close();
    }
  });
});

describe('README operations', () => {
  it('the Operations example runs as written (on a free port instead of 8080)', async () => {
    const port = await freePort();
    const block = (await shBlock('## Operations')).replaceAll('8080', String(port));
    const cwd = await tempDir();
    const stdout = await runServerBlock(block, cwd, port);
    expect(stdout).toContain('chunkstream_transfer_budget_reserved_bytes 0\n');
    expect(stdout).toContain('chunkstream_transfer_budget_limit_bytes 1073741824\n');
  });
});

/** The first ```sh block after a heading. */
async function shBlock(heading: string): Promise<string> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(`${heading}\n`)))?.[1];
  expect(block).toBeDefined();
  return block!;
}

/**
 * Runs a block that starts a server in the background, as a user's shell would, and checks it
 * stopped what it started: the block's processes are one process group (killed afterwards, so a
 * failing block leaves nothing behind), their output goes to a file (an orphaned server holding
 * a pipe would keep the test waiting), and the port must be free once bash has exited.
 */
async function runServerBlock(block: string, cwd: string, port: number): Promise<string> {
  const [out, err] = [path.join(cwd, '.block-stdout'), path.join(cwd, '.block-stderr')];
  const [outFd, errFd] = [await open(out, 'w'), await open(err, 'w')];
  const stdio = ['ignore', outFd.fd, errFd.fd] as const;
  const child = spawn('bash', ['-e', '-c', block], { cwd, env: await npxEnv(cwd), stdio: [...stdio], detached: true });
  try {
    const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
    expect(code, await readFile(err, 'utf8')).toBe(0);
    expect(await portIsFree(port), `port ${port} still taken after the block ended`).toBe(true);
    return await readFile(out, 'utf8');
  } finally {
    await outFd.close();
    await errFd.close();
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // ESRCH: nothing of the block is left, as it should be.
    }
  }
}

async function portIsFree(port: number): Promise<boolean> {
  const s = net.createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * PATH with an `npx` that runs this checkout's CLI for `npx chunkstream` (a temp dir has none to
 * find), in a child process as npm's does (so `npx … & pid=$!` is not the CLI's pid, as for a
 * user), and the `node_modules/.bin/chunkstream` that `npm ci` makes.
 */
async function npxEnv(cwd: string): Promise<NodeJS.ProcessEnv> {
  const bin = path.join(cwd, '.bin');
  await mkdir(bin);
  const main = path.join(root, 'dist', 'cli', 'main.js');
  await writeFile(path.join(bin, 'npx'), `#!/bin/sh\n[ "$1" = chunkstream ] || exit 127\nshift\n"${process.execPath}" "${main}" "$@"\n`);
  await chmod(path.join(bin, 'npx'), 0o755);
  await mkdir(path.join(cwd, 'node_modules', '.bin'), { recursive: true });
  await writeFile(path.join(cwd, 'node_modules', '.bin', 'chunkstream'), `#!/bin/sh\nexec "${process.execPath}" "${main}" "$@"\n`);
  await chmod(path.join(cwd, 'node_modules', '.bin', 'chunkstream'), 0o755);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHUNKSTREAM_')));
  return { ...env, PATH: `${bin}:${process.env.PATH}`, CHUNKSTREAM_STATE_DIR: path.join(cwd, '.state') };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
