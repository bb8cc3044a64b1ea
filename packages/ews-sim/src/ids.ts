import { randomBytes } from 'node:crypto';

/**
 * Opaque ids shaped like Exchange's (base64). Stored item ids start with a 0x00 byte; occurrence ids
 * encode their series and original start so that an occurrence needs no storage of its own until
 * it becomes an exception.
 */
const ITEM_TAG = Buffer.from([0x00, 0x00, 0x00, 0x2e]);

export function newItemId(): string {
  return Buffer.concat([ITEM_TAG, randomBytes(44)]).toString('base64');
}

export function newFolderId(): string {
  return Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x2e]), randomBytes(40)]).toString('base64');
}

let changeCounter = 0;

/** Every write gets a fresh ChangeKey; the prefix follows Exchange's per-class headers. */
export function newChangeKey(kind: 'CalendarItem' | 'Contact' | 'Folder'): string {
  changeCounter = (changeCounter + 1) >>> 0;
  const head = kind === 'CalendarItem' ? 'DwAAABYAAAA' : kind === 'Contact' ? 'EQAAABYAAAA' : 'AQAAABYAAAA';
  const tail = Buffer.alloc(12);
  randomBytes(8).copy(tail, 0);
  tail.writeUInt32BE(changeCounter, 8);
  return head + tail.toString('base64');
}

export function occurrenceId(masterId: string, originalStartMs: number): string {
  return Buffer.from(`\u0001O|${masterId}|${originalStartMs}`, 'utf8').toString('base64');
}

export function parseOccurrenceId(id: string): { masterId: string; originalStart: number } | undefined {
  if (!id.startsWith('AU9')) return undefined; // base64 of "\u0001O|"
  const s = Buffer.from(id, 'base64').toString('utf8');
  const m = /^\u0001O\|(.+)\|(-?\d+)$/.exec(s);
  return m ? { masterId: m[1], originalStart: Number(m[2]) } : undefined;
}

/** A well-formed id that Exchange would reject as malformed: not base64. */
export function isMalformedId(id: string): boolean {
  return id.length === 0 || !/^[A-Za-z0-9+/=_-]+$/.test(id.trim());
}
