import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { usesImplicitTls, type MailHost } from './hostPolicy';

export interface MailEndpointOptions {
  /** plaintext without STARTTLS is allowed (the local simulators only; EXSYNC_ALLOW_INSECURE_AUTHORITY) */
  allowInsecure: boolean;
}

/**
 * An IMAP client (imapflow) that authenticates with SASL XOAUTH2/OAUTHBEARER using `accessToken`
 * for `user`. Port 993 is implicit TLS; other ports require STARTTLS unless `allowInsecure`.
 * Auto-IDLE is off: the monitor decides when to IDLE or poll. Not connected yet.
 */
export function createImapClient(endpoint: MailHost, user: string, accessToken: string, opts: MailEndpointOptions): ImapFlow {
  const implicit = usesImplicitTls(endpoint.port);
  return new ImapFlow({
    host: endpoint.host,
    port: endpoint.port,
    secure: implicit,
    doSTARTTLS: implicit ? undefined : opts.allowInsecure ? undefined : true,
    auth: { user, accessToken },
    logger: false,
    disableAutoIdle: true,
    emitLogs: false,
    connectionTimeout: 30_000,
    greetingTimeout: 15_000,
    socketTimeout: 5 * 60_000,
  });
}

export interface ForwardInput {
  from: string;
  to: string;
  subject: string;
  reason: string;
  /** the failed message, attached as message/rfc822 */
  raw: Buffer;
  /** stable per failed message, so a forward repeated after a crash can be recognised */
  messageId: string;
}

/**
 * Forwards a message as an attachment over SMTP AUTH XOAUTH2 (nodemailer). 465 is implicit TLS;
 * other ports (Exchange Online: 587) require STARTTLS unless `allowInsecure`. Resolves once the
 * server accepted the message; rejects with nodemailer's error otherwise.
 */
export async function forwardAsAttachment(
  endpoint: MailHost,
  user: string,
  accessToken: string,
  input: ForwardInput,
  opts: MailEndpointOptions,
): Promise<void> {
  const implicit = usesImplicitTls(endpoint.port);
  const transport = nodemailer.createTransport({
    host: endpoint.host,
    port: endpoint.port,
    secure: implicit,
    requireTLS: !implicit && !opts.allowInsecure,
    auth: { type: 'OAuth2', user, accessToken },
    connectionTimeout: 30_000,
    socketTimeout: 120_000,
  });
  try {
    await transport.sendMail({
      from: input.from,
      to: input.to,
      subject: input.subject,
      messageId: input.messageId,
      text: `exsync's mailbox monitor could not process the attached message.\nReason: ${input.reason}\n`,
      attachments: [{ filename: 'message.eml', content: input.raw, contentType: 'message/rfc822', contentDisposition: 'attachment' }],
    });
  } finally {
    transport.close();
  }
}
