import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileInfo } from '../catalog/schema.js';
import type { UploadInfo } from '../engine/uploads.js';
import { BadRequestError, InternalError, InvalidOptionError, type ChunkstreamError, type ErrorCode } from '../errors.js';
import { RemoteError } from '../protocol/errors.js';
import type { Backend } from './backend.js';
import { connectionError } from './remote-errors.js';
import { remotePut } from './remote-put.js';
import { resumable, resumed, resumeHeaders } from './resume.js';
import { serverEndpoint, serverPrefix } from './server-url.js';

/**
 * The same commands through the HTTP API. node:http rather than fetch: request and response
 * bodies are streams with backpressure both ways, so get never holds a whole file. put goes
 * over the WebSocket protocol (remote-put.ts), which resumes by upload id.
 */
/**
 * A keep-alive agent that honours the server's `Keep-Alive: timeout=N` (it drops an idle socket
 * 1 s before N). Node 20's Agent applies the hint only below its own `timeout`: without one it
 * ignored the hint and kept idle sockets until the server closed them, so a request could go out
 * on a socket the server was closing (ECONNRESET). `timeout` also bounds sockets idle in the pool.
 */
export function keepAliveAgent(protocol: string): http.Agent {
  const options = { keepAlive: true, timeout: 60_000 };
  return protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

export function openRemote(server: string, token: string | undefined): Backend {
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new InvalidOptionError('--server', `must be a URL like http://127.0.0.1:8080 (got ${JSON.stringify(server)})`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new InvalidOptionError('--server', 'must be an http:// or https:// URL');
  const agent = keepAliveAgent(base.protocol);

  const call = async (
    method: string,
    path: string,
    opts: { headers?: Record<string, string | number>; body?: Readable; signal?: AbortSignal } = {},
  ) => {
    const url = serverEndpoint(base, path);
    const headers: Record<string, string | number> = { ...opts.headers };
    if (token) headers.Authorization = `Bearer ${token}`;
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method, headers, agent, signal: opts.signal });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve).once('error', reject);
    });
    // A server that answers early (bad name, 401) may close while we still send: its answer
    // wins; a failing source (unreadable file) explains a failed request better than "hang up".
    let sending: unknown;
    if (opts.body)
      pipeline(opts.body, req).catch((err: unknown) => {
        sending = err;
      });
    else req.end();
    let res: IncomingMessage;
    try {
      res = await response;
    } catch (err) {
      throw sending ?? connectionError(base, err);
    }
    if ((res.statusCode ?? 500) >= 400) throw await errorOf(res, token);
    return res;
  };

  const json = async <T>(method: string, path: string): Promise<T> => JSON.parse((await text(await call(method, path))) || 'null') as T;
  const filePath = (id: string) => `/v1/files/${encodeURIComponent(id)}`;

  const put = remotePut(base, token);
  return {
    where: `server:${base.origin}${serverPrefix(base)}`,
    put: (spec) => put.put(spec),
    async get(id, range, signal) {
      const res = await call('GET', filePath(id), { headers: range ? { Range: `bytes=${range}` } : {}, signal });
      const length = Number(res.headers['content-length'] ?? NaN);
      const total = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))?.[1];
      const etag = /^"([0-9a-f]{64})"$/.exec(String(res.headers.etag ?? ''))?.[1];
      const partial = res.statusCode === 206;
      // A proxy or server that ignores Range answers 200 with the whole file: writing that as
      // "bytes A-B" would be silently wrong output.
      if (range && !partial) {
        res.destroy();
        throw new BadRequestError(`range ${range}`, `the server answered ${res.statusCode} with the whole file instead of 206`);
      }
      // A cut download continues from where it stopped, or fails with the server's code (integrity).
      const body = resumable(res, length, async (n) =>
        resumed(await call('GET', filePath(id), { headers: resumeHeaders(res, n), signal }), res, n),
      );
      return { body, length, size: total ? Number(total) : length, sha256: partial ? undefined : etag, name: dispositionName(res) };
    },
    list: async () => (await json<{ files: FileInfo[] }>('GET', '/v1/files')).files,
    stat: (id) => json('GET', `${filePath(id)}/meta`),
    remove: async (id) => void (await text(await call('DELETE', filePath(id)))),
    gc: (o) => {
      const q = new URLSearchParams();
      if (o.graceMs !== undefined) q.set('graceMs', String(o.graceMs));
      if (o.dryRun) q.set('dryRun', '1');
      return json('POST', `/v1/gc${q.size ? `?${q.toString()}` : ''}`);
    },
    verify: (id) => json('POST', id === undefined ? '/v1/verify' : `${filePath(id)}/verify`),
    repair: (id) => json('POST', `${id === undefined ? '/v1/verify' : `${filePath(id)}/verify`}?repair=1`),
    uploads: async () => (await json<{ uploads: UploadInfo[] }>('GET', '/v1/uploads')).uploads,
    uploadStatus: (id) => json('GET', `/v1/uploads/${encodeURIComponent(id)}`),
    abortUpload: async (id) => void (await text(await call('DELETE', `/v1/uploads/${encodeURIComponent(id)}`))),
    async close() {
      agent.destroy();
      await put.close();
    },
  };
}

/** An error body is for one line of stderr: a proxy streaming an endless page must not hang us. */
const ERROR_BODY_LIMIT = 64 * 1024;

async function text(res: IncomingMessage, limit = Infinity): Promise<string> {
  res.setEncoding('utf8');
  let s = '';
  for await (const piece of res) {
    s += piece;
    if (s.length > limit) {
      res.destroy();
      break;
    }
  }
  return s;
}

/** The server's `{ error: { code, message } }`, or a description of whatever it sent instead. */
export async function errorOf(res: IncomingMessage, token?: string): Promise<ChunkstreamError> {
  const body = await text(res, ERROR_BODY_LIMIT).catch(() => '');
  try {
    const e = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
    // Missing and wrong tokens read differently: say which flag or variable to look at.
    const hint =
      e?.code !== 'unauthorized' ? '' : token ? ' (check --token or CHUNKSTREAM_TOKEN)' : ': pass --token TOKEN or set CHUNKSTREAM_TOKEN';
    if (e?.code && e.message) return new RemoteError(e.code as ErrorCode, `${e.message}${hint}`, null);
  } catch {
    // not JSON: fall through
  }
  return new InternalError(`HTTP ${res.statusCode}: ${body.slice(0, 200) || res.statusMessage}`);
}

/**
 * The name of Content-Disposition: `filename*=UTF-8''…` (the exact one), else `filename=…`
 * (a token or quoted: all a plain ASCII name gets; for others, the transliterated fallback).
 */
function dispositionName(res: IncomingMessage): string | undefined {
  const header = String(res.headers['content-disposition'] ?? '');
  const extended = /filename\*=UTF-8''([^;\s]+)/i.exec(header);
  try {
    if (extended) return decodeURIComponent(extended[1]!);
  } catch {
    // malformed: try the plain one
  }
  const plain = /(?:^|;)\s*filename=(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
  return (plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2]) || undefined;
}
