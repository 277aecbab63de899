import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bytes } from '../helpers/core.js';
import { launchBrowser, type Browser, type WatchedPage } from '../helpers/browser.js';
import { assertBuilt, serve, type ServeChild } from '../helpers/http-cli.js';
import { startProxy, type Proxy } from '../helpers/ws-fault-proxy.js';
import { tempDir } from '../helpers/core.js';

// The page as users get it: `chunkstream serve` (the built CLI, dist/web assets), in headless
// Chromium, driven through its controls. 64 KiB chunks, so a few MB make many chunks to cut between.
let browser: Browser;
let tmp: string;
const servers: ServeChild[] = [];
const proxies: Proxy[] = [];
const pages: Page[] = [];
let n = 0;

beforeAll(async () => {
  assertBuilt();
  browser = await launchBrowser();
  tmp = await tempDir('web-page');
});
afterEach(async () => {
  // Pages first: a page left open would go on redialling a server that is gone.
  for (const p of pages.splice(0)) await p.close();
  for (const p of proxies.splice(0)) await p.close();
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(async () => {
  await browser?.close();
});

async function server(...flags: string[]): Promise<{ url: string; dir: string }> {
  const dir = path.join(tmp, `store-${++n}`);
  const s = await serve(['--port', '0', '--dir', dir, '--chunk-size', '64KiB', ...flags]);
  servers.push(s);
  return { url: s.url, dir };
}

async function proxied(...flags: string[]): Promise<{ url: string; dir: string; proxy: Proxy }> {
  const s = await server(...flags);
  const proxy = await startProxy(Number(new URL(s.url).port));
  proxies.push(proxy);
  return { ...s, url: proxy.url, proxy };
}

/** Same bytes every run (so the screenshots in docs/ change only when the page does). */
async function localFile(name: string, size: number): Promise<{ path: string; sha256: string; data: Buffer }> {
  const dir = path.join(tmp, `files-${++n}`);
  await mkdir(dir, { recursive: true });
  const data = Buffer.from(bytes(size, size));
  const p = path.join(dir, name);
  await writeFile(p, data);
  return { path: p, data, sha256: createHash('sha256').update(data).digest('hex') };
}

/** The page on a proxied server picks a new local file for upload; `fault` is armed before and reached after the pick. */
async function pickThroughFault(name: string, size: number, fault: (proxy: Proxy) => Promise<void>) {
  const { url, proxy } = await proxied();
  const f = await localFile(name, size);
  const { page, problems } = await open(url);
  await page.getByRole('heading', { name: 'Files' }).waitFor();
  const reached = fault(proxy);
  await page.getByLabel(/choose files/).setInputFiles(f.path);
  await reached;
  return { url, proxy, f, page, problems };
}

async function open(url: string): Promise<WatchedPage> {
  const w = await browser.page();
  pages.push(w.page);
  w.page.setDefaultTimeout(30_000);
  await w.page.goto(url);
  return w;
}

const transfer = (page: Page, name: string, state: string) => page.locator(`#transfers li[data-state="${state}"]`, { hasText: name });
const fileRow = (page: Page, name: string) => page.locator('#file-rows tr', { hasText: name });
const listFiles = async (url: string) =>
  ((await (await fetch(`${url}/v1/files`)).json()) as { files: { id: string; name: string; sha256: string }[] }).files;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every chunk file of the store, for finding the ones an upload added. */
async function chunkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(p);
    }
  };
  await walk(path.join(dir, 'chunks'));
  return out.sort();
}

async function corrupt(file: string): Promise<void> {
  const data = await readFile(file);
  data[(await stat(file)).size >> 1]! ^= 0xff;
  await writeFile(file, data);
}

/** The page as on a server without signed links (config.json says so): downloads go through the SDK. */
async function withoutLinks(page: Page): Promise<void> {
  await page.route('**/config.json', (route) => route.fulfill({ json: { auth: false, links: false } }));
}

