import { describe, expect, it } from 'vitest';
import { blobReader } from '../../src/client/blob-reader.js';
import { bytes } from '../helpers/core.js';

// The upload's File/Blob reader: one stream from the offset, each read a frame-sized buffer with
// free headroom for the frame header. Node's Blob.stream() is a byte stream like Chromium's
// (BYOB reads); a Blob whose stream is not (older engines) is read through the default reader.
const HEAD = 16;

/** A Blob whose stream() is a plain (non-byte) stream of uneven pieces, as some engines give. */
class PlainStreamBlob extends Blob {
  override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    const data = Blob.prototype.slice.call(this); // a plain Blob of the same bytes
    let started = false;
    let all: Uint8Array<ArrayBuffer>;
    let at = 0;
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      async pull(controller) {
        if (!started) {
          all = new Uint8Array(await data.arrayBuffer());
          started = true;
        }
        if (at >= all.byteLength) return controller.close();
        const n = 1 + ((at * 7) % 5000); // 1 to 5000 bytes, never aligned to a frame
        controller.enqueue(all.slice(at, at + n));
        at += n;
      },
    });
  }
  override slice(start?: number, end?: number): Blob {
    return new PlainStreamBlob([super.slice(start, end)]);
  }
}

async function readAll(blob: Blob, offset: number, max: number): Promise<{ data: Buffer; sizes: number[] }> {
  const reader = blobReader(blob, offset);
  const parts: Buffer[] = [];
  const sizes: number[] = [];
  for (let f = await reader.read(max, HEAD); f !== null; f = await reader.read(max, HEAD)) {
    expect(f.byteOffset).toBe(0); // the frame starts at its buffer's start: the header goes there
    sizes.push(f.byteLength - HEAD);
    parts.push(Buffer.from(f.subarray(HEAD)));
  }
  reader.close();
  return { data: Buffer.concat(parts), sizes };
}

describe('blobReader', () => {
  const data = Buffer.from(bytes(300_000 + 7, 5));

  for (const [kind, make] of [
    ['byte stream (BYOB)', (d: Uint8Array) => new Blob([d])],
    ['plain stream', (d: Uint8Array) => new PlainStreamBlob([d])],
  ] as const) {
    it(`${kind}: byte-exact from any offset, every frame full but the last`, async () => {
      for (const offset of [0, 1, 65_536, 299_999, data.length]) {
        const { data: got, sizes } = await readAll(make(data), offset, 65_536 - HEAD);
        expect(got.equals(data.subarray(offset))).toBe(true);
        expect(sizes.slice(0, -1).every((n) => n === 65_536 - HEAD)).toBe(true);
      }
    });
  }

  it('a Blob that ends before its size is a clear bad_request, not a short upload', async () => {
    class Shrunk extends Blob {
      override slice(): Blob {
        return new Blob([data.subarray(0, 1000)]);
      }
    }
    const reader = blobReader(new Shrunk([data]), 0);
    await expect(reader.read(65_536, HEAD)).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('short of its size'),
    });
  });
});
