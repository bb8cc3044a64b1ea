import { describe, expect, it } from 'vitest';
import type { MailboxError } from '@exsync/canonical';
import { outcomeOf, type ExchangeCommand } from '../../packages/sync-engine/src/exchangeWrites';
import { emptyCounts } from '../../packages/sync-engine/src/syncTypes';
import { crmRow, linkRow } from '../support/engineRows';

const link = linkRow({ crmVersion: 3 });
const crm = crmRow({ id: 'r', version: 5, data: { givenName: 'A', emails: [], phones: {}, addresses: {} } });
const item = crm.data as never;
const commands: Record<ExchangeCommand['type'], ExchangeCommand> = {
  create: { type: 'create', link: { ...link, ewsItemId: null, ewsChangeKey: null }, item },
  update: { type: 'update', link, crm, item, crmVersion: crm.version },
  delete: { type: 'delete', link, crmVersion: 5 },
  deleteStray: { type: 'deleteStray', itemId: 'ex-9' },
};
const err = (kind: MailboxError['kind'], code?: string): { ok: false; error: MailboxError } => ({ ok: false, error: { kind, code, message: kind } });

describe('outcomeOf: the state after each Exchange write', () => {
  it.each([
    ['create', { ok: true, itemId: 'ex-new', changeKey: 'ck-new' }, 'linked', 'created'],
    ['update', { ok: true, itemId: 'ex-1', changeKey: 'ck-2' }, 'linked', 'updated'],
    ['delete', { ok: true }, 'unlinked', 'deleted'],
    ['deleteStray', { ok: true }, 'none', 'deleted'],
    ['create', err('Permanent', 'ErrorInvalidPropertySet'), 'failed', null],
    ['update', err('ItemNotFound'), 'vanished', null],
    ['update', err('ChangeKeyConflict'), 'none', null],
    ['update', err('Permanent', 'ErrorInvalidPropertySet'), 'failed', null],
    ['delete', err('ItemNotFound'), 'unlinked', 'deleted'],
    ['delete', err('Permanent', 'ErrorCannotDeleteObject'), 'failed', null],
    ['deleteStray', err('Permanent'), 'none', null],
  ] as const)('%s answered %j -> %s', (type, answer, outcome, counted) => {
    const counts = emptyCounts();
    const o = outcomeOf('contact', commands[type], answer, counts);
    expect(o.type).toBe(outcome);
    const written = counts.toExchange;
    expect(written.created + written.updated + written.deleted).toBe(counted ? 1 : 0);
    if (counted) expect(written[counted]).toBe(1);
  });

  it('a stored update records the CRM version it wrote and the new ChangeKey; a failed one names the CRM version that failed', () => {
    const ok = outcomeOf('contact', commands.update, { ok: true, itemId: 'ex-1', changeKey: 'ck-2' }, emptyCounts());
    expect(ok).toMatchObject({ type: 'linked', link: { id: link.id, ewsChangeKey: 'ck-2', crmVersion: 5 } });
    const failed = outcomeOf('contact', commands.update, err('Permanent', 'ErrorInvalidPropertySet'), emptyCounts());
    expect(failed).toMatchObject({ type: 'failed', failure: { crmId: 'c-1', crmVersion: 5, kind: 'exchange', code: 'ErrorInvalidPropertySet' } });
  });
});
