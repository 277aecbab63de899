import { byId, h } from './dom.js';
import { formatBytes, formatPercent, progressText, RateMeter } from './format.js';

export type TransferState = 'waiting' | 'active' | 'done' | 'failed' | 'cancelled';

/**
 * One row of the transfers list: name, a progress bar, "42% · 31 MB/s · 12 s left", and a
 * Cancel (or Retry) button. The text is what screen readers get: the bar is labelled by it.
 */
export class TransferRow {
  readonly el: HTMLLIElement;
  state: TransferState = 'waiting';
  private readonly bar: HTMLProgressElement;
  private readonly info: HTMLSpanElement;
  private readonly button: HTMLButtonElement;
  private readonly meter = new RateMeter();
  private action: (() => void) | undefined;
  private bytes = 0;

  constructor(
    private readonly list: Transfers,
    readonly kind: 'upload' | 'download',
    readonly name: string,
    readonly size: number,
  ) {
    const id = `t${++list.counter}`;
    this.bar = h('progress', {
      max: Math.max(size, 1),
      value: 0,
      attrs: { 'aria-labelledby': `${id}-name`, 'aria-describedby': `${id}-info` },
    });
    this.info = h('span', { class: 'info', text: 'Waiting…', attrs: { id: `${id}-info` } });
    this.button = h('button', { type: 'button', class: 'quiet', text: 'Cancel', attrs: { 'aria-label': `Cancel ${kind} of ${name}` } });
    this.button.addEventListener('click', () => this.action?.());
    const title = h('span', { class: 'name', attrs: { id: `${id}-name` } }, `${kind === 'upload' ? '↑' : '↓'} `, h('bdi', { text: name }));
    this.el = h(
      'li',
      { class: 'transfer', attrs: { 'data-state': 'waiting', 'data-kind': kind } },
      h('div', { class: 'row between' }, title, h('span', { class: 'size', text: formatBytes(size) })),
      this.bar,
      h('div', { class: 'row between' }, this.info, this.button),
    );
    list.add(this);
  }

  onCancel(fn: () => void): void {
    this.action = fn;
  }

  private set(state: TransferState, text: string): void {
    this.state = state;
    this.el.dataset.state = state;
    this.info.textContent = text;
    this.list.changed();
  }

  /** `bytes` done so far (of the whole file, also after a resume). */
  progress(bytes: number): void {
    if (this.state !== 'active') this.state = 'active';
    this.el.dataset.state = 'active';
    this.bytes = bytes;
    this.bar.value = bytes;
    this.meter.add(bytes);
    this.info.textContent = progressText(bytes, this.size, this.meter.rate());
  }

  /** A line such as "Resuming at 40%" or "Server busy, retrying in 2 s", keeping the bar. */
  note(text: string): void {
    this.meter.reset();
    this.set('active', text);
  }

  done(text: string): void {
    this.bar.value = this.bar.max;
    this.set('done', text);
    this.button.hidden = true;
  }

  /** Passed on (to the browser's own downloads): finished here, with no bar that would claim the bytes arrived. */
  handedOff(text: string): void {
    this.bar.hidden = true;
    this.set('done', text);
    this.button.hidden = true;
  }

  failed(text: string, retry?: () => void): void {
    this.set('failed', text);
    this.info.setAttribute('role', 'alert');
    this.button.hidden = !retry;
    this.button.textContent = 'Retry';
    this.button.setAttribute('aria-label', `Retry ${this.kind} of ${this.name}`);
    this.action = retry;
  }

  cancelled(): void {
    this.set('cancelled', `Cancelled at ${formatPercent(this.bytes, this.size)}`);
    this.button.hidden = true;
  }

  /** Back to a running state after Retry: the button cancels again. */
  restart(cancel: () => void): void {
    this.info.removeAttribute('role');
    this.bar.hidden = false;
    this.button.hidden = false;
    this.button.textContent = 'Cancel';
    this.button.setAttribute('aria-label', `Cancel ${this.kind} of ${this.name}`);
    this.action = cancel;
    this.set('active', 'Starting…');
  }
}

/** The list of transfers, its "Nothing in progress" line and its "Clear finished" button. */
export class Transfers {
  counter = 0;
  private readonly rows = new Set<TransferRow>();
  private readonly ul = byId<HTMLUListElement>('transfers');
  private readonly empty = byId('no-transfers');
  private readonly clear = byId<HTMLButtonElement>('clear-done');

  constructor() {
    this.clear.addEventListener('click', () => {
      for (const r of this.rows) if (r.state === 'done' || r.state === 'cancelled') this.remove(r);
      this.ul.closest('section')?.querySelector<HTMLElement>('#file-input')?.focus();
    });
  }

  add(row: TransferRow): void {
    this.rows.add(row);
    this.ul.prepend(row.el);
    this.changed();
  }

  remove(row: TransferRow): void {
    this.rows.delete(row);
    row.el.remove();
    this.changed();
  }

  changed(): void {
    this.empty.hidden = this.rows.size > 0;
    this.clear.hidden = ![...this.rows].some((r) => r.state === 'done' || r.state === 'cancelled');
  }
}
