import { Observable } from 'rxjs';
import type { FileInfo } from '../catalog/schema.js';
import { ConnectionLostError, RemoteError } from '../protocol/errors.js';
import { FRAME_HEADER_BYTES, FrameType, writeFrameHeader } from '../protocol/frames.js';
import type { Link } from './connection.js';
import type { ByteReader } from './blob-reader.js';
import { planSource, type ClientUploadSource } from './source.js';

export interface ClientUploadOptions {
  /** File name (metadata). Required unless `uploadId` resumes an earlier upload. */
  name?: string;
  /** Resume this unfinished upload (e.g. from another process): the source is re-read from the server's offset. */
  uploadId?: string;
  /** Refuse to commit unless the file has exactly this many bytes (sent automatically for bytes and Blobs). */
  size?: number;
  /** Refuse to commit unless the file's SHA-256 (hex) is this. */
  sha256?: string;
  /**
   * An unsubscribe before `committed` also drops the upload on the server (`cancel {discard}`):
   * for a person who cancelled it and will not resume it. Default false: a cancelled upload stays
   * resumable by its id until it expires (what `put --server` relies on after Ctrl-C).
   */
  discardOnCancel?: boolean;
}

/** Upload events; `started` comes again, with the server's offset, after each resume. */
export type UploadEvent =
  | { type: 'started'; uploadId: string; offset: number }
  | { type: 'progress'; uploadId: string; bytes: number; chunks: number }
  | { type: 'committed'; file: FileInfo };

/**
 * Largest data frame the client sends; the server's maxFrameBytes (1 MiB by default, in `ready`)
 * caps it. Fewer, larger frames: each costs a message event and a credit check on the server,
 * and in browsers a read of the File (see blob-reader.ts).
 */
const MAX_FRAME = 4 * 1024 * 1024;

/**
 * upload ─▶ started {offset, credit} ─▶ data frames within credit ─▶ end ─▶ committed
 *                    ◀── credit (as the server's store consumes) ──┘
 * The source is read only as credit allows, so nothing piles up in the socket.
 */
export function uploadObservable(link: Link, source: ClientUploadSource, options: ClientUploadOptions): Observable<UploadEvent> {
  return new Observable<UploadEvent>((subscriber) => {
    let plan: ReturnType<typeof planSource>;
    try {
      plan = planSource(source);
    } catch (err) {
      subscriber.error(err);
      return;
    }
    let uploadId = options.uploadId;
    let reader: ByteReader | undefined;
    let offset = 0;
    let credit = 0;
    let generation = 0; // bumped per (re)start: a pump of an old socket stops
    let pumping = false;
    let ended = false;
    let finished = false;

    const fail = (err: unknown) => {
      finished = true;
      link.release(stream);
      reader?.close();
      subscriber.error(err);
    };

    const pump = async () => {
      if (pumping) return;
      pumping = true;
      const gen = generation;
      try {
        const max = Math.min(MAX_FRAME, link.info?.maxFrameBytes ?? 65536) - FRAME_HEADER_BYTES;
        while (gen === generation && !finished && !ended && credit > 0) {
          // Opened at the first credit, not at `started`: a resume of an upload that had already
          // committed gets no credit, then `committed`, and never touches the source.
          reader ??= plan.open(offset);
          // The frame's buffer comes from the reader with room for the header: no copy here.
          const frame = await reader.read(Math.min(credit, max), FRAME_HEADER_BYTES);
          if (gen !== generation || finished) return;
          if (frame === null) {
            ended = true;
            link.send({ type: 'end', stream });
          } else {
            writeFrameHeader(frame, FrameType.UPLOAD_DATA, stream, offset);
            link.sendFrame(frame);
            const n = frame.byteLength - FRAME_HEADER_BYTES;
            offset += n;
            credit -= n;
          }
        }
      } catch (err) {
        if (!finished) {
          link.send({ type: 'cancel', stream });
          fail(err);
        }
      } finally {
        if (gen === generation) pumping = false;
      }
    };

    const stream = link.register({
      start() {
        generation++;
        pumping = false;
        ended = false;
        credit = 0;
        reader?.close();
        reader = undefined;
        const size = options.size ?? plan.size;
        link.send({ type: 'upload', stream, ...(uploadId ? { uploadId } : { name: options.name }), size, sha256: options.sha256 });
      },
      message(msg) {
        switch (msg.type) {
          case 'started':
            uploadId = msg.uploadId;
            offset = msg.offset;
            credit = msg.credit;
            subscriber.next({ type: 'started', uploadId, offset });
            return void pump();
          case 'credit':
            credit += msg.bytes;
            return void pump();
          case 'progress':
            return subscriber.next({ type: 'progress', uploadId: msg.uploadId, bytes: msg.bytes, chunks: msg.chunks });
          case 'committed':
            finished = true;
            link.release(stream);
            subscriber.next({ type: 'committed', file: msg.file });
            return subscriber.complete();
          case 'error':
            return fail(new RemoteError(msg.code, msg.message, msg.stream));
        }
      },
      frame() {},
      lost(err) {
        if (plan.resumable) return true;
        fail(
          new ConnectionLostError(
            `${err.message}; the upload cannot resume: its source is a one-shot stream (pass a Uint8Array, a Blob or a function (offset) => source)`,
          ),
        );
        return false;
      },
      fail,
    });

    return () => {
      generation++;
      reader?.close();
      if (finished) return;
      finished = true;
      link.release(stream);
      link.send({ type: 'cancel', stream, ...(options.discardOnCancel ? { discard: true } : {}) });
    };
  });
}
