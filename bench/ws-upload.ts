/**
 * WebSocket uploads to the built CLI's `serve`: the SDK in this process uploads a 512 MiB buffer
 * (MB=…) three times per server; prints wall time and CPU of each side. SERVER_ENV=K=V,… is
 * added to the server's environment, e.g. WS_NO_BUFFER_UTIL=1 (ws unmasks in JavaScript, as the
 * bundled CLI did before bufferutil stayed outside the bundle). NODE_FLAGS=… go to the server's
 * node, e.g. --initial-heap-size=200 (README, Operations).
 *
 *   npm run build && npx tsx bench/ws-upload.ts
 *   SERVER_ENV=WS_NO_BUFFER_UTIL=1 npx tsx bench/ws-upload.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom } from 'rxjs';
import { WebSocket } from 'ws';
import { connect } from '../src/client/index.js';
import { chunkstreamServer, cpuMsOf } from './lib/servers.js';

const data = Buffer.alloc(Number(process.env.MB ?? 512) << 20);
for (let o = 0; o < data.length; o += 1 << 20) randomBytes(1 << 20).copy(data, o);
const extraEnv: Record<string, string> = {};
for (const kv of (process.env.SERVER_ENV ?? '').split(',').filter(Boolean)) extraEnv[kv.split('=')[0]!] = kv.slice(kv.indexOf('=') + 1);
const dir = mkdtempSync(path.join(tmpdir(), 'chunkstream-ws-upload-'));
const flags = (process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean);
const server = await chunkstreamServer(dir, [], extraEnv, { nodeFlags: flags });
const client = await connect(`${server.url.replace('http', 'ws')}/v1/ws`, { WebSocket: WebSocket as never });
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const s0 = cpuMsOf(server.pid);
  const c0 = process.cpuUsage();
  const last = await lastValueFrom(client.upload(data, { name: `up-${i}.bin` }));
  if (last.type !== 'committed') throw new Error('upload did not commit');
  const c = process.cpuUsage(c0);
  console.log(
    `${(performance.now() - t).toFixed(0)} ms, client cpu ${((c.user + c.system) / 1000).toFixed(0)} ms, server cpu ${cpuMsOf(server.pid) - s0} ms`,
  );
}
await client.close();
await server.stop();
rmSync(dir, { recursive: true, force: true });
