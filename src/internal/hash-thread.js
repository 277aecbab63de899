// A hash thread: handles its messages strictly in arrival order (postMessage is FIFO and this
// thread runs one task at a time), so a whole-file hash pinned to it sees its chunks in order.
// Plain JavaScript so it loads as-is from src/ (tests) and dist/.
import { parentPort } from 'node:worker_threads';
import hash from './hash-task.js';

parentPort.on('message', (m) => {
  // The main thread dropped slabs this thread has handles on (reclaim.ts): free them. No answer.
  if (m.op === 'gc') return void globalThis.gc?.();
  try {
    parentPort.postMessage({ req: m.req, value: hash(m) });
  } catch (e) {
    parentPort.postMessage({ req: m.req, error: String((e && e.message) || e) });
  }
});
