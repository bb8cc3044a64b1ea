import {
  DEFAULT_CALENDAR_WINDOW,
  type AuthMode,
  EXSYNC_LINK_ID_GRAPH_PROPERTY_ID,
  MEETING_DELETE_REFUSED,
  SyncError,
  absoluteWindowProblem,
  calendarWindowAt,
  sameCalendarWindow,
  normalizeAppointment,
  openOptionsProblem,
  type Appointment,
  type CalendarWindow,
  type ChangePage,
  type Contact,
  type FetchedItem,
  type FolderChange,
  type FolderName,
  type ItemKind,
  type ItemOfKind,
  type ItemRef,
  type ItemResult,
  type MailboxOpener,
  type MailboxPort,
  type TransportRequestRecord,
  type ForeignItemRef,
  type ItemResolverPort,
  type ResolvedItem,
  type ExchangeTransport,
} from '@exsync/canonical';
import type { EndpointPolicy } from '@exsync/config';
import { occurrenceStarts, planOccurrenceChanges } from '@exsync/calendar';
import { mailboxSemaphore } from './concurrency';
import { toCanonicalContact, toGraphContact, CONTACT_EXPAND, CONTACT_SELECT } from './contactMapper';
import { APPOINTMENT_EXPAND, toCanonicalAppointment, toGraphEvent, toGraphOccurrence } from './eventMapper';
import { asSyncError, errorFromGraph } from './graphErrors';
import { resolveItems } from './itemResolution';
import { GraphHttp, MAX_BATCH, type BatchRequest, type GraphResponse } from './graphHttp';
import { changeKeyFromEtag, extendedValue, isObject, parseCollection, parseDeltaPage, parseItem, type Json } from './wireShapes';

/**
 * canonical's MailboxPort over Microsoft Graph v1.0 (issue 16). Facts: GRAPH-NOTES.md and
 * learn.microsoft.com/graph (delta-query-events, contact-delta, json-batching, throttling-limits,
 * extended-properties-overview, outlook-immutable-id).
 *
 * - Contacts: the default folder's `contacts/delta` with `$select`.
 * - Calendar: `calendarView/delta` over the organisation's window (OpenMailboxRequest.calendarWindow;
 *   default 90 days back, 540 ahead). The window is baked into Graph's tokens, so the stored state
 *   is the delta link plus the window it was made for (`#exsync-window=<start>,<end>`, a URL
 *   fragment, never sent). When the window has moved, the stored round is first read to its end
 *   (the changes it still owes, deletes among them), then a new round starts over the new window;
 *   the pages of both are one listing to the engine, which never concludes a delete from an item
 *   missing in it. Occurrences and exceptions fold into their series master; every id a page names
 *   is read back whole, once (that read serves getItems for the page), and only a 404 is reported
 *   as a delete (`@removed` also means "left the window" or "one occurrence deleted"). An event this
 *   session wrote that comes back with the changeKey of the write is reported unread.
 * - Contacts are read after their delta page: contacts/delta documents `$select` only
 *   (learn.microsoft.com/graph/api/contact-delta), and the tag and MAPI properties need `$expand`.
 * - Deletes: an organizer's meeting with attendees is deleted only under the organisation's
 *   deleteOrganizerMeetings policy (Graph cannot delete it without sending cancellations).
 * - Writes: `$batch` of at most 20, `If-Match` on updates, the link id as `transactionId` (events)
 *   and as the same extended property EWS writes, so findByTag works across transports.
 * - The sync state is the whole `@odata.nextLink`/`@odata.deltaLink`; 410 / syncStateNotFound is
 *   SyncStateInvalid, and the engine starts the folder over as for EWS.
 */

export interface GraphMailboxOptions {
  /** Graph's root, e.g. https://graph.microsoft.com (the `/v1.0` segment is added when missing) */
  graphUrl: string;
  smtpAddress: string;
  /** app-only: `/users/{address}`; delegated: `/me` */
  mode: AuthMode;
  /** a token for https://graph.microsoft.com/.default, called before every request */
  getAccessToken: (opts?: { forceRefresh?: boolean }) => Promise<string>;
  /** deadline per HTTP request in ms (default 100 s) */
  timeoutMs?: number;
  endpointPolicy?: EndpointPolicy;
  /** cap on an answer's size, on the wire and decompressed (default 64 MiB) */
  maxResponseBytes?: number;
  /** the calendar window (absolute); default DEFAULT_CALENDAR_WINDOW around `now()` at open */
  calendarWindow?: CalendarWindow;
  /** the clock for the default window (tests) */
  now?: () => Date;
  /** delete meetings the mailbox organises with attendees (sends cancellations); default false */
  deleteOrganizerMeetings?: boolean;
  /** requests in flight per mailbox (Outlook's MailboxConcurrency limit is 4) */
  maxConcurrent?: number;
  /** throttled answers waited out per request (default 3); a longer Retry-After than `maxRetryWaitMs` is raised as Throttled */
  maxThrottleRetries?: number;
  maxRetryWaitMs?: number;
  /** `Prefer: odata.maxpagesize` for delta rounds (default 100) */
  pageSize?: number;
  /** called once per HTTP request made (metrics) */
  onRequest?: (record: TransportRequestRecord) => void;
}

export interface GraphFolderAccess {
  folder: FolderName;
  folderId: string;
  displayName: string;
}

