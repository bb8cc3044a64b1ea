import type { Appointment, ChangePage, FetchedItem, FolderChange, FolderName, ItemKind, ItemOfKind, ItemRef, ItemResult, MailboxPort } from '@exsync/canonical';
import { MEETING_DELETE_REFUSED, openOptionsProblem, type AuthMode } from '@exsync/canonical';
import {
  AffectedTaskOccurrence,
  Appointment as EwsAppointment,
  AppointmentSchema,
  BasePropertySet,
  ChangeType,
  ConflictResolutionMode,
  ConnectingIdType,
  DeleteMode,
  ExchangeCredentials,
  ExchangeService,
  ExchangeVersion,
  FolderId,
  FolderSchema,
  type Folder,
  GetFolderRequest,
  ImpersonatedUserId,
  ItemId,
  ItemView,
  MeetingResponseType,
  MessageDisposition,
  PropertySet,
  SearchFilter,
  SendCancellationsMode,
  SendInvitationsMode,
  SendInvitationsOrCancellationsMode,
  ServiceErrorHandling,
  ServiceResult,
  SyncFolderItemsScope,
  TimeZoneInfo,
  Uri,
  UserConfiguration,
  UserConfigurationProperties,
  WellKnownFolderName,
  type IXHRApi,
  type Item,
  type ServiceResponse,
} from 'ews-javascript-api';
import { backoffFromDetails, classifyEwsError, errorFromExchangeCode } from './classifyEwsError';
import { EwsError } from './errors';
import { runInEwsCall } from './ewsCallContext';
import { ianaZoneForWindows, planOccurrenceChanges } from '@exsync/calendar';
import { applyOccurrenceChanges } from './mappers/occurrenceChanges';
import { readExsyncTag, EXSYNC_LINK_ID_PROPERTY } from './exsyncTag';
import { adapterFor, cheapProperties, WELL_KNOWN_FOLDER, type MappingContext } from './itemKinds';
import type { EndpointPolicy } from '@exsync/config';
import { EwsTransport, type EwsExchangeRecord } from './transport';
import { contactNeedsMailboxTimeZone, getItemBatch, loadExceptions, readItem, SHAPE_OF_KIND, syncFolderPage, type Post } from './reply/readOperations';
import { modifiedOccurrenceRefs } from './reply/readAppointment';
import { envelope } from './reply/requests';
import type { XNode } from './reply/xmlTree';

export interface OpenMailboxOptions {
  /** e.g. https://outlook.office365.com/EWS/Exchange.asmx */
  ewsUrl: string;
  smtpAddress: string;
  /** app-only: impersonation + X-AnchorMailbox on every call; delegated: the user's own token */
  mode: AuthMode;
  /** called before every request (the token provider serves it from its cache); `forceRefresh` after a 401 to an unexpired token */
  getAccessToken: (opts?: { forceRefresh?: boolean }) => Promise<string>;
  /** deadline per HTTP request (default 100 s, as the EWS Managed API) */
  timeoutMs?: number;
  /** items per GetItem batch (default DEFAULT_GET_ITEMS_BATCH_SIZE, measured: see the README) */
  getItemsBatchSize?: number;
  /** items per CreateItem/UpdateItem/DeleteItem batch (default DEFAULT_WRITE_BATCH_SIZE) */
  writeBatchSize?: number;
  /**
   * GetItem batches of one getItems call in flight at once (default DEFAULT_GET_ITEMS_CONCURRENCY).
   * Exchange Online allows 27 concurrent connections per (app, mailbox) (EWS-NOTES, "Limits");
   * the engine may sync both folders of a mailbox at once, so keep this well below half of that.
   */
  getItemsConcurrency?: number;
  /**
   * How SyncFolderItems and GetItem answers are read: `one-pass` (default) parses each answer once
   * straight into canonical values (src/reply/); `ews-javascript-api` goes through the library's
   * object model, as writes and rare operations always do. The second exists for the test that
   * compares the two on the reference set and on generated items.
   */
  readPath?: 'one-pass' | 'ews-javascript-api';
  /** one record per HTTP exchange (client-request-id, Exchange's request-id, status, duration) */
  onExchange?: (record: EwsExchangeRecord) => void;
  /** hosts and addresses EWS may be reached at, checked when connecting (default: EXSYNC_ALLOWED_HOSTS of this process) */
  endpointPolicy?: EndpointPolicy;
  /** cap on an answer's size, on the wire and once decompressed (gzip, deflate, br); default 64 MiB */
  maxResponseBytes?: number;
  /**
   * The organisation's policy for deleting meetings this mailbox organises with attendees: true
   * deletes them and sends the attendees cancellations; false (default) leaves them in place.
   * The calendar window of canonical's OpenMailboxRequest does not apply: SyncFolderItems lists the whole folder.
   */
  deleteOrganizerMeetings?: boolean;
}

