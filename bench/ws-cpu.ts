/**
 * Where a WebSocket download's CPU goes: the SDK client in this process, `chunkstream serve` as a
 * child, 512 MiB (MB=…) downloaded 6 times; prints wall time and CPU ms of each side.
 *
 *   npm run build && npx tsx bench/ws-cpu.ts
 *   CHUNKSTREAM_HASH_THREADS=0 SERVER_THREADS=2 npx tsx bench/ws-cpu.ts   # client hashes inline
 *   node --cpu-prof --import tsx bench/ws-cpu.ts                          # and where, on the client
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom } from 'rxjs';
import { WebSocket } from 'ws';
import { connect } from '../src/client/index.js';
import { openStore } from '../src/index.js';
import { chunkstreamServer, cpuMsOf } from './lib/servers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'chunkstream-ws-cpu-'));
const store = openStore({ dir, fsync: false });
const data = Buffer.alloc(Number(process.env.MB ?? 512) << 20);
for (let o = 0; o < data.length; o += 1 << 20) randomBytes(1 << 20).copy(data, o);
const done = await lastValueFrom(store.upload(data, { name: 'x' }));
await store.close();
if (done.type !== 'committed') throw new Error('upload did not commit');
const serverEnv = process.env.SERVER_THREADS ? { CHUNKSTREAM_HASH_THREADS: process.env.SERVER_THREADS } : {};
const server = await chunkstreamServer(dir, [], serverEnv);
const serverCpu = () => cpuMsOf(server.pid);
const client = await connect(`${server.url.replace('http', 'ws')}/v1/ws`, { WebSocket: WebSocket as never });
for (let i = 0; i < 6; i++) {
  const c0 = process.cpuUsage();
  const e0 = performance.eventLoopUtilization();
  const s0 = serverCpu();
  const t = performance.now();
  let n = 0;
  await new Promise<void>((resolve, reject) =>
    client.download(done.file.id).subscribe({ next: (b) => (n += b.byteLength), error: reject, complete: resolve }),
  );
  const c = process.cpuUsage(c0);
  const loop = performance.eventLoopUtilization(e0).active;
  if (n !== data.length) throw new Error(`got ${n} bytes`);
  console.log(
    `${(performance.now() - t).toFixed(0)} ms, client cpu ${((c.user + c.system) / 1000).toFixed(0)} ms (event loop busy ${loop.toFixed(0)} ms), server cpu ${serverCpu() - s0} ms`,
  );
}
await client.close();
await server.stop();
rmSync(dir, { recursive: true, force: true });
