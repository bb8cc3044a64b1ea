/**
 * Rows the engine's pure plans take (a link, a CRM item), for table tests of the planners and the
 * Exchange write outcomes: one contact linked as c-1 <-> ex-1; each test patches what it varies.
 */
import type { CrmItemRow, LinkRow } from '@exsync/canonical';

export const LINK_ID = '6f1c2f0e-0000-4000-8000-000000000001';

/** A link of contact c-1 to Exchange item ex-1 (change key ck-1), with `patch` over it. */
export function linkRow(patch: Partial<LinkRow> = {}): LinkRow {
  return {
    id: LINK_ID,
    mailboxId: 'm',
    kind: 'contact',
    crmId: 'c-1',
    ewsItemId: 'ex-1',
    ewsChangeKey: 'ck-1',
    icalUid: null,
    crmVersion: 1,
    snapshot: {},
    ...patch,
  };
}

/** The CRM row of contact c-1 (a live CRM edit unless patched), with `patch` over it. */
export function crmRow(patch: Partial<CrmItemRow> = {}): CrmItemRow {
  return {
    id: 'r-1',
    orgId: 'o',
    userId: 'u',
    kind: 'contact',
    crmId: 'c-1',
    version: 1,
    data: null,
    deleted: false,
    origin: 'crm',
    updatedAt: '2026-01-01T00:00:00Z',
    ...patch,
  };
}
