import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { bytes } from '../helpers/core.js';
import { assertBuilt, serve, type ServeChild } from '../helpers/http-cli.js';
import { tempDir } from '../helpers/core.js';

// `chunkstream serve --token`: the page asks for the token, keeps it for the tab only, and says
// clearly when it is wrong or when the server goes away.
let browser: Browser;
let tmp: string;
let server: ServeChild;
const TOKEN = 'page-auth-s3cret';

beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir('web-auth');
  browser = await launchBrowser();
  server = await serve(['--port', '0', '--dir', path.join(tmp, 'store'), '--token', TOKEN]);
});
afterAll(async () => {
  await server?.stop();
  await browser?.close();
});

describe('the web page on a server with tokens', () => {
  it('asks for the token, shows an error for a wrong one, and keeps a right one in sessionStorage only', async () => {
    const { page, problems } = await browser.page();
    await page.goto(server.url);
    const form = page.getByRole('heading', { name: 'This server needs a token' });
    await form.waitFor();
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token'); // focus is where to type

    await page.getByLabel('Access token').fill('not-the-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    const error = page.locator('#token-error');
    await error.getByText('The server did not accept the token').waitFor();
    expect(await page.getByLabel('Access token').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => sessionStorage.getItem('chunkstream.token'))).toBeNull();

    await page.getByLabel('Access token').fill(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByText('No files yet').waitFor();
    expect(await form.isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('chunkstream.token'))).toBe(TOKEN);
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    expect(page.url()).not.toContain(TOKEN);

    // A reload in the same tab needs no new prompt; "Change token" forgets it.
    await page.reload();
    await page.getByText('No files yet').waitFor();
    expect(await form.isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Change token' }).click();
    await form.waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('chunkstream.token'))).toBeNull();
    expect(page.url()).not.toContain(TOKEN);
    expect(problems).toEqual([]);
  });

  it('shows the token prompt again when a stored token stops working', async () => {
    const { page, problems } = await browser.page();
    // Settled before the reload: else the reload aborts the first load's favicon request (ERR_ABORTED).
    await page.goto(server.url, { waitUntil: 'networkidle' });
    await page.evaluate(() => sessionStorage.setItem('chunkstream.token', 'revoked-token'));
    await page.reload();
    await page.locator('#token-error').getByText('The server did not accept the token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('chunkstream.token'))).toBeNull();
    expect(problems).toEqual([]);
  });

  it('copies a share link that downloads the file byte-exact in a browser that never had the token', async () => {
    const data = Buffer.from(bytes(300_000, 21));
    const put = await fetch(`${server.url}/v1/files?name=shared.bin`, {
      method: 'PUT',
      body: data,
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(put.status).toBe(201);
    const { id } = (await put.json()) as { id: string };
    const { page, problems } = await browser.page();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.goto(server.url);
    await page.getByLabel('Access token').fill(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Copy a share link to shared.bin' }).click();
    await page
      .getByRole('status')
      .getByText(/Copied a share link to shared\.bin \(valid until /)
      .waitFor();
    const link = await page.evaluate(() => navigator.clipboard.readText());
    expect(link).toMatch(new RegExp(`^${server.url}/v1/files/${id}\\?expires=\\d+&sig=[\\w-]{43}$`));
    expect(link).not.toContain(TOKEN);
    await page.close();
    expect(problems).toEqual([]);

    // A fresh profile: no sessionStorage, no token, nothing but the URL.
    const other = await launchBrowser();
    try {
      const fresh = await other.page();
      const [download] = await Promise.all([fresh.page.waitForEvent('download'), fresh.page.goto(link).catch(() => undefined)]);
      expect(await download.failure()).toBeNull();
      expect(
        createHash('sha256')
          .update(await readFile(await download.path()))
          .digest('hex'),
      ).toBe(createHash('sha256').update(data).digest('hex'));
      // The signature covers the file: the same link for another id is refused.
      const forged = link.replace(`/v1/files/${id}?`, `/v1/files/${'0'.repeat(id.length)}?`);
      const refused = await other.context.request.get(forged);
      expect(refused.status()).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('forbidden');
      expect(fresh.problems.filter((p) => !p.includes(link))).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('says the connection is lost when the server goes away, and reconnects when it is back', async () => {
    const dir = path.join(tmp, 'lost');
    let s = await serve(['--port', '0', '--dir', dir]);
    const port = new URL(s.url).port;
    const { page, problems } = await browser.page();
    await page.goto(s.url);
    await page.getByText('No files yet').waitFor();
    await s.stop();
    await page.getByRole('button', { name: 'Refresh' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Lost the connection to the server' });
    await alert.waitFor({ timeout: 30_000 });
    expect(await page.locator('#conn').textContent()).toBe('Connection lost');
    s = await serve(['--port', port, '--dir', dir]);
    try {
      await alert.getByRole('button', { name: 'Reconnect' }).click();
      await page.locator('#conn').getByText('Connected').waitFor();
      await page.getByText('No files yet').waitFor();
    } finally {
      await s.stop();
    }
    // The browser reports each refused redial; nothing else may go wrong.
    expect(problems.filter((p) => !/WebSocket connection to .* failed/.test(p))).toEqual([]);
  });
});
