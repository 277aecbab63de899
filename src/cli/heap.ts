import { setFlagsFromString } from 'node:v8';

/**
 * Imported first by main.ts: keeps `chunkstream` (the CLI and `serve`) out of V8's full-GC band.
 *
 * A Node process with a small heap (10–17 MB, what loading zod and the SDK makes) that receives
 * large WebSocket messages runs a full collection every message or two: V8 sets the old
 * generation's limit from the live heap after each full collection, and the received buffers'
 * external memory uses that headroom up (bench/findings.md §5: 20–40 % of a 512 MiB transfer).
 * `--initial-heap-size` fixes it but is read only when the heap is created (too late here, and
 * NODE_OPTIONS refuses it); the growing factor is read each time the limit is recomputed, so it
 * works from inside the process: the limit becomes 10 × the live heap instead of ~2.5 ×. The
 * CLI's live heap stays small (chunk bytes live in slabs, outside it), so that is tens of MB;
 * measured with bench/ws-gc.ts (ZOD=1 V8_FLAGS=--heap-growing-percent=…): 22–27 full GCs per
 * 512 MiB at the default, 14–23 at 100–200 %, 0–6 at 400 %, 0 at 900 %.
 *
 * A heap flag the user gave node (`node --initial-heap-size=… chunkstream`) wins.
 */
export const HEAP_GROWING_PERCENT = 900;

const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
if (!/--(initial-heap-size|initial-old-space-size|heap-growing-percent|min-semi-space-size|max-semi-space-size)\b/.test(given)) {
  try {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  } catch {
    // A runtime without V8 flags: V8's own pace.
  }
}
