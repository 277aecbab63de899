import { describe, expect, it } from 'vitest';
import { evaluatePreconditions, ifRangeHolds, parseEntityTags, type Validators } from '../../src/gateway/http/conditional.js';
import { multipartBody } from '../../src/gateway/http/multipart.js';
import { coalesce, planRanges } from '../../src/protocol/http-ranges.js';
import { contentDisposition, contentType, fileHeaders } from '../../src/gateway/http/representation.js';

const v: Validators = { etag: `"${'a'.repeat(64)}"`, lastModified: 'Tue, 01 Dec 2026 08:00:00 GMT' };
const LATER = 'Tue, 01 Dec 2026 09:00:00 GMT';
const EARLIER = 'Tue, 01 Dec 2026 07:00:00 GMT';

describe('planRanges (pure)', () => {
  const size = 1000;
  it.each([
    ['no header', undefined, { kind: 'full' }],
    ['an unknown unit is ignored', 'items=0-1', { kind: 'full' }],
    ['the unit is case-insensitive', 'Bytes=0-1', { kind: 'partial', ranges: [{ start: 0, end: 1 }] }],
    ['a suffix longer than the file is the whole file', 'bytes=-5000', { kind: 'partial', ranges: [{ start: 0, end: 999 }] }],
    ['an end past the file is clamped', 'bytes=990-5000', { kind: 'partial', ranges: [{ start: 990, end: 999 }] }],
    ['unsatisfiable parts are dropped', 'bytes=0-1,5000-6000', { kind: 'partial', ranges: [{ start: 0, end: 1 }] }],
    ['overlapping parts are coalesced', 'bytes=0-10,5-20', { kind: 'partial', ranges: [{ start: 0, end: 20 }] }],
    ['adjacent parts are coalesced', 'bytes=0-9,10-19', { kind: 'partial', ranges: [{ start: 0, end: 19 }] }],
    [
      'parts come out ascending',
      'bytes=500-509, 0-9',
      {
        kind: 'partial',
        ranges: [
          { start: 0, end: 9 },
          { start: 500, end: 509 },
        ],
      },
    ],
    ['empty list elements are ignored', 'bytes=0-1,,', { kind: 'partial', ranges: [{ start: 0, end: 1 }] }],
    ['a suffix and an overlapping open range merge', 'bytes=-10,980-', { kind: 'partial', ranges: [{ start: 980, end: 999 }] }],
  ])('%s', (_label, header, plan) => {
    expect(planRanges(header, size)).toEqual(plan);
  });

  it('more parts than maxParts (after coalescing) → the whole file; coalesced ones do not count', () => {
    const many = Array.from({ length: 10 }, (_, i) => `${i * 10}-${i * 10}`).join(',');
    expect(planRanges(`bytes=${many}`, size, { maxParts: 9 })).toEqual({ kind: 'full' });
    expect(planRanges(`bytes=${many}`, size, { maxParts: 10 })).toMatchObject({ kind: 'partial' });
    const overlapping = Array.from({ length: 50 }, () => '0-5').join(',');
    expect(planRanges(`bytes=${overlapping}`, size, { maxParts: 2 })).toEqual({ kind: 'partial', ranges: [{ start: 0, end: 5 }] });
  });

  it('malformed sets are 400 naming range; nothing satisfiable is 416 with the size', () => {
    for (const bad of ['bytes=x', 'bytes=5-2', 'bytes=1-2-3', 'bytes=', 'garbage'])
      expect(() => planRanges(bad, size), bad).toThrow(expect.objectContaining({ code: 'bad_request', field: 'range' }));
    for (const none of ['bytes=1000-', 'bytes=-0', 'bytes=2000-3000,5000-'])
      expect(() => planRanges(none, size), none).toThrow(expect.objectContaining({ code: 'range_not_satisfiable', size }));
  });

  it('coalesce keeps disjoint spans apart', () => {
    expect(
      coalesce([
        { start: 5, end: 6 },
        { start: 0, end: 3 },
      ]),
    ).toEqual([
      { start: 0, end: 3 },
      { start: 5, end: 6 },
    ]);
  });
});

