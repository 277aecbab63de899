import type { FileInfo, Subscription, UploadEvent } from './sdk.js';
import { canRetry, describe, errorCode } from './messages.js';
import { fileKey, forget, recall, remember } from './resume.js';
import { retryDelay } from './retry.js';
import type { Session } from './session.js';
import { TransferRow, type Transfers } from './transfers.js';
import { formatPercent } from './format.js';

/** Uploads at once; more wait their turn (each one holds a share of the server's budget). */
const PARALLEL = 2;

interface Job {
  file: File;
  row: TransferRow;
  sub?: Subscription;
  cancelled: boolean;
  /** Holds one of the PARALLEL slots (running, or waiting to retry). */
  holding: boolean;
  attempt: number;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Uploads over the SDK, with the File itself as the source: the SDK reads it in slices from any
 * offset, so a dropped connection resumes by itself, and with the upload id kept per file
 * (resume.ts) a reload resumes once the same file is picked again.
 */
export class Uploads {
  private readonly queue: Job[] = [];
  private running = 0;
  /** Files (by resume key) queued or in flight: the same file twice would fight over one upload id. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly session: Session,
    private readonly transfers: Transfers,
    private readonly onCommitted: (file: FileInfo) => void,
  ) {}

  add(files: Iterable<File>): void {
    for (const file of files) {
      const row = new TransferRow(this.transfers, 'upload', file.name, file.size);
      if (this.busy.has(fileKey(file))) {
        row.failed('This file is already being uploaded (see above).');
        continue;
      }
      this.busy.add(fileKey(file));
      const job: Job = { file, row, cancelled: false, holding: false, attempt: 0 };
      row.onCancel(() => this.cancel(job));
      this.queue.push(job);
    }
    this.pump();
  }

  private pump(): void {
    while (this.running < PARALLEL && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.cancelled) continue;
      this.hold(job);
      void this.run(job);
    }
  }

  private cancel(job: Job): void {
    job.cancelled = true;
    clearTimeout(job.timer);
    job.sub?.unsubscribe(); // the SDK tells the server to cancel; nothing is committed
    job.sub = undefined;
    forget(job.file); // an explicit cancel starts over next time
    this.busy.delete(fileKey(job.file));
    job.row.cancelled();
    this.release(job);
  }

  private hold(job: Job): void {
    job.holding = true;
    this.running++;
  }

  private release(job: Job): void {
    if (!job.holding) return;
    job.holding = false;
    this.running--;
    this.pump();
  }

  private async run(job: Job): Promise<void> {
    const { file, row } = job;
    let client;
    try {
      client = await this.session.get();
    } catch (err) {
      return this.failed(job, err);
    }
    if (job.cancelled) return;
    const uploadId = recall(file);
    row.note(uploadId ? 'Looking for the earlier upload…' : 'Starting…');
    // A cancel here is for good (the page forgets the upload): the server drops it too.
    job.sub = client.upload(file, { name: file.name, uploadId, discardOnCancel: true }).subscribe({
      next: (e: UploadEvent) => {
        if (e.type === 'started') {
          remember(file, e.uploadId);
          if (e.offset > 0) row.note(`Resuming at ${formatPercent(e.offset, file.size)}`);
          row.progress(e.offset);
        } else if (e.type === 'progress') {
          row.progress(e.bytes);
        } else {
          forget(file);
          this.busy.delete(fileKey(file));
          job.sub = undefined;
          row.done(e.file.size === file.size ? 'Uploaded' : `Uploaded (${e.file.size} bytes)`);
          this.onCommitted(e.file);
          this.release(job);
        }
      },
      error: (err: unknown) => {
        job.sub = undefined;
        // The remembered upload expired or was never there: start a fresh one.
        if (uploadId && (errorCode(err) === 'not_found' || errorCode(err) === 'expired')) {
          forget(file);
          return void this.run(job);
        }
        this.failed(job, err);
      },
    });
  }

  private failed(job: Job, err: unknown): void {
    if (job.cancelled) return;
    const delay = retryDelay(err, job.attempt);
    if (delay !== undefined) {
      job.attempt++;
      job.row.note(`${describe(err)} Trying again in ${Math.round(delay / 1000)} s…`);
      job.timer = setTimeout(() => void this.run(job), delay);
      return;
    }
    this.release(job);
    this.busy.delete(fileKey(job.file));
    const message = describe(err, { size: job.file.size });
    // A refused name or a file over the limit fails the same way every time: no Retry for those.
    if (!canRetry(err)) return job.row.failed(message);
    job.row.failed(message, () => {
      if (this.busy.has(fileKey(job.file))) return job.row.failed('This file is already being uploaded (see above).');
      this.busy.add(fileKey(job.file));
      job.attempt = 0;
      job.row.restart(() => this.cancel(job));
      this.hold(job);
      void this.run(job);
    });
  }
}