export interface GraphMailbox extends MailboxPort, ItemResolverPort {
  readonly smtpAddress: string;
  /** Reads the calendar and the contacts folder as the mailbox: the connection test's Graph step. */
  checkAccess(): Promise<{ ok: true; folders: GraphFolderAccess[] }>;
}

const DAY_MS = 86_400_000;
/** Marks the window a stored calendar delta link was made for (a URL fragment: never sent). */
const WINDOW_FRAGMENT = '#exsync-window=';
/** Own writes remembered per session (see `written`): a bound on memory, far above a push's size. */
const WRITTEN_MEMO = 10_000;

/** An item answer checked by parseItem. */
type ItemJson = ReturnType<typeof parseItem>;

/** Opens a mailbox over Graph; bad options fail as InvalidSettings. */
export function openGraphMailbox(opts: GraphMailboxOptions): GraphMailbox {
  const bad = (message: string) => new SyncError('InvalidSettings', message, { code: 'invalid_configuration' });
  const problem = openOptionsProblem({
    url: opts.graphUrl,
    urlField: 'graphUrl',
    smtpAddress: opts.smtpAddress,
    mode: opts.mode,
    getAccessToken: opts.getAccessToken,
  });
  if (problem) throw bad(problem);
  const windowProblem = opts.calendarWindow === undefined ? undefined : absoluteWindowProblem(opts.calendarWindow);
  if (windowProblem) throw bad(windowProblem);
  return new GraphMailboxSession(opts);
}

/**
 * Graph as a MailboxOpener for the worker: `endpointUrl` is the organisation's graphUrl. The request
 * timeout comes with each open request (the worker chooses it per transport), never from here.
 */
export function graphOpener(extra: Pick<GraphMailboxOptions, 'endpointPolicy' | 'maxResponseBytes' | 'now'> = {}): MailboxOpener {
  return ({ endpointUrl, ...rest }) => openGraphMailbox({ graphUrl: endpointUrl, ...rest, ...extra });
}

/** `https://host[/v1.0]` -> `https://host/v1.0` (no trailing slash). */
export function graphBaseUrl(graphUrl: string): string {
  const trimmed = graphUrl.replace(/\/+$/, '');
  return /\/v1\.0$/.test(trimmed) ? trimmed : `${trimmed}/v1.0`;
}

class GraphMailboxSession implements GraphMailbox {
  readonly smtpAddress: string;
  private readonly http: GraphHttp;
  private readonly baseUrl: string;
  private readonly user: string;
  private readonly window: CalendarWindow;
  private readonly deleteOrganizerMeetings: boolean;
  private readonly pageSize: number;
  private contactFolderId?: string;
  /** what each id seen in this session is, so a delete goes to the right collection */
  private readonly kindOf = new Map<string, ItemKind>();
  /**
   * The events the current calendar page read back (whole: body, tag and MAPI properties), by id,
   * for getItems of that page: each event is read once per round. Filled by calendarChanges,
   * dropped when the round moves to its next page or ends and before any calendar write, so it
   * holds one page at most and never answers for a state older than the page the engine reads.
   */
  private pageEvents = new Map<string, ItemJson>();
  /** Events of the current calendar page whose read failed for that event alone: getItems answers them with the failure (one bad item stops only itself). */
  private pageFailures = new Map<string, SyncError>();
  /**
   * Items this session wrote, by id: the changeKey Graph answered and the tag we wrote (creates).
   * A delta entry with that id and changeKey is our own write coming back: it is reported without
   * reading it (the engine skips it by its stored changeKey). At most WRITTEN_MEMO entries.
   */
  private readonly written = new Map<string, { changeKey: string; tag?: string }>();

  constructor(opts: GraphMailboxOptions) {
    this.smtpAddress = opts.smtpAddress;
    const baseUrl = graphBaseUrl(opts.graphUrl);
    this.baseUrl = baseUrl;
    const maxConcurrent = opts.maxConcurrent ?? 4;
    this.http = new GraphHttp({
      baseUrl,
      getAccessToken: opts.getAccessToken,
      semaphore: mailboxSemaphore(baseUrl, opts.smtpAddress, maxConcurrent),
      timeoutMs: opts.timeoutMs ?? 100_000,
      endpointPolicy: opts.endpointPolicy,
      maxResponseBytes: opts.maxResponseBytes,
      maxThrottleRetries: opts.maxThrottleRetries ?? 3,
      maxRetryWaitMs: opts.maxRetryWaitMs ?? 60_000,
      onRequest: opts.onRequest,
    });
    this.user = opts.mode === 'delegated' ? '/me' : `/users/${encodeURIComponent(opts.smtpAddress)}`;
    this.window = opts.calendarWindow ?? calendarWindowAt((opts.now ?? (() => new Date()))(), DEFAULT_CALENDAR_WINDOW);
    this.deleteOrganizerMeetings = opts.deleteOrganizerMeetings === true;
    this.pageSize = opts.pageSize ?? 100;
  }

  /** One request whose non-2xx answer is raised as a SyncError. */
  private async call(method: string, pathOrUrl: string, body?: unknown, headers?: Record<string, string>): Promise<GraphResponse> {
    const res = await this.http.request(method, pathOrUrl, body, headers);
    if (res.status >= 400) throw errorFromGraph(res.status, res.body, res.headers['retry-after']);
    return res;
  }

