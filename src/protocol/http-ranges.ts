import type { ByteSpan } from '../engine/plan.js';
import { BadRequestError, RangeNotSatisfiableError } from '../errors.js';

/** What a Range header asks for: the whole representation, or satisfiable spans (ascending, disjoint). */
export type RangePlan = { kind: 'full' } | { kind: 'partial'; ranges: ByteSpan[] };

export interface RangeLimits {
  maxParts: number;
  maxSpecs: number;
}

export const RANGE_LIMITS: Readonly<RangeLimits> = {
  /** Parts of a multipart/byteranges answer (after coalescing); more and the Range is ignored. */
  maxParts: 64,
  /** range-specs read from one header; more is a denial-of-service pattern and the Range is ignored. */
  maxSpecs: 1000,
};

const FULL: RangePlan = { kind: 'full' };

/**
 * Evaluates a `Range` header against a size (RFC 9110 § 14.2). Pure: the caller decides on
 * If-Range before calling it.
 *
 * - No header, or a unit other than `bytes`: the whole file (an origin server MUST ignore units
 *   it does not know).
 * - A malformed `bytes=` set (`bytes=x`, `bytes=5-2`): 400 `bad_request` naming `range`. RFC 9110
 *   lets a server ignore or reject it; nginx answers 416. A coded 400 tells a client what is wrong.
 * - Spans outside the file are dropped; none left → 416 (`range_not_satisfiable`, with the size),
 *   except a non-zero suffix (`bytes=-5`) of an empty file: the whole empty file, 200.
 * - Overlapping and adjacent spans are coalesced and the result sorted ascending, so every byte
 *   and every chunk is sent once. RFC 9110 asks for the request's order "excluding coalesced
 *   ranges" and lets a server ignore sets that are not ascending at all: clients place parts by
 *   their Content-Range, and ascending order lets one pass read each chunk once.
 * - More than `maxParts` spans after coalescing (or `maxSpecs` before): ignored, whole file
 *   (like Apache's MaxRanges). This bounds per-request work and framing overhead.
 *
 * We do not use the `range-parser` module: it treats a suffix longer than the file
 * (`bytes=-500` of 100 bytes) as unsatisfiable, where RFC 9110 § 14.1.3 serves the whole file,
 * and it cannot tell an inverted span (invalid) from one past the end (unsatisfiable).
 */
export function planRanges(header: string | undefined, size: number, limits: Partial<RangeLimits> = {}): RangePlan {
  if (header === undefined) return FULL;
  const maxParts = limits.maxParts ?? RANGE_LIMITS.maxParts;
  const maxSpecs = limits.maxSpecs ?? RANGE_LIMITS.maxSpecs;
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=(.*)$/s.exec(header);
  if (!m) throw new BadRequestError('range', `malformed Range ${JSON.stringify(header.slice(0, 80))} (expected bytes=START-END)`);
  if (m[1]!.toLowerCase() !== 'bytes') return FULL;
  // Empty list elements (`0-1,,5-6`) are allowed by RFC 9110 § 5.6.1 and ignored.
  const specs = m[2]!.split(',').map((s) => s.trim());
  if (specs.length > maxSpecs) return FULL;
  const wanted: ByteSpan[] = [];
  let any = false;
  let emptySuffix = false;
  for (const spec of specs) {
    if (spec === '') continue;
    any = true;
    const parsed = parseSpec(spec);
    const span = satisfiable(parsed, size);
    if (span) wanted.push(span);
    else if (size === 0 && parsed.first === undefined && parsed.last !== 0) emptySuffix = true;
  }
  if (!any) throw new BadRequestError('range', 'empty range set');
  // RFC 9110 § 14.1.1: a suffix range with a non-zero length is satisfiable whatever the size,
  // and a suffix longer than the representation selects all of it: of an empty file that is
  // nothing, which no 206 can say (`bytes 0--1/0`). So the whole, empty file: 200 (as nginx).
  if (wanted.length === 0 && emptySuffix) return FULL;
  if (wanted.length === 0)
    throw new RangeNotSatisfiableError(size, `no range of ${JSON.stringify(header.slice(0, 80))} overlaps the file's ${size} bytes`);
  const ranges = coalesce(wanted);
  if (ranges.length > maxParts) return FULL;
  return { kind: 'partial', ranges };
}

interface Spec {
  first?: number;
  last?: number;
}

function parseSpec(spec: string): Spec {
  const r = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
  if (!r || (r[1] === '' && r[2] === '')) throw new BadRequestError('range', `malformed range ${JSON.stringify(spec.slice(0, 80))}`);
  // Digits past 2^53 are still well-formed (RFC 9110 § 14.1.1): no file is that large, so such a
  // bound means "beyond the end". Capping keeps every comparison below exact.
  const bound = (digits: string) => (digits === '' ? undefined : Math.min(Number(digits), Number.MAX_SAFE_INTEGER));
  const first = bound(r[1]!);
  const last = bound(r[2]!);
  if (first !== undefined && last !== undefined && last < first)
    throw new BadRequestError('range', `range end ${last} before start ${first}`);
  return { first, last };
}

/** The span within [0, size), or undefined when the spec does not overlap the file. */
function satisfiable({ first, last }: Spec, size: number): ByteSpan | undefined {
  if (first === undefined) {
    // Suffix: the last `last` bytes, all of them if the file is shorter (an empty file: planRanges).
    if (last === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - last!), end: size - 1 };
  }
  if (first >= size) return undefined;
  return { start: first, end: Math.min(last ?? size - 1, size - 1) };
}

/** Sorted ascending; overlapping or touching spans merged. */
export function coalesce(spans: readonly ByteSpan[]): ByteSpan[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: ByteSpan[] = [];
  for (const s of sorted) {
    const prev = out[out.length - 1];
    if (prev && s.start <= prev.end + 1) prev.end = Math.max(prev.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/**
 * One range as the CLI and the engine take it (`A-B`, `A-`, `-N` after `bytes=`): undefined for
 * the whole file. Several ranges are not one contiguous output: also undefined (whole file).
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteSpan | undefined {
  const plan = planRanges(header, size);
  return plan.kind === 'partial' && plan.ranges.length === 1 ? plan.ranges[0] : undefined;
}
