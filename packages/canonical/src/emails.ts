/**
 * Contact email entries: parsing what a CRM sends (a plain address, `Jane Doe <jane@x.test>`, or
 * `{address, name?, slot?}`) and placing entries in Exchange's three slots.
 */
import type { ContactEmail } from './items';

/** An email entry that is not an address; `index` is its position in the list. */
export class InvalidEmailError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidEmailError';
  }
}

/** An addr-spec without spaces or angle brackets, with a dot-free-or-dotted domain (RFC 5322 3.4.1, simplified). */
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;
/** `Display Name <address>`; the name may be quoted. */
const NAME_ADDR = /^(.*?)\s*<([^<>]+)>$/;

export type EmailInput = string | { address?: unknown; name?: unknown; slot?: unknown };

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/\\(.)/g, '$1').trim() : t;
}

/**
 * One entry as the CRM sent it, parsed: a string is an address or `Name <address>`; an object
 * keeps its name and slot. Throws InvalidEmailError (naming `index`) when there is no address.
 */
export function parseEmailEntry(value: EmailInput, index: number): ContactEmail {
  if (typeof value === 'string') {
    const text = value.trim();
    const named = NAME_ADDR.exec(text);
    const address = (named ? named[2] : text).trim();
    if (!ADDRESS.test(address)) throw new InvalidEmailError(index, `${JSON.stringify(value)} is not an email address`);
    const name = named ? unquote(named[1]) : '';
    return name ? { address, name } : { address };
  }
  if (typeof value !== 'object' || value === null || typeof value.address !== 'string') {
    throw new InvalidEmailError(index, 'must be an address or {address, name?, slot?}');
  }
  const inner = parseEmailEntry(value.address, index);
  const out: ContactEmail = { address: inner.address };
  const name = typeof value.name === 'string' && value.name.trim() ? value.name.trim() : inner.name;
  if (name) out.name = name;
  if (value.slot !== undefined) {
    if (value.slot !== 1 && value.slot !== 2 && value.slot !== 3) throw new InvalidEmailError(index, 'slot must be 1, 2 or 3');
    out.slot = value.slot;
  }
  return out;
}

/**
 * Parses a CRM's list (at most three entries, each slot at most once) into canonical entries.
 * Throws InvalidEmailError naming the first bad entry.
 */
export function parseEmails(values: EmailInput[]): ContactEmail[] {
  const out = values.map(parseEmailEntry);
  const seen = new Set<number>();
  out.forEach((e, i) => {
    if (e.slot === undefined) return;
    if (seen.has(e.slot)) throw new InvalidEmailError(i, `slot ${e.slot} is given twice`);
    seen.add(e.slot);
  });
  if (out.length > 3) throw new InvalidEmailError(3, 'at most three emails');
  return out;
}

/**
 * Every entry with its slot: named slots are kept, the others take the lowest free slots in list
 * order; the result is ordered by slot. Entries beyond the three slots are dropped.
 */
export function placeEmails(entries: ContactEmail[]): (ContactEmail & { slot: 1 | 2 | 3 })[] {
  const taken = new Set(entries.map((e) => e.slot).filter((s) => s !== undefined));
  const free = ([1, 2, 3] as const).filter((s) => !taken.has(s));
  const out: (ContactEmail & { slot: 1 | 2 | 3 })[] = [];
  const used = new Set<number>();
  for (const e of entries) {
    const slot = e.slot !== undefined && !used.has(e.slot) ? e.slot : free.shift();
    if (slot === undefined) continue;
    used.add(slot);
    out.push({ ...e, slot });
  }
  return out.sort((a, b) => a.slot - b.slot);
}

/**
 * A CRM that keeps plain addresses cannot repeat an entry's slot or display name, so a bare
 * entry (an address without slot and name) whose address the item already has (`previous`, the
 * item as stored before this write) keeps that entry's slot and name; an entry with a name but no
 * slot keeps the slot. Slots another entry names explicitly are not taken. Addresses compare
 * case-insensitively.
 */
export function keepEmailSlots(entries: ContactEmail[], previous: readonly (ContactEmail | string)[] | undefined): ContactEmail[] {
  const before = new Map<string, ContactEmail>();
  for (const [i, e] of (previous ?? []).entries()) {
    try {
      const p = parseEmailEntry(e as EmailInput, i);
      before.set(p.address.toLowerCase(), p);
    } catch {
      // an unparseable stored entry has nothing to keep
    }
  }
  const claimed = new Set(entries.map((e) => e.slot).filter((s) => s !== undefined));
  return entries.map((e) => {
    const had = before.get(e.address.toLowerCase());
    if (!had || e.slot !== undefined) return e;
    const out: ContactEmail = { ...e };
    if (had.slot !== undefined && !claimed.has(had.slot)) {
      out.slot = had.slot;
      claimed.add(had.slot);
    }
    if (e.name === undefined && had.name !== undefined) out.name = had.name;
    return out;
  });
}
