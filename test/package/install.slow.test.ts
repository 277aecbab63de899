import { execFile, spawn } from 'node:child_process';
import { access, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/core.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

/**
 * The package as a user gets it: `npm pack` (of the built dist/), then `npm install
 * --engine-strict` of the tarball alone into an empty project, as `npm install chunkstream` would.
 * The registry (or npm's cache) supplies its dependencies. The optional peers are not installed.
 */
describe('npm install chunkstream (no optional peers)', () => {
  let consumer = '';
  let files: string[] = [];
  const installed = () => path.join(consumer, 'node_modules', 'chunkstream');

  beforeAll(async () => {
    consumer = await tempDir('consumer');
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
    await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', consumer], { cwd: root });
    const tarball = path.join(consumer, `chunkstream-${pkg.version}.tgz`);
    files = (await run('tar', ['-tzf', tarball])).stdout.split('\n').map((f) => f.replace(/^package\//, ''));
    await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const flags = ['--engine-strict', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
    await run('npm', ['install', ...flags, tarball], { cwd: consumer });
  }, 180_000);

  const node = (code: string) => run(process.execPath, ['--input-type=module', '-e', code], { cwd: consumer });

  it('installs neither the AWS SDK nor pino nor prom-client', async () => {
    const top = await readdir(path.join(consumer, 'node_modules'));
    expect(top).toContain('chunkstream');
    for (const heavy of ['@aws-sdk', '@smithy', 'pino', 'prom-client']) expect(top).not.toContain(heavy);
  });

  it('the store and the SDK load; the server entry names what to install', async () => {
    const { stdout } = await node(`
      const core = await import('chunkstream');
      const client = await import('chunkstream/client');
      console.log(typeof core.openStore, typeof client.connect);
      for (const entry of ['chunkstream/server', 'chunkstream/s3']) {
        try { await import(entry); console.log(entry, 'loaded'); } catch (e) { console.log(entry, e.code, e.message); }
      }`);
    expect(stdout).toContain('function function');
    expect(stdout).toContain(
      'chunkstream/server missing_dependency chunkstream/server needs pino and prom-client, which are not installed: npm install pino prom-client',
    );
    expect(stdout).toContain(
      'chunkstream/s3 missing_dependency chunkstream/s3 needs @aws-sdk/client-s3, which is not installed: npm install @aws-sdk/client-s3',
    );
  });

  it('the CLI serves without the peers, and --store s3:// names the AWS SDK', async () => {
    const cli = path.join(installed(), 'dist/cli/main.js');
    const dir = await tempDir('data');
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--dir', dir], {
      cwd: consumer,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ ok: true });
    } finally {
      child.kill();
    }
    const s3 = await run(process.execPath, [cli, 'ls', '--store', 's3://bucket/x'], { cwd: consumer }).catch((e: unknown) => e);
    expect(s3).toMatchObject({ code: 1 });
    expect((s3 as { stderr: string }).stderr).toContain(
      'chunkstream: missing_dependency: --store s3://bucket/x needs @aws-sdk/client-s3, which is not installed: npm install @aws-sdk/client-s3',
    );
  });

  it('ships LICENSE, docs/ and everything README links to', async () => {
    expect(files).toContain('LICENSE');
    expect(await readFile(path.join(installed(), 'LICENSE'), 'utf8')).toContain('the chunkstream authors');
    const readme = await readFile(path.join(installed(), 'README.md'), 'utf8');
    const linked = new Set([...readme.matchAll(/\b(docs\/[\w./-]+\.(?:md|png|svg))/g)].map((m) => m[1]!));
    expect(linked).toContain('docs/web.png');
    for (const f of linked) await access(path.join(installed(), f));
  });
});
