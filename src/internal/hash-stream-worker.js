// The ordered hash thread: a plain worker whose messages are handled strictly in arrival order
// (a piscina pool may reorder queued tasks), for whole-file hashes that must see chunks in order.
import { parentPort } from 'node:worker_threads';
import hash from './hash-worker.js';

parentPort.on('message', (m) => {
  try {
    parentPort.postMessage({ req: m.req, value: hash(m) });
  } catch (e) {
    parentPort.postMessage({ req: m.req, error: String((e && e.message) || e) });
  }
});
