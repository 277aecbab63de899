// Ad-hoc profiling driver for the download path:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-download.ts [N] [threads] [delayMs]
import { configureHashing } from '../src/internal/hashing.js';
import { createFsStore, openStore, withLatency } from '../src/index.js';
import { MiB } from './lib/harness.js';
import { benchStore, drain, putFile, randomBuffer } from './lib/fixtures.js';

const n = Number(process.argv[2] ?? 5);
configureHashing({ threads: Number(process.argv[3] ?? 0) });
const delay = Number(process.argv[4] ?? 0);
const { store, dir } = benchStore('profdl', { chunkSize: 10 * MiB });
const m = await putFile(store, randomBuffer(120 * MiB));
const s = delay ? openStore({ dir, chunkStore: withLatency(createFsStore(dir, { fsync: false }), { getMs: delay }) }) : store;
const times: number[] = [];
for (let i = 0; i < 20; i++) {
  const t0 = performance.now();
  await drain(s.downloadManifest(m, { concurrency: n }));
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`download 12×10 MiB N=${n} delay=${delay}: median ${times[10]!.toFixed(0)} ms, min ${times[0]!.toFixed(0)} ms`);
await store.close();
