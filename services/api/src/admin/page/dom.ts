/** Small DOM helpers. Text always goes in as text (never HTML), which keeps API data inert. */

type Attrs = Record<string, string | boolean | number | ((ev: Event) => void) | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'text') node.textContent = String(v);
    else if (typeof v === 'function') node.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'checked' || k === 'disabled' || k === 'hidden') (node as unknown as Record<string, boolean>)[k] = Boolean(v);
    else if (k === 'value') (node as unknown as { value: string }).value = String(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children);
  return node;
}

/** The element with `id`; throws when the page lacks it (a page/script mismatch). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
}

/** Shows `message` in `region` (a role=status or role=alert element next to the control that acted). */
export function say(region: HTMLElement, message: string, kind: 'ok' | 'problem' = 'ok'): void {
  region.textContent = message;
  region.classList.toggle('problem', kind === 'problem');
  region.classList.toggle('ok', kind === 'ok' && message !== '');
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : 'never';
}

/**
 * Shows `link` in the read-only `box`, selected for Ctrl+C, and copies it to the clipboard when the
 * browser allows. Answers whether the clipboard copy worked.
 */
export async function offerLink(box: HTMLInputElement, link: string): Promise<boolean> {
  box.value = link;
  let copied = false;
  try {
    await navigator.clipboard.writeText(link);
    copied = true;
  } catch {
    copied = false;
  }
  box.focus();
  box.select();
  return copied;
}
