/**
 * Scenario 5 — WebSocket download of 512 MiB (quick: 128 MiB): the chunkstream server's gateway
 * (/v1/ws, the built CLI's `serve`) read with the client SDK (`connect(url).download(id)`, which
 * verifies every chunk against its SHA-256 before delivering it), against a raw `ws` server
 * sending the same bytes in chunk-sized binary frames with simple bufferedAmount backpressure,
 * read by a raw `ws` client. Servers are child processes on 127.0.0.1; clients run in this
 * process, and again in a process of their own whose heap limit is out of the band where V8 runs
 * a full GC every few messages (bench/findings.md §5; this process is in it, and so its raw peer
 * pays those GCs too). The cases are interleaved, medians reported.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { WebSocket } from 'ws';
import { MiB, QUICK, startSuite } from './lib/harness.js';
import { cleanupAll, drain, expectBytes, prepareBigFile } from './lib/fixtures.js';
import { runInterleaved, type TimedCase } from './lib/interleave.js';
import { ROOT, chunkstreamServer, serverMissing, spawnServer } from './lib/servers.js';
import { rawWsGet } from './lib/ws-clients.js';

const run = startSuite('websocket', `WebSocket download of ${QUICK ? 128 : 512} MiB vs a raw ws server (scenario 5)`);
const SIZE = (QUICK ? 128 : 512) * MiB;
/** A first old-generation limit far above the heap: V8 then leaves it out of the band. */
const HEAP_FLAG = '--initial-heap-size=200';

const missing = serverMissing();
if (missing) {
  run.finish({ setup: {}, cases: [], derived: [], notes: [], skipped: `not run: ${missing}` });
} else {
  const { connect } = await import('../src/client/index.js');
  const f = await prepareBigFile('ws', SIZE);
  const cs = await chunkstreamServer(f.dir);
  const raw = await spawnServer(path.join(ROOT, 'bench/lib/raw-ws-server.ts'), [f.plain, String(f.chunkSize)]);
  const wsUrl = (u: string, p: string) => `${u.replace(/^http/, 'ws')}${p}`;
  const client = await connect(wsUrl(cs.url, '/v1/ws'), { WebSocket: WebSocket as never });
  const own = await clientProcess([wsUrl(cs.url, '/v1/ws'), f.id, wsUrl(raw.url, '/'), String(SIZE)]);
  try {
    const cases: TimedCase[] = [
      {
        name: 'chunkstream gateway + client SDK (every chunk verified on both ends)',
        fn: async () => expectBytes(await drain(client.download(f.id)), SIZE, 'sdk download'),
        bytes: SIZE,
        params: { server: 'chunkstream' },
      },
      { name: 'raw ws server + raw ws client', fn: () => rawWsGet(wsUrl(raw.url, '/'), SIZE), bytes: SIZE, params: { server: 'raw-ws' } },
      {
        name: `client SDK in a process with ${HEAP_FLAG}`,
        fn: () => own.run('sdk'),
        bytes: SIZE,
        params: { server: 'chunkstream', clients: 'own process' },
      },
      {
        name: `raw ws client in a process with ${HEAP_FLAG}`,
        fn: () => own.run('raw'),
        bytes: SIZE,
        params: { server: 'raw-ws', clients: 'own process' },
      },
    ];
    const results = await runInterleaved(cases, { reps: QUICK ? 3 : 9 });
    const [c, r, oc, or] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0], (typeof results)[0]];
    const ratio = r.medianMs / c.medianMs;
    const ownRatio = or.medianMs / oc.medianMs;
    run.finish({
      setup: {
        size: SIZE,
        chunkSize: f.chunkSize,
        server: '`node dist/cli/main.js serve`, /v1/ws, default window (server reads 4 ahead, the SDK grants 8)',
        client: 'connect(ws://…/v1/ws, { WebSocket: ws }).download(id), one connection reused across runs',
        reference:
          'bench/lib/raw-ws-server.ts: FileHandle.read per chunk, ws.send, wait while bufferedAmount > 2 chunks; raw ws client counting bytes',
      },
      cases: results,
      derived: [
        {
          chunkstreamMbps: c.mbps,
          rawWsMbps: r.mbps,
          ratio,
          target: 0.8,
          met: ratio >= 0.8,
          ownProcessRatio: ownRatio,
          ownProcessMet: ownRatio >= 0.8,
        },
      ],
      notes: [
        `Clients in a process of their own started with ${HEAP_FLAG} (out of V8's full-GC band): ${(ownRatio * 100).toFixed(0)} % of raw ws (${oc.mbps!.toFixed(0)} vs ${or.mbps!.toFixed(0)} MB/s).`,
      ],
      chart: {
        title: `5. WebSocket download ${SIZE / MiB} MiB (MB/s)`,
        unit: 'MB/s',
        bars: results.map((x) => ({ label: x.name, value: x.mbps!, group: String(x.params.server) })),
        lines: [{ label: '0.8 × raw ws', value: 0.8 * r.mbps! }],
      },
    });
  } finally {
    own.stop();
    await client.close();
    await cs.stop();
    await raw.stop();
    cleanupAll();
  }
}

/** Scenario 5's clients in a child process (bench/lib/ws-client-child.ts), one download per `run`. */
async function clientProcess(args: string[]): Promise<{ run: (what: 'sdk' | 'raw') => Promise<void>; stop: () => void }> {
  const child: ChildProcess = fork(path.join(ROOT, 'bench/lib/ws-client-child.ts'), args, {
    execArgv: [HEAP_FLAG, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<{ ok?: boolean; ready?: boolean; error?: string }>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`client process exited ${code}`));
      child.once('exit', onExit);
      child.once('message', (m: { ok?: boolean; ready?: boolean; error?: string }) => {
        child.off('exit', onExit);
        resolve(m);
      });
    });
  await next();
  return {
    run: async (what) => {
      const answer = next();
      child.send({ run: what });
      const m = await answer;
      if (m.error) throw new Error(m.error);
    },
    stop: () => child.disconnect(),
  };
}
