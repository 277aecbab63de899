import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { codeOf, text, type Subject } from './shared.js';

/** `get(…, { range })`: every backend serves inclusive ranges (rangeGet says whether it reads only the range). */
export function ranges(subject: Subject): void {
  it('reads inclusive ranges, clamping an end past the object', async () => {
    const { store } = subject();
    const data = randomBytes(1000);
    await store.put('range/k', data);
    const read = async (start: number, end: number) => Buffer.from(await store.get('range/k', { range: { start, end } }));
    expect((await read(10, 19)).equals(data.subarray(10, 20))).toBe(true);
    expect((await read(0, 0)).equals(data.subarray(0, 1))).toBe(true);
    expect((await read(999, 999)).equals(data.subarray(999))).toBe(true);
    expect((await read(0, 999)).equals(data)).toBe(true);
    expect((await read(900, 5000)).equals(data.subarray(900))).toBe(true);
  });
}

/** `get(…, { into })`: a fast path a backend may take or ignore; either way the caller gets the right bytes. */
export function into(subject: Subject): void {
  it('get({ into }) reads into the caller’s buffer, or returns the whole object as its own', async () => {
    const { store } = subject();
    const data = randomBytes(1000);
    await store.put('into/k', data);
    for (const buffer of [new Uint8Array(2000), Buffer.from(new SharedArrayBuffer(1001)), new Uint8Array(10)]) {
      buffer.fill(0);
      const got = await store.get('into/k', { into: buffer });
      if (got.buffer === buffer.buffer) {
        // In place: the object's first buffer.byteLength bytes, at the start of the buffer.
        expect(got.byteOffset).toBe(buffer.byteOffset);
        expect(Buffer.from(got).equals(data.subarray(0, Math.min(1000, buffer.byteLength)))).toBe(true);
      } else expect(Buffer.from(got).equals(data)).toBe(true);
    }
    expect(await codeOf(store.get('into/missing', { into: new Uint8Array(8) }))).toBe('not_found');
    // `into` does not apply to ranges.
    expect(text(await store.get('into/k', { range: { start: 2, end: 4 }, into: new Uint8Array(100) }))).toBe(text(data.subarray(2, 5)));
  });
}

/** `get(…, { lateInto })`: every backend asks for the buffer once, when the bytes come; a refusal fails the get. */
export function lateInto(subject: Subject): void {
  it('get({ lateInto }) takes the buffer once and reads into it', async () => {
    const { store } = subject();
    const data = randomBytes(1000);
    await store.put('late/k', data);
    for (const size of [2000, 1001, 10, 0]) {
      const buffer = new Uint8Array(size).fill(7);
      let takes = 0;
      const got = await store.get('late/k', { lateInto: { size, take: async () => (takes++, buffer) } });
      expect(takes).toBe(1);
      // In place: the object's first `size` bytes, at the start of the buffer.
      expect(got.buffer).toBe(buffer.buffer);
      expect(got.byteOffset).toBe(buffer.byteOffset);
      expect(Buffer.from(got).equals(data.subarray(0, Math.min(1000, size)))).toBe(true);
    }
    let taken = 0;
    expect(await codeOf(store.get('late/missing', { lateInto: { size: 8, take: async () => (taken++, new Uint8Array(8)) } }))).toBe(
      'not_found',
    );
    expect(taken).toBe(0); // a missing object asks for no buffer
    // `lateInto` does not apply to ranges.
    const ranged = await store.get('late/k', {
      range: { start: 2, end: 4 },
      lateInto: { size: 100, take: () => Promise.reject(new Error('taken')) },
    });
    expect(text(ranged)).toBe(text(data.subarray(2, 5)));
  });

  it('get rejects when the buffer it took is refused', async () => {
    const { store } = subject();
    await store.put('late/r', randomBytes(100));
    const refused = store.get('late/r', { lateInto: { size: 101, take: () => Promise.reject(new Error('no buffer free')) } });
    await expect(refused).rejects.toThrow(/no buffer free/);
  });
}