  /** Requests in `$batch`es of MAX_BATCH, answers in order; a batch that fails as a whole fails its requests. */
  private async batched(requests: BatchRequest[]): Promise<(GraphResponse | SyncError)[]> {
    const out: (GraphResponse | SyncError)[] = [];
    let stopWith: SyncError | undefined;
    for (let i = 0; i < requests.length; i += MAX_BATCH) {
      const chunk = requests.slice(i, i + MAX_BATCH);
      if (stopWith) {
        out.push(...chunk.map(() => stopWith!));
        continue;
      }
      try {
        out.push(
          ...(chunk.length === 1 ? [await this.http.request(chunk[0].method, chunk[0].url, chunk[0].body, chunk[0].headers)] : await this.http.batch(chunk)),
        );
      } catch (e) {
        const err = asSyncError(e);
        out.push(...chunk.map(() => err));
        // sending more prolongs a back-off; a person must act on the others
        if (err.kind === 'Throttled' || err.needsPerson) stopWith = err;
      }
    }
    return out;
  }

  private async contactsFolder(): Promise<string> {
    if (!this.contactFolderId) {
      const res = await this.call('GET', `${this.user}/contactFolders/contacts?$select=id,displayName`);
      this.contactFolderId = parseItemId(res.body, 'contact folder');
    }
    return this.contactFolderId;
  }

  private collection(kind: ItemKind, folderId?: string): string {
    return kind === 'appointment' ? `${this.user}/events` : `${this.user}/contactFolders/${encodeURIComponent(folderId!)}/contacts`;
  }

  private itemPath(kind: ItemKind, id: string): string {
    return `${this.user}/${kind === 'appointment' ? 'events' : 'contacts'}/${encodeURIComponent(id)}`;
  }

  async *syncFolder(folder: FolderName, syncState: string | undefined): AsyncGenerator<ChangePage> {
    if (folder !== 'calendar' && folder !== 'contacts') throw new SyncError('Permanent', `Unknown folder ${String(folder)}`, { code: 'invalid_configuration' });
    const stored = syncState === undefined ? undefined : splitWindowState(syncState);
    if (stored && !this.isDeltaLink(stored.link)) {
      // an EWS SyncState (a transport change) or anything else we did not write: start the folder over
      throw new SyncError('SyncStateInvalid', 'The stored sync state is not a Graph delta link of this mailbox', { code: 'SyncStateNotGraph' });
    }
    if (folder === 'contacts') {
      yield* this.round(folder, stored?.link ?? (await this.firstLink(folder)), undefined, false, new Set());
      return;
    }
    // a series' occurrences spread over many pages: its master is read and reported once a listing
    const reported = new Set<string>();
    if (stored && !sameCalendarWindow(stored.window, this.window)) {
      // The window moved: the stored round still owes its changes (deletes among them), so it is
      // read to its end first; its last page is not the listing's end, the new window's round is.
      yield* this.round(folder, stored.link, stored.window, true, reported);
      yield* this.round(folder, await this.firstLink(folder), this.window, false, reported);
      return;
    }
    yield* this.round(folder, stored?.link ?? (await this.firstLink(folder)), this.window, false, reported);
  }

  /**
   * One delta round from `link` to its deltaLink. Each page's state is the next link with the
   * window it belongs to; `continues` marks the round's last page as not the listing's last;
   * `reported` holds the series masters already reported in this listing.
   */
  private async *round(
    folder: FolderName,
    link: string,
    window: CalendarWindow | undefined,
    continues: boolean,
    reported: Set<string>,
  ): AsyncGenerator<ChangePage> {
    try {
      for (;;) {
        const res = await this.call('GET', link, undefined, { Prefer: `odata.maxpagesize=${this.pageSize}` });
        const page = parseDeltaPage(res.body);
        if (folder === 'calendar') this.dropPageEvents();
        const changes = folder === 'contacts' ? this.contactChanges(page.value) : await this.calendarChanges(page.value, reported);
        link = (page.nextLink ?? page.deltaLink)!;
        yield {
          changes,
          syncState: window ? `${link}${WINDOW_FRAGMENT}${window.start},${window.end}` : link,
          moreAvailable: page.nextLink !== undefined || continues,
        };
        // the engine has read the page it was given: its events are not served again
        if (folder === 'calendar') this.dropPageEvents();
        if (!page.nextLink) return;
      }
    } finally {
      if (folder === 'calendar') this.dropPageEvents();
    }
  }

  /** Whether `state` is a nextLink/deltaLink Graph gave for this mailbox at the configured endpoint. */
  private isDeltaLink(state: string): boolean {
    let url: URL;
    try {
      url = new URL(state);
    } catch {
      return false;
    }
    const base = new URL(this.baseUrl);
    return url.origin === base.origin && url.pathname.startsWith(`${base.pathname}${this.user}/`) && /\/delta$/.test(url.pathname);
  }

  private async firstLink(folder: FolderName): Promise<string> {
    if (folder === 'contacts') return `${this.user}/contactFolders/${encodeURIComponent(await this.contactsFolder())}/contacts/delta?$select=${CONTACT_SELECT}`;
    const from = new Date(Date.parse(this.window.start)).toISOString();
    const to = new Date(Date.parse(this.window.end)).toISOString();
    return `${this.user}/calendarView/delta?startDateTime=${from}&endDateTime=${to}`;
  }

