/**
 * An in-memory MailboxPort with SyncFolderItems-like semantics, for engine unit work and crash
 * injection: a change log per folder, sync states that are positions in it, changes collapsed per
 * item, and "person in Outlook" edits. Sync tests proper run against the EWS simulator.
 */
import type {
  Appointment,
  ChangePage,
  Contact,
  FetchedItem,
  FolderChange,
  FolderName,
  ItemKind,
  ItemOfKind,
  ItemRef,
  ItemResult,
  MailboxPort,
} from '@exsync/canonical';
import { FOLDER_OF_KIND } from '@exsync/canonical';

interface Stored {
  itemId: string;
  kind: ItemKind;
  changeKey: string;
  tag?: string;
  lastModified: string;
  item: Appointment | Contact;
}

type Op = 'syncFolder' | 'getItems' | 'createItems' | 'updateItems' | 'deleteItems' | 'findByTag';

const EWS_OPERATION: Record<Op, string> = {
  syncFolder: 'SyncFolderItems',
  getItems: 'GetItem',
  createItems: 'CreateItem',
  updateItems: 'UpdateItem',
  deleteItems: 'DeleteItem',
  findByTag: 'FindItem',
};

export class MemoryMailbox implements MailboxPort {
  private items = new Map<string, Stored>();
  private log: { folder: FolderName; itemId: string }[] = [];
  private seq = 0;
  private epoch = 1;
  pageSize = 512;
  calls: Record<Op, number> = { syncFolder: 0, getItems: 0, createItems: 0, updateItems: 0, deleteItems: 0, findByTag: 0 };
  /** every call as the EWS operation it stands for, oldest first (what the simulator's request log shows) */
  operations: string[] = [];
  /** throw once after (or before) the named operation has taken effect */
  fault?: { op: Op; when: 'before' | 'after' };
  private clock = 0;

  /** the wall clock, at one-second precision as Exchange's LastModifiedTime, never going back */
  private now(): string {
    this.clock = Math.max(this.clock + 1000, Math.floor(Date.now() / 1000) * 1000);
    return new Date(this.clock).toISOString().replace('.000Z', 'Z');
  }

  private record(op: Op): void {
    this.calls[op]++;
    this.operations.push(EWS_OPERATION[op]);
  }

  private touch(kind: ItemKind, itemId: string): void {
    this.log.push({ folder: FOLDER_OF_KIND[kind], itemId });
  }

  private maybeFail(op: Op, when: 'before' | 'after'): void {
    if (this.fault && this.fault.op === op && this.fault.when === when) {
      this.fault = undefined;
      throw new Error(`injected crash ${when} ${op}`);
    }
  }

  // --- a person in Outlook ---
  personCreate(kind: ItemKind, item: Appointment | Contact): string {
    const itemId = `AAMk${++this.seq}`;
    this.items.set(itemId, { itemId, kind, changeKey: `CK${this.seq}`, lastModified: this.now(), item: structuredClone(item) });
    this.touch(kind, itemId);
    return itemId;
  }
  personUpdate(itemId: string, patch: Partial<Appointment> | Partial<Contact>): void {
    const s = this.items.get(itemId)!;
    s.item = { ...s.item, ...patch } as Appointment | Contact;
    s.changeKey = `CK${++this.seq}`;
    s.lastModified = this.now();
    this.touch(s.kind, itemId);
  }
  personDelete(itemId: string): void {
    const s = this.items.get(itemId)!;
    this.items.delete(itemId);
    this.touch(s.kind, itemId);
  }
  /** every outstanding SyncState becomes invalid (as after a mailbox move) */
  invalidateSyncStates(): void {
    this.epoch++;
  }
  list(kind: ItemKind): Stored[] {
    return [...this.items.values()].filter((s) => s.kind === kind);
  }

