import { byId } from './dom.js';

/** The page's two message areas: a polite status line and a dismissable alert. */
export class Notices {
  private readonly statusEl = byId('status');
  private readonly box = byId('alert');
  private readonly text = byId('alert-text');
  private readonly action = byId<HTMLButtonElement>('alert-action');
  private run: (() => void) | undefined;

  constructor() {
    byId('alert-close').addEventListener('click', () => this.clear());
    this.action.addEventListener('click', () => {
      const run = this.run;
      this.clear();
      run?.();
    });
  }

  status(text: string): void {
    this.statusEl.textContent = text;
  }

  alert(text: string, action?: { label: string; run: () => void }): void {
    this.text.textContent = text;
    this.run = action?.run;
    this.action.hidden = !action;
    this.action.textContent = action?.label ?? '';
    this.box.hidden = false;
  }

  clear(): void {
    this.box.hidden = true;
    this.run = undefined;
  }
}

/**
 * Files from the picker, from a drop on the drop zone, or from a drop anywhere on the page (a
 * file dropped outside the zone would otherwise make the browser open it, leaving the page).
 */
export function wireDrop(add: (files: File[]) => void): void {
  const input = byId<HTMLInputElement>('file-input');
  const zone = byId('drop');
  input.addEventListener('change', () => {
    if (input.files?.length) add(Array.from(input.files));
    input.value = ''; // picking the same file again (to resume it) must fire `change` again
  });
  const hasFiles = (ev: DragEvent) => ev.dataTransfer?.types.includes('Files') ?? false;
  window.addEventListener('dragover', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    ev.dataTransfer!.dropEffect = byId('app').hidden ? 'none' : 'copy';
    zone.classList.add('over');
  });
  window.addEventListener('dragleave', (ev) => {
    if (ev.relatedTarget === null) zone.classList.remove('over');
  });
  window.addEventListener('drop', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    zone.classList.remove('over');
    if (!byId('app').hidden && ev.dataTransfer?.files.length) add(Array.from(ev.dataTransfer.files));
  });
}