  private contactChanges(entries: Json[]): FolderChange[] {
    const out: FolderChange[] = [];
    for (const e of entries) {
      const id = e.id as string;
      if (isObject(e['@removed'])) {
        out.push({ type: 'delete', itemId: id });
        continue;
      }
      this.kindOf.set(id, 'contact');
      const changeKey = typeof e.changeKey === 'string' ? e.changeKey : changeKeyFromEtag(typeof e['@odata.etag'] === 'string' ? e['@odata.etag'] : undefined);
      if (!changeKey) throw new SyncError('Transient', 'Graph sent a contact change without a changeKey', { code: 'MalformedResponse' });
      out.push({ type: 'update', itemId: id, changeKey, lastModified: typeof e.lastModifiedDateTime === 'string' ? e.lastModifiedDateTime : undefined });
    }
    return out;
  }

  /**
   * The calendar changes of one delta page: every named event is read back whole (with its tag and
   * the MAPI properties the mapper reads) and kept in `pageEvents` for getItems, an occurrence or
   * exception stands for its series master, and only a 404 becomes a delete. An event this session
   * wrote that comes back with the changeKey Graph answered for the write is reported unread. `seen`
   * holds the ids this round already reported (updated as it goes): they are not read again.
   */
  private async calendarChanges(entries: Json[], seen: Set<string>): Promise<FolderChange[]> {
    const out: FolderChange[] = [];
    const named = new Set<string>();
    const entryChangeKey = new Map<string, string>();
    for (const e of entries) {
      if (typeof e.id === 'string' && typeof e.changeKey === 'string') entryChangeKey.set(e.id, e.changeKey);
      const master = typeof e.seriesMasterId === 'string' && (e.type === 'occurrence' || e.type === 'exception') ? e.seriesMasterId : undefined;
      const id = master ?? (e.id as string);
      if (seen.has(id)) continue;
      const own = master || isObject(e['@removed']) ? undefined : this.ownWrite(e);
      if (own) {
        seen.add(id);
        named.delete(id);
        out.push(own);
        continue;
      }
      named.add(id);
    }
    let ids = [...named];
    // two passes at most: an id read back as an occurrence points at its master
    for (let pass = 0; pass < 2 && ids.length > 0; pass++) {
      const answers = await this.batched(
        ids.map((id) => ({ method: 'GET' as const, url: `${this.itemPath('appointment', id)}?$expand=${APPOINTMENT_EXPAND}` })),
      );
      const next: string[] = [];
      ids.forEach((id, i) => {
        const a = answers[i];
        if (a instanceof SyncError) throw a;
        if (a.status === 404) {
          seen.add(id);
          out.push({ type: 'delete', itemId: id });
          return;
        }
        // One event Graph will not serve, or that exsync cannot read, is that event's failure, not
        // the round's (as in getItems): it is listed as changed and getItems answers it with the
        // error; the engine decides from the error (runErrors.ts) whether it stops the run or only the item.
        const failEvent = (error: SyncError) => {
          seen.add(id);
          this.pageFailures.set(id, error);
          out.push({ type: 'update', itemId: id, changeKey: entryChangeKey.get(id) ?? '' });
        };
        if (a.status >= 400) return failEvent(errorFromGraph(a.status, a.body, a.headers['retry-after']));
        let item: ItemJson;
        try {
          item = parseItem(a.body, 'event');
        } catch (e) {
          return failEvent(this.itemFailure(e).error);
        }
        if ((item.type === 'occurrence' || item.type === 'exception') && typeof item.seriesMasterId === 'string') {
          if (!seen.has(item.seriesMasterId) && !named.has(item.seriesMasterId)) next.push(item.seriesMasterId);
          return;
        }
        if (seen.has(item.id)) return;
        seen.add(item.id);
        this.kindOf.set(item.id, 'appointment');
        this.pageEvents.set(item.id, item);
        out.push({
          type: 'update',
          itemId: item.id,
          changeKey: item.changeKey,
          tag: extendedValue(item, EXSYNC_LINK_ID_GRAPH_PROPERTY_ID),
          lastModified: typeof item.lastModifiedDateTime === 'string' ? item.lastModifiedDateTime : undefined,
        });
      });
      ids = next;
    }
    return out;
  }

  /** A delta entry that is this session's own write, unchanged since (same id and changeKey), as its change; else undefined. */
  private ownWrite(e: Json): FolderChange | undefined {
    const id = e.id as string;
    const mine = this.written.get(id);
    if (!mine) return undefined;
    const changeKey = typeof e.changeKey === 'string' ? e.changeKey : changeKeyFromEtag(typeof e['@odata.etag'] === 'string' ? e['@odata.etag'] : undefined);
    if (changeKey !== mine.changeKey) return undefined;
    this.written.delete(id);
    return {
      type: 'update',
      itemId: id,
      changeKey,
      tag: mine.tag,
      lastModified: typeof e.lastModifiedDateTime === 'string' ? e.lastModifiedDateTime : undefined,
    };
  }

  /** Forgets the events the last calendar page read: a write or a resolution must read Exchange as it is now. */
  private dropPageEvents(): void {
    if (this.pageEvents.size > 0) this.pageEvents = new Map<string, ItemJson>();
    if (this.pageFailures.size > 0) this.pageFailures = new Map<string, SyncError>();
  }

  /** Remembers a write's answer (see `written`), oldest forgotten first beyond WRITTEN_MEMO. */
  private rememberWrite(itemId: string, changeKey: string, tag?: string): void {
    this.written.delete(itemId);
    this.written.set(itemId, { changeKey, tag });
    if (this.written.size > WRITTEN_MEMO) this.written.delete(this.written.keys().next().value as string);
  }

