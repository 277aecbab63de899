import net, { type AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a WebSocket server that flips one payload byte of the `nth` binary
 * message it relays to the client: corruption in transit, the fault TCP checksums may miss and
 * only end-to-end verification catches. Server → client frames are unmasked, so the proxy can
 * find the payload by parsing frame headers (after the HTTP upgrade response).
 */
export async function flipProxy(target: number, options: { nth: number; at: number }): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    let head = true;
    let pending = Buffer.alloc(0);
    let binaries = 0;
    // Frame parser state: bytes left of the current payload, and where the flip goes in it.
    let left = 0;
    let flipAt = -1;
    upstream.on('data', (data: Buffer) => {
      let buf = data;
      if (head) {
        pending = Buffer.concat([pending, buf]);
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        client.write(pending.subarray(0, end + 4));
        buf = pending.subarray(end + 4);
        head = false;
        pending = Buffer.alloc(0);
      }
      const out: Buffer[] = [];
      while (buf.length > 0) {
        if (left > 0) {
          const n = Math.min(left, buf.length);
          const part = Buffer.from(buf.subarray(0, n));
          if (flipAt >= 0 && flipAt < n) part[flipAt]! ^= 0xff;
          flipAt = flipAt >= 0 ? flipAt - n : -1;
          out.push(part);
          left -= n;
          buf = buf.subarray(n);
          continue;
        }
        pending = Buffer.concat([pending, buf]);
        if (pending.length < 2) break;
        const len7 = pending[1]! & 0x7f;
        const hdr = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
        if (pending.length < hdr) break;
        left = len7 === 126 ? pending.readUInt16BE(2) : len7 === 127 ? Number(pending.readBigUInt64BE(2)) : len7;
        const opcode = pending[0]! & 0x0f;
        flipAt = opcode === 2 && ++binaries === options.nth ? options.at : -1;
        out.push(pending.subarray(0, hdr));
        buf = pending.subarray(hdr);
        pending = Buffer.alloc(0);
      }
      if (out.length) client.write(Buffer.concat(out));
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/v1/ws`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
