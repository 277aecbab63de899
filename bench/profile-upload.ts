// Ad-hoc profiling driver for the upload path:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-upload.ts [MiB] [N] [fs|discard] [threads]
import { lastValueFrom } from 'rxjs';
import { configureHashing } from '../src/internal/hashing.js';
import { openStore } from '../src/index.js';
import { MiB } from './lib/harness.js';
import { discardChunksStore, pieces, randomBuffer, removeDir, tempDir } from './lib/fixtures.js';

const size = Number(process.argv[2] ?? 256) * MiB;
const n = Number(process.argv[3] ?? 4);
const kind = process.argv[4] ?? 'discard';
configureHashing({ threads: Number(process.argv[5] ?? 0) });
const data = randomBuffer(size);
for (let i = 0; i < 3; i++) {
  const dir = kind === 'fs' ? tempDir('prof') : '';
  const store =
    kind === 'fs'
      ? openStore({ dir, fsync: false, uploadConcurrency: n })
      : openStore({ chunkStore: discardChunksStore(), uploadConcurrency: n });
  const t0 = performance.now();
  await lastValueFrom(store.upload(pieces(data, 64 * 1024), { name: 'p.bin' }));
  const ms = performance.now() - t0;
  console.log(`upload ${size / MiB} MiB N=${n} ${kind}: ${ms.toFixed(0)} ms, ${(size / 1e6 / (ms / 1000)).toFixed(0)} MB/s`);
  await store.close();
  if (dir) removeDir(dir);
}