  /**
   * Full items, in `$batch`es of MAX_BATCH; an event the current calendar page already read is taken
   * from `pageEvents` (consumed) instead of read again. The instances of the series among them are
   * listed in `$batch`es too (the first page of each; further pages one by one).
   */
  async getItems<K extends ItemKind>(kind: K, itemIds: string[]): Promise<ItemResult<FetchedItem<ItemOfKind<K>>>[]> {
    if (!Array.isArray(itemIds)) throw new TypeError('expected an array');
    const query = kind === 'contact' ? `?$select=${CONTACT_SELECT}&$expand=${CONTACT_EXPAND}` : `?$expand=${APPOINTMENT_EXPAND}`;
    // an event its page read (checked by parseItem then), or the answer to this call's read
    const bodies: ({ held: ItemJson } | GraphResponse | SyncError)[] = new Array(itemIds.length);
    const toRead: number[] = [];
    itemIds.forEach((id, i) => {
      const failed = kind === 'appointment' ? this.pageFailures.get(id) : undefined;
      const held = kind === 'appointment' ? this.pageEvents.get(id) : undefined;
      if (failed) {
        this.pageFailures.delete(id);
        bodies[i] = failed;
      } else if (held) {
        this.pageEvents.delete(id);
        bodies[i] = { held };
      } else toRead.push(i);
    });
    const answers = await this.batched(toRead.map((i) => ({ method: 'GET' as const, url: this.itemPath(kind, itemIds[i]) + query })));
    toRead.forEach((i, j) => (bodies[i] = answers[j]));

    const out: ItemResult<FetchedItem<ItemOfKind<K>>>[] = new Array(itemIds.length);
    const parsed: { index: number; json: ItemJson }[] = [];
    for (let i = 0; i < itemIds.length; i++) {
      const a = bodies[i];
      if (a instanceof SyncError) out[i] = { ok: false, error: a };
      else if ('held' in a) parsed.push({ index: i, json: a.held });
      else if (a.status >= 400) out[i] = { ok: false, error: errorFromGraph(a.status, a.body, a.headers['retry-after']) };
      else {
        try {
          const json = parseItem(a.body, kind === 'contact' ? 'contact' : 'event');
          this.kindOf.set(json.id, kind);
          parsed.push({ index: i, json });
        } catch (e) {
          out[i] = this.itemFailure(e);
        }
      }
    }
    const items: (Appointment | Contact | Error)[] =
      kind === 'contact' ? parsed.map(({ json }) => attempt(() => toCanonicalContact(json))) : await this.readAppointments(parsed.map((p) => p.json));
    parsed.forEach(({ index, json }, j) => {
      const item = items[j];
      out[index] =
        item instanceof Error
          ? this.itemFailure(item)
          : {
              ok: true,
              value: {
                itemId: json.id,
                changeKey: json.changeKey,
                tag: extendedValue(json, EXSYNC_LINK_ID_GRAPH_PROPERTY_ID),
                lastModified: typeof json.lastModifiedDateTime === 'string' ? json.lastModifiedDateTime : undefined,
                item: item as ItemOfKind<K>,
              },
            };
    });
    return out;
  }

  /** A per-item failure as a result; a throttle or one a person must fix concerns the whole mailbox and is thrown. */
  private itemFailure(e: unknown): { ok: false; error: SyncError } {
    const err = asSyncError(e);
    if (err.kind === 'Throttled' || err.needsPerson) throw err;
    return { ok: false, error: err };
  }

  /**
   * Events as canonical appointments (or the error of each one that cannot be mapped): a series
   * master takes its exceptions and deleted occurrences from its instances, whose first pages are
   * read in `$batch`es for all the masters at once.
   */
  private async readAppointments(events: Json[]): Promise<(Appointment | Error)[]> {
    const out: (Appointment | Error)[] = new Array(events.length);
    const series: { index: number; json: Json; starts: string[]; url: string }[] = [];
    events.forEach((json, index) => {
      const bare = attempt(() => toCanonicalAppointment(json));
      out[index] = bare;
      if (bare instanceof Error || !bare.recurrence) return;
      const span = attempt(() => this.seriesSpan(bare));
      if (span instanceof Error) out[index] = span;
      else if (span.starts.length > 0)
        series.push({
          index,
          json,
          starts: span.starts,
          url: `${this.itemPath('appointment', json.id as string)}/instances?startDateTime=${span.from}&endDateTime=${span.to}`,
        });
    });
    const firsts = await this.batched(series.map((s) => ({ method: 'GET' as const, url: s.url })));
    for (let j = 0; j < series.length; j++) {
      const s = series[j];
      try {
        const a = firsts[j];
        if (a instanceof SyncError) throw a;
        if (a.status >= 400) throw errorFromGraph(a.status, a.body, a.headers['retry-after']);
        const instances: Json[] = [];
        let page = parseCollection(a.body);
        for (;;) {
          instances.push(...page.value);
          if (!page.nextLink) break;
          page = parseCollection((await this.call('GET', page.nextLink)).body);
        }
        out[s.index] = toCanonicalAppointment(s.json, instances, s.starts);
      } catch (e) {
        out[s.index] = e instanceof Error ? e : new Error(String(e));
      }
    }
    return out;
  }