export interface FolderAccess {
  folder: FolderName;
  folderId: string;
  displayName: string;
  totalCount?: number;
}

export interface EwsMailbox extends MailboxPort {
  readonly smtpAddress: string;
  readonly mode: AuthMode;
  /** One GetFolder of the calendar and contacts folders as the mailbox user: the connection test. */
  checkAccess(): Promise<{ ok: true; folders: FolderAccess[] }>;
}

export const DEFAULT_TIMEOUT_MS = 100_000;
/** measured: packages/ews-client/README.md, "GetItem batch size" */
export const DEFAULT_GET_ITEMS_BATCH_SIZE = 100;
export const DEFAULT_WRITE_BATCH_SIZE = 50;
/** SyncFolderItems' maximum; the library throws synchronously above it */
export const SYNC_PAGE_SIZE = 512;
/**
 * GetItem batches in flight per call, after the first batch (which goes alone): 5, so a full
 * SyncFolderItems page (512 ids, 6 batches of 100) costs two rounds of latency, not three (issue 19).
 * 5 x 2 folders, plus each folder's next page listed ahead, stays far inside Exchange's 27
 * connections per (app, mailbox) (EWS-NOTES, "Limits").
 */
export const DEFAULT_GET_ITEMS_CONCURRENCY = Math.ceil(SYNC_PAGE_SIZE / DEFAULT_GET_ITEMS_BATCH_SIZE) - 1;

/**
 * The library insists on a credentials object; the transport sets a fresh bearer token per
 * request, so this one writes nothing.
 */
class TransportSuppliedCredentials extends ExchangeCredentials {
  PrepareWebRequest(): void {}
}

export function openMailbox(opts: OpenMailboxOptions): EwsMailbox {
  validateOptions(opts);
  return new EwsMailboxSession(opts);
}

/** Bad settings fail as one Permanent EwsError, the family every caller already switches on. */
function validateOptions(opts: OpenMailboxOptions): void {
  const bad = (message: string) => new EwsError('InvalidSettings', message, { code: 'invalid_configuration' });
  const problem = openOptionsProblem({
    url: opts.ewsUrl,
    urlField: 'ewsUrl',
    smtpAddress: opts.smtpAddress,
    mode: opts.mode,
    getAccessToken: opts.getAccessToken,
  });
  if (problem) throw bad(problem);
  if (opts.readPath !== undefined && opts.readPath !== 'one-pass' && opts.readPath !== 'ews-javascript-api') {
    throw bad('readPath must be one-pass or ews-javascript-api');
  }
  for (const [name, v, max] of [
    ['timeoutMs', opts.timeoutMs, 3_600_000],
    ['getItemsBatchSize', opts.getItemsBatchSize, 1000],
    ['writeBatchSize', opts.writeBatchSize, 1000],
    ['getItemsConcurrency', opts.getItemsConcurrency, 10],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > max)) throw bad(`${name} must be an integer in 1..${max}`);
  }
}

class EwsMailboxSession implements EwsMailbox {
  readonly smtpAddress: string;
  readonly mode: AuthMode;
  private readonly service: ExchangeService;
  private readonly getBatch: number;
  private readonly writeBatch: number;
  private readonly getConcurrency: number;
  private readonly onePass: boolean;
  private readonly transport: EwsTransport;
  private readonly ewsUrl: string;
  private readonly deleteOrganizerMeetings: boolean;
  /** the mailbox's own zone, asked for once per session and only when a mapping needs it */
  private mailboxZone: Promise<string | undefined> | undefined;

  constructor(opts: OpenMailboxOptions) {
    this.smtpAddress = opts.smtpAddress;
    this.mode = opts.mode;
    this.getBatch = opts.getItemsBatchSize ?? DEFAULT_GET_ITEMS_BATCH_SIZE;
    this.writeBatch = opts.writeBatchSize ?? DEFAULT_WRITE_BATCH_SIZE;
    this.getConcurrency = opts.getItemsConcurrency ?? DEFAULT_GET_ITEMS_CONCURRENCY;
    this.onePass = (opts.readPath ?? 'one-pass') === 'one-pass';
    this.ewsUrl = opts.ewsUrl;
    this.deleteOrganizerMeetings = opts.deleteOrganizerMeetings === true;
    const appOnly = opts.mode === 'app-only';
    // One service per session: it holds per-mailbox mutable state (impersonation, headers).
    const service = new ExchangeService(ExchangeVersion.Exchange2016, TimeZoneInfo.Utc);
    service.Url = new Uri(opts.ewsUrl);
    service.Credentials = new TransportSuppliedCredentials();
    this.transport = new EwsTransport({
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      getAccessToken: opts.getAccessToken,
      anchorMailbox: appOnly ? opts.smtpAddress : undefined,
      onExchange: opts.onExchange,
      endpointPolicy: opts.endpointPolicy,
      maxResponseBytes: opts.maxResponseBytes,
      maxDecodedBytes: opts.maxResponseBytes,
    });
    service.XHRApi = this.transport as unknown as IXHRApi;
    if (appOnly) service.ImpersonatedUserId = new ImpersonatedUserId(ConnectingIdType.SmtpAddress, opts.smtpAddress);
    this.service = service;
  }

