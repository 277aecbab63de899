import http from 'node:http';

/** GETs `url` without keep-alive, counting and dropping the body; rejects unless it has `expect` bytes. */
export function httpGet(url: string, expect: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        return;
      }
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.byteLength));
      res.on('end', () => (n === expect ? resolve() : reject(new Error(`GET ${url}: ${n} bytes, expected ${expect}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
