import http from 'node:http';
import https from 'node:https';
import { InvalidOptionError } from '../errors.js';
import { str, UsageError, type Parsed } from './args.js';
import { parseExpires } from './durations.js';
import { errorOf } from './remote.js';
import { idArg } from './id-arg.js';
import { serverEndpoint } from './server-url.js';

/**
 * `chunkstream link ID [--expires 1h] --server URL [--token T]`: asks the server for a signed
 * link (POST /v1/files/ID/links) and prints its URL. Whoever has the URL may download that file
 * (GET/HEAD, ranges) without a token until it expires.
 */
export async function link(p: Parsed): Promise<void> {
  if (p.positionals.length !== 1)
    throw new UsageError(p.positionals.length ? `unexpected argument ${JSON.stringify(p.positionals[1])}` : 'missing <id>');
  const server = str(p, 'server');
  if (!server) throw new UsageError('link needs --server URL (or CHUNKSTREAM_SERVER): the server signs the link');
  const id = idArg(p.positionals[0]!);
  const expiresIn = parseExpires(str(p, 'expires'), p.origin.get('expires'));
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new InvalidOptionError(p.origin.get('server') ?? '--server', 'must be a URL like http://127.0.0.1:8080');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new InvalidOptionError(p.origin.get('server') ?? '--server', 'must be an http:// or https:// URL');
  const url = serverEndpoint(base, `/v1/files/${encodeURIComponent(id)}/links`);
  const body = JSON.stringify({ expiresIn });
  const token = str(p, 'token');
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'POST', headers, agent: false }, resolve);
    req.once('error', reject);
    req.end(body);
  });
  if ((res.statusCode ?? 500) >= 400) throw await errorOf(res);
  let text = '';
  for await (const piece of res.setEncoding('utf8')) text += piece;
  const answer = JSON.parse(text) as { url: string; expires: string };
  process.stdout.write(`${answer.url}\n`);
}
