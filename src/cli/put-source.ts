import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ConnectionLostError } from '../protocol/errors.js';
import type { Input } from './put-inputs.js';

/**
 * The bytes of a put's input from `offset` (where the store says the upload stands): the one
 * place an upload's source is made. Only a regular file can start anywhere but 0.
 */
export function openSource(input: Input, offset: number): Readable {
  if (input.kind === 'file') return createReadStream(input.path, { start: offset });
  if (offset !== 0)
    throw new ConnectionLostError(`${input.kind === 'stdin' ? 'stdin' : input.path} cannot be re-read to resume at byte ${offset}`);
  return input.kind === 'stdin' ? process.stdin : createReadStream(input.path);
}
