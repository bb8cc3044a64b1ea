/** What an engine scenario needs from a mailbox: the port, plus a person editing in Outlook. */
import type { Appointment, Contact, ItemKind, MailboxPort } from '@exsync/canonical';
import { MemoryMailbox } from '../support/memoryMailbox';

export interface PersonItem {
  itemId: string;
  tag?: string;
  item: Appointment | Contact;
}

export interface MailboxDriver {
  port: MailboxPort;
  personCreate(kind: ItemKind, item: Appointment | Contact): Promise<string>;
  personUpdate(kind: ItemKind, itemId: string, patch: Partial<Appointment> | Partial<Contact>): Promise<void>;
  personDelete(kind: ItemKind, itemId: string): Promise<void>;
  list(kind: ItemKind): Promise<PersonItem[]>;
  /** the operations the mailbox served so far, oldest first (EWS operation names, or Graph method and resource) */
  operations(): (string | undefined)[];
  /** makes Exchange reject every outstanding SyncState, when the mailbox can */
  invalidateSyncStates?(): Promise<void>;
  close(): Promise<void>;
}

export function memoryDriver(email = 'memory@contoso.example'): MailboxDriver & { mailbox: MemoryMailbox; email: string } {
  const mailbox = new MemoryMailbox();
  return {
    mailbox,
    email,
    operations: () => [...mailbox.operations],
    port: mailbox,
    personCreate: async (kind, item) => mailbox.personCreate(kind, item),
    personUpdate: async (_kind, id, patch) => mailbox.personUpdate(id, patch),
    personDelete: async (_kind, id) => mailbox.personDelete(id),
    list: async (kind) => mailbox.list(kind).map((s) => ({ itemId: s.itemId, tag: s.tag, item: s.item })),
    invalidateSyncStates: async () => mailbox.invalidateSyncStates(),
    close: async () => {},
  };
}
