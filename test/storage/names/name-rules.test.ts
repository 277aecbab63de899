import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkObjectName, compareNames, decodeObjectName, resolveListQuery } from '../../../src/index.js';
import { after } from '../../../src/storage/name-index.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('name rules', () => {
  it('compareNames is UTF-8 byte order for any strings of code points', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareNames(a, b))).toBe(Math.sign(Buffer.compare(utf8(a), utf8(b))));
      }),
      { numRuns: 2000 },
    );
    expect(compareNames('\uffff', '\u{1F600}')).toBeLessThan(0); // '\uffff' > '\u{1F600}' in JS
    expect(compareNames('foo+1/', 'foo/')).toBeLessThan(0);
  });

  it('after(s) is above every string starting with s and below every larger string not starting with it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), fc.string({ unit: 'grapheme' }), (s, tail) => {
        const next = after(s)!;
        expect(compareNames(s + tail, next)).toBeLessThan(0);
        if (!next.startsWith(s)) expect(compareNames(s, next)).toBeLessThan(0);
      }),
    );
  });

  it('invalid UTF-8 is refused, never turned into U+FFFD; 1 to 1024 bytes', () => {
    expect(() => decodeObjectName(new Uint8Array([0x66, 0xff]))).toThrow(expect.objectContaining({ code: 'bad_request', field: 'name' }));
    expect(() => decodeObjectName(new Uint8Array([0xc3]))).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(decodeObjectName(utf8('\u200breport.pdf'))).toBe('\u200breport.pdf');
    expect(checkObjectName('x'.repeat(1024))).toHaveLength(1024);
    expect(() => checkObjectName('x'.repeat(1025))).toThrow(/at most 1024 bytes/);
    expect(() => checkObjectName('\udc00')).toThrow(expect.objectContaining({ field: 'name' }));
    expect(() => checkObjectName(42)).toThrow(expect.objectContaining({ code: 'bad_request', field: 'name' }));
  });

  it('a listing query is checked field by field', () => {
    expect(resolveListQuery({})).toEqual({ prefix: '', limit: 1000 });
    for (const [query, field] of [
      [{ limit: 1.5 }, 'limit'],
      [{ delimiter: '' }, 'delimiter'],
      [{ prefix: 'a\ud800' }, 'prefix'],
      [{ cursor: 'x' }, 'cursor'],
      [{ other: 1 }, 'other'],
    ] as const) {
      expect(() => resolveListQuery(query as never)).toThrow(expect.objectContaining({ code: 'bad_request', field }));
    }
  });
});
