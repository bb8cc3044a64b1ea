import { randomBytes } from 'node:crypto';
import { ConfigError } from './configError';

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
  allowInsecureAuthority: boolean;
  /** `npm run start:worker` serves its sync metrics at http://HOST:<this>/metrics; null: not served */
  workerMetricsPort: number | null;
  logLevel: LogLevel;
  /** True when the secrets above were generated for this process only (demo/test mode). */
  ephemeralSecrets: boolean;
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
    allowInsecureAuthority: parseBoolean(env, 'EXSYNC_ALLOW_INSECURE_AUTHORITY', false),
    workerMetricsPort: value(env, 'EXSYNC_WORKER_METRICS_PORT') === undefined ? null : parseInteger(env, 'EXSYNC_WORKER_METRICS_PORT', 9464, 1, 65535),
    logLevel: logLevel as LogLevel,
    ephemeralSecrets,
  };
}
