import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { MethodNotAllowedError, UnsupportedTransferCodingError, type ChunkstreamError } from '../../errors.js';

/**
 * RFC 9112 § 6.1: a server that receives a transfer coding it does not understand answers 501.
 * Node's parser removes only the `chunked` framing: `gzip, chunked` would hand the handler the
 * gzip bytes, stored as if they were the file. Only plain `chunked` (or none) is taken.
 */
export function checkTransferCoding(req: IncomingMessage): ChunkstreamError | undefined {
  const te = req.headers['transfer-encoding'];
  if (te === undefined) return undefined;
  const codings = te
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '');
  const other = codings.filter((c) => c !== 'chunked');
  if (other.length === 0 && codings.length === 1) return undefined;
  const named = other.length > 0 ? other : codings;
  return new UnsupportedTransferCodingError(
    `Transfer-Encoding: ${named.map((c) => JSON.stringify(c.slice(0, 40))).join(', ')} is not decoded here: send the body plain or with chunked only`,
  );
}

/** A request answered on its raw socket (refused upgrade, CONNECT): what the access log and metrics record of it. */
export type RawRefusal = (req: IncomingMessage, status: number, code?: string) => void;

/**
 * The HTTP/1.1 edges Node leaves to the application:
 * - Half-close: a client may send its request and shut its write side (`curl` over some
 *   proxies, `nc -N`). Node's default aborts the request at the FIN, so a file GET whose answer
 *   is not written at once got none. With httpAllowHalfOpen the answer is written, and Node
 *   ends the socket after it (the response is marked last), or at once when idle.
 * - CONNECT (a proxy's method): Node closes the socket without a word when nobody listens.
 *   Here it gets 405 and Connection: close.
 * - Expect: 100-continue: Node sends `100 Continue` before the handler even ran. Here the
 *   handler decides first (auth, size, the upload's state, the budget); `100 Continue` goes out
 *   only when it starts reading the body, so a refused request gets its final status and the
 *   client never sends the body (Node then closes the connection: the body was not read).
 */
export function attachProtocolEdges(server: Server, o: { refused?: RawRefusal } = {}): void {
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    const err = new MethodNotAllowedError('CONNECT is not served: this is not a proxy');
    o.refused?.(req, err.status, err.code);
    answerRaw(socket, err, 'Allow: GET, HEAD, PUT, POST, PATCH, DELETE, OPTIONS\r\n');
  });
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    continueOnRead(req, res);
    server.emit('request', req, res);
  });
}

/**
 * `100 Continue` just before the body is first read: every consumer (`read()`, 'data',
 * 'readable', pipe) ends up in `_read`. Node's own drain of an unread body after the answer
 * also reads, so nothing is sent once the final status is out.
 */
function continueOnRead(req: IncomingMessage, res: ServerResponse): void {
  const read = req._read.bind(req);
  let sent = false;
  req._read = (size: number) => {
    if (!sent && !res.headersSent && !res.writableEnded && !res.destroyed) res.writeContinue();
    sent = true;
    read(size);
  };
}

/** The HTTP API's `{ error: { code, message } }` on a raw socket, then the socket is closed. */
export function answerRaw(socket: Duplex, err: ChunkstreamError, extra = ''): void {
  if (!socket.writable) return void socket.destroy();
  const body = `${JSON.stringify({ error: { code: err.code, message: err.message } })}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Cache-Control: no-store\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
