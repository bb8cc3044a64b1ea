import type { AddressInfo } from 'node:net';
import { importSPKI, jwtVerify } from 'jose';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface AcceptedMessage {
  /** envelope MAIL FROM */
  from: string;
  /** envelope RCPT TO */
  to: string[];
  subject: string | null;
  /** bytes of the raw message */
  size: number;
  /** the SASL user the XOAUTH2 token was accepted for */
  user: string;
  raw: Buffer;
}

export interface SmtpSimOptions {
  publicKeyPem: string;
  /** required `aud` */
  audience: string;
  /** required entry of the token's `scp` */
  scope: string;
}

export interface SmtpSim {
  host: string;
  port: number;
  readonly messages: AcceptedMessage[];
  close(): Promise<void>;
}

/**
 * An SMTP submission server (smtp-server from the nodemailer project) on a free loopback port,
 * plaintext, whose only AUTH mechanism is XOAUTH2: the bearer token must be an RS256 JWT signed by
 * the Entra simulator's key, unexpired, for `audience`, with `scope` in `scp` and `upn` equal to
 * the SASL user, as Exchange Online's SMTP AUTH checks. Keeps what it accepted in `messages`.
 */
export async function startSmtpSim(opts: SmtpSimOptions): Promise<SmtpSim> {
  const key = await importSPKI(opts.publicKeyPem, 'RS256');
  const messages: AcceptedMessage[] = [];
  const server = new SMTPServer({
    authMethods: ['XOAUTH2'],
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    size: 60 * 1024 * 1024,
    logger: false,
    onAuth(auth, _session, callback) {
      const refuse = () => callback(null, { data: { status: '401', schemes: 'bearer', scope: opts.scope } });
      if (auth.method !== 'XOAUTH2' || !auth.accessToken) return refuse();
      jwtVerify(auth.accessToken, key, { audience: opts.audience }).then(
        ({ payload }) => {
          const scp = typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
          const upn = typeof payload.upn === 'string' ? payload.upn.toLowerCase() : '';
          if (!scp.includes(opts.scope) || upn !== (auth.username ?? '').toLowerCase()) return refuse();
          callback(null, { user: auth.username });
        },
        () => refuse(),
      );
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (mail) => {
            messages.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: mail.subject ?? null,
              size: raw.length,
              user: String(session.user ?? ''),
              raw,
            });
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
