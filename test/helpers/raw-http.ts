import net from 'node:net';

/** One response as it came off the wire: headers lower-cased (repeated ones joined with ", "). */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  json<T = any>(): T;
}

/**
 * A raw TCP connection for requests a normal client cannot send (two Host headers, absolute-form
 * targets, CONNECT, half-close, a body held back until `100 Continue`). Everything received is
 * kept; `waitFor` resolves once the bytes so far hold `count` whole responses.
 */
export class RawConnection {
  received = Buffer.alloc(0);
  /** Resolves when the server ended or closed its side. */
  readonly ended: Promise<void>;
  private wake: (() => void) | undefined;
  private isEnded = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.wake?.();
    });
    this.ended = new Promise((resolve) => {
      const done = () => {
        this.isEnded = true;
        this.wake?.();
        resolve();
      };
      socket.once('end', done).once('close', done);
    });
    socket.on('error', () => undefined); // a reset after the answer is part of some tests
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, allowHalfOpen: true }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Half-closes: sends FIN, keeps reading. */
  end(): void {
    this.socket.end();
  }

  /** The responses received so far (complete ones only). */
  responses(): RawResponse[] {
    return parseResponses(this.received).responses;
  }

  /** Waits until `count` whole responses arrived (rejects if the server closes before). */
  async waitFor(count: number): Promise<RawResponse[]> {
    for (;;) {
      const { responses } = parseResponses(this.received);
      if (responses.length >= count) return responses;
      if (this.isEnded)
        throw new Error(`connection ended after ${responses.length} response(s): ${this.received.toString('latin1').slice(0, 300)}`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sends `text` on a fresh connection (then FIN if `halfClose`) and reads until the server closes. */
export async function rawExchange(port: number, text: string | Buffer, o: { halfClose?: boolean } = {}): Promise<RawResponse[]> {
  const c = await RawConnection.open(port);
  c.write(text);
  if (o.halfClose) c.end();
  await c.ended;
  c.close();
  return c.responses();
}

/** One request's text: request line, headers in order (repeats allowed), blank line, body. */
export function requestText(line: string, headers: [string, string | number][], body: string | Buffer = ''): Buffer {
  const head = `${line}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'latin1') : body]);
}

/** A body in chunked framing (one chunk, then the last-chunk). */
export function chunked(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
}

/** Responses with Content-Length bodies (or none: 1xx, 204, 304), as our server sends them. */
function parseResponses(buf: Buffer): { responses: RawResponse[] } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const split = buf.indexOf('\r\n\r\n', at);
    if (split < 0) break;
    const lines = buf.subarray(at, split).toString('latin1').split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    const length = status < 200 || status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? 0);
    if (buf.length < split + 4 + length) break;
    const body = buf.subarray(split + 4, split + 4 + length);
    responses.push({ status, headers, body, json: () => JSON.parse(body.toString('utf8')) });
    at = split + 4 + length;
  }
  return { responses };
}
