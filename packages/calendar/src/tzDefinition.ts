import type { ZoneRules, ZoneTransitionRule } from './zoneRules';

/**
 * The persisted TZDEFINITION stream of PidLidAppointmentTimeZoneDefinitionStartDisplay (the binary
 * MAPI property Graph exposes as an extended property): how a zone travels over Graph when it is an
 * Outlook "Customized Time Zone" that no Windows id names. Little endian, as documented at
 * learn.microsoft.com/office/client-developer/outlook/auxiliary/about-persisting-tzdefinition-to-a-stream-to-commit-to-a-binary-property
 * and [MS-OXOCAL] 2.2.1.41:
 *
 *   BYTE major=2, BYTE minor=1, WORD cbHeader, WORD wFlags (0x0002 = key name valid),
 *   WORD cchKeyName, WCHAR keyName[cch], WORD cRules, then per rule:
 *   BYTE major=2, BYTE minor=1, WORD cbRule=62, WORD wFlags (0x0002 = the effective rule),
 *   SYSTEMTIME stStart, LONG lBias, LONG lStandardBias, LONG lDaylightBias,
 *   SYSTEMTIME stStandardDate, SYSTEMTIME stDaylightDate.
 *
 * Biases follow Windows (UTC = local + bias, minutes); a SYSTEMTIME with wYear 0 is a yearly rule
 * ("wDay-th wDayOfWeek of wMonth", 5 = the last) at wHour:wMinute local time.
 */

const FLAG_VALID_KEYNAME = 0x0002;
const RULE_FLAG_EFFECTIVE = 0x0002;
const RULE_BYTES = 66;

export interface TzDefinition {
  keyName: string;
  /** the effective rule (the one flagged, else the last) */
  rules: ZoneRules;
}

function writeYearly(buf: Buffer, at: number, r: ZoneTransitionRule | undefined): void {
  if (!r) return; // all zeros: no switch
  buf.writeUInt16LE(0, at);
  buf.writeUInt16LE(r.month, at + 2);
  buf.writeUInt16LE(r.dayOfWeek, at + 4);
  buf.writeUInt16LE(r.occurrence < 0 || r.occurrence > 4 ? 5 : r.occurrence, at + 6);
  buf.writeUInt16LE(Math.floor(r.timeOffsetMinutes / 60), at + 8);
  buf.writeUInt16LE(r.timeOffsetMinutes % 60, at + 10);
}

function readYearly(buf: Buffer, at: number): ZoneTransitionRule | undefined {
  const month = buf.readUInt16LE(at + 2);
  if (month === 0) return undefined;
  const day = buf.readUInt16LE(at + 6);
  return {
    month,
    dayOfWeek: buf.readUInt16LE(at + 4),
    occurrence: day >= 5 ? -1 : day,
    timeOffsetMinutes: buf.readUInt16LE(at + 8) * 60 + buf.readUInt16LE(at + 10),
  };
}

/** The base64 TZDEFINITION of one effective rule (what Graph answers for a Binary extended property). */
export function encodeTzDefinition(def: TzDefinition): string {
  const key = Buffer.from(def.keyName, 'utf16le');
  const cbHeader = 6 + key.length;
  const buf = Buffer.alloc(4 + cbHeader + RULE_BYTES);
  let at = 0;
  buf.writeUInt8(2, at++);
  buf.writeUInt8(1, at++);
  buf.writeUInt16LE(cbHeader, at);
  buf.writeUInt16LE(FLAG_VALID_KEYNAME, at + 2);
  buf.writeUInt16LE(key.length / 2, at + 4);
  key.copy(buf, at + 6);
  at += 6 + key.length;
  buf.writeUInt16LE(1, at);
  at += 2;
  buf.writeUInt8(2, at);
  buf.writeUInt8(1, at + 1);
  buf.writeUInt16LE(RULE_BYTES - 4, at + 2);
  buf.writeUInt16LE(RULE_FLAG_EFFECTIVE, at + 4);
  // stStart (at + 6) stays zero: in force from the beginning
  const r = def.rules;
  buf.writeInt32LE(0 - r.standardOffset, at + 22);
  buf.writeInt32LE(0, at + 26);
  buf.writeInt32LE(r.daylight ? -(r.daylight.offset - r.standardOffset) : 0, at + 30);
  writeYearly(buf, at + 34, r.daylight?.end);
  writeYearly(buf, at + 50, r.daylight?.start);
  return buf.toString('base64');
}

/** Reads a base64 TZDEFINITION; undefined when it is not one (a truncated or foreign stream). */
export function decodeTzDefinition(base64: string): TzDefinition | undefined {
  const buf = Buffer.from(base64, 'base64');
  if (buf.length < 6 || buf.readUInt8(0) !== 2) return undefined;
  const cbHeader = buf.readUInt16LE(2);
  const flags = buf.readUInt16LE(4);
  let at = 6;
  let keyName = '';
  if (flags & 0x0001) at += 16; // a GUID
  if (flags & FLAG_VALID_KEYNAME) {
    if (buf.length < at + 2) return undefined;
    const cch = buf.readUInt16LE(at);
    if (buf.length < at + 2 + cch * 2) return undefined;
    keyName = buf.subarray(at + 2, at + 2 + cch * 2).toString('utf16le');
  }
  at = 4 + cbHeader - 2;
  if (buf.length < at + 2) return undefined;
  const count = buf.readUInt16LE(at);
  at += 2;
  let chosen: number | undefined;
  for (let i = 0; i < count; i++) {
    const start = at + i * RULE_BYTES;
    if (buf.length < start + RULE_BYTES) return undefined;
    if (buf.readUInt16LE(start + 4) & RULE_FLAG_EFFECTIVE || i === count - 1) {
      chosen ??= start;
    }
  }
  if (chosen === undefined) return undefined;
  const bias = buf.readInt32LE(chosen + 22);
  const standardBias = buf.readInt32LE(chosen + 26);
  const daylightBias = buf.readInt32LE(chosen + 30);
  const end = readYearly(buf, chosen + 34);
  const start = readYearly(buf, chosen + 50);
  // `0 - x`, not `-x`: no negative zero for UTC
  const standardOffset = 0 - (bias + standardBias);
  const rules: ZoneRules = { standardOffset };
  if (start && end && daylightBias !== 0) rules.daylight = { offset: 0 - (bias + daylightBias), start, end };
  return { keyName, rules };
}
