/**
 * Reading and writing properties of library items without tripping over the library: unloaded
 * properties throw on access, and deleting a field needs the (untyped) property bag.
 */
import * as ews from 'ews-javascript-api';
import { xmlText } from './xmlText';

/** A loaded property's value, or undefined when it was not loaded or is null. */
export function loaded<T>(item: ews.ServiceObject, def: ews.PropertyDefinitionBase): T | undefined {
  const out: { outValue: T | null } = { outValue: null };
  try {
    if (item.TryGetProperty<T | null>(def, out) && out.outValue !== null && out.outValue !== undefined) return out.outValue;
  } catch {
    // the library throws for properties the request did not ask for
  }
  return undefined;
}

export function readExtendedString(item: ews.Item, def: ews.ExtendedPropertyDefinition): string | undefined {
  const out: { outValue: unknown } = { outValue: undefined };
  try {
    if (item.ExtendedProperties.TryGetValue(def, out) && typeof out.outValue === 'string') return out.outValue;
  } catch {
    return undefined;
  }
  return undefined;
}

interface PropertyBagAccess {
  PropertyBag: { _setItem(def: ews.PropertyDefinition, value: unknown): void };
}

/** The item's property bag: the library keeps it out of its typings, but setting `null` through it is how a field is deleted. */
export function propertyBag(item: ews.ServiceObject): PropertyBagAccess['PropertyBag'] {
  return (item as unknown as PropertyBagAccess).PropertyBag;
}

/**
 * Sets `def` to `next` unless the loaded value already equals it; `undefined` clears a loaded
 * value. `wire` turns the value into what the library may write (escaped text).
 */
export function put<T>(
  target: ews.ServiceObject,
  def: ews.PropertyDefinition,
  next: T | undefined,
  same: (a: T, b: T) => boolean = (a, b) => a === b,
  wire: (value: T) => unknown = (value) => (typeof value === 'string' ? xmlText(value) : value),
): void {
  const current = target.IsNew ? undefined : loaded<T>(target, def);
  if (next === undefined) {
    if (current !== undefined) propertyBag(target)._setItem(def, null);
    return;
  }
  if (current !== undefined && same(current, next)) return;
  propertyBag(target)._setItem(def, wire(next));
}

/** A body as written: always Text (the canonical body is text), escaped. */
export const bodyWire = (b: ews.MessageBody) => new ews.MessageBody(ews.BodyType.Text, xmlText(b.Text ?? ''));
export const sameInstant = (a: ews.DateTime, b: ews.DateTime) => a.TotalMilliSeconds === b.TotalMilliSeconds;
/** Bodies compare by their text; an item loaded with RequestedBodyType Text holds an HTML body's text. */
export const sameBody = (a: ews.MessageBody, b: ews.MessageBody) => (a.Text ?? '').trim() === (b.Text ?? '').trim();
