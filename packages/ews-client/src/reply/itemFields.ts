/**
 * Fields every item answer shares: ItemId/ChangeKey, LastModifiedTime, extended properties (our
 * tag among them), and EWS date-times. Exchange writes date-times in UTC (`Z`) when no
 * TimeZoneContext header is sent; one without a zone is read as UTC, as ews-javascript-api does
 * with a UTC service.
 */
import { normalizeInstant } from '@exsync/canonical';
import { EXSYNC_LINK_ID_PROPERTY_NAME, EXSYNC_PROPERTY_SET_ID } from '../exsyncTag';
import { child, childrenNamed, type XNode } from './xmlTree';

const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch ms of an EWS xs:dateTime, or NaN. */
export function dateTimeMs(text: string): number {
  const t = text.trim();
  return Date.parse(HAS_ZONE.test(t) ? t : `${t}Z`);
}

/** The canonical instant (`YYYY-MM-DDTHH:MM:SSZ`) of an EWS xs:dateTime; throws RangeError when it is none. */
export function instantOf(text: string): string {
  const ms = dateTimeMs(text);
  if (Number.isNaN(ms)) throw new RangeError(`not an EWS date-time: ${JSON.stringify(text)}`);
  // normalizeInstant of the whole second, written directly: `YYYY-MM-DDTHH:MM:SS.000Z` -> `...SSZ`
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : normalizeInstant(iso); // a year beyond 4 digits: its RangeError
}

/** LastModifiedTime as the library reports it (`toISOString`, milliseconds included), or undefined. */
export function lastModifiedOf(item: XNode): string | undefined {
  const t = child(item, 'LastModifiedTime')?.text;
  if (t === undefined) return undefined;
  const ms = dateTimeMs(t);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export interface ItemIdentity {
  itemId: string;
  changeKey: string;
}

/**
 * ItemId Id and ChangeKey; undefined when the item has no ItemId. Exchange always sends the
 * ChangeKey of an item it returns; where an answer lacks one (a shortened Learn sample) the
 * ChangeKey is undefined, as ews-javascript-api reports it.
 */
export function identityOf(item: XNode): ItemIdentity | undefined {
  const id = child(item, 'ItemId');
  if (!id || id.attrs.Id === undefined) return undefined;
  return { itemId: id.attrs.Id, changeKey: id.attrs.ChangeKey as string };
}

/** What names an extended property: a property set GUID or a distinguished set, and a name or an id. */
export interface ExtendedPropertyKey {
  propertySetId?: string;
  distinguishedSet?: { name: string; guid: string };
  propertyName?: string;
  propertyId?: number;
}

function matches(uri: XNode, key: ExtendedPropertyKey): boolean {
  const a = uri.attrs;
  const set = a.PropertySetId?.toLowerCase();
  const sameSet = key.propertySetId
    ? set === key.propertySetId.toLowerCase()
    : key.distinguishedSet !== undefined && (a.DistinguishedPropertySetId === key.distinguishedSet.name || set === key.distinguishedSet.guid.toLowerCase());
  if (!sameSet) return false;
  if (key.propertyName !== undefined) return a.PropertyName === key.propertyName;
  if (key.propertyId !== undefined && a.PropertyId !== undefined) return Number(a.PropertyId) === key.propertyId;
  return false;
}

/** The Value text of the item's extended property named by `key`, or undefined when the item lacks it. */
export function extendedValue(item: XNode, key: ExtendedPropertyKey): string | undefined {
  for (const p of childrenNamed(item, 'ExtendedProperty')) {
    const uri = child(p, 'ExtendedFieldURI');
    if (uri && matches(uri, key)) return child(p, 'Value')?.text ?? '';
  }
  return undefined;
}

export const EXSYNC_TAG_KEY: ExtendedPropertyKey = { propertySetId: EXSYNC_PROPERTY_SET_ID, propertyName: EXSYNC_LINK_ID_PROPERTY_NAME };
export const EXSYNC_ZONE_KEY: ExtendedPropertyKey = { propertySetId: EXSYNC_PROPERTY_SET_ID, propertyName: 'exsyncTimeZone' };

/** Our link tag on an item (readExsyncTag's reading), if it carries one. */
export function tagOf(item: XNode): string | undefined {
  return extendedValue(item, EXSYNC_TAG_KEY);
}

/** xs:boolean */
export function booleanOf(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : undefined;
}
