/**
 * First sync of a mailbox that already has items on both sides (DESIGN.md invariant 3): pair an
 * Exchange item with an unlinked CRM item instead of copying both across. Contacts match by any
 * email address (case-insensitive), then by full name; appointments by iCalUId, then by subject
 * and start instant. Each CRM item pairs at most once.
 */
import type { Appointment, Contact, ItemKind } from '@exsync/canonical';
import { normalizeEmails, normalizeInstant } from '@exsync/canonical';

export interface MatchCandidate {
  crmId: string;
  item: Appointment | Contact;
}

export interface Matcher {
  /** the crm id paired with this Exchange item, claimed so no other item can pair with it */
  match(item: Appointment | Contact): string | undefined;
}

function fullName(c: Contact): string | undefined {
  const parts = [c.givenName, c.middleName, c.surname].map((p) => p?.trim().toLowerCase()).filter(Boolean);
  const name = parts.length ? parts.join(' ') : c.displayName?.trim().toLowerCase();
  return name ? name.replace(/\s+/g, ' ') : undefined;
}

function subjectStart(a: Appointment): string | undefined {
  if (!a.subject || !a.start) return undefined;
  try {
    return `${a.subject.trim().toLowerCase()}|${normalizeInstant(a.start)}`;
  } catch {
    return undefined;
  }
}

function keysOf(kind: ItemKind, item: Appointment | Contact): string[][] {
  if (kind === 'contact') {
    const c = item as Contact;
    const name = fullName(c);
    return [
      normalizeEmails(c.emails)
        .map((e) => `email:${e.address.toLowerCase()}`)
        .filter((k) => k !== 'email:'),
      name ? [`name:${name}`] : [],
    ];
  }
  const a = item as Appointment;
  const ss = subjectStart(a);
  return [a.iCalUId ? [`uid:${a.iCalUId}`] : [], ss ? [`ss:${ss}`] : []];
}

export function buildMatcher(kind: ItemKind, candidates: MatchCandidate[]): Matcher {
  const index = new Map<string, string[]>();
  for (const c of candidates) {
    for (const tier of keysOf(kind, c.item))
      for (const key of tier) {
        const list = index.get(key) ?? [];
        list.push(c.crmId);
        index.set(key, list);
      }
  }
  const claimed = new Set<string>();
  return {
    match(item) {
      for (const tier of keysOf(kind, item)) {
        for (const key of tier) {
          const hit = index.get(key)?.find((id) => !claimed.has(id));
          if (hit) {
            claimed.add(hit);
            return hit;
          }
        }
      }
      return undefined;
    },
  };
}