  /**
   * Runs one library call. The transport's typed error wins over what the library made of it; a
   * batch the server answered with one error message (the library then throws "Cannot read
   * properties of undefined") is reported with the code Exchange actually sent.
   */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    const { context, result } = runInEwsCall(fn);
    try {
      return await result;
    } catch (err) {
      if (context.transportError) throw context.transportError;
      const classified = classifyEwsError(err);
      const first = context.responseErrors[0];
      if (first && classified.kind === 'Permanent' && (!classified.code || classified.code === 'ResponseNotUnderstood')) {
        throw errorFromExchangeCode({ ...first, httpStatus: 200, cause: err });
      }
      throw classified;
    }
  }

  /**
   * The mailbox's own time zone as Outlook on the web keeps it (the `timezone` entry of the
   * OWA.UserOptions user configuration in the root folder, a Windows id), as an IANA zone.
   * Undefined when the mailbox never chose one (ErrorItemNotFound); other failures propagate and
   * the next call asks again.
   */
  private async mailboxTimeZone(): Promise<string | undefined> {
    this.mailboxZone ??= (async () => {
      try {
        const config = await this.call(() =>
          UserConfiguration.Bind(this.service, 'OWA.UserOptions', WellKnownFolderName.Root, UserConfigurationProperties.Dictionary),
        );
        const out: { outValue: unknown } = { outValue: undefined };
        const id = config.Dictionary.TryGetValue('timezone', out) ? out.outValue : undefined;
        return typeof id === 'string' ? ianaZoneForWindows(id) : undefined;
      } catch (err) {
        if ((err as EwsError).kind === 'ItemNotFound') return undefined;
        this.mailboxZone = undefined;
        throw err;
      }
    })();
    return this.mailboxZone;
  }

  /** What mapping these items needs: the mailbox's zone only when one of them needs it. */
  private async mappingContext(kind: ItemKind, items: Item[]): Promise<MappingContext> {
    return adapterFor(kind).needsMailboxTimeZone(items) ? { mailboxTimeZone: await this.mailboxTimeZone() } : {};
  }

  /**
   * Sends one SOAP body through the guarded transport, as the library would send it (same
   * envelope, headers and impersonation), and returns the text of the SOAP 200 answer. Every other
   * answer arrives as the transport's typed EwsError.
   */
  private readonly post: Post = async (body) => {
    const impersonate = this.mode === 'app-only' ? this.smtpAddress : undefined;
    const res = await this.transport.xhr({
      type: 'POST',
      url: this.ewsUrl,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml', 'Accept-Encoding': 'gzip,deflate' },
      data: envelope(body, impersonate),
    });
    return res.responseText;
  };

  async *syncFolder(folder: FolderName, syncState: string | undefined): AsyncGenerator<ChangePage> {
    const wkf = WELL_KNOWN_FOLDER[folder];
    if (wkf === undefined) throw new EwsError('Permanent', `Unknown folder ${String(folder)}`, { code: 'invalid_configuration' });
    if (this.onePass) {
      let next = syncFolderPage(this.post, folder, syncState, SYNC_PAGE_SIZE);
      for (;;) {
        const page = await next;
        if (page.moreAvailable) {
          // Listed ahead (issue 19): the next page is requested as soon as this one is read, so its
          // round trip overlaps the caller's GetItem calls for this page instead of following them.
          // A read only: a caller that stops here leaves one page unread, and a failure of that
          // request is thrown by the next iteration, where it would have been thrown anyway.
          next = syncFolderPage(this.post, folder, page.syncState, SYNC_PAGE_SIZE);
          next.catch(() => undefined);
        }
        yield page;
        if (!page.moreAvailable) return;
      }
    }
    const props = cheapProperties();
    let state: string | null = syncState ?? null;
    for (;;) {
      const currentState = state;
      // exactly six arguments: a seventh (even undefined) picks the numberOfDays overload and
      // silently drops the sync state (EWS-NOTES, "SyncFolderItems")
      const changes = await this.call(() =>
        this.service.SyncFolderItems(
          new FolderId(wkf),
          props,
          null as unknown as ItemId[],
          SYNC_PAGE_SIZE,
          SyncFolderItemsScope.NormalItems,
          currentState as string,
        ),
      );
      const page: FolderChange[] = [];
      for (const change of changes.GetEnumerator()) {
        const c = toFolderChange(change, folder);
        if (c) page.push(c);
      }
      if (!changes.SyncState) {
        throw new EwsError('SyncStateInvalid', 'Exchange answered SyncFolderItems without a sync state', { code: 'ErrorInvalidSyncStateData' });
      }
      state = changes.SyncState;
      const moreAvailable = changes.MoreChangesAvailable;
      yield { changes: page, syncState: state, moreAvailable };
      if (!moreAvailable) return;
    }
  }

  /**
   * GetItem in batches of `getItemsBatchSize`, then one mapping pass over every item that loaded.
   * The pass is per call, not per batch, because appointments need a second request for their
   * modified occurrences: one per call (in batches of 100 occurrences) instead of one per GetItem
   * batch roughly halves the requests of an initial calendar sync (bench/results/initial-sync.json).
   */
  async getItems<K extends ItemKind>(kind: K, itemIds: string[]): Promise<ItemResult<FetchedItem<ItemOfKind<K>>>[]> {
    return this.onePass ? this.getItemsOnePass(kind, itemIds) : this.getItemsThroughLibrary(kind, itemIds);
  }

  /**
   * getItems on the one-pass reader: GetItem batches of `getItemsBatchSize`, up to
   * `getItemsConcurrency` in flight, each answer read into canonical items as soon as it arrives;
   * then (appointments) the exception items of every series of the call in batches of 100, and
   * the items that waited for them. Failures follow the library path's rules.
   *
   * Reading an answer at once lets its element tree die young: kept until the call's last batch
   * and the occurrence load, a page's trees outlived several collections and their copying was
   * the largest part of the GC of an initial sync. Only elements that need a second request wait:
   * series with modified occurrences, and contacts whose birthday needs the mailbox's time zone.
   */
  private async getItemsOnePass<K extends ItemKind>(kind: K, itemIds: string[]): Promise<ItemResult<FetchedItem<ItemOfKind<K>>>[]> {
    adapterFor(kind); // refuses an unknown kind as the library path does
    const shape = SHAPE_OF_KIND[kind];
    type Result = ItemResult<FetchedItem<ItemOfKind<K>>>;
    const results: Result[] = new Array(itemIds.length);
    const read = (item: XNode, context: Parameters<typeof readItem>[2]): Result => {
      try {
        return { ok: true, value: readItem(kind, item, context) as FetchedItem<ItemOfKind<K>> };
      } catch (err) {
        return { ok: false, error: mappingError(err) };
      }
    };
    const waits = (item: XNode) => (kind === 'appointment' ? modifiedOccurrenceRefs(item).length > 0 : contactNeedsMailboxTimeZone(item));
    /** indexes of the items GetItem returned */
    const loaded: number[] = [];
    const waiting: { index: number; item: XNode }[] = [];
    const bound = await this.inBatches(
      itemIds.map((_, index) => index),
      this.getBatch,
      async (chunk) => {
        const answers = await getItemBatch(
          this.post,
          shape,
          chunk.map((index) => ({ id: itemIds[index] })),
        );
        answers.forEach((r, j) => {
          if (!r.ok) return;
          const index = chunk[j];
          loaded.push(index);
          if (waits(r.value)) waiting.push({ index, item: r.value });
          else results[index] = read(r.value, {});
        });
        return answers.map((r): ItemResult<undefined> => (r.ok ? { ok: true, value: undefined } : r));
      },
      this.getConcurrency,
    );
    bound.forEach((r, index) => {
      if (!r.ok) results[index] = r;
    });
    if (loaded.length === 0) return results;
    let exceptions: Map<XNode, Parameters<typeof readItem>[2]['exceptions']> | undefined;
    let mailboxTimeZone: string | undefined;
    try {
      if (kind === 'appointment') {
        exceptions = await loadExceptions(
          waiting.map((w) => w.item),
          async (batches, run) => {
            const flat = await this.inBatches(batches, 1, async ([b]) => [{ ok: true as const, value: await run(b) }], this.getConcurrency);
            return flat.map((r) => {
              if (!r.ok) throw r.error;
              return r.value;
            });
          },
          this.post,
        );
      } else if (waiting.length > 0) {
        mailboxTimeZone = await this.mailboxTimeZone();
      }
    } catch (err) {
      // as before items were read at once: a failed second request fails every item of the call
      const error = classifyEwsError(err);
      for (const index of loaded) results[index] = { ok: false, error };
      return results;
    }
    for (const { index, item } of waiting) results[index] = read(item, { exceptions: exceptions?.get(item), mailboxTimeZone });
    return results;
  }

  private async getItemsThroughLibrary<K extends ItemKind>(kind: K, itemIds: string[]): Promise<ItemResult<FetchedItem<ItemOfKind<K>>>[]> {
    const adapter = adapterFor(kind);
    const bound = await this.inBatches(itemIds, this.getBatch, async (chunk) => {
      const responses = await this.call(() =>
        this.service.BindToItems(
          chunk.map((id) => new ItemId(id)),
          adapter.fetchProperties,
        ),
      );
      return chunk.map((_, i): ItemResult<Item> => {
        const r = responses.Responses[i];
        const failed = perItemError(r);
        return failed ? { ok: false, error: failed } : { ok: true, value: r.Item };
      });
    });
    const results = bound as ItemResult<unknown>[] as ItemResult<FetchedItem<ItemOfKind<K>>>[];
    const loaded = bound.flatMap((r, index) => (r.ok ? [{ index, item: r.value }] : []));
    if (loaded.length === 0) return results;
    let canonical: Awaited<ReturnType<typeof adapter.readMany>>;
    try {
      const context = await this.mappingContext(
        kind,
        loaded.map((l) => l.item),
      );
      canonical = await this.call(() =>
        adapter.readMany(
          this.service,
          loaded.map((l) => l.item),
          context,
        ),
      );
    } catch (err) {
      const error = classifyEwsError(err);
      for (const { index } of loaded) results[index] = { ok: false, error };
      return results;
    }
    loaded.forEach(({ index, item }, j) => {
      const c = canonical[j];
      results[index] = c.ok
        ? {
            ok: true,
            value: {
              itemId: item.Id.UniqueId,
              changeKey: item.Id.ChangeKey,
              tag: readExsyncTag(item),
              lastModified: lastModifiedOf(item),
              item: c.value as ItemOfKind<K>,
            },
          }
        : { ok: false, error: mappingError(c.error) };
    });
    return results;
  }

  async createItems<K extends ItemKind>(kind: K, items: { tag: string; item: ItemOfKind<K> }[]): Promise<ItemResult<ItemRef>[]> {
    const adapter = adapterFor(kind);
    return this.inBatches(items, this.writeBatch, async (chunk) => {
      const results: (ItemResult<ItemRef> | undefined)[] = new Array(chunk.length);
      const toSend: { index: number; item: Item }[] = [];
      chunk.forEach((input, index) => {
        try {
          if (typeof input.tag !== 'string' || !input.tag) throw new TypeError('every created item needs a tag');
          const target = adapter.newItem(this.service);
          adapter.apply(target, input.item as never);
          // the tag goes out with the create, so a retry after a lost answer can find the item
          target.SetExtendedProperty(EXSYNC_LINK_ID_PROPERTY, input.tag);
          toSend.push({ index, item: target });
        } catch (err) {
          results[index] = { ok: false, error: mappingError(err) };
        }
      });
      if (toSend.length > 0) {
        const sent = toSend.map((s) => s.item);
        const responses = await this.call(() =>
          // the attributes the EWS Managed API sends for Appointment.Save / Item.Save
          this.service.CreateItems(
            sent,
            new FolderId(adapter.folder),
            adapter.isCalendar ? (null as unknown as MessageDisposition) : MessageDisposition.SaveOnly,
            adapter.isCalendar ? SendInvitationsMode.SendToNone : (null as unknown as SendInvitationsMode),
          ),
        );
        toSend.forEach((s, j) => {
          const failed = perItemError(responses.Responses[j]);
          results[s.index] = failed ? { ok: false, error: failed } : { ok: true, value: refOf(s.item) };
        });
      }
      if (kind === 'appointment') {
        await this.writeSeriesOccurrences(
          results,
          chunk.map((input, index) => ({ index, before: undefined, after: input.item as Appointment })),
        );
      }
      return results as ItemResult<ItemRef>[];
    });
  }

  async updateItems<K extends ItemKind>(kind: K, items: { itemId: string; changeKey: string; item: ItemOfKind<K> }[]): Promise<ItemResult<ItemRef>[]> {
    const adapter = adapterFor(kind);
    return this.inBatches(items, this.writeBatch, async (chunk) => {
      const results: (ItemResult<ItemRef> | undefined)[] = new Array(chunk.length);
      // The mapper writes onto loaded items (dictionaries and collections must be loaded to be
      // changed), so the batch is bound first; the stored ChangeKey then replaces the current one
      // so that Exchange, not us, decides whether the item changed since we last saw it.
      const bound = await this.call(() =>
        this.service.BindToItems(
          chunk.map((c) => new ItemId(c.itemId)),
          adapter.fetchProperties,
        ),
      );
      const toSend: { index: number; item: Item }[] = [];
      const series: { index: number; before: Appointment | undefined; after: Appointment }[] = [];
      // the series as Exchange has it now (with its exceptions) decides which occurrence writes are needed
      const before = new Map<number, Appointment>();
      if (kind === 'appointment') {
        const loadedIdx = chunk.map((_, i) => i).filter((i) => bound.Responses[i]?.Result !== ServiceResult.Error && bound.Responses[i]);
        const read = await this.call(() =>
          adapter.readMany(
            this.service,
            loadedIdx.map((i) => bound.Responses[i].Item),
          ),
        );
        loadedIdx.forEach((i, j) => {
          const r = read[j];
          if (r.ok) before.set(i, r.value as Appointment);
        });
      }
      const context = await this.mappingContext(
        kind,
        bound.Responses.filter((r) => r?.Result !== ServiceResult.Error && r?.Item).map((r) => r.Item),
      );
      chunk.forEach((input, index) => {
        const r = bound.Responses[index];
        const failed = perItemError(r);
        if (failed) {
          results[index] = { ok: false, error: failed };
          return;
        }
        try {
          const target = r.Item;
          if (kind === 'appointment') {
            const was = before.get(index);
            if (!was) throw new Error('the series as stored in Exchange could not be read');
            series.push({ index, before: was, after: input.item as Appointment });
          }
          const currentChangeKey = target.Id.ChangeKey;
          adapter.apply(target, input.item as never, context);
          // without a stored key (never synced from Exchange) the item is written over as it is now
          if (input.changeKey) target.Id.ChangeKey = input.changeKey;
          // UpdateItems throws for the whole batch on an item with nothing to write; such an item
          // already holds what we meant to write, so its current version is the result
          if (target.IsDirty) toSend.push({ index, item: target });
          else results[index] = { ok: true, value: { itemId: target.Id.UniqueId, changeKey: currentChangeKey } };
        } catch (err) {
          results[index] = { ok: false, error: mappingError(err) };
        }
      });
      if (toSend.length > 0) {
        const sent = toSend.map((s) => s.item);
        const responses = await this.call(() =>
          this.service.UpdateItems(
            sent,
            null as unknown as FolderId,
            ConflictResolutionMode.AutoResolve,
            adapter.isCalendar ? (null as unknown as MessageDisposition) : MessageDisposition.SaveOnly,
            adapter.isCalendar ? SendInvitationsOrCancellationsMode.SendToNone : (null as unknown as SendInvitationsOrCancellationsMode),
          ),
        );
        toSend.forEach((s, j) => {
          const failed = perItemError(responses.Responses[j]);
          results[s.index] = failed ? { ok: false, error: failed } : { ok: true, value: refOf(s.item) };
        });
      }
      if (series.length > 0) await this.writeSeriesOccurrences(results, series);
      return results as ItemResult<ItemRef>[];
    });
  }

  /**
   * EWS keeps modified and deleted occurrences as writes of their own on occurrence items, after
   * the master is written. Each written master's ChangeKey changes with them, so the masters are
   * read again (ids only) for the refs the caller stores. A failed occurrence write fails the item:
   * a retry finds the series by its tag and updates it, which writes the occurrences again.
   */
  private async writeSeriesOccurrences(
    results: (ItemResult<ItemRef> | undefined)[],
    series: { index: number; before: Appointment | undefined; after: Appointment }[],
  ): Promise<void> {
    const touched: number[] = [];
    for (const s of series) {
      const r = results[s.index];
      if (!r?.ok || !s.after.recurrence) continue;
      const plan = planOccurrenceChanges(s.before, s.after);
      if (plan.writes.length === 0) continue;
      const masterId = r.value.itemId;
      const { context, result } = runInEwsCall(() => applyOccurrenceChanges(this.service, new ItemId(masterId), plan));
      try {
        const failedWrite = (await result).find((w) => !w.ok);
        if (failedWrite && !failedWrite.ok) {
          results[s.index] = {
            ok: false,
            error:
              context.transportError ??
              errorFromExchangeCode({
                code: failedWrite.code ?? 'ErrorInternalServerError',
                message: `The occurrence of ${failedWrite.write.originalStart} could not be written: ${failedWrite.message}`,
                httpStatus: 200,
              }),
          };
          continue;
        }
      } catch (err) {
        results[s.index] = { ok: false, error: context.transportError ?? classifyEwsError(err) };
        continue;
      }
      touched.push(s.index);
    }
    if (touched.length === 0) return;
    const ids = touched.map((i) => (results[i] as { ok: true; value: ItemRef }).value.itemId);
    try {
      const fresh = await this.call(() =>
        this.service.BindToItems(
          ids.map((id) => new ItemId(id)),
          new PropertySet(BasePropertySet.IdOnly),
        ),
      );
      touched.forEach((i, j) => {
        const r = fresh.Responses[j];
        const failed = perItemError(r);
        results[i] = failed ? { ok: false, error: failed } : { ok: true, value: refOf(r.Item) };
      });
    } catch (err) {
      const e = classifyEwsError(err);
      for (const i of touched) results[i] = { ok: false, error: e };
    }
  }

  /**
   * Deletes to Deleted Items. Unless the organisation's deleteOrganizerMeetings policy allows it, a
   * meeting this mailbox organises with attendees (IsMeeting, MyResponseType Organizer: read first
   * with GetItem) is left in place and answered with MEETING_DELETE_REFUSED; under the policy it is
   * deleted with SendToAllAndSaveCopy, so attendees get cancellations as Graph sends them
   * (learn.microsoft.com/exchange/client-developer/web-service-reference/deleteitem).
   */
  async deleteItems(itemIds: string[]): Promise<ItemResult<null>[]> {
    return this.inBatches(itemIds, this.writeBatch, async (chunk) => {
      const kept = this.deleteOrganizerMeetings ? new Set<number>() : await this.organizerMeetings(chunk);
      const toDelete = chunk.filter((_, i) => !kept.has(i));
      const responses =
        toDelete.length === 0
          ? { Responses: [] as ServiceResponse[] }
          : await this.call(() =>
              this.service.DeleteItems(
                toDelete.map((id) => new ItemId(id)),
                DeleteMode.MoveToDeletedItems,
                this.deleteOrganizerMeetings ? SendCancellationsMode.SendToAllAndSaveCopy : SendCancellationsMode.SendToNone,
                null as unknown as AffectedTaskOccurrence,
              ),
            );
      let next = 0;
      return chunk.map((_, i): ItemResult<null> => {
        if (kept.has(i)) {
          const message = 'Deleting this meeting would send cancellations to its attendees: it is left in place (deleteOrganizerMeetings is false)';
          return { ok: false, error: new EwsError('Permanent', message, { code: MEETING_DELETE_REFUSED, scope: 'item' }) };
        }
        const failed = perItemError(responses.Responses[next++]);
        // already gone is what the caller wanted
        if (failed && failed.kind !== 'ItemNotFound') return { ok: false, error: failed };
        return { ok: true, value: null };
      });
    });
  }

  /** Indexes of `ids` that are meetings this mailbox organises with attendees; an unreadable id is left to DeleteItem. */
  private async organizerMeetings(ids: string[]): Promise<Set<number>> {
    const props = new PropertySet(BasePropertySet.IdOnly, [AppointmentSchema.IsMeeting, AppointmentSchema.MyResponseType]);
    const read = await this.call(() =>
      this.service.BindToItems(
        ids.map((id) => new ItemId(id)),
        props,
      ),
    );
    const out = new Set<number>();
    read.Responses.forEach((r, i) => {
      if (perItemError(r) || !(r.Item instanceof EwsAppointment)) return;
      if (r.Item.IsMeeting && r.Item.MyResponseType === MeetingResponseType.Organizer) out.add(i);
    });
    return out;
  }

  async findByTag(kind: ItemKind, tag: string): Promise<ItemRef[]> {
    if (typeof tag !== 'string' || !tag) throw new TypeError('tag must be a non-empty string');
    const adapter = adapterFor(kind);
    const view = new ItemView(10);
    view.PropertySet = cheapProperties();
    const found = await this.call(() => this.service.FindItems(new FolderId(adapter.folder), new SearchFilter.IsEqualTo(EXSYNC_LINK_ID_PROPERTY, tag), view));
    return found.Items.filter((item) => readExsyncTag(item) === undefined || readExsyncTag(item) === tag).map(refOf);
  }

  /** MailboxPort.folderTotals: GetFolder TotalCount of the calendar and contacts folders, one request. */
  async folderTotals(): Promise<Partial<Record<FolderName, number>>> {
    const access = await this.checkAccess();
    const totals: Partial<Record<FolderName, number>> = {};
    for (const f of access.folders) if (f.totalCount !== undefined) totals[f.folder] = f.totalCount;
    return totals;
  }

  async checkAccess(): Promise<{ ok: true; folders: FolderAccess[] }> {
    const names: FolderName[] = ['calendar', 'contacts'];
    const request = new GetFolderRequest(this.service, ServiceErrorHandling.ReturnErrors);
    for (const n of names) request.FolderIds.Add(new FolderId(WELL_KNOWN_FOLDER[n]));
    request.PropertySet = new PropertySet(BasePropertySet.IdOnly, [FolderSchema.DisplayName, FolderSchema.TotalCount]);
    // the library's typings leave GetFolderRequest untyped; BindToFolder would cost two calls
    const responses = (await this.call(() => request.Execute())) as { Responses: (ServiceResponse & { Folder: Folder })[] };
    const folders = names.map((folder, i): FolderAccess => {
      const r = responses.Responses[i];
      const failed = perItemError(r);
      if (failed) throw failed;
      const f = r.Folder;
      let totalCount: number | undefined;
      try {
        totalCount = f.TotalCount;
      } catch {
        totalCount = undefined;
      }
      return { folder, folderId: f.Id.UniqueId, displayName: f.DisplayName, totalCount };
    });
    return { ok: true, folders };
  }

  /**
   * Runs `run` per chunk, results in input order. The first chunk goes alone; the rest run up to
   * `concurrency` at a time, started in order. A chunk that fails as a whole marks its items with
   * that error; after a throttle or an error that needs a person no further chunk is started
   * (sending more prolongs a back-off) and the unsent ones carry the same error, so a mailbox
   * already throttled costs one request, not `concurrency`.
   */
  private async inBatches<I, R>(inputs: I[], size: number, run: (chunk: I[]) => Promise<ItemResult<R>[]>, concurrency = 1): Promise<ItemResult<R>[]> {
    if (!Array.isArray(inputs)) throw new TypeError('expected an array');
    const chunks: I[][] = [];
    for (let i = 0; i < inputs.length; i += size) chunks.push(inputs.slice(i, i + size));
    const done: ItemResult<R>[][] = new Array(chunks.length);
    let stopWith: EwsError | undefined;
    const runChunk = async (c: number) => {
      const chunk = chunks[c];
      if (stopWith) {
        done[c] = chunk.map(() => ({ ok: false, error: stopWith! }));
        return;
      }
      try {
        done[c] = await run(chunk);
      } catch (err) {
        const e = classifyEwsError(err);
        done[c] = chunk.map(() => ({ ok: false, error: e }));
        if (e.kind === 'Throttled' || e.needsPerson) stopWith ??= e;
      }
    };
    if (chunks.length > 0) await runChunk(0);
    let next = 1;
    const worker = async () => {
      while (next < chunks.length) await runChunk(next++);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, chunks.length - 1)) }, worker));
    return done.flat();
  }
}

