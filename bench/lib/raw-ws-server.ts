// The reference WebSocket server of scenario 5: on a text message "go", sends FILE in
// CHUNK-byte binary frames read with a FileHandle, waiting while ws.bufferedAmount > 2 × CHUNK.
// Usage: node --import tsx bench/lib/raw-ws-server.ts FILE CHUNK   (prints "listening on URL")
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const file = process.argv[2]!;
const chunk = Number(process.argv[3] ?? 4 * 1024 * 1024);
const server = createServer();
const wss = new WebSocketServer({ server, maxPayload: 1024 });

async function sendFile(ws: WebSocket): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    for (let off = 0; off < size && ws.readyState === ws.OPEN; off += chunk) {
      while (ws.bufferedAmount > 2 * chunk && ws.readyState === ws.OPEN) await new Promise((r) => setTimeout(r, 1));
      const buf = Buffer.allocUnsafe(Math.min(chunk, size - off));
      const { bytesRead } = await fh.read(buf, 0, buf.length, off);
      ws.send(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    // Text messages arrive as one Buffer (ws's default binaryType).
    if (!isBinary && (data as Buffer).toString() === 'go') void sendFile(ws).catch(() => ws.terminate());
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`raw-ws listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
