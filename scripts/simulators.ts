import { DEFAULT_SEED, MAIL_RESOURCE, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import { startGraphSim, type GraphSim } from '@exsync/graph-sim';
import { dovecotAvailable, startMailSim, type MailSim } from '@exsync/mail-sim';

export interface SimulatorsOptions {
  /** 0 picks a free port (tests); `npm run sim` uses 4100 / 4200 / 4300. */
  entraPort?: number;
  ewsPort?: number;
  graphPort?: number;
  host?: string;
  /** Access-token lifetime of the Entra simulator, in seconds. */
  tokenLifetimeSeconds?: number;
  /**
   * Start the mailbox monitor's IMAP (Dovecot) and SMTP servers: 'if-installed' (default) when
   * Dovecot is installed, true requires them, false never.
   */
  mail?: boolean | 'if-installed';
}

export interface Simulators {
  entra: EntraSim;
  ews: EwsSim;
  /** Microsoft Graph over the same mailboxes as `ews`. */
  graph: GraphSim;
  entraUrl: string;
  ewsUrl: string;
  /** Base of Graph v1.0 (`http://host:port/v1.0`). */
  graphUrl: string;
  tenantId: string;
  applicationId: string;
  clientSecret: string;
  users: { email: string; password: string }[];
  /** the mail servers, when they run */
  mail?: MailSim;
  close(): Promise<void>;
}

/**
 * Starts the Entra ID, EWS and Graph simulators wired together (EWS and Graph trust Entra's signing keys; Graph serves EWS's mailboxes) with a
 * mailbox for every DEFAULT_SEED user. Used by `npm run sim`, the demo and tests.
 */
export async function startSimulators(opts: SimulatorsOptions = {}): Promise<Simulators> {
  const entra = await startEntraSim({ port: opts.entraPort ?? 0, host: opts.host, tokenLifetimeSeconds: opts.tokenLifetimeSeconds });
  let ews: EwsSim;
  let mail: MailSim | undefined;
  const wantMail = opts.mail ?? 'if-installed';
  try {
    if (wantMail === true || (wantMail === 'if-installed' && dovecotAvailable())) {
      mail = await startMailSim({
        signingKey: entra.signingKey,
        mintToken: (email) => entra.mintDelegatedToken({ email, resource: MAIL_RESOURCE, scp: 'IMAP.AccessAsUser.All SMTP.Send' }),
      });
    }
    const mailSim = mail;
    ews = await startEwsSim({
      port: opts.ewsPort ?? 0,
      host: opts.host,
      jwksUrl: entra.jwksUrl,
      controlExtension: mailSim ? (req, res) => mailSim.handleControl(req, res) : undefined,
    });
  } catch (e) {
    await mail?.close();
    await entra.close();
    throw e;
  }
  let graph: GraphSim;
  try {
    graph = await startGraphSim({
      ews,
      jwksUrl: entra.jwksUrl,
      port: opts.graphPort ?? 0,
      host: opts.host,
      users: DEFAULT_SEED.users.map((u) => ({ oid: u.oid, email: u.email })),
    });
  } catch (e) {
    await ews.close();
    await entra.close();
    throw e;
  }
  for (const u of DEFAULT_SEED.users) {
    ews.store.createMailbox({ email: u.email, tenantId: DEFAULT_SEED.tenantId, displayName: u.name });
  }
  return {
    entra,
    ews,
    graph,
    entraUrl: entra.url,
    ewsUrl: ews.ewsUrl,
    graphUrl: graph.graphUrl,
    tenantId: DEFAULT_SEED.tenantId,
    applicationId: DEFAULT_SEED.applicationId,
    clientSecret: DEFAULT_SEED.clientSecret,
    users: DEFAULT_SEED.users.map((u) => ({ email: u.email, password: u.password })),
    mail,
    close: async () => {
      await graph.close();
      await ews.close();
      await mail?.close();
      await entra.close();
    },
  };
}
