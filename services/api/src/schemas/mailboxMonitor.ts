/** The mailbox monitor's settings, monitored mailboxes and inbound-message feed (CONTRACT.md, "Mailbox monitor"). */
import { Type } from '@sinclair/typebox';
import type { MonitoredMailboxState } from '@exsync/db';
import { DEFAULT_IMAP_HOST, DEFAULT_SMTP_HOST } from '@exsync/mailbox-monitor';
import { Guid, Nullable, PageLimit, StringEnum, Timestamp } from './common';
import { CURSOR_PATTERN } from '../changeCursor';

const Folder = (description?: string) => Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\x00-\\x1f*%]+$', ...(description ? { description } : {}) });

export const MonitorSettingsBody = Type.Object(
  {
    clientId: Guid(),
    tenantId: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9.-]+$' }),
    clientSecret: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 1000 }), { description: 'Confidential clients only; null removes it' })),
    authorityHost: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 300 }))),
    imapHost: Type.Optional(Type.String({ maxLength: 300, description: `host:port, default ${DEFAULT_IMAP_HOST}` })),
    smtpHost: Type.Optional(Type.String({ maxLength: 300, description: `host:port, default ${DEFAULT_SMTP_HOST}` })),
    processedFolder: Type.Optional(Folder()),
    failedFolder: Type.Optional(Folder()),
    forwardFailedTo: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
  },
  { additionalProperties: false },
);

export const MonitorSettingsView = Type.Partial(
  Type.Object({
    orgId: Guid(),
    clientId: Type.String(),
    tenantId: Type.String(),
    clientSecretSet: Type.Boolean(),
    authorityHost: Nullable(Type.String()),
    imapHost: Type.String(),
    smtpHost: Type.String(),
    processedFolder: Type.String(),
    failedFolder: Type.String(),
    forwardFailedTo: Nullable(Type.String()),
    redirectUri: Type.String({ description: "exsync's own redirect URI, to register on the app's Web platform" }),
    nativeRedirectUri: Type.String({ description: 'The public-client redirect URI the paste-the-address page works with' }),
    updatedAt: Timestamp(),
  }),
);

export const MonitoredMailbox = Type.Partial(
  Type.Object({
    id: Guid(),
    email: Type.String(),
    folder: Type.String(),
    enabled: Type.Boolean(),
    state: StringEnum(['awaiting-sign-in', 'connecting', 'idle', 'polling', 'retrying', 'needs-sign-in'] as const satisfies readonly MonitoredMailboxState[]),
    stateMessage: Nullable(Type.String()),
    stateSince: Timestamp(),
    signedInAs: Nullable(Type.String()),
    grantAt: Nullable(Timestamp()),
    lastMessageAt: Nullable(Timestamp({ description: 'When the last new message was read' })),
    createdAt: Timestamp(),
  }),
);

export const NewMonitoredMailbox = Type.Object(
  { email: Type.String({ maxLength: 320 }), folder: Type.Optional(Folder('Folder to read, default INBOX')) },
  { additionalProperties: false },
);

export const MailboxParams = Type.Object({ orgId: Guid(), id: Guid() }, { additionalProperties: false });

export const AuthorizationLinkBody = Nullable(
  Type.Object({ returnTo: Type.Optional(StringEnum(['exsync', 'paste'] as const)) }, { additionalProperties: false }),
);

const Address = Type.Partial(Type.Object({ name: Type.String(), address: Type.String() }));

export const InboundMessageState = StringEnum(['stored', 'processed', 'fail-requested', 'forwarded', 'failed'] as const);

export const InboundMessage = Type.Partial(
  Type.Object({
    cursor: Type.String(),
    id: Guid(),
    mailboxId: Guid(),
    messageId: Nullable(Type.String()),
    from: Type.Array(Address),
    to: Type.Array(Address),
    cc: Type.Array(Address),
    subject: Nullable(Type.String()),
    date: Nullable(Timestamp()),
    text: Nullable(Type.String()),
    html: Nullable(Type.String()),
    attachments: Type.Array(
      Type.Partial(Type.Object({ index: Type.Integer(), filename: Nullable(Type.String()), contentType: Type.String(), size: Type.Integer() })),
    ),
    state: InboundMessageState,
    failReason: Nullable(Type.String()),
  }),
);

export const InboundQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({ pattern: CURSOR_PATTERN, description: 'Opaque cursor: the `next` of the previous answer (valid for this organisation only)' }),
    ),
    limit: PageLimit(500),
  },
  { additionalProperties: false },
);

export const InboundPage = Type.Object({ messages: Type.Array(InboundMessage), next: Nullable(Type.String()) });

export const AttachmentParams = Type.Object(
  { orgId: Guid(), id: Guid(), index: Type.Integer({ minimum: 0, maximum: 10000 }) },
  { additionalProperties: false },
);

export const FailBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });
