// What a hash thread does with one task (hash-thread.js runs it). Plain JavaScript: loads as-is from src/ and dist/.
// Tasks name bytes in a SharedArrayBuffer by offset and length: hashed in place, never copied.
import { createHash } from 'node:crypto';

/** Incremental file hashes of the streams pinned to this thread, with the next update each expects. */
const streams = new Map();

const view = (t) => new Uint8Array(t.buf, t.off, t.len);

export default function hash(t) {
  switch (t.op) {
    case 'digest':
      return createHash('sha256').update(view(t)).digest('hex');
    case 'update': {
      let s = streams.get(t.id);
      if (!s && t.seq === 0) streams.set(t.id, (s = { hash: createHash('sha256'), seq: 0 }));
      // A lost update (a replaced thread, a dropped task) would give a wrong digest: fail instead.
      if (!s || s.seq !== t.seq) throw new Error(`stream ${t.id}: update ${t.seq} out of order (expected ${s ? s.seq : 0})`);
      s.hash.update(view(t));
      s.seq++;
      return null;
    }
    case 'final': {
      const s = streams.get(t.id);
      streams.delete(t.id);
      if ((s ? s.seq : 0) !== t.seq) throw new Error(`stream ${t.id}: final after ${s ? s.seq : 0} updates, expected ${t.seq}`);
      return (s ? s.hash : createHash('sha256')).digest('hex');
    }
    case 'drop':
      streams.delete(t.id);
      return null;
    default:
      throw new Error(`unknown hash task ${t.op}`);
  }
}
