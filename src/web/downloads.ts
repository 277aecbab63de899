import { saveAs } from './dom.js';
import { describe } from './messages.js';
import { retryDelay } from './retry.js';
import type { FileInfo, Subscription } from './sdk.js';
import type { Session } from './session.js';
import { TransferRow, type Transfers } from './transfers.js';

/**
 * The page holds a download whole before the browser saves it (a Blob of the chunks): past this,
 * better use the CLI or a share link, which the browser streams to disk.
 */
export const MAX_IN_PAGE_BYTES = 2 * 1024 ** 3;

/**
 * Saving a file: through the SDK into a Blob and an object URL. The bytes are verified against
 * the file's SHA-256 before the browser sees any of them (code `integrity` otherwise).
 *
 * Where the server has signed links, the browser could download the link itself instead (no
 * size limit, its own progress and resume): replace the body of `start` with
 * `createLink(session, file.id).then(({ url }) => saveAs(url, file.name))` (links.ts).
 */
export class Downloads {
  constructor(
    private readonly session: Session,
    private readonly transfers: Transfers,
  ) {}

  save(file: FileInfo): void {
    const row = new TransferRow(this.transfers, 'download', file.name, file.size);
    if (file.size > MAX_IN_PAGE_BYTES) {
      row.failed(
        `Too large to download in the page (over ${MAX_IN_PAGE_BYTES / 1024 ** 3} GiB): use the CLI (chunkstream get) or a share link.`,
      );
      return;
    }
    this.start(file, row, 0);
  }

  private start(file: FileInfo, row: TransferRow, attempt: number): void {
    let sub: Subscription | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    row.restart(() => {
      cancelled = true;
      clearTimeout(timer);
      sub?.unsubscribe();
      row.cancelled();
    });
    const parts: Uint8Array[] = [];
    let received = 0;
    const fail = (err: unknown) => {
      const delay = retryDelay(err, attempt);
      if (delay !== undefined) {
        row.note(`${describe(err)} Trying again in ${Math.round(delay / 1000)} s…`);
        timer = setTimeout(() => !cancelled && this.start(file, row, attempt + 1), delay);
        return;
      }
      row.failed(describe(err), () => this.start(file, row, 0));
    };
    this.session.get().then((client) => {
      if (cancelled) return;
      sub = client.download(file.id).subscribe({
        next: (chunk) => {
          parts.push(chunk);
          received += chunk.byteLength;
          row.progress(received);
        },
        error: fail,
        complete: () => {
          const url = URL.createObjectURL(new Blob(parts as BlobPart[], { type: 'application/octet-stream' }));
          parts.length = 0;
          saveAs(url, file.name);
          // The download has its own reference to the Blob once started; a minute is plenty.
          setTimeout(() => URL.revokeObjectURL(url), 60_000);
          row.done('Downloaded, SHA-256 verified');
        },
      });
    }, fail);
  }
}
