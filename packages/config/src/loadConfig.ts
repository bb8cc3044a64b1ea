import { randomBytes } from 'node:crypto';
import { ConfigError } from './configError';
import { parseAllowedHosts, type EndpointPolicy, type HostEntry } from './endpointPolicy';

export type ExsyncMode = 'production' | 'demo' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface Config {
  mode: ExsyncMode;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  port: number;
  host: string;
  /** The key new ciphertexts are sealed with. */
  encryptionKey: EncryptionKey;
  /** Older keys still accepted when opening (rotation); the current key is not repeated here. */
  previousEncryptionKeys: EncryptionKey[];
  adminToken: string;
  publicUrl: string;
  syncIntervalSeconds: number;
  workerConcurrency: number;
  /** how long one EWS request may take before it is abandoned and the run retried */
  ewsTimeoutSeconds: number;
  /** how long one Graph request may take before it is abandoned (the request retried as Transient) */
  graphTimeoutSeconds: number;
  /** how a failed run is retried before it shows as `error` (EXSYNC_SYNC_ATTEMPTS, EXSYNC_RETRY_*) */
  syncRetry: RetryPolicy;
  /** EXSYNC_DATABASE_POOL_SIZE when set; otherwise each process sizes its pool (see poolSize.ts) */
  databasePoolSize: number | null;
  allowInsecureAuthority: boolean;
  /** EXSYNC_MAX_RESPONSE_MB in bytes: one EWS answer larger than this, on the wire or decompressed, is refused */
  maxResponseBytes: number;
  /** EXSYNC_ALLOWED_HOSTS: hosts the operator adds to Microsoft's own for every endpoint field */
  allowedHosts: HostEntry[];
  /** requests per window, counted in Redis so they hold across API processes */
  rateLimit: RateLimitConfig;
  /** live OAuth states one sign-in link (user) or one organisation may hold; the oldest go first */
  oauthStateLimits: { perLink: number; perOrg: number };
  /** mailbox monitor: seconds between polls of a server without IDLE, and between checks for CRM fail requests */
  monitorPollSeconds: number;
  /** `npm run start:worker` serves its sync metrics at http://HOST:<this>/metrics; null: not served */
  workerMetricsPort: number | null;
  logLevel: LogLevel;
  /** True when the secrets above were generated for this process only (demo/test mode). */
  ephemeralSecrets: boolean;
}

/**
 * A failed run is tried `attempts` times in all; the wait before attempt n+1 is drawn from
 * [cap/2, cap] with cap = min(maxDelayMs, baseDelayMs * 2^(n-1)) (full jitter).
 */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RateLimitConfig {
  windowSeconds: number;
  /** every route, per client IP */
  perIp: number;
  /** /v1 routes, per bearer token (keyed by its hash) */
  perToken: number;
  /** the unauthenticated sign-in and consent redirects (/oauth/...), per client IP */
  signInPerIp: number;
}

type Env = Record<string, string | undefined>;

const KEY_FIX = 'set it to 32 random bytes, base64 (openssl rand -base64 32)';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

