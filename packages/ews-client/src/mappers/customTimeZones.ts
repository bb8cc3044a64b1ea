/**
 * "Customized Time Zone" definitions read over EWS: ews-javascript-api turns such a definition into
 * a TimeZoneInfo that loses the transition times and the daylight delta, so the raw definition is
 * kept as the library reads it (`zoneDefinitionOf`) and matched by @exsync/calendar's
 * `ianaZoneForRules`.
 */
import { TimeZonePropertyDefinition, type TimeZoneInfo } from 'ews-javascript-api';
import { CLDR_WINDOWS_ZONES, parseZoneDefinition, type ZoneRules } from '@exsync/calendar';

type RawNode = Record<string, unknown>;

const DEFINITIONS = new WeakMap<TimeZoneInfo, ZoneRules>();

let installed = false;

/**
 * Keeps the raw definition of every zone the library reads whose id it cannot resolve, keyed by
 * the TimeZoneInfo it builds. Installed once, when the appointment mapper loads.
 */
export function rememberCustomZoneDefinitions(): void {
  if (installed) return;
  installed = true;
  const proto = TimeZonePropertyDefinition.prototype as unknown as {
    LoadPropertyValueFromXmlJsObject(this: unknown, js: RawNode, service: unknown, bag: { _getItem(def: unknown): unknown }): void;
  };
  const original = proto.LoadPropertyValueFromXmlJsObject;
  proto.LoadPropertyValueFromXmlJsObject = function (js, service, bag) {
    original.call(this, js, service, bag);
    const info = bag._getItem(this) as TimeZoneInfo | null;
    if (!info || !js || CLDR_WINDOWS_ZONES[String(js.Id ?? '')]) return;
    const rules = parseZoneDefinition(js);
    if (rules) DEFINITIONS.set(info, rules);
  };
}

/** The rules of a zone read from Exchange that the library could not resolve by id. */
export function zoneDefinitionOf(info: TimeZoneInfo | undefined | null): ZoneRules | undefined {
  return info ? DEFINITIONS.get(info) : undefined;
}
