import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { ConfigError } from './configError';

/**
 * Which outbound endpoints an organisation's settings may point exsync at (issue 13, CONTRACT.md
 * `EXSYNC_ALLOWED_HOSTS`). One policy serves every endpoint field: the authority host, the EWS and
 * Graph URLs and host:port endpoints such as IMAP/SMTP. Two moments use it:
 * - when settings are saved: `checkEndpointUrl` / `checkHostPort` refuse a scheme or host the
 *   policy does not allow (an EndpointRefusedError naming the field; the API answers 400);
 * - when connecting: `policyLookup` resolves the host through the injectable resolver and refuses
 *   loopback, private, link-local and other non-public addresses unless the operator listed that
 *   host, so a DNS answer that changed since the save cannot turn an allowed name into an internal
 *   target. The connection is made to the address that was checked.
 */

export type EndpointKind = 'authority' | 'ews' | 'graph' | 'imap' | 'smtp';

/** Microsoft's own hosts per endpoint kind (CONTRACT.md), allowed on any port. */
export const MICROSOFT_HOSTS: Readonly<Record<EndpointKind, readonly string[]>> = {
  authority: ['login.microsoftonline.com', 'login.microsoftonline.us', 'login.partner.microsoftonline.cn'],
  ews: ['outlook.office365.com', 'smtp.office365.com'],
  imap: ['outlook.office365.com', 'smtp.office365.com'],
  smtp: ['outlook.office365.com', 'smtp.office365.com'],
  graph: ['graph.microsoft.com', 'graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn'],
};

/** An operator entry: a host on any port, or one host:port. Hosts are lower case, without a trailing dot. */
export interface HostEntry {
  host: string;
  port?: number;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (tests inject a table instead of DNS). */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

export interface EndpointPolicy {
  /** EXSYNC_ALLOWED_HOSTS: allowed for every endpoint kind, and allowed to resolve to private addresses */
  operatorHosts: readonly HostEntry[];
  /** EXSYNC_ALLOW_INSECURE_AUTHORITY: http:// URLs accepted (the simulators) */
  allowInsecure: boolean;
  /** defaults to the system resolver (dns.lookup with all: true) */
  resolve?: HostResolver;
}

/** Why an endpoint was refused; `field` is the settings field it came from. */
export class EndpointRefusedError extends Error {
  readonly code = 'EndpointNotAllowed';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'EndpointRefusedError';
  }
}

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower case, no trailing dot, IPv6 without brackets. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

function validHostName(host: string): boolean {
  if (isIP(host)) return true;
  return host.length <= 253 && host.split('.').every((l) => HOST_LABEL.test(l));
}

/**
 * Parses EXSYNC_ALLOWED_HOSTS: comma-separated `host` or `host:port` entries (IPv6 as `[::1]` or
 * `[::1]:8443`). Throws a ConfigError naming the variable for a malformed entry.
 */
export function parseAllowedHosts(raw: string | undefined, name = 'EXSYNC_ALLOWED_HOSTS'): HostEntry[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((entry) => {
      const bad = () =>
        new ConfigError(
          name,
          `${name} entry "${entry}" is malformed: set it to comma-separated host or host:port entries, e.g. mail.example.com,127.0.0.1:4100`,
        );
      let host = entry;
      let port: number | undefined;
      const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
      if (v6) {
        host = v6[1];
        port = v6[2] === undefined ? undefined : Number(v6[2]);
      } else if (entry.includes(':') && !isIP(entry)) {
        const at = entry.lastIndexOf(':');
        host = entry.slice(0, at);
        if (!/^\d{1,5}$/.test(entry.slice(at + 1))) throw bad();
        port = Number(entry.slice(at + 1));
      }
      host = normaliseHost(host);
      if (!validHostName(host) || (port !== undefined && (port < 1 || port > 65535))) throw bad();
      return port === undefined ? { host } : { host, port };
    });
}

