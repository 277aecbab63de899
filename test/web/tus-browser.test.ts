import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { assertBuilt, serve, type ServeChild } from '../helpers/http-cli.js';
import { request } from '../helpers/http-server.js';
import { tempDir } from '../helpers/core.js';

// tus from a browser: tus-js-client's browser build, once on the server's own page (the token the
// page keeps for its tab) and once on another origin's page (Uppy's case: CORS, preflights).
const TOKEN = 'tus-browser-s3cret';
const TUS_JS = path.resolve('node_modules/tus-js-client/dist/tus.min.js');
let browser: Browser;
let tmp: string;
let server: ServeChild;
let app: http.Server;
let appUrl: string;

/** Uploads `text` as `name` with tus-js-client in the page; resolves with the committed file's id. */
const UPLOAD = ([endpoint, token, name, text]: string[]) =>
  new Promise<string>((resolve, reject) => {
    const tus = (window as unknown as { tus: { Upload: new (f: Blob, o: object) => { start(): void } } }).tus;
    let fileId = '';
    new tus.Upload(new Blob([text!]), {
      endpoint,
      headers: { Authorization: `Bearer ${token}` },
      metadata: { filename: name, filetype: 'text/plain' },
      chunkSize: 7,
      retryDelays: null,
      onAfterResponse: (_req: unknown, res: { getHeader(h: string): string | undefined }) => {
        fileId = res.getHeader('Chunkstream-File-Id') ?? fileId;
      },
      onSuccess: () => resolve(fileId),
      onError: (e: Error) => reject(new Error(String(e))),
    }).start();
  });

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('web-tus');
  const tusJs = await readFile(TUS_JS);
  app = http.createServer((req, res) => {
    if (req.url === '/tus.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(tusJs);
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>app</title><script src="/tus.js"></script>');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  server = await serve(['--port', '0', '--dir', path.join(tmp, 'store'), '--token', TOKEN, '--cors-origin', appUrl]);
});
afterAll(async () => {
  await server?.stop();
  await browser?.close();
  await new Promise((resolve) => app?.close(resolve));
});

async function stored(id: string): Promise<{ name: string; body: string }> {
  const meta = (await request(`${server.url}/v1/files/${id}/meta`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json<{
    name: string;
  }>();
  const body = (await request(`${server.url}/v1/files/${id}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).body.toString();
  return { name: meta.name, body };
}

describe('tus-js-client in Chromium', () => {
  it('on the server’s own page, with the token the page keeps for its tab', async () => {
    const { page, problems } = await browser.page();
    await page.goto(server.url);
    await page.getByLabel('Access token').fill(TOKEN);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('#app').waitFor();
    // The page's CSP admits only its own scripts: the client is evaluated through the debugger, as a user's console would.
    await page.evaluate(await readFile(TUS_JS, 'utf8'));
    const token = await page.evaluate(() => sessionStorage.getItem('chunkstream.token') ?? '');
    const text = 'uploaded with tus from the page\n';
    const id = await page.evaluate(UPLOAD, [`${server.url}/v1/tus/`, token, 'from-page.txt', text]);
    expect(await stored(id)).toEqual({ name: 'from-page.txt', body: text });
    expect(problems).toEqual([]);
  });

  it('on another origin’s page allowed by --cors-origin: preflights pass and the tus headers are readable', async () => {
    const { page, problems } = await browser.page();
    await page.goto(appUrl);
    const text = 'cross-origin tus upload, in several PATCHes\n';
    const id = await page.evaluate(UPLOAD, [`${server.url}/v1/tus/`, TOKEN, 'from-app.txt', text]);
    expect(id).toMatch(/^[0-9a-z]{16,64}$/); // Chunkstream-File-Id is exposed to the page
    expect(await stored(id)).toEqual({ name: 'from-app.txt', body: text });
    expect(problems).toEqual([]);
  });
});
