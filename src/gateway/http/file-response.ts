import type { IncomingHttpHeaders } from 'node:http';
import type { Manifest } from '../../catalog/schema.js';
import { ChunkstreamError, PreconditionFailedError } from '../../errors.js';
import { evaluatePreconditions, ifRangeHolds } from './conditional.js';
import { multipartBody, type BodySegment } from './multipart.js';
import { planRanges } from '../../protocol/http-ranges.js';
import { fileHeaders, validators } from './representation.js';

export type FileResponse =
  | { kind: 'not_modified'; headers: Record<string, string> }
  | { kind: 'error'; error: ChunkstreamError; headers: Record<string, string> }
  | {
      kind: 'body';
      status: 200 | 206;
      headers: Record<string, string | number>;
      /** What to send, in order; spans are read from the store. Empty for HEAD. */
      segments: BodySegment[];
    };

/**
 * Decides the whole answer to GET/HEAD of a file before a byte is read: preconditions (304,
 * 412), If-Range, Range (206 single or multipart/byteranges, 416), headers and the exact
 * Content-Length. Pure: the caller only reserves, streams and writes.
 */
export function planFileResponse(
  method: string,
  headers: IncomingHttpHeaders,
  m: Pick<Manifest, 'name' | 'sha256' | 'created' | 'size'>,
  o: { maxAgeS?: number } = {},
): FileResponse {
  const common = fileHeaders(m, o);
  const v = validators(m);
  const pre = evaluatePreconditions(method, headers, v);
  // A 304 carries the validators and caching headers, not the entity's own (RFC 9110 § 15.4.5).
  const cached: Record<string, string> = { ...common };
  delete cached['Content-Type'];
  delete cached['Content-Disposition'];
  if (pre === 'not_modified') return { kind: 'not_modified', headers: cached };
  if (pre === 'failed') {
    return { kind: 'error', error: new PreconditionFailedError(preconditionMessage(headers)), headers: cached };
  }
  let plan;
  try {
    plan = planRanges(ifRangeHolds(headers, v) ? headers.range : undefined, m.size);
  } catch (err) {
    return { kind: 'error', error: err as ChunkstreamError, headers: cached };
  }
  const head = method === 'HEAD';
  if (plan.kind === 'full') {
    return {
      kind: 'body',
      status: 200,
      headers: { ...common, 'Content-Length': m.size },
      segments: head || m.size === 0 ? [] : [{ span: { start: 0, end: m.size - 1 } }],
    };
  }
  if (plan.ranges.length === 1) {
    const span = plan.ranges[0]!;
    return {
      kind: 'body',
      status: 206,
      headers: { ...common, 'Content-Length': span.end - span.start + 1, 'Content-Range': `bytes ${span.start}-${span.end}/${m.size}` },
      segments: head ? [] : [{ span }],
    };
  }
  const body = multipartBody(plan.ranges, m.size, common['Content-Type']!);
  return {
    kind: 'body',
    status: 206,
    headers: { ...common, 'Content-Type': body.contentType, 'Content-Length': body.length },
    segments: head ? [] : body.segments,
  };
}

function preconditionMessage(headers: IncomingHttpHeaders): string {
  const which = ['if-match', 'if-unmodified-since', 'if-none-match'].find((h) => headers[h] !== undefined) ?? 'precondition';
  return `${which}: the condition does not hold for this file (it has another ETag or is older than the date)`;
}
