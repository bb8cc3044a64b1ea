import { DEFAULT_SEED } from '@exsync/entra-sim';
import { DOVECOT_INSTALL_HINT } from '@exsync/mail-sim';
import { startSimulators } from './simulators';

/**
 * `npm run sim [-- --json] [--entra-port N] [--ews-port N] [--graph-port N]`: the three simulators for manual use.
 * With --json, prints exactly one JSON line once both listen (scripts parse it).
 */
function parseArgs(argv: string[]): { json: boolean; entraPort: number; ewsPort: number; graphPort: number } {
  const out = { json: false, entraPort: 4100, ewsPort: 4200, graphPort: 4300 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.split('=', 2);
    const value = () => {
      const v = inline ?? argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        process.stderr.write(`${flag} needs a port number (0-65535), got ${v}\n`);
        process.exit(2);
      }
      return n;
    };
    if (flag === '--json') out.json = true;
    else if (flag === '--entra-port') out.entraPort = value();
    else if (flag === '--ews-port') out.ewsPort = value();
    else if (flag === '--graph-port') out.graphPort = value();
    else {
      process.stderr.write(`unknown option ${a}; use --json, --entra-port N, --ews-port N, --graph-port N\n`);
      process.exit(2);
    }
  }
  return out;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  startSimulators({ entraPort: args.entraPort, ewsPort: args.ewsPort, graphPort: args.graphPort }).then(
    (sims) => {
      const info = {
        entraUrl: sims.entraUrl,
        ewsUrl: sims.ewsUrl,
        graphUrl: sims.graphUrl,
        tenantId: sims.tenantId,
        applicationId: sims.applicationId,
        clientSecret: sims.clientSecret,
        users: sims.users,
        controlUrl: sims.ews.url,
        ...(sims.mail ? { imap: sims.mail.imap, smtp: sims.mail.smtp, monitorApplicationId: DEFAULT_SEED.monitorApplicationId } : {}),
      };
      if (args.json) {
        process.stdout.write(JSON.stringify(info) + '\n');
      } else {
        const lines = [
          'exsync simulators running (Ctrl-C stops them)',
          `  Entra ID authority host: ${info.entraUrl}`,
          `  EWS endpoint:            ${info.ewsUrl}`,
          `  EWS control API:         ${sims.ews.url}/_sim/`,
          `  Graph v1.0 base:         ${info.graphUrl}`,
          `  tenant id:               ${info.tenantId}`,
          `  application (client) id: ${info.applicationId}`,
          `  client secret:           ${info.clientSecret}`,
          sims.mail
            ? `  IMAP (Dovecot):          ${sims.mail.imap.host}:${sims.mail.imap.port}   SMTP: ${sims.mail.smtp.host}:${sims.mail.smtp.port}`
            : `  IMAP/SMTP:               not started (Dovecot is not installed: ${DOVECOT_INSTALL_HINT})`,
          '  users (mailboxes exist for each):',
          ...info.users.map((u) => `    ${u.email}  password ${u.password}`),
        ];
        process.stdout.write(lines.join('\n') + '\n');
      }
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        sims.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE') {
        process.stderr.write(`a port is already in use (${e.message}); pick others with --entra-port / --ews-port / --graph-port\n`);
      } else {
        process.stderr.write(`simulators failed to start: ${e.message ?? String(err)}\n`);
      }
      process.exit(1);
    },
  );
}

main();
