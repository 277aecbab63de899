import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileInfo } from '../../src/catalog/schema.js';
import type { S3Store } from '../../src/storage/s3.js';
import { S3RVER_ENV, startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { CHUNK } from '../helpers/core.js';
import { eventually } from '../helpers/eventually.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const PREFIX = 'scaleout';

interface Gateway {
  url: string;
  child: ChildProcess;
  stderr: string[];
}

/** Starts `chunkstream serve` and resolves once it prints where it listens (or rejects with its stderr). */
function startGateway(storeArgs: string[]): Promise<Gateway> {
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', ...storeArgs, '--host', '127.0.0.1', '--port', '0', '--chunk-size', String(CHUNK)],
    {
      env: { ...process.env, ...S3RVER_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /chunkstream listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve({ url: m[1]!.replace(/\/$/, ''), child, stderr });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before listening:\n${stderr.join('\n')}`)));
  });
}

async function stopGateway(g: Gateway | undefined): Promise<void> {
  if (!g || g.child.exitCode !== null) return;
  const exited = new Promise((resolve) => g.child.once('exit', resolve));
  g.child.kill('SIGTERM');
  const timer = setTimeout(() => g.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Runs a CLI command to completion; resolves its stdout, rejects with stderr on a non-zero exit. */
function cli(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...S3RVER_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0
        ? resolve(Buffer.concat(out).toString())
        : reject(new Error(`chunkstream ${args[0]} exited ${code}: ${Buffer.concat(err).toString()}`)),
    ),
  );
}

async function putFile(base: string, name: string, data: Uint8Array<ArrayBuffer>): Promise<FileInfo> {
  const res = await fetch(`${base}/v1/files?name=${encodeURIComponent(name)}`, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as FileInfo;
}

async function getBytes(base: string, id: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${base}/v1/files/${id}`, { headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

async function listIds(base: string): Promise<string[]> {
  const res = await fetch(`${base}/v1/files`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { files: FileInfo[] }).files.map((f) => f.id);
}

describe('two gateways over one bucket', () => {
  let server: S3rverHandle;
  let a: Gateway | undefined;
  let b: Gateway | undefined;
  let direct: S3Store;
  let storeArgs: string[];

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
    server = await startS3rver('scaleout-bucket');
    storeArgs = ['--store', `s3://${server.bucket}/${PREFIX}`, '--s3-endpoint', server.endpoint];
    direct = server.store({ prefix: PREFIX });
    [a, b] = await Promise.all([startGateway(storeArgs), startGateway(storeArgs)]);
  });
  afterAll(async () => {
    await Promise.all([stopGateway(a), stopGateway(b)]);
    await server?.close();
  });

  it('a file uploaded via A is listed, downloaded byte-exact (whole and ranged) and deleted via B', async () => {
    const data = randomBytes(3 * CHUNK + 999);
    const file = await putFile(a!.url, 'shared.bin', data);
    expect(file).toMatchObject({ name: 'shared.bin', size: data.byteLength });
    expect(await listIds(b!.url)).toContain(file.id);
    const whole = await getBytes(b!.url, file.id);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(data)).toBe(true);
    const ranged = await getBytes(b!.url, file.id, { range: `bytes=${CHUNK - 5}-${2 * CHUNK + 5}` });
    expect(ranged.status).toBe(206);
    expect(ranged.body.equals(data.subarray(CHUNK - 5, 2 * CHUNK + 6))).toBe(true);
    expect((await fetch(`${b!.url}/v1/files/${file.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await getBytes(a!.url, file.id)).status).toBe(404);
    expect(await listIds(a!.url)).not.toContain(file.id);
  });

  it('a signed link made on A downloads via B: the generated secret is an object in the bucket', async () => {
    const data = randomBytes(CHUNK + 7);
    const file = await putFile(a!.url, 'linked.bin', data);
    const made = await fetch(`${a!.url}/v1/files/${file.id}/links`, { method: 'POST', body: '{"expiresIn":60}' });
    expect(made.status).toBe(200);
    const { url } = (await made.json()) as { url: string };
    expect(await direct.has('config/link-secret.json')).toBe(true);
    const viaB = await fetch(url.replace(a!.url, b!.url), { headers: { range: 'bytes=0-9' } });
    expect(viaB.status).toBe(206);
    expect(Buffer.from(await viaB.arrayBuffer()).equals(data.subarray(0, 10))).toBe(true);
  });

  it('gc from another process (grace 0) during an upload on A breaks nothing; it sweeps only orphans', async () => {
    // An orphan for gc to find: uploaded via A, deleted via B.
    const orphan = await putFile(a!.url, 'orphan.bin', randomBytes(2 * CHUNK));
    expect((await fetch(`${b!.url}/v1/files/${orphan.id}`, { method: 'DELETE' })).status).toBe(204);

    const data = randomBytes(5 * CHUNK + 321);
    const req = http.request(`${a!.url}/v1/files?name=slow.bin`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.once('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      });
      req.once('error', reject);
    });
    // Two whole chunks and a bit: the gateway stores two and records them in its session (the lease).
    req.write(data.subarray(0, 2 * CHUNK + 10));
    const leased = await sessionWithChunks(direct, 2);
    const report = JSON.parse(await cli(['gc', ...storeArgs, '--grace-ms', '0'])) as { removedChunks: number };
    expect(report.removedChunks).toBeGreaterThanOrEqual(orphan.chunkCount);
    for (const key of leased) expect(await direct.has(`chunks/${key.slice(0, 2)}/${key.slice(2, 4)}/${key}`)).toBe(true);

    req.end(data.subarray(2 * CHUNK + 10));
    const { status, body } = await response;
    expect(status, body).toBe(201);
    const file = JSON.parse(body) as FileInfo;
    const got = await getBytes(b!.url, file.id);
    expect(got.body.equals(data)).toBe(true);
    const verify = JSON.parse(await cli(['verify', file.id, ...storeArgs])) as { problems: unknown[] };
    expect(verify.problems).toEqual([]);
  });
});

/**
 * Waits until an upload session in the bucket records `n` chunks and returns their keys. The
 * gateway is another process and says nothing when it saves its session, so this polls the bucket.
 */
function sessionWithChunks(store: S3Store, n: number): Promise<string[]> {
  return eventually(
    async () => {
      for await (const o of store.list('uploads/')) {
        const raw = await store.get(o.key).catch(() => undefined);
        const chunks = raw && parseSession(raw)?.chunks;
        if (chunks && chunks.length >= n) return chunks.map((c) => c.key);
      }
      return undefined;
    },
    `a session recording ${n} chunks`,
    { intervalMs: 25 },
  );
}

/** s3rver rewrites objects in place (not atomically): a read racing a write may see a torn session. */
function parseSession(raw: Uint8Array): { chunks: { key: string }[] } | undefined {
  try {
    return JSON.parse(new TextDecoder().decode(raw)) as { chunks: { key: string }[] };
  } catch {
    return undefined;
  }
}
