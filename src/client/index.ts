// chunkstream/client: the WebSocket client SDK (Node ≥ 20 and browsers). Only verify.ts uses Node
// modules (hash threads); browser builds replace it with verify.browser.ts (package.json `browser`).
import { filter, map, throwIfEmpty, type Observable, type OperatorFunction } from 'rxjs';
import * as z from '../internal/zod.js';
import type { FileInfo } from '../catalog/schema.js';
import { InternalError, InvalidOptionError } from '../errors.js';
import { resolveOptions } from '../internal/options.js';
import { ConnectionLostError, RemoteError } from '../protocol/errors.js';
import type { ClientMessage, ServerMessage } from '../protocol/messages.js';
import { downloadObservable, type ClientDownloadOptions } from './download.js';
import { Link, type WebSocketConstructor, type WebSocketLike } from './connection.js';
import type { ClientUploadSource } from './source.js';
import { uploadObservable, type ClientUploadOptions, type UploadEvent } from './upload.js';

export type { ClientDownloadOptions, ClientUploadOptions, ClientUploadSource, UploadEvent, WebSocketConstructor, WebSocketLike, FileInfo };
export type { ByteRange } from '../engine/plan.js';
export { ChunkstreamError, isChunkstreamError, type ErrorCode } from '../errors.js';
export { ConnectionLostError, RemoteError, UnauthorizedError, ProtocolError, CloseCode } from '../protocol/errors.js';

/**
 * An upload's events → its committed file, typed: `const file = await
 * lastValueFrom(client.upload(data, { name }).pipe(committed()))`. (The events are a union, so
 * destructuring `file` from the last one does not type-check.)
 */
export function committed(): OperatorFunction<UploadEvent, FileInfo> {
  return (events) =>
    events.pipe(
      filter((e): e is Extract<UploadEvent, { type: 'committed' }> => e.type === 'committed'),
      map((e) => e.file),
      throwIfEmpty(() => new InternalError('the upload ended without a committed file')),
    );
}

export interface ConnectOptions {
  /** Sent in a first `auth` message (works in browsers, which cannot set headers). */
  token?: string;
  /** A WebSocket implementation; default: the global one, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** Redial attempts after a dropped connection (default 5; backoff 100 ms × 2^n). */
  reconnectAttempts?: number;
  reconnectDelayMs?: number;
}

export interface UploadStatus {
  uploadId: string;
  name: string;
  offset: number;
  expires: string;
}

export interface Client {
  /** Streams `source` to the server; resumes after a dropped connection when the source can be re-read. */
  upload(source: ClientUploadSource, options: ClientUploadOptions): Observable<UploadEvent>;
  /** The file's bytes in order; every whole chunk is verified against its SHA-256 before delivery (code `integrity`). */
  download(id: string, options?: ClientDownloadOptions): Observable<Uint8Array>;
  list(): Promise<FileInfo[]>;
  stat(id: string): Promise<FileInfo>;
  remove(id: string): Promise<FileInfo>;
  /** An unfinished upload's durable offset (what a resume continues from). */
  status(uploadId: string): Promise<UploadStatus>;
  /** Closes the connection; transfers in flight fail with code `aborted`. */
  close(): Promise<void>;
}

const optionsSchema = z.strictObject({
  token: z.string().check(z.maxLength(4096)),
  WebSocket: z.custom<WebSocketConstructor>((w) => typeof w === 'function', 'must be a WebSocket constructor'),
  reconnectAttempts: z.number().check(z.int(), z.gte(0), z.lte(100)),
  reconnectDelayMs: z.number().check(z.int(), z.gte(0), z.lte(60_000)),
});

const CONNECT_DEFAULTS = { token: '', reconnectAttempts: 5, reconnectDelayMs: 100 } as const;

/** Connects (and authenticates) to a chunkstream WebSocket endpoint, e.g. `ws://host:8080/v1/ws`. */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Client> {
  const WebSocket = (options.WebSocket ?? (await defaultWebSocket())) as WebSocketConstructor;
  const o = resolveOptions(optionsSchema, CONNECT_DEFAULTS, { ...options, WebSocket });
  if (!/^(wss?|https?):\/\/[^/]/i.test(String(url)))
    throw new InvalidOptionError('url', `must be a ws:// or wss:// URL (got ${JSON.stringify(url)})`);
  const link = new Link({ url, ...o });
  await link.connected();

  const request = <T>(build: (stream: number) => ClientMessage, pick: (msg: ServerMessage) => T | undefined): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const stream: number = link.register({
        start: () => link.send(build(stream)),
        message(msg) {
          if (msg.type === 'error') return this.fail(new RemoteError(msg.code, msg.message, msg.stream));
          const value = pick(msg);
          if (value === undefined) return;
          link.release(stream);
          resolve(value);
        },
        frame() {},
        lost(err) {
          this.fail(new ConnectionLostError(err.message));
          return false;
        },
        fail(err) {
          link.release(stream);
          reject(err);
        },
      });
    });

  return {
    upload: (source, uploadOptions) => uploadObservable(link, source, uploadOptions),
    download: (id, downloadOptions = {}) => downloadObservable(link, id, downloadOptions),
    list: () =>
      request(
        (stream) => ({ type: 'list', stream }),
        (m) => (m.type === 'files' ? m.files : undefined),
      ),
    stat: (id) =>
      request(
        (stream) => ({ type: 'stat', stream, id }),
        (m) => (m.type === 'file' ? m.file : undefined),
      ),
    remove: (id) =>
      request(
        (stream) => ({ type: 'remove', stream, id }),
        (m) => (m.type === 'file' ? m.file : undefined),
      ),
    status: (uploadId) =>
      request(
        (stream) => ({ type: 'status', stream, uploadId }),
        (m) => (m.type === 'status' ? { uploadId: m.uploadId, name: m.name, offset: m.offset, expires: m.expires } : undefined),
      ),
    close: () => link.close(),
  };
}

async function defaultWebSocket(): Promise<unknown> {
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (global) return global;
  const specifier = 'ws'; // not bundled for browsers, which have a global WebSocket
  const mod = (await import(specifier)) as { default: unknown };
  return mod.default;
}