function toFolderChange(change: { ChangeType: ChangeType; ItemId: ItemId; Item: Item }, folder: FolderName): FolderChange | undefined {
  switch (change.ChangeType) {
    case ChangeType.Delete:
      return { type: 'delete', itemId: change.ItemId.UniqueId };
    case ChangeType.Create:
    case ChangeType.Update: {
      const item = change.Item;
      if (folder === 'contacts' && isDistributionList(item)) return undefined;
      return {
        type: change.ChangeType === ChangeType.Create ? 'create' : 'update',
        itemId: item.Id.UniqueId,
        changeKey: item.Id.ChangeKey,
        tag: readExsyncTag(item),
        lastModified: lastModifiedOf(item),
      };
    }
    default:
      // ReadFlagChange: nothing we sync
      return undefined;
  }
}

/** Contact groups live in the contacts folder too but are not contacts. */
function isDistributionList(item: Item): boolean {
  try {
    return typeof item.ItemClass === 'string' && item.ItemClass.startsWith('IPM.DistList');
  } catch {
    return false;
  }
}

function lastModifiedOf(item: Item): string | undefined {
  try {
    const t = item.LastModifiedTime;
    return t ? t.ToISOString() : undefined;
  } catch {
    return undefined;
  }
}

function refOf(item: Item): ItemRef {
  return { itemId: item.Id.UniqueId, changeKey: item.Id.ChangeKey };
}

/** The classified error of a per-item response, or undefined when it succeeded. */
function perItemError(r: ServiceResponse | undefined): EwsError | undefined {
  if (!r) return new EwsError('Transient', 'Exchange sent fewer response messages than items in the batch', { code: 'MissingResponse' });
  if (r.Result !== ServiceResult.Error) return undefined;
  const code = typeof r.ErrorCode === 'number' ? classifyEwsError({ ErrorCode: r.ErrorCode }).code : undefined;
  return errorFromExchangeCode({
    code: code ?? 'ErrorInternalServerError',
    message: r.ErrorMessage ?? '',
    httpStatus: 200,
    backoffMs: backoffFromDetails(r.ErrorDetails),
  });
}

function mappingError(err: unknown): EwsError {
  if (err instanceof EwsError) return err;
  const message =
    err instanceof Error ? err.message : typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : String(err);
  return new EwsError('Permanent', `Item could not be mapped: ${message}`, { code: 'MappingFailed', cause: err });
}
