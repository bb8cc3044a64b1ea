import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian's dovecot-imapd puts the binaries. */
export const DOVECOT_BINARY = '/usr/sbin/dovecot';
export const DOVEADM_BINARY = '/usr/bin/doveadm';

/** The one command that installs the IMAP server the tests and the demo run (Debian 12: Dovecot 2.3). */
export const DOVECOT_INSTALL_HINT = 'apt-get install -y dovecot-imapd (as root; scripts/ensure-test-packages.sh does it for npm test)';

export function dovecotAvailable(): boolean {
  return existsSync(DOVECOT_BINARY) && existsSync(DOVEADM_BINARY);
}

export interface DovecotOptions {
  /** PEM (SPKI) of the key that signs the Entra simulator's tokens */
  publicKeyPem: string;
  /** `kid` in the tokens' header: Dovecot looks the key up as shared/default/RS256/<kid> */
  kid: string;
  /** the `aud` a token must carry (Exchange Online's IMAP resource) */
  audience: string;
  /** advertise and accept no IDLE (a server that only supports polling) */
  withoutIdle?: boolean;
}

export interface DovecotServer {
  host: string;
  port: number;
  /** the private instance's directory (config, mail, logs); removed by close() */
  dir: string;
  /** Disconnects every IMAP session of `user`, as Exchange Online does when a token expires; false when there was none. */
  kick(user: string): Promise<boolean>;
  /** Gives `folder` of `user` a new UIDVALIDITY (as a server rebuild or migration does). */
  setUidValidity(user: string, folder: string, uidValidity: number): Promise<void>;
  /** The tail of Dovecot's log (for test failures). */
  log(): Promise<string>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Capabilities Dovecot 2.3 advertises after login, minus IDLE (for `withoutIdle`). */
const CAPABILITIES_WITHOUT_IDLE =
  'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT ' +
  'MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ' +
  'ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE ' +
  'LITERAL+ NOTIFY';

/**
 * Starts a private Dovecot instance (its own config, state and mail directories under a temp dir,
 * a free loopback port, plaintext IMAP) whose only authentication is the oauth2 passdb validating
 * JWT bearer tokens locally (XOAUTH2 and OAUTHBEARER): RS256 signature against `publicKeyPem`,
 * `exp`/`nbf`, `aud` equal to `audience`, and the SASL user equal to the token's `upn`.
 * Dovecot 2.3 documents the oauth2 passdb's `introspection_mode = local` and
 * `local_validation_key_dict` (2.3 reads the key file `<prefix>/<azp or default>/<alg>/<kid>`).
 * Throws when Dovecot is not installed (see DOVECOT_INSTALL_HINT).
 */
export async function startDovecot(opts: DovecotOptions): Promise<DovecotServer> {
  if (!dovecotAvailable()) throw new Error(`Dovecot is not installed: ${DOVECOT_INSTALL_HINT}`);
  const dir = await mkdtemp(join(tmpdir(), 'exsync-dovecot-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const me = userInfo();
  // Dovecot refuses to run mail processes as root; as root it uses its own system user.
  const mailUser = me.uid === 0 ? 'dovecot' : me.username;
  const internalUser = me.uid === 0 ? 'dovecot' : me.username;
  const loginUser = me.uid === 0 ? 'dovenull' : me.username;
  for (const d of ['run', 'state', 'mail', 'keys/default/RS256']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'keys/default/RS256', opts.kid), opts.publicKeyPem);
  if (me.uid === 0) {
    const { stdout } = await run('id', ['-u', mailUser]);
    const { stdout: gid } = await run('id', ['-g', mailUser]);
    await chown(join(dir, 'mail'), Number(stdout.trim()), Number(gid.trim()));
  }
  const oauthConf = join(dir, 'dovecot-oauth2.conf.ext');
  await writeFile(
    oauthConf,
    [
      'introspection_mode = local',
      `local_validation_key_dict = fs:posix:prefix=${join(dir, 'keys')}/`,
      'username_attribute = upn',
      'active_attribute = aud',
      `active_value = ${opts.audience}`,
      '',
    ].join('\n'),
  );
  const conf = join(dir, 'dovecot.conf');
  await writeFile(
    conf,
    [
      `base_dir = ${join(dir, 'run')}`,
      `state_dir = ${join(dir, 'state')}`,
      `instance_name = exsync-${port}`,
      `log_path = ${join(dir, 'dovecot.log')}`,
      'protocols = imap',
      'listen = 127.0.0.1',
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = xoauth2 oauthbearer',
      'auth_failure_delay = 0',
      'auth_verbose = yes',
      `default_internal_user = ${internalUser}`,
      `default_internal_group = ${internalUser}`,
      `default_login_user = ${loginUser}`,
      `mail_location = maildir:${join(dir, 'mail')}/%Lu`,
      'first_valid_uid = 1',
      'mailbox_list_index = yes',
      'protocol imap {\n  mail_max_userip_connections = 200\n}',
      opts.withoutIdle ? `imap_capability = ${CAPABILITIES_WITHOUT_IDLE}` : '',
      'passdb {',
      '  driver = oauth2',
      '  mechanisms = xoauth2 oauthbearer',
      `  args = ${oauthConf}`,
      '}',
      'userdb {',
      '  driver = static',
      `  args = uid=${mailUser} gid=${mailUser} allow_all_users=yes home=${join(dir, 'mail')}/%Lu`,
      '}',
      'service imap-login {',
      `  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }`,
      '  inet_listener imaps {\n    port = 0\n  }',
      '}',
      'service stats {\n  unix_listener stats-writer {\n    mode = 0666\n  }\n}',
      'namespace inbox {',
      '  inbox = yes',
      '  separator = /',
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(DOVECOT_BINARY, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  // A process that ends without close() (a failed test set-up, a killed test worker) must not
  // leave its private Dovecot running: stop it when this process exits.
  const stopOnExit = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', stopOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', stopOnExit);
      resolve();
    }),
  );
  await waitForPort(port, () => (child.exitCode !== null ? `dovecot exited: ${stderr}` : undefined));

  const doveadm = (args: string[]) => run(DOVEADM_BINARY, ['-c', conf, ...args]);
  return {
    host: '127.0.0.1',
    port,
    dir,
    kick: async (user) => {
      try {
        await doveadm(['kick', user]);
        return true;
      } catch (e) {
        // doveadm kick exits with 68 (EX_NOUSER) when the user has no session.
        if ((e as { code?: number }).code === 68) return false;
        throw e;
      }
    },
    setUidValidity: async (user, folder, uidValidity) => {
      await doveadm(['mailbox', 'update', '-u', user, '--uid-validity', String(uidValidity), folder]);
    },
    log: async () => (await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '')).slice(-4000),
    close: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, failed: () => string | undefined): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const why = failed();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dovecot did not listen on ${port}`);
}
