import { ExtendedPropertyDefinition, Guid, MapiPropertyType, type Item } from 'ews-javascript-api';
import { EXSYNC_LINK_ID_PROPERTY_NAME, EXSYNC_PROPERTY_SET_ID } from '@exsync/canonical';

/** The link-id property (@exsync/canonical exsyncTag.ts) as ews-javascript-api defines it. */
export { EXSYNC_LINK_ID_PROPERTY_NAME, EXSYNC_PROPERTY_SET_ID } from '@exsync/canonical';

export const EXSYNC_LINK_ID_PROPERTY = new ExtendedPropertyDefinition(new Guid(EXSYNC_PROPERTY_SET_ID), EXSYNC_LINK_ID_PROPERTY_NAME, MapiPropertyType.String);

/** The tag on an item loaded with EXSYNC_LINK_ID_PROPERTY in its property set, if it carries one. */
export function readExsyncTag(item: Item): string | undefined {
  const out: { outValue: unknown } = { outValue: undefined };
  // ExtendedProperties itself throws when not loaded (an IdOnly bind without our property)
  try {
    if (item.ExtendedProperties.TryGetValue(EXSYNC_LINK_ID_PROPERTY, out) && typeof out.outValue === 'string') {
      return out.outValue;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
