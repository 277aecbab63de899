import type { ServerMessageOf } from '../../src/protocol/messages.js';
import type { RawClient } from './ws-raw.js';

/** A complete upload over the raw protocol, data sent within the server's credit. */
export async function rawPut(c: RawClient, stream: number, data: Uint8Array, name = 'raw.bin') {
  c.send({ type: 'upload', stream, name });
  const started = await c.onStream<ServerMessageOf<'started'>>(stream, 'started');
  let credit = started.credit;
  let offset = 0;
  while (offset < data.length) {
    while (credit === 0) credit += (await c.onStream<ServerMessageOf<'credit'>>(stream, 'credit')).bytes;
    const n = Math.min(credit, 32 * 1024, data.length - offset);
    c.sendData(stream, offset, data.subarray(offset, offset + n));
    offset += n;
    credit -= n;
  }
  c.send({ type: 'end', stream });
  return (await c.message<ServerMessageOf<'committed'>>((m) => m.type === 'committed' && m.stream === stream)).file;
}

/** A complete download over the raw protocol: the header, the frames in order, the end message. */
export async function rawGet(c: RawClient, stream: number, id: string, range?: { start: number; end?: number }) {
  c.send({ type: 'download', stream, id, range, credit: 1000 });
  const header = await c.onStream<ServerMessageOf<'header'>>(stream, 'header');
  const parts: Uint8Array[] = [];
  for (let i = 0; i < header.chunks; i++) {
    const e = await c.next((e) => e.kind === 'frame' && e.frame.stream === stream);
    if (e.kind === 'frame') parts.push(e.frame.payload);
  }
  const end = await c.onStream<ServerMessageOf<'end'>>(stream, 'end');
  return { header, data: Buffer.concat(parts), end };
}
