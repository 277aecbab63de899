import { saveAs } from './dom.js';
import { createLink } from './links.js';
import { describe } from './messages.js';
import { retryDelay } from './retry.js';
import type { FileInfo, Subscription } from './sdk.js';
import type { Session } from './session.js';
import { TransferRow, type Transfers } from './transfers.js';

/**
 * Without signed links the page holds a download whole before the browser saves it (a Blob of
 * the chunks): past this, better use the CLI.
 */
export const MAX_IN_PAGE_BYTES = 2 * 1024 ** 3;

/**
 * A download link lives an hour: the browser may resume an interrupted download from the same
 * URL (a Range request) for that long; a transfer already under way is not cut at the expiry.
 */
export const DOWNLOAD_LINK_S = 3600;

/**
 * Saving a file. Where the server signs links (config.links), the page asks for one and hands
 * it to the browser's own download manager: streamed to disk, no size limit, its own progress,
 * pause and resume, and no copy of the file in the page. The server verifies every chunk before
 * it sends it, and cuts the response rather than send a wrong byte (the browser then reports a
 * failed download). Without links, the SDK downloads into a Blob, verified chunk by chunk
 * against the file's SHA-256s before the browser sees any of it (code `integrity` otherwise).
 */
export class Downloads {
  constructor(
    private readonly session: Session,
    private readonly transfers: Transfers,
  ) {}

  save(file: FileInfo): void {
    const row = new TransferRow(this.transfers, 'download', file.name, file.size);
    if (this.session.config.links) return this.viaLink(file, row);
    if (file.size > MAX_IN_PAGE_BYTES) {
      row.failed(
        `Too large to download in the page (over ${MAX_IN_PAGE_BYTES / 1024 ** 3} GiB) on a server without signed links: use the CLI (chunkstream get).`,
      );
      return;
    }
    this.viaSdk(file, row, 0);
  }

  private viaLink(file: FileInfo, row: TransferRow): void {
    let cancelled = false;
    row.restart(() => {
      cancelled = true;
      row.cancelled();
    });
    createLink(this.session, file.id, DOWNLOAD_LINK_S).then(
      ({ url }) => {
        if (cancelled) return;
        saveAs(url, file.name);
        row.handedOff(
          'Saving in your browser’s downloads (they show its progress). The server checks every chunk’s SHA-256 before sending it.',
        );
      },
      (err) => !cancelled && row.failed(describe(err), () => this.viaLink(file, row)),
    );
  }

  private viaSdk(file: FileInfo, row: TransferRow, attempt: number): void {
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
        timer = setTimeout(() => !cancelled && this.viaSdk(file, row, attempt + 1), delay);
        return;
      }
      row.failed(describe(err), () => this.viaSdk(file, row, 0));
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
