import { byId, copyText, h } from './dom.js';
import type { FileTable } from './files.js';
import { formatBytes } from './format.js';
import { createLink, linkLifetime, validUntil, type SignedLink } from './links.js';
import { describe, errorCode } from './messages.js';
import type { FileInfo } from './sdk.js';
import type { Session } from './session.js';
import type { Notices } from './ui.js';

/** Links asked for at once: enough to be quick, few enough not to crowd the server. */
const LINKS_AT_ONCE = 4;
/** Names the delete dialog lists; the rest are counted. */
const LISTED = 20;

/**
 * What to do with the ticked files: delete them all after one confirmation, or copy a share link
 * to each (one per line, with the lifetime chosen beside the filter). 60 files are one dialog,
 * not 60.
 */
export class Bulk {
  private readonly bar = byId('bulk');
  private readonly count = byId('bulk-count');

  constructor(
    private readonly session: Session,
    private readonly table: () => FileTable,
    private readonly notices: Notices,
    private readonly refresh: () => Promise<void>,
    private readonly onError: (err: unknown, what: string) => void,
  ) {
    byId('bulk-clear').addEventListener('click', () => this.table().clearSelection());
    byId('bulk-delete').addEventListener('click', () => void this.deleteSelected());
    byId('bulk-links').addEventListener('click', () => void this.linkSelected());
  }

  show(files: FileInfo[]): void {
    this.bar.hidden = files.length === 0;
    const size = files.reduce((n, f) => n + f.size, 0);
    this.count.textContent = `${files.length} selected (${formatBytes(size)})`;
  }

  private async deleteSelected(): Promise<void> {
    const files = this.table().selectedFiles();
    if (files.length === 0 || !(await confirmDelete(files))) return;
    const gone: string[] = [];
    const failed: string[] = [];
    try {
      const client = await this.session.get();
      for (const [i, f] of files.entries()) {
        this.notices.status(`Deleting ${i + 1} of ${files.length}…`);
        try {
          await client.remove(f.id);
          gone.push(f.id);
        } catch (err) {
          if (errorCode(err) === 'not_found')
            gone.push(f.id); // deleted elsewhere meanwhile: gone all the same
          else if (errorCode(err) === 'connection_lost' || errorCode(err) === 'unauthorized') throw err;
          else failed.push(`${f.name}: ${describe(err)}`);
        }
      }
    } catch (err) {
      this.onError(err, `Deleted ${gone.length} of ${files.length} files, then`);
    }
    this.table().remove(gone);
    if (failed.length) this.notices.alert(`Deleted ${gone.length} of ${files.length} files. Not deleted: ${failed.join('; ')}`);
    else this.notices.status(`Deleted ${plural(gone.length, 'file')}.`);
    await this.refresh();
    byId('files-heading').focus(); // the rows and their boxes are gone
  }

  private async linkSelected(): Promise<void> {
    const files = this.table().selectedFiles();
    if (files.length === 0) return;
    const expiresIn = linkLifetime();
    this.notices.status(`Making ${plural(files.length, 'share link')}…`);
    let links: SignedLink[];
    try {
      links = await mapLimit(files, LINKS_AT_ONCE, (f) => createLink(this.session, f.id, expiresIn));
    } catch (err) {
      return this.onError(err, 'Could not make the share links');
    }
    const text = `${links.map((l) => l.url).join('\n')}\n`;
    const what = `${plural(links.length, 'share link')}${validUntil(links[0]!)}`;
    try {
      await copyText(text);
      this.notices.status(`Copied ${what}, one per line.`);
    } catch {
      // Making the links took long enough for the browser to stop taking it as the click's copy.
      showLinks(text, what);
    }
  }
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The links in a dialog to copy from by hand, with a Copy button (a fresh click the browser accepts). */
function showLinks(text: string, what: string): void {
  const area = h('textarea', { value: text, readOnly: true, rows: 8, attrs: { 'aria-label': 'Share links' } });
  const copy = h('button', { type: 'button', text: 'Copy' });
  const close = h('button', { type: 'button', class: 'quiet', text: 'Close' });
  const dialog = h(
    'dialog',
    { attrs: { 'aria-label': 'Share links' } },
    h('p', { text: `${what}:` }),
    area,
    h('div', { class: 'row end' }, copy, close),
  );
  copy.addEventListener('click', () => void copyText(text).then(() => dialog.close()));
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  area.select();
}

/** One confirmation for one file or many: the names (the first few), what it frees, and that it is final. */
export async function confirmDelete(files: FileInfo[]): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm');
  const list = byId<HTMLUListElement>('confirm-list');
  const one = files.length === 1;
  byId('confirm-title').textContent = one ? 'Delete file?' : `Delete ${files.length} files?`;
  byId('confirm-delete').textContent = one ? 'Delete' : `Delete ${files.length} files`;
  const size = formatBytes(files.reduce((n, f) => n + f.size, 0));
  byId('confirm-text').textContent = one
    ? `Delete “${files[0]!.name}”? This cannot be undone.`
    : `Delete these ${files.length} files (${size})? This cannot be undone.`;
  const names = one ? [] : files.slice(0, LISTED).map((f) => h('li', {}, h('bdi', { text: f.name })));
  if (files.length > LISTED) names.push(h('li', { text: `and ${files.length - LISTED} more` }));
  list.replaceChildren(...names);
  list.hidden = one;
  dialog.returnValue = '';
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  return dialog.returnValue === 'delete';
}
