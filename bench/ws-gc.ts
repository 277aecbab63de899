/**
 * Full GCs of a bare `ws` client downloading from `chunkstream serve`: what makes the SDK's (and
 * the raw peer's) V8 helper threads busy in scenario 5 is the size of the client's heap, not its
 * code. This client imports nothing of src/ (bench/lib/servers.ts starts the server); it counts
 * each download's bytes, wall time and full (Mark-Compact) collections. Heap size knobs: ZOD=1 imports zod (what the SDK loads), KEEP=N
 * retains N small objects. MB=… sets the file size (default 512).
 *
 *   npm run build && npx tsx bench/ws-gc.ts            # a small heap: no full GCs
 *   ZOD=1 npx tsx bench/ws-gc.ts                       # about 20 per 512 MiB
 *   KEEP=50000 npx tsx bench/ws-gc.ts                  # likewise; KEEP=200000: none again
 *   ZOD=1 V8_FLAGS=--heap-growing-percent=900 npx tsx bench/ws-gc.ts   # what chunkstream sets: none
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { WebSocket } from 'ws';
import { chunkstreamServer } from './lib/servers.js';

// V8_FLAGS=… sets V8 flags at run time, before the heap grows (what src/cli/main.ts does for itself).
if (process.env.V8_FLAGS) setFlagsFromString(process.env.V8_FLAGS);
if (process.env.ZOD) await import('zod');
const keep = Array.from({ length: Number(process.env.KEEP ?? 0) }, (_, i) => ({ i, s: `x${i}` }));
let full = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
}).observe({ entryTypes: ['gc'] });

const dir = mkdtempSync(path.join(tmpdir(), 'chunkstream-ws-gc-'));
const file = path.join(dir, 'file.bin');
writeFileSync(file, randomBytes(Number(process.env.MB ?? 512) << 20));
const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
const id = cli('put', file, '--dir', path.join(dir, 'store')).stdout.trim().split('\n').pop()!;
const server = await chunkstreamServer(path.join(dir, 'store'));
const url = `${server.url.replace('http', 'ws')}/v1/ws`;

const ws = new WebSocket(url);
let onEnd = () => {};
let bytes = 0;
await new Promise<void>((ready, fail) => {
  ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: '' })));
  ws.on('error', fail);
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) return void (bytes += data.byteLength);
    const msg = JSON.parse(data.toString()) as { type: string; message?: string };
    if (msg.type === 'ready') ready();
    else if (msg.type === 'end') onEnd();
    else if (msg.type === 'error') fail(new Error(msg.message));
  });
});
for (let stream = 1; stream <= 6; stream++) {
  const t = performance.now();
  const f0 = full;
  bytes = 0;
  await new Promise<void>((done) => {
    onEnd = done;
    ws.send(JSON.stringify({ type: 'download', stream, id, credit: 1_000_000, digests: true }));
  });
  console.log(
    `${(performance.now() - t).toFixed(0)} ms, ${full - f0} full GCs, ${bytes} bytes (heap: ${keep.length} kept objects${process.env.ZOD ? ', zod' : ''})`,
  );
}
ws.close();
await server.stop();
rmSync(dir, { recursive: true, force: true });