/** The policy of this process's environment (EXSYNC_ALLOWED_HOSTS, EXSYNC_ALLOW_INSECURE_AUTHORITY). */
export function endpointPolicyFromEnv(env: Record<string, string | undefined> = process.env): EndpointPolicy {
  const insecure = (env.EXSYNC_ALLOW_INSECURE_AUTHORITY ?? '').trim().toLowerCase();
  return { operatorHosts: parseAllowedHosts(env.EXSYNC_ALLOWED_HOSTS), allowInsecure: ['true', '1', 'yes'].includes(insecure) };
}

function defaultPort(protocol: string): number {
  return protocol === 'http:' ? 80 : 443;
}

/** True when the operator listed this host (on any port, or on exactly this port). */
export function operatorAllows(policy: EndpointPolicy, host: string, port: number): boolean {
  const h = normaliseHost(host);
  return policy.operatorHosts.some((e) => e.host === h && (e.port === undefined || e.port === port));
}

/** True when the host is Microsoft's for this kind or the operator's. */
export function hostAllowed(policy: EndpointPolicy, kind: EndpointKind, host: string, port: number): boolean {
  return MICROSOFT_HOSTS[kind].includes(normaliseHost(host)) || operatorAllows(policy, host, port);
}

function notAllowedMessage(field: string, kind: EndpointKind, host: string): string {
  return (
    `${field} host "${host}" is not allowed: use one of Microsoft's hosts (${MICROSOFT_HOSTS[kind].join(', ')}) ` +
    'or ask the operator to add it to EXSYNC_ALLOWED_HOSTS'
  );
}

const BARE_HOST = /^[A-Za-z0-9.-]+(:\d+)?$/;

/**
 * Save-time check of a URL field (authorityHost, ewsUrl, graphUrl). A bare host means https. Only
 * https, or http when `allowInsecure`; no credentials, query or fragment; the host must be allowed
 * for `kind`. `bareOrigin` (the authority host) also refuses a path. Returns the URL without a
 * trailing slash. Throws EndpointRefusedError naming `field`.
 */
export function checkEndpointUrl(policy: EndpointPolicy, kind: EndpointKind, field: string, raw: string, opts: { bareOrigin?: boolean } = {}): string {
  const text = BARE_HOST.test(raw.trim()) ? `https://${raw.trim()}` : raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EndpointRefusedError(field, `${field} must be an absolute https URL`);
  }
  if (url.protocol === 'http:' && !policy.allowInsecure) {
    throw new EndpointRefusedError(field, `${field} must use https (http is accepted only when EXSYNC_ALLOW_INSECURE_AUTHORITY=true)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new EndpointRefusedError(field, `${field} must be an https URL`);
  if (url.username || url.password || url.search || url.hash) {
    throw new EndpointRefusedError(field, `${field} must not contain credentials, a query or a fragment`);
  }
  if (opts.bareOrigin && url.pathname.replace(/\/+$/, '') !== '') {
    throw new EndpointRefusedError(field, `${field} must be a bare origin such as https://login.microsoftonline.com`);
  }
  const port = url.port ? Number(url.port) : defaultPort(url.protocol);
  if (!hostAllowed(policy, kind, url.hostname, port)) throw new EndpointRefusedError(field, notAllowedMessage(field, kind, normaliseHost(url.hostname)));
  return url.toString().replace(/\/+$/, '');
}

/**
 * Save-time check of a `host:port` field (IMAP/SMTP). Returns `{host, port}` normalised; throws
 * EndpointRefusedError naming `field` for a malformed or disallowed value.
 */
export function checkHostPort(policy: EndpointPolicy, kind: EndpointKind, field: string, raw: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(raw.trim());
  const host = m ? normaliseHost(m[1]) : '';
  const port = m ? Number(m[2]) : 0;
  if (!m || !validHostName(host) || port < 1 || port > 65535)
    throw new EndpointRefusedError(field, `${field} must be host:port, e.g. outlook.office365.com:993`);
  if (!hostAllowed(policy, kind, host, port)) throw new EndpointRefusedError(field, notAllowedMessage(field, kind, host));
  return { host, port };
}

function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/**
 * True for every address that is not a public unicast address: unspecified, loopback, private
 * (RFC 1918, ULA fc00::/7), shared (100.64/10), link-local (169.254/16, fe80::/10, cloud metadata),
 * benchmarking, documentation, multicast and reserved ranges, and IPv4 mapped or translated in IPv6.
 */