  /** The series' original starts up to the window's end, and the span to list its instances over. */
  private seriesSpan(series: Appointment): { starts: string[]; from: string; to: string } {
    const windowEnd = Date.parse(this.window.end);
    const starts = occurrenceStarts({ ...series, recurrence: { pattern: series.recurrence!.pattern, range: series.recurrence!.range } }).filter(
      (s) => Date.parse(s) <= windowEnd,
    );
    const duration = Date.parse(series.end) - Date.parse(series.start);
    const first = starts.length ? Date.parse(starts[0]) : Date.parse(series.start);
    const last = starts.length ? Date.parse(starts[starts.length - 1]) : Date.parse(series.start);
    // exceptions may have moved: a day of margin each side, plus the occurrence's length
    return { starts, from: new Date(first - 2 * DAY_MS).toISOString(), to: new Date(last + duration + 2 * DAY_MS).toISOString() };
  }

  private async instances(masterId: string, from: string, to: string): Promise<Json[]> {
    const out: Json[] = [];
    let link: string | undefined = `${this.itemPath('appointment', masterId)}/instances?startDateTime=${from}&endDateTime=${to}`;
    while (link) {
      const res = await this.call('GET', link);
      const page = parseCollection(res.body);
      out.push(...page.value);
      link = page.nextLink;
    }
    return out;
  }

  async createItems<K extends ItemKind>(kind: K, items: { tag: string; item: ItemOfKind<K> }[]): Promise<ItemResult<ItemRef>[]> {
    if (!Array.isArray(items)) throw new TypeError('expected an array');
    if (kind === 'appointment') this.dropPageEvents();
    const folderId = kind === 'contact' ? await this.contactsFolder() : undefined;
    const results: (ItemResult<ItemRef> | undefined)[] = new Array(items.length);
    const requests: { index: number; req: BatchRequest }[] = [];
    items.forEach((input, index) => {
      try {
        if (typeof input.tag !== 'string' || !input.tag) throw new TypeError('every created item needs a tag');
        const body: Json = kind === 'contact' ? toGraphContact(input.item as Contact) : toGraphEvent(input.item as Appointment);
        // the tag goes out with the create, so a retry after a lost answer finds the item
        body.singleValueExtendedProperties = [
          ...((body.singleValueExtendedProperties as Json[] | undefined) ?? []),
          { id: EXSYNC_LINK_ID_GRAPH_PROPERTY_ID, value: input.tag },
        ];
        const headers: Record<string, string> = {};
        if (kind === 'appointment') {
          // a repeated POST with the same transactionId answers the first event (never a second one)
          body.transactionId = input.tag;
          headers['x-exsync-idempotent'] = 'true';
        }
        requests.push({ index, req: { method: 'POST', url: this.collection(kind, folderId), body, headers } });
      } catch (e) {
        results[index] = { ok: false, error: asSyncError(e) };
      }
    });
    await this.writeAll(requests, results);
    if (kind === 'appointment') {
      await this.writeSeriesOccurrences(
        results,
        items.map((input, index) => ({ index, before: undefined, after: input.item as Appointment })),
      );
    }
    results.forEach((r, i) => {
      if (!r?.ok) return;
      this.kindOf.set(r.value.itemId, kind);
      this.rememberWrite(r.value.itemId, r.value.changeKey, items[i].tag);
    });
    return results as ItemResult<ItemRef>[];
  }

  async updateItems<K extends ItemKind>(kind: K, items: { itemId: string; changeKey: string; item: ItemOfKind<K> }[]): Promise<ItemResult<ItemRef>[]> {
    if (!Array.isArray(items)) throw new TypeError('expected an array');
    if (kind === 'appointment') this.dropPageEvents();
    const results: (ItemResult<ItemRef> | undefined)[] = new Array(items.length);
    // a series' occurrence writes depend on what Exchange holds now, read first
    const before = new Map<number, Appointment>();
    if (kind === 'appointment') {
      const series = items.map((it, index) => ({ it, index })).filter(({ it }) => !!(it.item as Appointment).recurrence);
      if (series.length > 0) {
        const read = await this.getItems(
          'appointment',
          series.map((s) => s.it.itemId),
        );
        series.forEach((s, j) => {
          const r = read[j];
          if (r.ok) before.set(s.index, r.value.item);
          else results[s.index] = { ok: false, error: r.error };
        });
      }
    }
    const requests: { index: number; req: BatchRequest }[] = [];
    items.forEach((input, index) => {
      if (results[index]) return;
      try {
        let body: Json;
        if (kind === 'contact') body = toGraphContact(input.item as Contact);
        else {
          body = toGraphEvent(input.item as Appointment);
          const was = before.get(index);
          // the series definition unchanged: leave it alone, or Exchange drops its exceptions
          if (was && seriesKey(was) === seriesKey(input.item as Appointment)) {
            for (const k of ['start', 'end', 'recurrence', 'isAllDay']) delete body[k];
          }
        }
        // without a stored key (never synced from Exchange) the item is written over as it is now
        const headers: Record<string, string> = input.changeKey ? { 'If-Match': `W/"${input.changeKey}"` } : {};
        requests.push({ index, req: { method: 'PATCH', url: this.itemPath(kind, input.itemId), body, headers } });
      } catch (e) {
        results[index] = { ok: false, error: asSyncError(e) };
      }
    });
    await this.writeAll(requests, results);
    if (kind === 'appointment') {
      const series = [...before.entries()].map(([index, was]) => ({ index, before: was, after: items[index].item as Appointment }));
      await this.writeSeriesOccurrences(results, series);
    }
    for (const r of results) if (r?.ok) this.rememberWrite(r.value.itemId, r.value.changeKey);
    return results as ItemResult<ItemRef>[];
  }