describe('preconditions (pure, RFC 9110 § 13.2.2)', () => {
  it.each([
    ['GET', { 'if-match': '"other"' }, 'failed'],
    ['GET', { 'if-match': `W/${v.etag}` }, 'failed'], // If-Match compares strongly
    ['GET', { 'if-match': `"x", ${v.etag}` }, 'proceed'],
    ['GET', { 'if-match': '*' }, 'proceed'],
    ['HEAD', { 'if-match': '"other"' }, 'failed'],
    ['DELETE', { 'if-match': '"other"' }, 'failed'],
    ['DELETE', { 'if-match': v.etag }, 'proceed'],
    ['GET', { 'if-unmodified-since': EARLIER }, 'failed'],
    ['GET', { 'if-unmodified-since': v.lastModified }, 'proceed'],
    ['DELETE', { 'if-unmodified-since': EARLIER }, 'failed'],
    ['GET', { 'if-unmodified-since': 'not a date' }, 'proceed'], // an invalid date is ignored
    ['GET', { 'if-match': v.etag, 'if-unmodified-since': EARLIER }, 'proceed'], // If-Match wins
    ['GET', { 'if-none-match': `W/${v.etag}` }, 'not_modified'], // weak comparison
    ['HEAD', { 'if-none-match': '*' }, 'not_modified'],
    ['DELETE', { 'if-none-match': '*' }, 'failed'],
    ['GET', { 'if-modified-since': v.lastModified }, 'not_modified'],
    ['GET', { 'if-modified-since': LATER }, 'not_modified'],
    ['GET', { 'if-modified-since': EARLIER }, 'proceed'],
    ['GET', { 'if-none-match': v.etag, 'if-modified-since': EARLIER }, 'not_modified'], // INM wins over IMS
    ['GET', { 'if-none-match': '"other"', 'if-modified-since': LATER }, 'proceed'],
    ['DELETE', { 'if-modified-since': LATER }, 'proceed'], // only for GET/HEAD
    ['GET', { 'if-match': '"other"', 'if-none-match': v.etag }, 'failed'], // 412 before 304
  ] as const)('%s %j → %s', (method, headers, want) => {
    expect(evaluatePreconditions(method, headers, v)).toBe(want);
  });

  it('If-Range: a strong tag or the exact date applies the Range; anything else does not', () => {
    expect(ifRangeHolds({}, v)).toBe(true);
    expect(ifRangeHolds({ 'if-range': v.etag }, v)).toBe(true);
    expect(ifRangeHolds({ 'if-range': `W/${v.etag}` }, v)).toBe(false);
    expect(ifRangeHolds({ 'if-range': '"stale"' }, v)).toBe(false);
    expect(ifRangeHolds({ 'if-range': v.lastModified }, v)).toBe(true);
    expect(ifRangeHolds({ 'if-range': LATER }, v)).toBe(false);
    expect(ifRangeHolds({ 'if-range': 'garbage' }, v)).toBe(false);
  });

  it('entity-tag lists: commas inside quotes, weak tags, *', () => {
    expect(parseEntityTags('"a,b", W/"c" ,"d"')).toEqual([
      { weak: false, tag: '"a,b"' },
      { weak: true, tag: '"c"' },
      { weak: false, tag: '"d"' },
    ]);
    expect(parseEntityTags(' * ')).toEqual(['*']);
    expect(parseEntityTags('unquoted')).toEqual([]);
  });
});

describe('multipart framing (pure)', () => {
  it('Content-Length is the exact body length, and every part names its range', () => {
    const body = multipartBody(
      [
        { start: 0, end: 1 },
        { start: 10, end: 19 },
      ],
      100,
      'text/plain',
      'B',
    );
    const bytes = body.segments.reduce((n, s) => n + ('bytes' in s ? s.bytes.length : s.span.end - s.span.start + 1), 0);
    expect(body.length).toBe(bytes);
    expect(body.contentType).toBe('multipart/byteranges; boundary=B');
    const text = body.segments.map((s) => ('bytes' in s ? s.bytes.toString() : `<${s.span.start}-${s.span.end}>`)).join('');
    expect(text).toBe(
      '\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/100\r\n\r\n<0-1>' +
        '\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-19/100\r\n\r\n<10-19>\r\n--B--\r\n',
    );
  });
});

describe('representation headers (pure)', () => {
  it('Content-Type from the name, octet-stream when unknown', () => {
    expect(contentType('notes.txt')).toBe('text/plain');
    expect(contentType('page.HTML')).toBe('text/html');
    expect(contentType('photos/2024/beach.jpg')).toBe('image/jpeg');
    expect(contentType('README')).toBe('application/octet-stream');
    expect(contentType('archive.tar.gz')).toBe('application/gzip');
  });

  it('always attachment, nosniff, a sandboxing CSP and a private immutable Cache-Control', () => {
    const h = fileHeaders({ name: 'x.html', sha256: 'a'.repeat(64), created: '2026-12-01T08:00:00.123Z' });
    expect(h).toMatchObject({
      'Content-Type': 'text/html',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, max-age=31536000, immutable',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Last-Modified': 'Tue, 01 Dec 2026 08:00:00 GMT',
    });
    expect(h['Content-Disposition']).toMatch(/^attachment; /);
    expect(fileHeaders({ name: 'x', sha256: 'a'.repeat(64), created: '2026-12-01T08:00:00Z' }, { maxAgeS: 90.5 })['Cache-Control']).toBe(
      'private, max-age=90, immutable',
    );
  });

  it.each([
    ['résumé 2.pdf', `attachment; filename="resume 2.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%202.pdf`],
    ['plain.txt', 'attachment; filename=plain.txt'],
    ['Straße – café.txt', `attachment; filename="Strasse - cafe.txt"; filename*=UTF-8''Stra%C3%9Fe%20%E2%80%93%20caf%C3%A9.txt`],
    ['日本.txt', `attachment; filename=__.txt; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`],
    ['a "b" \\c 100%.txt', `attachment; filename="a _b_ _c 100_.txt"; filename*=UTF-8''a%20%22b%22%20%5Cc%20100%25.txt`],
    // A `/` in a name is a folder separator: the download is named after the last segment.
    ['photos/2024/beach.jpg', 'attachment; filename=beach.jpg'],
    ['docs/résumé.pdf', `attachment; filename=resume.pdf; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`],
  ])('Content-Disposition of %j', (name, want) => {
    expect(contentDisposition(name)).toBe(want);
  });
});