export function isNonPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) {
    const [a, b, c] = ipv4Bytes(ip);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      a >= 224 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 192 && b === 0 && (c === 0 || c === 2)) ||
      (a === 198 && (b === 18 || b === 19)) ||
      (a === 198 && b === 51 && c === 100) ||
      (a === 203 && b === 0 && c === 113)
    );
  }
  if (family === 6) {
    const words = expandIpv6(ip.toLowerCase());
    const embedded = `${words[6] >> 8}.${words[6] & 255}.${words[7] >> 8}.${words[7] & 255}`;
    if (words.every((w) => w === 0) || (words.slice(0, 7).every((w) => w === 0) && words[7] === 1)) return true;
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): judged as the IPv4 address
    if (words.slice(0, 5).every((w) => w === 0) && (words[5] === 0xffff || words[5] === 0)) return isNonPublicAddress(embedded);
    const first = words[0];
    return (
      (first & 0xfe00) === 0xfc00 || // unique local
      (first & 0xffc0) === 0xfe80 || // link-local
      (first & 0xffc0) === 0xfec0 || // site-local (deprecated)
      (first & 0xff00) === 0xff00 || // multicast
      (first === 0x2001 && words[1] === 0x0db8) || // documentation
      (first === 0x0064 && words[1] === 0xff9b) || // NAT64: reaches an IPv4 address through a translator
      first === 0x0100 // discard prefix
    );
  }
  return true;
}

/** Eight 16-bit words; a trailing dotted quad becomes the last two. */
function expandIpv6(raw: string): number[] {
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(raw);
  const ip = quad ? raw.slice(0, quad.index) + `${((+quad[1] << 8) | +quad[2]).toString(16)}:${((+quad[3] << 8) | +quad[4]).toString(16)}` : raw;
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const parse = (s: string) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill(0);
  return [...h, ...fill, ...t];
}

const systemResolver: HostResolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })));
    });
  });

/**
 * Connect-time check: the host must still be allowed for `kind`, and unless the operator listed it,
 * every address it resolves to must be public. Returns the address to connect to (the first one
 * that passed). Throws EndpointRefusedError naming `field` (the caller maps it to its own typed error).
 */
export async function resolveForConnect(policy: EndpointPolicy, kind: EndpointKind, field: string, host: string, port: number): Promise<ResolvedAddress> {
  const h = normaliseHost(host);
  if (!hostAllowed(policy, kind, h, port)) throw new EndpointRefusedError(field, notAllowedMessage(field, kind, h));
  const operator = operatorAllows(policy, h, port);
  const literal = isIP(h);
  const addresses: ResolvedAddress[] = literal ? [{ address: h, family: literal === 6 ? 6 : 4 }] : await (policy.resolve ?? systemResolver)(h);
  if (addresses.length === 0) throw new EndpointRefusedError(field, `${field} host "${h}" has no address`);
  if (!operator) {
    const internal = addresses.find((a) => isNonPublicAddress(a.address));
    if (internal) {
      throw new EndpointRefusedError(
        field,
        `${field} host "${h}" resolves to a loopback, private or link-local address; only hosts the operator lists in EXSYNC_ALLOWED_HOSTS may`,
      );
    }
  }
  return addresses[0];
}

/** The `lookup` option of http(s).request / net.connect, answering only with addresses the policy allows. */
export type PolicyLookup = (
  hostname: string,
  options: { all?: boolean },
  callback: (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void,
) => void;

/**
 * A `lookup` for Node's http/https/net that applies `resolveForConnect`, so the socket connects to
 * exactly the address that was checked (no second DNS answer in between). Node skips `lookup` for IP
 * literals: callers check those with `resolveForConnect` before connecting (see guardedRequestOptions).
 */
export function policyLookup(policy: EndpointPolicy, kind: EndpointKind, field: string, port: number): PolicyLookup {
  return (hostname, options, callback) => {
    resolveForConnect(policy, kind, field, hostname, port).then(
      (a) => (options?.all ? callback(null, [{ address: a.address, family: a.family }]) : callback(null, a.address, a.family)),
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 4),
    );
  };
}