function value(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function parseMode(env: Env): ExsyncMode {
  // vitest sets NODE_ENV=test; treating that as test mode spares every test from inventing secrets.
  const raw = value(env, 'EXSYNC_MODE') ?? (env.NODE_ENV === 'test' ? 'test' : 'production');
  if (raw === 'production' || raw === 'demo' || raw === 'test') return raw;
  throw new ConfigError('EXSYNC_MODE', `EXSYNC_MODE is "${raw}": set it to production, demo or test`);
}

function parseUrl(env: Env, name: string, fallback: string, protocols: string[]): string {
  const raw = value(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `${name} is not a valid URL: set it to a URL such as ${fallback}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `${name} must use ${protocols.join(' or ')}: set it to a URL such as ${fallback}`);
  }
  return raw;
}

function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `${name} is "${raw}": set it to a whole number from ${min} to ${max} (default ${fallback})`);
  }
  return Number(raw);
}

function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `${name} is "${raw}": set it to true or false`);
}

function decodeKey(name: string, raw: string): Buffer {
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(raw) ? Buffer.from(raw, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) {
    throw new ConfigError(name, `${name} is not 32 bytes of base64: ${KEY_FIX}`);
  }
  return key;
}

function parseKeyId(env: Env, name: string, fallback: string): string {
  const id = value(env, name) ?? fallback;
  if (!KEY_ID_PATTERN.test(id)) {
    throw new ConfigError(name, `${name} is "${id}": set it to 1-64 letters, digits, dots, dashes or underscores`);
  }
  return id;
}

/**
 * Rotation: EXSYNC_ENCRYPTION_KEY(+_ID) seals new data; EXSYNC_PREVIOUS_ENCRYPTION_KEYS lists older
 * keys as `id:base64` pairs separated by commas, so data sealed before a rotation still opens.
 */
function parsePreviousKeys(env: Env, currentId: string): EncryptionKey[] {
  const name = 'EXSYNC_PREVIOUS_ENCRYPTION_KEYS';
  const raw = value(env, name);
  if (raw === undefined) return [];
  return raw.split(',').map((entry) => {
    const sep = entry.indexOf(':');
    const id = entry.slice(0, sep).trim();
    if (sep < 1 || !KEY_ID_PATTERN.test(id) || id === currentId) {
      throw new ConfigError(name, `${name} is malformed: set it to comma-separated id:base64key pairs whose ids differ from EXSYNC_ENCRYPTION_KEY_ID`);
    }
    return { id, key: decodeKey(name, entry.slice(sep + 1).trim()) };
  });
}

/** Reads and validates exsync's configuration; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const mode = parseMode(env);
  const relaxed = mode !== 'production';
  let ephemeralSecrets = false;

  const keyRaw = value(env, 'EXSYNC_ENCRYPTION_KEY');
  let key: Buffer;
  if (keyRaw !== undefined) key = decodeKey('EXSYNC_ENCRYPTION_KEY', keyRaw);
  else if (relaxed) {
    key = randomBytes(32);
    ephemeralSecrets = true;
  } else throw new ConfigError('EXSYNC_ENCRYPTION_KEY', `EXSYNC_ENCRYPTION_KEY is missing: ${KEY_FIX}`);
  const encryptionKey = { id: parseKeyId(env, 'EXSYNC_ENCRYPTION_KEY_ID', 'k1'), key };

  let adminToken = value(env, 'EXSYNC_ADMIN_TOKEN');
  if (adminToken === undefined) {
    if (!relaxed) {
      throw new ConfigError('EXSYNC_ADMIN_TOKEN', 'EXSYNC_ADMIN_TOKEN is missing: set it to a long random string (openssl rand -hex 32)');
    }
    adminToken = randomBytes(32).toString('hex');
    ephemeralSecrets = true;
  } else if (adminToken.length < 16) {
    throw new ConfigError('EXSYNC_ADMIN_TOKEN', 'EXSYNC_ADMIN_TOKEN is too short: set it to at least 16 random characters (openssl rand -hex 32)');
  }

  const logLevel = (value(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `LOG_LEVEL is "${logLevel}": set it to one of ${LOG_LEVELS.join(', ')}`);
  }

  const redisPrefix = value(env, 'EXSYNC_REDIS_PREFIX') ?? 'exsync';
  if (redisPrefix.includes(':')) {
    throw new ConfigError('EXSYNC_REDIS_PREFIX', 'EXSYNC_REDIS_PREFIX contains ":": set it to a name without colons');
  }

  const syncRetry: RetryPolicy = {
    attempts: parseInteger(env, 'EXSYNC_SYNC_ATTEMPTS', 6, 1, 50),
    baseDelayMs: parseInteger(env, 'EXSYNC_RETRY_BASE_DELAY_MS', 2_000, 10, 3_600_000),
    // at most an hour: a `retrying` mailbox older than that is taken for abandoned (its job lost) and rescheduled
    maxDelayMs: parseInteger(env, 'EXSYNC_RETRY_MAX_DELAY_MS', 300_000, 10, 3_600_000),
  };
  if (syncRetry.maxDelayMs < syncRetry.baseDelayMs) {
    throw new ConfigError(
      'EXSYNC_RETRY_MAX_DELAY_MS',
      `EXSYNC_RETRY_MAX_DELAY_MS (${syncRetry.maxDelayMs}) is below EXSYNC_RETRY_BASE_DELAY_MS (${syncRetry.baseDelayMs}): set it to at least the base delay`,
    );
  }
  const databasePoolSize = value(env, 'EXSYNC_DATABASE_POOL_SIZE') === undefined ? null : parseInteger(env, 'EXSYNC_DATABASE_POOL_SIZE', 0, 2, 10_000);

  return {
    mode,
    databaseUrl: parseUrl(env, 'DATABASE_URL', 'postgres://localhost:5432/exsync', ['postgres:', 'postgresql:']),
    redisUrl: parseUrl(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    redisPrefix,
    port: parseInteger(env, 'PORT', 3000, 0, 65535),
    host: value(env, 'HOST') ?? '127.0.0.1',
    encryptionKey,
    previousEncryptionKeys: parsePreviousKeys(env, encryptionKey.id),
    adminToken,
    publicUrl: parseUrl(env, 'EXSYNC_PUBLIC_URL', 'http://127.0.0.1:3000', ['http:', 'https:']).replace(/\/+$/, ''),
    syncIntervalSeconds: parseInteger(env, 'EXSYNC_SYNC_INTERVAL_SECONDS', 300, 5, 86_400),
    workerConcurrency: parseInteger(env, 'EXSYNC_WORKER_CONCURRENCY', 10, 1, 1000),
    ewsTimeoutSeconds: parseInteger(env, 'EXSYNC_EWS_TIMEOUT_SECONDS', 100, 1, 600),
    graphTimeoutSeconds: parseInteger(env, 'EXSYNC_GRAPH_TIMEOUT_SECONDS', 100, 1, 600),
    syncRetry,
    databasePoolSize,
    allowInsecureAuthority: parseBoolean(env, 'EXSYNC_ALLOW_INSECURE_AUTHORITY', false),
    allowedHosts: parseAllowedHosts(env.EXSYNC_ALLOWED_HOSTS),
    maxResponseBytes: parseInteger(env, 'EXSYNC_MAX_RESPONSE_MB', 64, 1, 1024) * 1024 * 1024,
    rateLimit: {
      windowSeconds: parseInteger(env, 'EXSYNC_RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
      perIp: parseInteger(env, 'EXSYNC_RATE_LIMIT_PER_IP', 3000, 1, 10_000_000),
      perToken: parseInteger(env, 'EXSYNC_RATE_LIMIT_PER_TOKEN', 3000, 1, 10_000_000),
      signInPerIp: parseInteger(env, 'EXSYNC_RATE_LIMIT_SIGNIN_PER_IP', 60, 1, 10_000_000),
    },
    oauthStateLimits: {
      perLink: parseInteger(env, 'EXSYNC_OAUTH_STATES_PER_LINK', 5, 1, 1000),
      perOrg: parseInteger(env, 'EXSYNC_OAUTH_STATES_PER_ORG', 200, 1, 1_000_000),
    },
    monitorPollSeconds: parseInteger(env, 'EXSYNC_MONITOR_POLL_SECONDS', 30, 1, 3600),
    workerMetricsPort: value(env, 'EXSYNC_WORKER_METRICS_PORT') === undefined ? null : parseInteger(env, 'EXSYNC_WORKER_METRICS_PORT', 9464, 1, 65535),
    logLevel: logLevel as LogLevel,
    ephemeralSecrets,
  };
}

/** The endpoint policy of a loaded configuration (see endpointPolicy.ts). */
export function endpointPolicyOf(config: Pick<Config, 'allowedHosts' | 'allowInsecureAuthority'>): EndpointPolicy {
  return { operatorHosts: config.allowedHosts, allowInsecure: config.allowInsecureAuthority };
}
