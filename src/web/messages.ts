// What a person should read for each error code the SDK and the server give.

export interface CodedError {
  code?: string;
  message?: string;
}

export function errorCode(err: unknown): string {
  const code = (err as CodedError | null)?.code;
  return typeof code === 'string' ? code : 'internal';
}

export function describe(err: unknown): string {
  const code = errorCode(err);
  const detail = String((err as CodedError | null)?.message ?? err);
  switch (code) {
    case 'unauthorized':
      return 'The server did not accept the token. Enter a valid one.';
    case 'busy':
      return 'The server is busy (all of its transfer memory is in use). Nothing was lost; try again in a moment.';
    case 'integrity':
      return 'Integrity check failed: the data did not match its SHA-256, so nothing was saved. The stored copy may be damaged (chunkstream verify checks it).';
    case 'missing_chunk':
      return `Part of this file is missing on the server, so nothing was saved. Uploading the same file again restores it. (${detail})`;
    case 'connection_lost':
      return 'Lost the connection to the server.';
    case 'not_found':
      return `Not found (it may have been deleted): ${detail}`;
    case 'aborted':
      return 'Cancelled.';
    case 'too_large':
      return `Too large for this server: ${detail}`;
    default:
      return `${detail} (${code})`;
  }
}
