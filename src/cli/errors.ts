import { ChunkstreamError } from '../errors.js';

/**
 * Some of several items failed, each said on stderr as it happened. The code is the first
 * failure's (so the exit status says what went wrong), its cause that failure.
 */
export class PartlyFailedError extends ChunkstreamError {
  constructor(
    readonly first: ChunkstreamError,
    failed: number,
    total: number,
    what: string,
  ) {
    super(first.code, `${failed} of ${total} ${what} (see above)`, { cause: first });
  }
}

/** `get` will not write a name from the store outside the directory it was given. */
export class UnsafeNameError extends ChunkstreamError {
  constructor(name: string, dir: string, why: string) {
    super('bad_request', `refusing to save ${JSON.stringify(name)} under ${dir}: ${why}`);
  }
}

/** `verify` found problems: the first is named, the rest were printed. */
export class VerifyFailedError extends ChunkstreamError {
  constructor(problems: number, first: string) {
    super('integrity', `${problems} problem(s) found, first: ${first}`);
  }
}

/** `get -o` cannot create or write its output (a read-only, missing or full place). */
export class CannotWriteError extends ChunkstreamError {
  constructor(target: string, err: unknown) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EROFS'
        ? 'read-only file system'
        : e.code === 'EACCES' || e.code === 'EPERM'
          ? 'permission denied'
          : e.code === 'ENOENT'
            ? 'the file system does not let a file be made there'
            : e.code === 'ENOSPC'
              ? 'no space left on the device'
              : e.code === 'EISDIR'
                ? 'it is a directory'
                : e.message;
    super('bad_request', `cannot write ${target}: ${why}`, { cause: err });
  }
}
