import { WebSocket } from 'ws';

/**
 * Scenario 5's reference client: a raw `ws` client that sends "go" to bench/lib/raw-ws-server.ts
 * and counts the binary bytes; rejects unless it got `expect`.
 */
export function rawWsGet(url: string, expect: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 256 * 1024 * 1024 });
    let n = 0;
    ws.on('open', () => ws.send('go'));
    ws.on('message', (data: Buffer) => {
      n += data.byteLength;
      if (n >= expect) ws.close();
    });
    ws.on('close', () => (n === expect ? resolve() : reject(new Error(`raw ws: ${n} bytes, expected ${expect}`))));
    ws.on('error', reject);
  });
}
