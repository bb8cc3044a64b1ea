import { errorMessage, responseClose, responseOpen, successClose, successOpen } from '../soap';
import { knownTimeZone, knownTimeZones, timeZoneElement } from '../timeZones';
import { child, childText, escapeAttr, escapeText, writeEl } from '../xml';
import type { OpContext } from './context';

/**
 * ResolveNames against the simulator's mailboxes (the tenant's GAL). exchangelib uses it to probe
 * the server version when none is configured.
 */
export function resolveNames(ctx: OpContext): string {
  const op = 'ResolveNames';
  const needle = (childText(ctx.request, 'UnresolvedEntry') ?? '')
    .trim()
    .toLowerCase()
    .replace(/^smtp:/, '');
  const matches = [...ctx.store.mailboxes.values()].filter(
    (m) => m.tenantId === ctx.mb.tenantId && needle !== '' && (m.email.startsWith(needle) || m.displayName.toLowerCase().startsWith(needle)),
  );
  const out = [responseOpen(op)];
  if (matches.length === 0) {
    out.push(errorMessage(op, { code: 'ErrorNameResolutionNoResults', text: 'No results were found.' }));
  } else {
    const cls = matches.length > 1 ? 'Warning' : 'Success';
    const code = matches.length > 1 ? 'ErrorNameResolutionMultipleResults' : 'NoError';
    out.push(
      `<m:ResolveNamesResponseMessage ResponseClass="${cls}">`,
      matches.length > 1 ? '<m:MessageText>Multiple results were found.</m:MessageText>' : '',
      `<m:ResponseCode>${code}</m:ResponseCode>`,
      matches.length > 1 ? '<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>' : '',
      `<m:ResolutionSet TotalItemsInView="${matches.length}" IncludesLastItemInRange="true">`,
      ...matches.map(
        (m) =>
          `<t:Resolution><t:Mailbox><t:Name>${escapeText(m.displayName)}</t:Name><t:EmailAddress>${escapeText(m.email)}</t:EmailAddress>` +
          `<t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:Resolution>`,
      ),
      '</m:ResolutionSet></m:ResolveNamesResponseMessage>',
    );
  }
  out.push(responseClose(op));
  return out.join('');
}

/** GetServerTimeZones: full definitions of the zones the simulator knows, or of the ids asked for. */
export function getServerTimeZones(ctx: OpContext): string {
  const op = 'GetServerTimeZones';
  const ids = (child(ctx.request, 'Ids')?.children ?? []).map((e) => e.text.trim());
  const zones = ids.length > 0 ? ids.map((id) => knownTimeZone(id)).filter((z) => z !== undefined) : knownTimeZones();
  const out = [responseOpen(op), successOpen(op), '<m:TimeZoneDefinitions>'];
  for (const z of zones) writeEl(timeZoneElement('TimeZoneDefinition', z), 't', out);
  out.push('</m:TimeZoneDefinitions>', successClose(op), responseClose(op));
  return out.join('');
}

/**
 * ConvertId between id formats. The simulator's ids are the same in every format, so a known id
 * converts to itself; anything else is malformed. exchangelib sends ConvertId with a dummy id to
 * learn the server version from the response header.
 */
export function convertId(ctx: OpContext): string {
  const op = 'ConvertId';
  const dest = ctx.request.attrs.DestinationFormat ?? 'EwsId';
  const out = [responseOpen(op)];
  for (const alt of child(ctx.request, 'SourceIds')?.children ?? []) {
    const id = alt.attrs.Id ?? '';
    const known = ctx.mb.items.has(id) || ctx.mb.folders.has(id);
    if (!known) {
      out.push(errorMessage(op, { code: 'ErrorInvalidIdMalformed' }));
      continue;
    }
    out.push(
      successOpen(op),
      `<m:AlternateId xsi:type="t:AlternateIdType" Format="${escapeAttr(dest)}" Id="${escapeAttr(id)}" Mailbox="${escapeAttr(ctx.mb.email)}"/>`,
      successClose(op),
    );
  }
  out.push(responseClose(op));
  return out.join('');
}

/**
 * GetUserConfiguration of `OWA.UserOptions` in the root folder: the mailbox's own settings, where
 * Outlook on the web keeps the user's time zone (dictionary key `timezone`, a Windows id). A
 * mailbox whose zone was never set has no such object (ErrorItemNotFound), as on Exchange.
 */
export function getUserConfiguration(ctx: OpContext): string {
  const op = 'GetUserConfiguration';
  const nameEl = child(ctx.request, 'UserConfigurationName');
  const name = nameEl?.attrs.Name ?? '';
  const out = [responseOpen(op)];
  if (name !== 'OWA.UserOptions' || !ctx.mb.timeZone) {
    out.push(errorMessage(op, { code: 'ErrorItemNotFound', text: 'The specified object was not found in the store.' }));
  } else {
    const entry = (key: string, value: string) =>
      `<t:DictionaryEntry><t:DictionaryKey><t:Type>String</t:Type><t:Value>${escapeText(key)}</t:Value></t:DictionaryKey>` +
      `<t:DictionaryValue><t:Type>String</t:Type><t:Value>${escapeText(value)}</t:Value></t:DictionaryValue></t:DictionaryEntry>`;
    out.push(
      successOpen(op),
      `<m:UserConfiguration><t:UserConfigurationName Name="OWA.UserOptions"><t:DistinguishedFolderId Id="root"/></t:UserConfigurationName>`,
      `<t:Dictionary>${entry('timezone', ctx.mb.timeZone)}</t:Dictionary></m:UserConfiguration>`,
      successClose(op),
    );
  }
  out.push(responseClose(op));
  return out.join('');
}
