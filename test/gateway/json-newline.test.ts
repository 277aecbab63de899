import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { request, testServerPerSuite, upload } from '../helpers/http-server.js';

/** Every JSON answer ends with a newline: `curl …/v1/files/ID/meta` leaves the shell's prompt on a line of its own. */
describe('JSON answers end with a newline', () => {
  const t = testServerPerSuite();

  it('info, lists and errors, whether answered by a route or on the raw socket', async () => {
    const file = await upload(t.url, 'n.txt', Buffer.from('hello'));
    const answers = [
      await request(`${t.url}/v1/files/${file.id}/meta`),
      await request(`${t.url}/v1/files`),
      await request(`${t.url}/v1/files/0000000000000000000000000000`), // 404
      await request(`${t.url}/v1/files?name=x`, { method: 'PATCH' }), // 405
    ];
    for (const a of answers) {
      expect(a.headers['content-type']).toMatch(/^application\/json/);
      expect(a.body.toString().endsWith('}\n') || a.body.toString().endsWith(']\n')).toBe(true);
      expect(Number(a.headers['content-length'])).toBe(a.body.length);
    }
    // CONNECT is answered on the raw socket.
    const raw = await new Promise<string>((resolve) => {
      const s = net.connect({ port: Number(new URL(t.url).port), host: '127.0.0.1' });
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString())).on('close', () => resolve(got));
      s.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    });
    expect(raw).toMatch(/^HTTP\/1\.1 405/);
    expect(raw.endsWith('}\n')).toBe(true);
  });
});