  private async writeAll(requests: { index: number; req: BatchRequest }[], results: (ItemResult<ItemRef> | undefined)[]): Promise<void> {
    const answers = await this.batched(requests.map((r) => r.req));
    requests.forEach(({ index }, i) => {
      const a = answers[i];
      if (a instanceof SyncError) results[index] = { ok: false, error: a };
      else if (a.status >= 400) results[index] = { ok: false, error: errorFromGraph(a.status, a.body, a.headers['retry-after']) };
      else {
        try {
          const item = parseItem(a.body, 'written item');
          results[index] = { ok: true, value: { itemId: item.id, changeKey: item.changeKey } };
        } catch (e) {
          results[index] = { ok: false, error: asSyncError(e) };
        }
      }
    });
  }

  /**
   * Modified and deleted occurrences are writes on the series' instances after the master is
   * written (PATCH makes an occurrence an exception; DELETE removes one). The master's changeKey
   * changes with them, so it is read again for the ref the caller stores.
   */
  private async writeSeriesOccurrences(
    results: (ItemResult<ItemRef> | undefined)[],
    series: { index: number; before: Appointment | undefined; after: Appointment }[],
  ): Promise<void> {
    for (const s of series) {
      const r = results[s.index];
      if (!r?.ok || !s.after.recurrence) continue;
      const plan = planOccurrenceChanges(s.before, s.after);
      if (plan.writes.length === 0) continue;
      const masterId = r.value.itemId;
      try {
        const { from, to } = this.seriesSpan(s.after);
        const byOriginal = new Map<string, string>();
        for (const i of await this.instances(masterId, from, to)) {
          if (typeof i.originalStart === 'string' && typeof i.id === 'string')
            byOriginal.set(new Date(Date.parse(i.originalStart)).toISOString().replace('.000Z', 'Z'), i.id);
        }
        const reqs: BatchRequest[] = [];
        for (const w of plan.writes) {
          const id = byOriginal.get(w.originalStart);
          if (!id) continue; // already deleted, or outside the window: nothing to write
          const url = this.itemPath('appointment', id);
          reqs.push(w.type === 'delete' ? { method: 'DELETE', url } : { method: 'PATCH', url, body: toGraphOccurrence(w, s.after.timeZone) });
        }
        const answers = await this.batched(reqs);
        const failed = answers.find((a) => a instanceof SyncError || (a.status >= 400 && a.status !== 404));
        if (failed) {
          results[s.index] = {
            ok: false,
            error: failed instanceof SyncError ? failed : errorFromGraph(failed.status, failed.body, failed.headers['retry-after']),
          };
          continue;
        }
        const fresh = await this.call('GET', `${this.itemPath('appointment', masterId)}?$select=id,changeKey`);
        const item = parseItem(fresh.body, 'event');
        results[s.index] = { ok: true, value: { itemId: item.id, changeKey: item.changeKey } };
      } catch (e) {
        results[s.index] = { ok: false, error: asSyncError(e) };
      }
    }
  }

  /**
   * Deletes (to Deleted Items). Graph cannot be told not to send cancellations (GRAPH-NOTES,
   * "Writes"), so an event is read first: unless the organisation's deleteOrganizerMeetings policy
   * allows it, a meeting we organise with attendees is left in place and reported as
   * MEETING_DELETE_REFUSED. An already-missing item counts as deleted; an id of unknown kind is
   * looked up as an event, then as a contact.
   */
  async deleteItems(itemIds: string[]): Promise<ItemResult<null>[]> {
    if (!Array.isArray(itemIds)) throw new TypeError('expected an array');
    const results: ItemResult<null>[] = new Array(itemIds.length);
    if (itemIds.some((id) => this.kindOf.get(id) !== 'contact')) this.dropPageEvents();
    for (const id of itemIds) this.written.delete(id);
    const events = itemIds.map((id, index) => ({ id, index })).filter(({ id }) => this.kindOf.get(id) !== 'contact');
    const toDelete: { id: string; index: number; kind: ItemKind }[] = itemIds
      .map((id, index) => ({ id, index, kind: 'contact' as ItemKind }))
      .filter(({ id }) => this.kindOf.get(id) === 'contact');
    const reads = await this.batched(
      events.map(({ id }) => ({ method: 'GET' as const, url: `${this.itemPath('appointment', id)}?$select=id,isOrganizer,attendees` })),
    );
    events.forEach(({ id, index }, i) => {
      const a = reads[i];
      if (a instanceof SyncError) results[index] = { ok: false, error: a };
      else if (a.status === 404 || a.status === 400) {
        // not an event (or gone): a contact id of unknown kind is deleted as a contact
        if (this.kindOf.get(id) === 'appointment') results[index] = { ok: true, value: null };
        else toDelete.push({ id, index, kind: 'contact' });
      } else if (a.status >= 400) results[index] = { ok: false, error: errorFromGraph(a.status, a.body, a.headers['retry-after']) };
      else if (
        !this.deleteOrganizerMeetings &&
        isObject(a.body) &&
        a.body.isOrganizer !== false &&
        Array.isArray(a.body.attendees) &&
        a.body.attendees.length > 0
      ) {
        results[index] = {
          ok: false,
          error: new SyncError(
            'Permanent',
            'Deleting this meeting would send cancellations to its attendees: it is left in place (deleteOrganizerMeetings is false)',
            {
              code: MEETING_DELETE_REFUSED,
              scope: 'item',
            },
          ),
        };
      } else toDelete.push({ id, index, kind: 'appointment' });
    });
    const answers = await this.batched(toDelete.map((d) => ({ method: 'DELETE' as const, url: this.itemPath(d.kind, d.id) })));
    toDelete.forEach(({ index }, i) => {
      const a = answers[i];
      if (a instanceof SyncError) results[index] = { ok: false, error: a };
      // already gone is what the caller wanted
      else if (a.status < 400 || a.status === 404) results[index] = { ok: true, value: null };
      else results[index] = { ok: false, error: errorFromGraph(a.status, a.body, a.headers['retry-after']) };
    });
    return results;
  }

