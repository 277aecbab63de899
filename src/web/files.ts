import { byId, h } from './dom.js';
import { formatBytes, formatWhen } from './format.js';
import type { FileInfo } from './sdk.js';

type SortKey = 'name' | 'size' | 'created';
export type FileAction = 'download' | 'share' | 'delete' | 'copy-sha';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
const compare: Record<SortKey, (a: FileInfo, b: FileInfo) => number> = {
  name: (a, b) => collator.compare(a.name, b.name) || a.id.localeCompare(b.id),
  size: (a, b) => a.size - b.size || collator.compare(a.name, b.name),
  created: (a, b) => a.created.localeCompare(b.created) || collator.compare(a.name, b.name),
};

/**
 * The file list: sorted (header buttons, aria-sort), filtered by name, one page at a time.
 * The whole list comes from the server in one answer; only one page is ever in the DOM, so a
 * store of many thousand files stays quick to render.
 */
export class FileTable {
  private files: FileInfo[] = [];
  /** This page's own adds and deletes, numbered, so a list answer that predates them does not undo them. */
  private clock = 0;
  private readonly added = new Map<string, { file: FileInfo; at: number }>();
  private readonly removed = new Map<string, number>();
  private sort: { key: SortKey; dir: 1 | -1 } = { key: 'name', dir: 1 };
  private page = 0;
  private readonly tbody = byId<HTMLTableSectionElement>('file-rows');
  private readonly filter = byId<HTMLInputElement>('filter');
  private readonly pageSize = byId<HTMLSelectElement>('page-size');
  private readonly summary = byId('files-summary');
  private readonly pageInfo = byId('page-info');
  private readonly prev = byId<HTMLButtonElement>('prev');
  private readonly next = byId<HTMLButtonElement>('next');
  private readonly selectAll = byId<HTMLInputElement>('select-all');
  /** Ticked files, by id: kept across pages, sorting and the filter; gone with the file. */
  private readonly selected = new Set<string>();

  constructor(
    private readonly links: boolean,
    private readonly act: (action: FileAction, file: FileInfo, button: HTMLButtonElement) => void,
    private readonly onSelect: (files: FileInfo[]) => void,
  ) {
    for (const th of Array.from(document.querySelectorAll<HTMLTableCellElement>('th[data-sort]'))) {
      th.querySelector('button')!.addEventListener('click', () => {
        const key = th.dataset.sort as SortKey;
        this.sort = { key, dir: this.sort.key === key ? (-this.sort.dir as 1 | -1) : key === 'name' ? 1 : -1 };
        this.page = 0;
        this.render();
      });
    }
    this.filter.addEventListener('input', () => {
      this.page = 0;
      this.render();
    });
    this.pageSize.addEventListener('change', () => {
      this.page = 0;
      this.render();
    });
    this.prev.addEventListener('click', () => this.turn(-1));
    this.next.addEventListener('click', () => this.turn(1));
    this.tbody.addEventListener('click', (ev) => {
      const button = (ev.target as Element).closest<HTMLButtonElement>('button[data-action]');
      const file = button && this.files.find((f) => f.id === button.closest('tr')?.dataset.id);
      if (button && file) this.act(button.dataset.action as FileAction, file, button);
    });
    this.tbody.addEventListener('change', (ev) => {
      const box = (ev.target as Element).closest<HTMLInputElement>('input[data-select]');
      if (!box) return;
      const id = box.closest('tr')?.dataset.id ?? '';
      if (box.checked) this.selected.add(id);
      else this.selected.delete(id);
      this.selectionChanged();
    });
    // Ticks every file the filter shows (all its pages), or clears them.
    this.selectAll.addEventListener('change', () => {
      for (const f of this.visible()) {
        if (this.selectAll.checked) this.selected.add(f.id);
        else this.selected.delete(f.id);
      }
      this.render();
    });
    byId('links-note').hidden = links;
  }

  selectedFiles(): FileInfo[] {
    return this.files.filter((f) => this.selected.has(f.id));
  }

  clearSelection(): void {
    this.selected.clear();
    this.render();
  }

  private selectionChanged(): void {
    if (this.selected.size > 0) {
      const present = new Set(this.files.map((f) => f.id));
      for (const id of this.selected) if (!present.has(id)) this.selected.delete(id);
    }
    const shown = this.visible();
    const ticked = shown.filter((f) => this.selected.has(f.id)).length;
    this.selectAll.checked = shown.length > 0 && ticked === shown.length;
    this.selectAll.indeterminate = ticked > 0 && ticked < shown.length;
    this.selectAll.setAttribute('aria-label', `Select all ${shown.length} files shown`);
    this.onSelect(this.selectedFiles());
  }

