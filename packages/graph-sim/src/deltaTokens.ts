import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { errors, GraphError } from './errors';
import type { IdType } from './ids';

/**
 * Delta state. A chain is one client's sequence of rounds over one resource (a calendar window or a
 * contact folder); each served link (`$skiptoken` page or `$deltatoken` round) names a generation of
 * it. Tokens are opaque to clients: base64url JSON of {chain, generation, page, kind, window, id type}
 * plus an HMAC, so a garbled token is recognised. What a generation knows (the baseline of what the
 * client has seen, and the pages of the round in progress) stays here. Only the last
 * KEPT_GENERATIONS generations of a chain stay valid, as Outlook keeps a bounded token cache
 * (learn.microsoft.com/graph/delta-query-overview, "token duration"); older or expired ones answer
 * 410 Gone SyncStateNotFound.
 */
export const KEPT_GENERATIONS = 3;

export type DeltaKind = 'calendarView' | 'contacts';

/** One instance the client holds: its version and its ids in both id types (to report removals). */
export interface BaselineEntry {
  version: string;
  ids: { rest: string; immutable: string };
}

/** A change to report: an instance to render, or one to report `@removed`. */
export type Change = { key: string; removed: false } | { key: string; removed: true; ids: { rest: string; immutable: string } };

export interface Generation {
  /** What the client will hold once it has read this round. */
  baseline: Map<string, BaselineEntry>;
  /** The round's changes, paged at the page size of the request that began it. */
  changes: Change[];
  pageSize: number;
}

export interface Chain {
  id: string;
  mailbox: string;
  kind: DeltaKind;
  folderId: string;
  window?: { start: number; end: number };
  idType: IdType;
  /** `$select` of a contacts round, baked into the chain. */
  select?: string[];
  generations: Map<number, Generation>;
  next: number;
}

interface TokenBody {
  c: string;
  g: number;
  p?: number;
  k: DeltaKind;
  t: IdType;
  w?: [number, number];
}

export class DeltaTokens {
  private readonly secret = randomBytes(32);
  private readonly chains = new Map<string, Chain>();

  newChain(init: Omit<Chain, 'id' | 'generations' | 'next'>): Chain {
    const chain: Chain = { ...init, id: randomUUID(), generations: new Map(), next: 1 };
    this.chains.set(chain.id, chain);
    return chain;
  }

  /** Adds a generation and forgets the ones older than the last KEPT_GENERATIONS. */
  addGeneration(chain: Chain, gen: Generation): number {
    const g = chain.next++;
    chain.generations.set(g, gen);
    for (const old of chain.generations.keys()) if (old <= g - KEPT_GENERATIONS) chain.generations.delete(old);
    return g;
  }

  encode(chain: Chain, generation: number, page?: number): string {
    const body: TokenBody = { c: chain.id, g: generation, k: chain.kind, t: chain.idType };
    if (page !== undefined) body.p = page;
    if (chain.window) body.w = [chain.window.start, chain.window.end];
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /**
   * Reads a token back. Garbled, forged, expired or too old: 410 SyncStateNotFound. A token of the
   * other resource kind: 400. A request whose `Prefer: IdType` differs from the chain's: 410, the
   * chain is invalidated (reported behaviour, GRAPH-NOTES.md "Expired state").
   */
  decode(token: string, kind: DeltaKind, idType: IdType, mailbox: string): { chain: Chain; generation: Generation; page?: number; number: number } {
    const [payload, mac] = token.split('.');
    if (!payload || !mac || !this.validMac(payload, mac)) throw errors.syncStateNotFound('The sync state could not be read: the token is not valid.');
    let body: TokenBody;
    try {
      body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenBody;
    } catch {
      throw errors.syncStateNotFound('The sync state could not be read: the token is not valid.');
    }
    if (body.k !== kind) throw new GraphError(400, 'ErrorInvalidUrlQuery', `The delta token was issued for ${body.k}, not for ${kind}.`);
    const chain = this.chains.get(body.c);
    if (!chain || chain.mailbox !== mailbox) throw errors.syncStateNotFound();
    if (chain.idType !== idType) {
      this.chains.delete(chain.id);
      throw errors.syncStateNotFound(
        `The sync state is not valid for the requested id type: the chain was started with IdType ${chain.idType === 'immutable' ? 'ImmutableId' : 'RestId'}.`,
      );
    }
    const generation = chain.generations.get(body.g);
    if (!generation) throw errors.syncStateNotFound();
    return { chain, generation, page: body.p, number: body.g };
  }

  /** Forgets every chain of a mailbox (all of them without one): their tokens answer 410 from now on. */
  expire(mailbox?: string): number {
    let n = 0;
    for (const [id, c] of this.chains) {
      if (!mailbox || c.mailbox === mailbox.toLowerCase()) {
        this.chains.delete(id);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.chains.clear();
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url').slice(0, 22);
  }

  private validMac(payload: string, mac: string): boolean {
    const want = Buffer.from(this.sign(payload));
    const got = Buffer.from(mac);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}
