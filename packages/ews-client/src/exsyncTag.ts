import { ExtendedPropertyDefinition, Guid, MapiPropertyType, type Item } from 'ews-javascript-api';

/**
 * Our link id travels on Exchange items as a named string property in a property set of our own.
 * The GUID is fixed forever: items tagged by any earlier exsync version must stay findable, and
 * Exchange stores the GUID lower-cased, so it is written lower-case here too.
 */
export const EXSYNC_PROPERTY_SET_ID = '6f0c2b9e-4d1a-4e8b-9c3f-7a5d2e1b8c40';
export const EXSYNC_LINK_ID_PROPERTY_NAME = 'exsyncLinkId';

export const EXSYNC_LINK_ID_PROPERTY = new ExtendedPropertyDefinition(
  new Guid(EXSYNC_PROPERTY_SET_ID),
  EXSYNC_LINK_ID_PROPERTY_NAME,
  MapiPropertyType.String,
);

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
