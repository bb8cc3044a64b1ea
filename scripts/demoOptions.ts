/**
 * What `npm run demo` reads from its command line and environment, as one pure function so the
 * rules are tested without starting anything.
 */
export interface DemoOptions {
  /** API port; 0 lets the system pick a free one. `--port` wins over `PORT`; neither means 0. */
  port: number;
  /** The database to use as given (`DATABASE_URL`), kept after the demo; undefined: a database of the demo's own. */
  databaseUrl?: string;
  /** The Redis prefix to use as given (`EXSYNC_REDIS_PREFIX`); undefined: a prefix of the demo's own. */
  redisPrefix?: string;
  /** `EXSYNC_PUBLIC_URL` as given; undefined: derived from the address the API got. */
  publicUrl?: string;
  /** Milliseconds between repeats of the banner (`--banner-every <seconds>`, default 180; 0: only on Enter). */
  bannerEveryMs: number;
  help: boolean;
}

export const DEMO_USAGE = `usage: npm run demo [-- --port N] [--banner-every SECONDS]
  --port N              API port (default: PORT, else a free port)
  --banner-every S      repeat the URLs and tokens every S seconds (default 180; 0 = only when Enter is pressed)
Environment: DATABASE_URL and EXSYNC_REDIS_PREFIX make the demo use that database and prefix (kept
afterwards); without them it creates its own database and prefix and removes both when stopped.`;

/** Thrown for a command line the demo cannot run with; the message says what to change. */
export class DemoUsageError extends Error {}

function setting(env: Record<string, string | undefined>, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function wholeNumber(flag: string, raw: string | undefined, max: number): number {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) > max) {
    throw new DemoUsageError(`${flag} needs a whole number from 0 to ${max}, got ${raw ?? 'nothing'}`);
  }
  return Number(raw);
}

/**
 * Parses `argv` (the arguments after the script name) and the environment.
 * Throws DemoUsageError naming the flag for an unknown flag or a bad number.
 */
export function parseDemoOptions(argv: string[], env: Record<string, string | undefined>): DemoOptions {
  let port: number | undefined;
  let bannerEveryMs = 180_000;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const next = (): string | undefined => inline ?? argv[++i];
    if (flag === '--port') port = wholeNumber('--port', next(), 65_535);
    else if (flag === '--banner-every') bannerEveryMs = wholeNumber('--banner-every', next(), 86_400) * 1000;
    else if (flag === '--help' || flag === '-h') help = true;
    else throw new DemoUsageError(`unknown option ${argv[i]}\n${DEMO_USAGE}`);
  }
  const envPort = setting(env, 'PORT');
  return {
    port: port ?? (envPort === undefined ? 0 : wholeNumber('PORT', envPort, 65_535)),
    databaseUrl: setting(env, 'DATABASE_URL'),
    redisPrefix: setting(env, 'EXSYNC_REDIS_PREFIX'),
    publicUrl: setting(env, 'EXSYNC_PUBLIC_URL'),
    bannerEveryMs,
    help,
  };
}

/**
 * The base URL browsers reach the API at, from the address it listens on: a wildcard bind
 * (0.0.0.0, ::) is reached through the loopback address; IPv6 hosts are bracketed.
 */
export function publicUrlFor(address: string, port: number): string {
  const host = address === '0.0.0.0' || address === '' ? '127.0.0.1' : address === '::' ? '[::1]' : address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${port}`;
}