  /**
   * MailboxPort.confirmDeleted: a calendar listing covers only the window, so an item it left out
   * is read back; only a 404 is gone (GRAPH-NOTES, "Calendar: incremental sync").
   */
  async confirmDeleted(kind: ItemKind, itemIds: string[]): Promise<string[]> {
    if (!Array.isArray(itemIds)) throw new TypeError('expected an array');
    const answers = await this.batched(itemIds.map((id) => ({ method: 'GET' as const, url: `${this.itemPath(kind, id)}?$select=id` })));
    return itemIds.filter((_, i) => {
      const a = answers[i];
      if (a instanceof SyncError) throw a;
      if (a.status === 404) return true;
      if (a.status >= 400) throw errorFromGraph(a.status, a.body, a.headers['retry-after']);
      return false;
    });
  }

  async findByTag(kind: ItemKind, tag: string): Promise<ItemRef[]> {
    if (typeof tag !== 'string' || !tag) throw new TypeError('tag must be a non-empty string');
    const folderId = kind === 'contact' ? await this.contactsFolder() : undefined;
    const q = (s: string) => s.replace(/'/g, "''");
    const filter = `singleValueExtendedProperties/Any(ep: ep/id eq '${q(EXSYNC_LINK_ID_GRAPH_PROPERTY_ID)}' and ep/value eq '${q(tag)}')`;
    const res = await this.call('GET', `${this.collection(kind, folderId)}?$filter=${encodeURIComponent(filter)}&$select=id,changeKey&$top=10`);
    return parseCollection(res.body).value.map((v) => {
      const item = parseItem(v, 'tagged item');
      this.kindOf.set(item.id, kind);
      return { itemId: item.id, changeKey: item.changeKey };
    });
  }

  /** Events (series masters and single events) whose iCalUId is `uid`: `$filter=iCalUId eq '...'`. */
  async findByICalUId(uid: string): Promise<ItemRef[]> {
    if (typeof uid !== 'string' || !uid) throw new TypeError('uid must be a non-empty string');
    const filter = `iCalUId eq '${uid.replace(/'/g, "''")}'`;
    const res = await this.call('GET', `${this.collection('appointment')}?$filter=${encodeURIComponent(filter)}&$select=id,changeKey&$top=10`);
    return parseCollection(res.body).value.map((v) => {
      const item = parseItem(v, 'event');
      this.kindOf.set(item.id, 'appointment');
      return { itemId: item.id, changeKey: item.changeKey };
    });
  }

  /** The switch from EWS: see itemResolution.ts. */
  resolveItems<K extends ItemKind>(kind: K, refs: ForeignItemRef[], from: ExchangeTransport): Promise<ItemResult<ResolvedItem<ItemOfKind<K>>>[]> {
    this.dropPageEvents();
    return resolveItems(this, kind, refs, from);
  }

  async checkAccess(): Promise<{ ok: true; folders: GraphFolderAccess[] }> {
    const cal = await this.call('GET', `${this.user}/calendar?$select=id,name`);
    const con = await this.call('GET', `${this.user}/contactFolders/contacts?$select=id,displayName`);
    const calendar = isObject(cal.body) ? cal.body : {};
    const contacts = isObject(con.body) ? con.body : {};
    return {
      ok: true,
      folders: [
        { folder: 'calendar', folderId: parseItemId(calendar, 'calendar'), displayName: typeof calendar.name === 'string' ? calendar.name : 'Calendar' },
        {
          folder: 'contacts',
          folderId: parseItemId(contacts, 'contact folder'),
          displayName: typeof contacts.displayName === 'string' ? contacts.displayName : 'Contacts',
        },
      ],
    };
  }
}

/** `fn()`, or the error it throws as a value. */
function attempt<T>(fn: () => T): T | Error {
  try {
    return fn();
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

function parseItemId(body: unknown, what: string): string {
  if (!isObject(body) || typeof body.id !== 'string' || !body.id)
    throw new SyncError('Transient', `Graph answered a ${what} without an id`, { code: 'MalformedResponse' });
  return body.id;
}

function seriesKey(a: Appointment): string {
  const n = normalizeAppointment(a);
  return JSON.stringify([n.recurrence?.pattern, n.recurrence?.range, n.start, n.end, n.timeZone, n.isAllDay]);
}

/** A stored state: the delta link, and the calendar window it was made for (absent: a contacts link, or one stored before windows were recorded). */
function splitWindowState(state: string): { link: string; window?: CalendarWindow } {
  const at = state.indexOf(WINDOW_FRAGMENT);
  if (at < 0) return { link: state };
  const [start, end] = state.slice(at + WINDOW_FRAGMENT.length).split(',');
  const window = { start: start ?? '', end: end ?? '' };
  return { link: state.slice(0, at), window: absoluteWindowProblem(window) ? undefined : window };
}