describe('the web page in Chromium', () => {
  it('uploads two picked files, lists them, downloads one byte-exact and deletes the other', async () => {
    const { url } = await server();
    const a = await localFile('report.pdf', 1_500_000 + 17);
    const b = await localFile('notes.txt', 40_000);
    const { page, problems } = await open(url);
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    await page.getByLabel(/choose files/).setInputFiles([a.path, b.path]);
    await transfer(page, 'report.pdf', 'done').waitFor();
    await transfer(page, 'notes.txt', 'done').waitFor();

    // The list: name, size, date, short copyable sha256.
    await fileRow(page, 'report.pdf').waitFor();
    await fileRow(page, 'notes.txt').waitFor();
    expect(
      await fileRow(page, 'report.pdf')
        .getByRole('button', { name: /Copy the SHA-256/ })
        .textContent(),
    ).toBe(a.sha256.slice(0, 12));
    expect(await fileRow(page, 'report.pdf').textContent()).toContain('1.4 MiB'); // the CLI's units (issue 25): 1 500 017 bytes
    expect(await fileRow(page, 'report.pdf').locator('time').textContent()).toBe('just now');
    expect((await listFiles(url)).map((f) => f.sha256).sort()).toEqual([a.sha256, b.sha256].sort());
    // This server signs links: the share button is offered.
    expect(await page.getByRole('button', { name: 'Copy a share link to report.pdf' }).isDisabled()).toBe(false);
    // The screenshots in docs/ (README, docs/web.md): one file ticked, to show the bulk actions.
    await page.getByRole('checkbox', { name: 'Select report.pdf' }).check();
    await page.getByRole('group', { name: /1 selected/ }).waitFor();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: 'docs/web.png', fullPage: true });
    // A phone: a touch screen (a coarse pointer, no hover), 390 px wide.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
    await cdp.send('Emulation.setEmulatedMedia', {
      features: [
        { name: 'pointer', value: 'coarse' },
        { name: 'hover', value: 'none' },
      ],
    });
    await page.setViewportSize({ width: 390, height: 844 });
    // The whole page in one view (a fullPage screenshot would drop the touch emulation).
    await page.setViewportSize({ width: 390, height: await page.evaluate(() => document.documentElement.scrollHeight) });
    await page.screenshot({ path: 'docs/web-phone.png' });
    await cdp.send('Emulation.setEmulatedMedia', { features: [] });
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: false });
    await cdp.detach();
    await page.setViewportSize({ width: 1000, height: 800 });
    await page.getByRole('button', { name: 'Clear selection' }).click();

    // Download: a signed link the browser downloads itself (streamed to disk, nothing in the page).
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download report.pdf' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('report.pdf');
    const id = (await listFiles(url)).find((f) => f.name === 'report.pdf')!.id;
    expect(download.url()).toMatch(new RegExp(`^${url}/v1/files/${id}\\?expires=\\d+&sig=[\\w-]{43}$`));
    const saved = await readFile(await download.path());
    expect(sha256(saved)).toBe(a.sha256);
    await transfer(page, 'report.pdf', 'done')
      .and(page.locator('[data-kind="download"]'))
      .getByText(/browser’s downloads/)
      .waitFor();

    await page.getByRole('button', { name: 'Delete notes.txt' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete file?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('notes.txt');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await fileRow(page, 'notes.txt').waitFor({ state: 'detached' });
    expect((await listFiles(url)).map((f) => f.name)).toEqual(['report.pdf']);
    await page.getByRole('status').getByText('Deleted notes.txt.').waitFor();
    expect(problems).toEqual([]);
  });

  it('completes an upload whose connection is cut half-way, by itself', async () => {
    const { url, proxy, f, page, problems } = await pickThroughFault('cut.bin', 3 * 1024 * 1024, (p) => p.cutAfter(1024 * 1024));
    await transfer(page, 'cut.bin', 'done').waitFor();
    await fileRow(page, 'cut.bin').waitFor();
    expect(proxy.wsConnections).toBeGreaterThanOrEqual(2); // it reconnected
    expect((await listFiles(url)).find((x) => x.name === 'cut.bin')?.sha256).toBe(f.sha256);
    expect(problems).toEqual([]);
  });

  it('resumes an upload cut by a page reload when the same file is picked again', async () => {
    // Half-way, the connection goes and stays away: the reload happens mid-upload.
    const { url, proxy, f, page, problems } = await pickThroughFault('big.iso', 4 * 1024 * 1024, (p) => p.cutAfter(2 * 1024 * 1024));
    proxy.refuseWs = true;
    const sentBefore = proxy.wsUp;
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('chunkstream.upload:')).length)).toBe(1);
    await page.reload();
    proxy.refuseWs = false;
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    const afterReload = proxy.wsUp;
    await page.getByLabel(/choose files/).setInputFiles(f.path);
    await transfer(page, 'big.iso', 'done').waitFor();
    const resumedSent = proxy.wsUp - afterReload;
    expect(sentBefore).toBeGreaterThan(1024 * 1024);
    // Only what the server did not have yet was sent again (plus a window of credit at most).
    expect(resumedSent).toBeLessThan(f.data.length - 1024 * 1024);
    expect((await listFiles(url)).find((x) => x.name === 'big.iso')?.sha256).toBe(f.sha256);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('chunkstream.upload:')).length)).toBe(0);
    // The refused socket while the page was reloading is the only thing the console may report.
    expect(problems.filter((p) => !/WebSocket connection to .* failed/.test(p))).toEqual([]);
  });

  it('cancels an upload: nothing is committed and its resume id is forgotten', async () => {
    const { url, proxy, f, page, problems } = await pickThroughFault('cancel-me.bin', 2 * 1024 * 1024, (p) => p.holdAfter(512 * 1024));
    await transfer(page, 'cancel-me.bin', 'active').waitFor();
    expect(await transfer(page, 'cancel-me.bin', 'active').innerText()).toMatch(/\d+%/); // its progress line (test/web/format.test.ts)
    // The same file again while it is on its way is refused: two uploads would fight over one id.
    await page.getByLabel(/choose files/).setInputFiles(f.path);
    await transfer(page, 'cancel-me.bin', 'failed').getByText('already being uploaded').waitFor();
    await page.getByRole('button', { name: 'Cancel upload of cancel-me.bin' }).click();
    await transfer(page, 'cancel-me.bin', 'cancelled').waitFor();
    proxy.release();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText('No files yet').waitFor();
    expect(await listFiles(url)).toEqual([]);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('chunkstream.upload:')))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('says when the server is busy and retries by itself', async () => {
    // Room for exactly one WebSocket upload at a time: (4 + 1 + 4) × 64 KiB.
    const { url } = await server('--max-transfer-bytes', String(9 * 64 * 1024));
    const a = await localFile('first.bin', 3 * 1024 * 1024);
    const b = await localFile('second.bin', 3 * 1024 * 1024);
    const { page, problems } = await open(url);
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    await page.getByLabel(/choose files/).setInputFiles([a.path, b.path]);
    await page.getByText(/The server is busy .* Trying again in \d+ s/).waitFor();
    await transfer(page, 'first.bin', 'done').waitFor();
    await transfer(page, 'second.bin', 'done').waitFor();
    expect((await listFiles(url)).map((x) => x.sha256).sort()).toEqual([a.sha256, b.sha256].sort());
    expect(problems).toEqual([]);
  });

  it('without signed links, downloads through the SDK byte-exact, and reports a corrupt chunk as an integrity failure, saving nothing', async () => {
    const { url, dir } = await server();
    const good = await localFile('good.bin', 250_000);
    const bad = await localFile('damaged.bin', 300_000);
    const { page, problems } = await (async () => {
      const w = await browser.page();
      pages.push(w.page);
      w.page.setDefaultTimeout(30_000);
      await withoutLinks(w.page);
      await w.page.goto(url);
      return w;
    })();
    await page.getByLabel(/choose files/).setInputFiles(good.path);
    await fileRow(page, 'good.bin').waitFor();
    expect(await page.getByRole('button', { name: 'Copy a share link to good.bin' }).isDisabled()).toBe(true);
    expect(await page.locator('#links-note').isVisible()).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download good.bin' }).click()]);
    expect(download.url()).toMatch(/^blob:/); // the page's own Blob, not a link
    expect(sha256(await readFile(await download.path()))).toBe(good.sha256);
    await transfer(page, 'good.bin', 'done').getByText('Downloaded, SHA-256 verified').waitFor();

    const before = new Set(await chunkFiles(dir));
    await page.getByLabel(/choose files/).setInputFiles(bad.path);
    await fileRow(page, 'damaged.bin').waitFor();
    await corrupt((await chunkFiles(dir)).find((f) => !before.has(f))!);
    let downloads = 0;
    page.on('download', () => downloads++);
    await page.getByRole('button', { name: 'Download damaged.bin' }).click();
    await page
      .locator('#transfers li[data-kind="download"][data-state="failed"]')
      .getByText(/Integrity check failed/)
      .waitFor();
    expect(downloads).toBe(0);
    expect(problems).toEqual([]);
  });

  it('a link download of a file with a corrupt chunk fails in the browser, and no wrong byte is saved', async () => {
    const { url, dir } = await server();
    const f = await localFile('broken-link.bin', 300_000);
    const { page, problems } = await open(url);
    await page.getByLabel(/choose files/).setInputFiles(f.path);
    await fileRow(page, 'broken-link.bin').waitFor();
    // Every chunk but the first: the response starts (200, the first chunk) and is then cut.
    const firstKey = sha256(f.data.subarray(0, 64 * 1024));
    for (const c of await chunkFiles(dir)) if (!c.includes(firstKey)) await corrupt(c);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download broken-link.bin' }).click(),
    ]);
    expect(await download.failure()).not.toBeNull();
    expect(await download.path().catch(() => null)).toBeNull();
    expect(problems.filter((p) => !p.includes('/v1/files/'))).toEqual([]);
  });

  it('uploads a file dropped on the page, and copies its full SHA-256 from the short one', async () => {
    const { url } = await server();
    const { page, problems } = await open(url);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    const dataTransfer = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped on the page\n'], 'dropped.txt', { type: 'text/plain' }));
      return dt;
    });
    await page.dispatchEvent('#drop', 'dragover', { dataTransfer });
    expect(await page.locator('#drop').getAttribute('class')).toContain('over');
    await page.dispatchEvent('#drop', 'drop', { dataTransfer });
    await fileRow(page, 'dropped.txt').waitFor();
    const sha256 = createHash('sha256').update('dropped on the page\n').digest('hex');
    await fileRow(page, 'dropped.txt')
      .getByRole('button', { name: /Copy the SHA-256/ })
      .click();
    await page.getByRole('status').getByText('Copied the SHA-256 of dropped.txt.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(sha256);
    expect(problems).toEqual([]);
  });

  it('sorts, filters by name and pages a store of many files', async () => {
    const { url } = await server();
    for (let i = 1; i <= 60; i++) {
      const name = `file-${String(i).padStart(2, '0')}.txt`;
      const res = await fetch(`${url}/v1/files?name=${name}`, { method: 'PUT', body: 'x'.repeat(i) });
      expect(res.status).toBe(201);
    }
    const { page, problems } = await open(url);
    await page.getByLabel('Per page').selectOption('25');
    const names = () => page.locator('#file-rows td.name').allTextContents();
    const info = page.locator('#page-info');
    await info.getByText('1–25 of 60').waitFor();
    expect((await names())[0]).toBe('file-01.txt');
    await page.getByRole('button', { name: 'Next page' }).click();
    await info.getByText('26–50 of 60').waitFor();
    expect((await names())[0]).toBe('file-26.txt');
    await page.getByRole('button', { name: 'Next page' }).click();
    await info.getByText('51–60 of 60').waitFor();
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    // Sorting by size: the largest first, from the first page again.
    await page.getByRole('button', { name: 'Size' }).click();
    expect(await page.locator('th[data-sort="size"]').getAttribute('aria-sort')).toBe('descending');
    await info.getByText('1–25 of 60').waitFor();
    expect((await names()).slice(0, 2)).toEqual(['file-60.txt', 'file-59.txt']);
    await page.getByLabel('Filter by name').fill('FILE-0');
    await info.getByText('1–9 of 9').waitFor();
    expect(await names()).toEqual([
      'file-09.txt',
      'file-08.txt',
      'file-07.txt',
      'file-06.txt',
      'file-05.txt',
      'file-04.txt',
      'file-03.txt',
      'file-02.txt',
      'file-01.txt',
    ]);
    expect(await page.locator('#files-summary').textContent()).toContain('60 files');
    await page.getByLabel('Filter by name').fill('nothing-like-this');
    await page.getByText('No file name contains “nothing-like-this”.').waitFor();
    expect(problems).toEqual([]);
  });

  it('works by keyboard, and on a phone-sized screen without sideways scrolling', async () => {
    const { url } = await server();
    const f = await localFile('keys.txt', 1000);
    const { page, problems } = await open(url);
    await page.getByLabel(/choose files/).setInputFiles(f.path);
    await fileRow(page, 'keys.txt').waitFor();
    // Tab order reaches the picker first, then the file list's controls.
    await page.keyboard.press('Tab'); // skip link
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('file-input');
    const del = page.getByRole('button', { name: 'Delete keys.txt' });
    await del.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Delete file?' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel'); // the safe choice has focus
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Delete keys.txt');
    expect((await listFiles(url)).length).toBe(1);
    // Sorting by keyboard: aria-sort follows.
    await page.getByRole('button', { name: 'Size' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('th[data-sort="size"]').getAttribute('aria-sort')).toBe('descending');

    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.getByRole('button', { name: 'Download keys.txt' }).waitFor({ state: 'visible' });
    expect(problems).toEqual([]);
  });
  it('lists each file as it commits, while another upload is still on its way (issue 25)', async () => {
    const { url } = await server();
    const small = await localFile('small.txt', 40_000);
    const big = await localFile('big.bin', 8 * 1024 * 1024);
    const { page, problems } = await browser.page();
    pages.push(page);
    // The page's list call shares the WebSocket with the uploads: on a slow uplink it waits
    // behind their frames. Here list requests wait (until the end) once the page has its first list.
    let holdLists = false;
    const held: (() => void)[] = [];
    await page.routeWebSocket(/\/v1\/ws$/, (ws) => {
      const upstream = ws.connectToServer();
      ws.onMessage((m) => {
        const isList = typeof m === 'string' && (JSON.parse(m) as { type?: string }).type === 'list';
        if (holdLists && isList) held.push(() => upstream.send(m));
        else upstream.send(m);
      });
      upstream.onMessage((m) => ws.send(m));
    });
    await page.goto(url);
    await page.getByText('No files yet').waitFor();
    holdLists = true;
    await page.getByLabel(/choose files/).setInputFiles([big.path, small.path]);
    await transfer(page, 'small.txt', 'done').waitFor();
    await fileRow(page, 'small.txt').waitFor();
    await transfer(page, 'big.bin', 'done').waitFor();
    await fileRow(page, 'big.bin').waitFor();
    expect(held.length).toBeGreaterThan(0); // the page did ask, and got no answer
    holdLists = false;
    held.splice(0).forEach((send) => send());
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page
      .locator('#files-summary')
      .getByText(/^2 files/)
      .waitFor();
    expect((await listFiles(url)).map((f) => f.name).sort()).toEqual(['big.bin', 'small.txt']);
    expect(problems).toEqual([]);
  });

  it('a file over the size limit fails in sizes people read, with no Retry (it could never succeed)', async () => {
    const { url } = await server('--max-file-size', '1MiB');
    const f = await localFile('huge.bin', 3 * 1024 * 1024);
    const { page, problems } = await open(url);
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    await page.getByLabel(/choose files/).setInputFiles(f.path);
    const row = transfer(page, 'huge.bin', 'failed');
    await row.getByText('This file is 3.0 MiB: this server takes files up to 1.0 MiB.').waitFor();
    expect(await row.locator('button:visible').count()).toBe(0); // no Retry (nor Cancel)
    expect(problems).toEqual([]);
  });

  it('ticks many files: one dialog deletes them all, one click copies a link to each with the chosen lifetime', async () => {
    const { url } = await server();
    for (let i = 1; i <= 60; i++) {
      const res = await fetch(`${url}/v1/files?name=bulk-${String(i).padStart(2, '0')}.txt`, { method: 'PUT', body: 'x'.repeat(i) });
      expect(res.status).toBe(201);
    }
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
    const { page, problems } = await open(url);
    await page.getByLabel('Per page').selectOption('25');
    await page.locator('#page-info').getByText('1–25 of 60').waitFor();
    // Two pages' worth: ticking all selects every file the filter shows, not only this page.
    await page.getByRole('checkbox', { name: 'Select all 60 files shown' }).check();
    const bar = page.getByRole('group', { name: /60 selected/ });
    await bar.waitFor();
    await page.getByLabel('Links valid for').selectOption({ label: '1 day' });
    const before = Math.floor(Date.now() / 1000);
    await bar.getByRole('button', { name: 'Copy share links' }).click();
    await page
      .getByRole('status')
      .getByText(/^Copied 60 share links \(valid until .*\), one per line\.$/)
      .waitFor();
    const lines = (await page.evaluate(() => navigator.clipboard.readText())).trim().split('\n');
    expect(lines).toHaveLength(60);
    const ids = new Set((await listFiles(url)).map((f) => f.id));
    for (const line of lines) {
      const link = new URL(line);
      expect(ids.has(link.pathname.split('/').at(-1)!)).toBe(true);
      expect(Number(link.searchParams.get('expires'))).toBeGreaterThanOrEqual(before + 86_400);
    }
    expect((await fetch(lines[0]!)).status).toBe(200);

    // Un-tick one: 59 go, after one dialog.
    await page.getByRole('checkbox', { name: 'Select bulk-01.txt' }).uncheck();
    await page.getByRole('group', { name: /59 selected/ }).waitFor();
    expect(
      await page.getByRole('checkbox', { name: 'Select all 60 files shown' }).evaluate((e) => (e as HTMLInputElement).indeterminate),
    ).toBe(true);
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete 59 files?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('and 39 more');
    await dialog.getByRole('button', { name: 'Delete 59 files' }).click();
    await page.getByRole('status').getByText('Deleted 59 files.').waitFor();
    expect((await listFiles(url)).map((f) => f.name)).toEqual(['bulk-01.txt']);
    await page.locator('#page-info').getByText('1–1 of 1').waitFor();
    expect(await page.getByRole('group', { name: /selected/ }).isHidden()).toBe(true);
    // One page: nowhere to turn to, so no Previous / Next.
    expect(await page.getByRole('button', { name: 'Next page' }).isHidden()).toBe(true);
    expect(await page.getByRole('button', { name: 'Previous page' }).isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });

  it('says "Choose files" on a touch screen, where nothing is dropped', async () => {
    const { url } = await server();
    const { page, problems } = await open(url);
    const zone = page.locator('#drop');
    await zone.getByText('Drop files here').waitFor();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
    await cdp.send('Emulation.setEmulatedMedia', {
      features: [
        { name: 'pointer', value: 'coarse' },
        { name: 'hover', value: 'none' },
      ],
    });
    await zone.getByText('Drop files here').waitFor({ state: 'hidden' });
    expect(await zone.innerText()).toMatch(/^Choose files\s+several at once are fine$/);
    await cdp.detach();
    expect(problems).toEqual([]);
  });
});
