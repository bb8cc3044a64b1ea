/**
 * The test servers themselves validate tokens as Exchange Online does, so the monitor's tests prove
 * something: Dovecot (oauth2 passdb, local JWT validation) and the smtp-server submission server
 * accept the Entra simulator's delegated token for the right user and audience only.
 */
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIL_RESOURCE, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { startMailSim, type MailSim } from '@exsync/mail-sim';
import { requireDovecot } from '../support/monitor';

const ALICE = 'alice@contoso.example';

describe('the IMAP and SMTP test servers check bearer tokens', () => {
  let entra: EntraSim;
  let mail: MailSim;
  beforeAll(async () => {
    requireDovecot();
    entra = await startEntraSim();
    mail = await startMailSim({
      signingKey: entra.signingKey,
      mintToken: (email) => entra.mintDelegatedToken({ email, resource: MAIL_RESOURCE, scp: 'IMAP.AccessAsUser.All SMTP.Send' }),
    });
  });
  afterAll(async () => {
    await mail?.close();
    await entra?.close();
  });

  const token = (over: { email?: string; resource?: string; scp?: string; lifetimeSeconds?: number } = {}) =>
    entra.mintDelegatedToken({
      email: over.email ?? ALICE,
      resource: over.resource ?? MAIL_RESOURCE,
      scp: over.scp ?? 'IMAP.AccessAsUser.All SMTP.Send',
      lifetimeSeconds: over.lifetimeSeconds,
    });

  async function imapLogin(user: string, accessToken: string): Promise<boolean> {
    const c = new ImapFlow({ host: mail.imap.host, port: mail.imap.port, secure: false, auth: { user, accessToken }, logger: false });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.logout();
      return true;
    } catch {
      c.close();
      return false;
    }
  }

  async function smtpSend(user: string, accessToken: string): Promise<boolean> {
    const t = nodemailer.createTransport({ host: mail.smtp.host, port: mail.smtp.port, secure: false, auth: { type: 'OAuth2', user, accessToken } });
    try {
      await t.sendMail({ from: user, to: 'x@example.org', subject: 'probe', text: 'probe' });
      return true;
    } catch {
      return false;
    } finally {
      t.close();
    }
  }

  it("IMAP (Dovecot): the user's own token for outlook.office.com only", async () => {
    expect(await imapLogin(ALICE, await token())).toBe(true);
    expect(await imapLogin('bob@contoso.example', await token())).toBe(false);
    expect(await imapLogin(ALICE, await token({ resource: 'https://outlook.office365.com' }))).toBe(false);
    const [h, p, s] = (await token()).split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), upn: 'bob@contoso.example' })).toString('base64url')}.${s}`;
    expect(await imapLogin('bob@contoso.example', forged)).toBe(false);
    const short = await token({ lifetimeSeconds: 1 });
    await new Promise((r) => setTimeout(r, 2100));
    expect(await imapLogin(ALICE, short)).toBe(false);
  });

  it('SMTP (smtp-server): XOAUTH2 with SMTP.Send for the sending user only', async () => {
    expect(await smtpSend(ALICE, await token())).toBe(true);
    expect(await smtpSend(ALICE, await token({ scp: 'IMAP.AccessAsUser.All' }))).toBe(false);
    expect(await smtpSend('bob@contoso.example', await token())).toBe(false);
    expect(await smtpSend(ALICE, await token({ resource: 'https://graph.microsoft.com' }))).toBe(false);
    expect(mail.smtpMessages().map((m) => m.user)).toEqual([ALICE]);
  });
});
