import { BadRequestError, RangeNotSatisfiableError } from '../errors.js';
import { isValidKey } from './types.js';

export function checkKey(backend: string, key: string): void {
  if (typeof key !== 'string' || !isValidKey(key)) {
    throw new BadRequestError('key', `[${backend}] invalid object key ${JSON.stringify(key)}`);
  }
}

/** Inclusive range of an in-memory object, checked against its size. */
export function sliceRange(data: Uint8Array, range?: { start: number; end: number }): Uint8Array {
  if (!range) return data;
  const { start, end } = range;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end >= start && start < data.byteLength)) {
    throw new RangeNotSatisfiableError(data.byteLength, `range ${start}-${end} outside object of ${data.byteLength} bytes`);
  }
  return data.subarray(start, Math.min(end, data.byteLength - 1) + 1);
}
