/**
 * Injected failures, globally or per mailbox. Rates are probabilities in [0, 1] drawn from a seeded
 * generator so that a test run is reproducible.
 */
import { seededRandom } from './seededRandom';
export interface FaultConfig {
  /** Added delay before answering, in ms. */
  latencyMs: number;
  /** HTTP 503 with Retry-After. */
  http503Rate: number;
  /** HTTP 504 Gateway Timeout, as a front end answers when the back end is slow. */
  http504Rate: number;
  retryAfterSeconds: number;
  /** The protocol's "busy" answer: EWS HTTP 500 SOAP fault ErrorServerBusy with BackOffMilliseconds; Graph HTTP 429 with Retry-After. */
  serverBusyRate: number;
  backOffMs: number;
  /** HTTP 200 with ResponseClass="Error" ErrorServerBusy on each item of a batch (Graph: a 429 inside a $batch answer). */
  itemServerBusyRate: number;
  /** Never answer; the client's timeout ends the request. */
  hangRate: number;
  /** HTTP 500 with an HTML page, or HTTP 200 with truncated XML (alternating). */
  malformedRate: number;
  /** Destroy the socket without an answer. */
  resetRate: number;
}

export type FaultKind = 'hang' | 'reset' | 'http503' | 'http504' | 'serverBusy' | 'malformed';

export const NO_FAULTS: FaultConfig = {
  latencyMs: 0,
  http503Rate: 0,
  http504Rate: 0,
  retryAfterSeconds: 30,
  serverBusyRate: 0,
  backOffMs: 5000,
  itemServerBusyRate: 0,
  hangRate: 0,
  malformedRate: 0,
  resetRate: 0,
};

const RATE_KEYS = ['http503Rate', 'http504Rate', 'serverBusyRate', 'itemServerBusyRate', 'hangRate', 'malformedRate', 'resetRate'] as const;

export class FaultConfigError extends Error {}

/** Validates a partial fault configuration from the control API or a test. */
export function validateFaults(input: unknown): Partial<FaultConfig> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new FaultConfigError('faults must be an object');
  const out: Partial<FaultConfig> = {};
  for (const [k, v] of Object.entries(input)) {
    if (!(k in NO_FAULTS)) throw new FaultConfigError(`unknown fault setting ${k}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new FaultConfigError(`${k} must be a non-negative number`);
    if ((RATE_KEYS as readonly string[]).includes(k) && v > 1) throw new FaultConfigError(`${k} must be between 0 and 1`);
    out[k as keyof FaultConfig] = v;
  }
  return out;
}

/**
 * A per-item refusal: CreateItem and UpdateItem of an item whose text (any field of the request,
 * e.g. the Subject) contains `contains`, and GetItem of a stored item whose text does, answer that
 * item with `ResponseClass="Error"` and `code`, as Exchange does for an item it will not store or
 * cannot read, while the rest of the batch succeeds.
 */
export interface ItemRefusal {
  contains: string;
  /** Exchange response code (default ErrorInvalidPropertySet) */
  code: string;
}

/** Validates the body of `PUT /_sim/mailboxes/:email/item-faults`: `{refuse: [{contains, code?}]}`. */
export function validateItemRefusals(input: unknown): ItemRefusal[] {
  const list = (input as { refuse?: unknown } | null)?.refuse;
  if (!Array.isArray(list)) throw new FaultConfigError('refuse must be an array of {contains, code?}');
  return list.map((r, i) => {
    const contains = (r as { contains?: unknown })?.contains;
    const code = (r as { code?: unknown })?.code ?? 'ErrorInvalidPropertySet';
    if (typeof contains !== 'string' || contains === '') throw new FaultConfigError(`refuse[${i}].contains must be a non-empty string`);
    if (typeof code !== 'string' || !/^Error[A-Za-z]+$/.test(code))
      throw new FaultConfigError(`refuse[${i}].code must be an EWS response code such as ErrorInvalidPropertySet`);
    return { contains, code };
  });
}

export class Faults {
  private global: FaultConfig = { ...NO_FAULTS };
  private refusals = new Map<string, ItemRefusal[]>();
  private perMailbox = new Map<string, FaultConfig>();
  private random: () => number;
  private malformedToggle = false;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  /** Merges settings into the global configuration, or into one mailbox's. */
  set(config: Partial<FaultConfig>, mailbox?: string): void {
    const valid = validateFaults(config);
    if (mailbox) {
      const key = mailbox.toLowerCase();
      this.perMailbox.set(key, { ...(this.perMailbox.get(key) ?? NO_FAULTS), ...valid });
    } else {
      this.global = { ...this.global, ...valid };
    }
  }

  /** Clears one mailbox's faults, or all of them. */
  clear(mailbox?: string): void {
    if (mailbox) {
      this.perMailbox.delete(mailbox.toLowerCase());
      this.refusals.delete(mailbox.toLowerCase());
    } else {
      this.global = { ...NO_FAULTS };
      this.perMailbox.clear();
      this.refusals.clear();
    }
  }

  /** Replaces one mailbox's per-item refusals (an empty list lifts them). */
  setItemRefusals(mailbox: string, refusals: ItemRefusal[]): void {
    if (refusals.length === 0) this.refusals.delete(mailbox.toLowerCase());
    else
      this.refusals.set(
        mailbox.toLowerCase(),
        refusals.map((r) => ({ ...r })),
      );
  }

  /** The refusal that applies to an item of `mailbox` whose field texts `texts()` gives, if any. */
  itemRefusal(mailbox: string, texts: () => string[]): ItemRefusal | undefined {
    const list = this.refusals.get(mailbox.toLowerCase());
    if (!list?.length) return undefined; // the texts are gathered only when a refusal could match
    const all = texts();
    return list.find((r) => all.some((t) => t.includes(r.contains)));
  }

  seed(seed: number): void {
    this.random = seededRandom(seed);
  }

  /** The configuration in force for a mailbox: its own when set, else the global one. */
  effective(mailbox: string | undefined): FaultConfig {
    return (mailbox && this.perMailbox.get(mailbox.toLowerCase())) || this.global;
  }

  snapshot(): { global: FaultConfig; mailboxes: Record<string, FaultConfig>; itemRefusals: Record<string, ItemRefusal[]> } {
    return { global: { ...this.global }, mailboxes: Object.fromEntries(this.perMailbox), itemRefusals: Object.fromEntries(this.refusals) };
  }

  /** Rolls the dice for one request: at most one transport-level fault. */
  pick(config: FaultConfig): FaultKind | undefined {
    if (config.resetRate > 0 && this.random() < config.resetRate) return 'reset';
    if (config.hangRate > 0 && this.random() < config.hangRate) return 'hang';
    if (config.http503Rate > 0 && this.random() < config.http503Rate) return 'http503';
    if (config.http504Rate > 0 && this.random() < config.http504Rate) return 'http504';
    if (config.serverBusyRate > 0 && this.random() < config.serverBusyRate) return 'serverBusy';
    if (config.malformedRate > 0 && this.random() < config.malformedRate) return 'malformed';
    return undefined;
  }

  rollItemBusy(config: FaultConfig): boolean {
    return config.itemServerBusyRate > 0 && this.random() < config.itemServerBusyRate;
  }

  nextMalformedIsHtml(): boolean {
    this.malformedToggle = !this.malformedToggle;
    return this.malformedToggle;
  }
}