  /**
   * The server's list, asked for at `asked` (from `mark()`): files this page added after that
   * (an upload that committed while the list was on its way) stay, files it removed stay gone.
   */
  set(files: FileInfo[], asked = Infinity): void {
    const listed = new Set(files.map((f) => f.id));
    const later = [...this.added.values()].filter((a) => a.at > asked && !listed.has(a.file.id)).map((a) => a.file);
    for (const [id, a] of this.added) if (a.at <= asked) this.added.delete(id);
    this.files = [...files.filter((f) => !this.removed.has(f.id) || this.removedAt(f.id) <= asked), ...later];
    for (const [id, at] of this.removed) if (at <= asked) this.removed.delete(id);
    this.render();
  }

  /** A file this page just stored: listed at once, without waiting for a list round trip. */
  add(file: FileInfo): void {
    this.added.set(file.id, { file, at: ++this.clock });
    this.files = [...this.files.filter((f) => f.id !== file.id), file];
    this.render();
  }

  /** Files this page just deleted. */
  remove(ids: Iterable<string>): void {
    const gone = new Set(ids);
    for (const id of gone) this.removed.set(id, ++this.clock);
    this.files = this.files.filter((f) => !gone.has(f.id));
    this.render();
  }

  /** A point in this page's own changes, taken before asking the server for its list. */
  mark(): number {
    return this.clock;
  }

  private removedAt(id: string): number {
    return this.removed.get(id) ?? 0;
  }

  private turn(by: number): void {
    this.page += by;
    this.render();
    (by < 0 ? this.prev : this.next).focus();
  }

  private visible(): FileInfo[] {
    const q = this.filter.value.trim().toLowerCase();
    const { key, dir } = this.sort;
    const cmp = compare[key];
    return this.files.filter((f) => !q || f.name.toLowerCase().includes(q)).sort((a, b) => dir * cmp(a, b));
  }

  render(): void {
    const shown = this.visible();
    const size = Number(this.pageSize.value) || 50;
    const pages = Math.max(1, Math.ceil(shown.length / size));
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    const from = this.page * size;
    const rows = shown.slice(from, from + size).map((f) => this.row(f));
    if (rows.length === 0) {
      const text = this.files.length === 0 ? 'No files yet: upload some above.' : `No file name contains “${this.filter.value.trim()}”.`;
      rows.push(h('tr', { class: 'empty' }, h('td', { text, attrs: { colspan: '6' } })));
    }
    this.tbody.replaceChildren(...rows);
    for (const th of Array.from(document.querySelectorAll<HTMLTableCellElement>('th[data-sort]'))) {
      if (th.dataset.sort === this.sort.key) th.setAttribute('aria-sort', this.sort.dir === 1 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    const total = this.files.reduce((n, f) => n + f.size, 0);
    const filtered = shown.length === this.files.length ? '' : `, ${shown.length} match the filter`;
    this.summary.textContent = `${this.files.length} file${this.files.length === 1 ? '' : 's'}, ${formatBytes(total)}${filtered}`;
    this.pageInfo.textContent = shown.length ? `${from + 1}–${Math.min(from + size, shown.length)} of ${shown.length}` : '';
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
    // One page has nowhere to turn to.
    this.prev.hidden = this.next.hidden = pages <= 1;
    this.selectionChanged();
  }

  private row(f: FileInfo): HTMLTableRowElement {
    const button = (action: FileAction, text: string, label: string, extra: Record<string, unknown> = {}) =>
      h('button', { type: 'button', class: 'quiet', text, attrs: { 'data-action': action, 'aria-label': label }, ...extra });
    const share = button('share', 'Share link', `Copy a share link to ${f.name}`);
    if (!this.links) {
      share.disabled = true;
      share.setAttribute('aria-describedby', 'links-note');
      share.title = 'This server has no signed links';
    }
    const created = new Date(f.created);
    const tick = h('input', {
      type: 'checkbox',
      checked: this.selected.has(f.id),
      attrs: { 'data-select': '', 'aria-label': `Select ${f.name}` },
    });
    return h(
      'tr',
      { attrs: { 'data-id': f.id } },
      h('td', { class: 'select' }, tick),
      h('td', { class: 'name', attrs: { 'data-label': 'Name' } }, h('bdi', { text: f.name })),
      h('td', { class: 'num', text: formatBytes(f.size), title: `${f.size.toLocaleString()} bytes`, attrs: { 'data-label': 'Size' } }),
      h(
        'td',
        { attrs: { 'data-label': 'Date' } },
        h('time', {
          text: formatWhen(f.created),
          dateTime: f.created,
          title: Number.isNaN(+created) ? f.created : created.toLocaleString(),
        }),
      ),
      h(
        'td',
        { attrs: { 'data-label': 'SHA-256' } },
        button('copy-sha', f.sha256.slice(0, 12), `Copy the SHA-256 of ${f.name} (${f.sha256})`, {
          title: f.sha256,
          className: 'quiet hash',
        }),
      ),
      h(
        'td',
        { class: 'actions' },
        button('download', 'Download', `Download ${f.name}`),
        share,
        button('delete', 'Delete', `Delete ${f.name}`, { className: 'quiet danger' }),
      ),
    );
  }
}
