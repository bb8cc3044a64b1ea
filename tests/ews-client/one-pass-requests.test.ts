/**
 * The requests the one-pass reader sends (packages/ews-client/src/reply/requests.ts) validate
 * against the EWS schemas (libxml2 through xmllint-wasm, tests/ews-sim/fixtures/*.xsd), header and
 * body, for app-only (impersonation) and delegated sessions, with and without a sync state.
 */
import { describe, expect, it } from 'vitest';
import { APPOINTMENT_SHAPE, CONTACT_SHAPE, OCCURRENCE_SHAPE, envelope, getItemBody, syncFolderItemsBody } from '../../packages/ews-client/src/reply/requests';
import { extractPart, NS, validateAll } from '../support/soap';

describe('one-pass requests', () => {
  it('validate against messages.xsd and types.xsd', async () => {
    const ids = [{ id: 'AAMkAD<&>"x' }, { id: 'AAMkAE', changeKey: 'DwAAAB' }];
    const bodies = {
      'getitem-appointments': getItemBody(APPOINTMENT_SHAPE, ids),
      'getitem-occurrences': getItemBody(OCCURRENCE_SHAPE, ids),
      'getitem-contacts': getItemBody(CONTACT_SHAPE, ids),
      'sync-calendar-initial': syncFolderItemsBody('calendar', undefined, 512),
      'sync-contacts-state': syncFolderItemsBody('contacts', 'H4sIAAA&<state>', 512),
    };
    const docs = Object.entries(bodies).flatMap(([label, body]) =>
      (['alice@contoso.example', undefined] as const).flatMap((impersonate) => {
        const xml = envelope(body, impersonate);
        const tag = `${label}-${impersonate ? 'app-only' : 'delegated'}`;
        // each header element on its own (extractPart takes the first child of a part)
        const header = /<soap:Header>(.*)<\/soap:Header>/.exec(xml)![1];
        const headerElements = [...header.matchAll(/<t:(\w+)[^>]*>.*?<\/t:\1>/g)].map((m) => m[0].replace(/^<t:(\w+)/, `<t:$1 xmlns:t="${NS.t}"`));
        expect(headerElements).toHaveLength(impersonate ? 2 : 1);
        return [{ label: `${tag}-body`, xml: extractPart(xml, 'Body') }, ...headerElements.map((h, i) => ({ label: `${tag}-header-${i}`, xml: h }))];
      }),
    );
    expect(await validateAll(docs)).toEqual([]);
  }, 120_000);
});
