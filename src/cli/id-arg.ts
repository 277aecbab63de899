import { checkId } from '../catalog/model.js';
import { isChunkstreamError } from '../errors.js';
import { UsageError } from './args.js';

/**
 * An id typed on the command line: a malformed one is bad usage (exit 2, as for a bad flag),
 * refused before the store or the server is asked; the message is the store's own.
 */
export function idArg(id: string, field: 'id' | 'uploadId' = 'id'): string {
  try {
    return checkId(id, field);
  } catch (err) {
    if (isChunkstreamError(err)) throw new UsageError(err.message);
    throw err;
  }
}
