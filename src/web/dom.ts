// Small DOM helpers: the page is plain TypeScript, and these keep the building of rows readable.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

type Props = { class?: string; text?: string; attrs?: Record<string, string> } & Record<string, unknown>;

/** `h('button', { class: 'quiet', text: 'Delete', attrs: { 'aria-label': '…' } })`; text is never parsed as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  const { class: cls, text, attrs, ...rest } = props;
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  for (const [k, v] of Object.entries(attrs ?? {})) el.setAttribute(k, v);
  Object.assign(el, rest);
  el.append(...children);
  return el;
}

/** Copies text to the clipboard; falls back to a selected textarea where the Clipboard API is refused. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Not a secure context, or no permission: the old way still works from a click.
  }
  const area = h('textarea', { value: text, class: 'visually-hidden', attrs: { 'aria-hidden': 'true' } });
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('the browser refused to copy');
}

/** Starts a browser download of `href` (a signed link, or an object URL) under `name`. */
export function saveAs(href: string, name: string): void {
  const a = h('a', { href, download: name, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
}