  // --- MailboxPort ---
  async *syncFolder(folder: FolderName, syncState: string | undefined): AsyncIterable<ChangePage> {
    this.record('syncFolder');
    let st: { e: number; pos: number; known: string[]; owed: string[] };
    if (syncState === undefined) {
      // From no state: every item now in the folder, as creates.
      st = { e: this.epoch, pos: this.log.length, known: [], owed: this.list(folder === 'calendar' ? 'appointment' : 'contact').map((s) => s.itemId) };
    } else {
      const invalid = () => Object.assign(new Error('ErrorInvalidSyncStateData'), { kind: 'SyncStateInvalid' });
      try {
        st = JSON.parse(Buffer.from(syncState, 'base64').toString('utf8'));
      } catch {
        throw invalid();
      }
      if (st.e !== this.epoch) throw invalid();
    }
    for (;;) {
      this.maybeFail('syncFolder', 'before');
      const known = new Set(st.known);
      const ids = [
        ...new Set([
          ...st.owed,
          ...this.log
            .slice(st.pos)
            .filter((e) => e.folder === folder)
            .map((e) => e.itemId),
        ]),
      ];
      const all: FolderChange[] = [];
      for (const id of ids) {
        const s = this.items.get(id);
        if (s) all.push({ type: known.has(id) ? 'update' : 'create', itemId: id, changeKey: s.changeKey, tag: s.tag, lastModified: s.lastModified });
        else if (known.has(id)) all.push({ type: 'delete', itemId: id });
      }
      const changes = all.slice(0, this.pageSize);
      for (const ch of changes) {
        if (ch.type === 'delete') known.delete(ch.itemId);
        else known.add(ch.itemId);
      }
      st = { e: this.epoch, pos: this.log.length, known: [...known], owed: all.slice(this.pageSize).map((c) => c.itemId) };
      const more = st.owed.length > 0;
      yield { changes, syncState: Buffer.from(JSON.stringify(st)).toString('base64'), moreAvailable: more };
      if (!more) return;
    }
  }

  async getItems<K extends ItemKind>(kind: K, itemIds: string[]): Promise<ItemResult<FetchedItem<ItemOfKind<K>>>[]> {
    this.record('getItems');
    this.maybeFail('getItems', 'before');
    return itemIds.map((id) => {
      const s = this.items.get(id);
      if (!s || s.kind !== kind) return { ok: false, error: { kind: 'ItemNotFound', code: 'ErrorItemNotFound', message: 'not found' } };
      return {
        ok: true,
        value: { itemId: s.itemId, changeKey: s.changeKey, tag: s.tag, lastModified: s.lastModified, item: structuredClone(s.item) as ItemOfKind<K> },
      };
    });
  }

  async createItems<K extends ItemKind>(kind: K, items: { tag: string; item: ItemOfKind<K> }[]): Promise<ItemResult<ItemRef>[]> {
    this.record('createItems');
    this.maybeFail('createItems', 'before');
    const out: ItemResult<ItemRef>[] = items.map(({ tag, item }) => {
      const itemId = `AAMk${++this.seq}`;
      const s: Stored = { itemId, kind, changeKey: `CK${this.seq}`, tag, lastModified: this.now(), item: structuredClone(item) };
      this.items.set(itemId, s);
      this.touch(kind, itemId);
      return { ok: true, value: { itemId, changeKey: s.changeKey } };
    });
    this.maybeFail('createItems', 'after');
    return out;
  }

  async updateItems<K extends ItemKind>(kind: K, items: { itemId: string; changeKey: string; item: ItemOfKind<K> }[]): Promise<ItemResult<ItemRef>[]> {
    this.record('updateItems');
    this.maybeFail('updateItems', 'before');
    const out: ItemResult<ItemRef>[] = items.map(({ itemId, changeKey, item }) => {
      const s = this.items.get(itemId);
      if (!s) return { ok: false, error: { kind: 'ItemNotFound', message: 'not found' } };
      if (s.changeKey !== changeKey) return { ok: false, error: { kind: 'ChangeKeyConflict', code: 'ErrorIrresolvableConflict', message: 'stale' } };
      s.item = structuredClone(item);
      s.changeKey = `CK${++this.seq}`;
      s.lastModified = this.now();
      this.touch(kind, itemId);
      return { ok: true, value: { itemId, changeKey: s.changeKey } };
    });
    this.maybeFail('updateItems', 'after');
    return out;
  }

  async deleteItems(itemIds: string[]): Promise<ItemResult<null>[]> {
    this.record('deleteItems');
    this.maybeFail('deleteItems', 'before');
    const out: ItemResult<null>[] = itemIds.map((id) => {
      const s = this.items.get(id);
      if (s) {
        this.items.delete(id);
        this.touch(s.kind, id);
      }
      return { ok: true, value: null };
    });
    this.maybeFail('deleteItems', 'after');
    return out;
  }

  async findByTag(kind: ItemKind, tag: string): Promise<ItemRef[]> {
    this.record('findByTag');
    return [...this.items.values()].filter((s) => s.kind === kind && s.tag === tag).map((s) => ({ itemId: s.itemId, changeKey: s.changeKey }));
  }
}
