/**
 * The mail endpoint policy: which `host:port` an organisation may point its IMAP or SMTP settings
 * at. One function on purpose, so the operator-wide EXSYNC_ALLOWED_HOSTS policy can replace it.
 */

/** Exchange Online's IMAP and SMTP AUTH endpoints (Microsoft Learn, "POP, IMAP, and SMTP settings"). */
export const DEFAULT_IMAP_HOST = 'outlook.office365.com:993';
export const DEFAULT_SMTP_HOST = 'smtp.office365.com:587';
const MICROSOFT_MAIL_HOSTS = ['outlook.office365.com', 'smtp.office365.com'];

export interface MailHost {
  host: string;
  port: number;
}

export class MailHostError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'MailHostError';
  }
}

/** Parses `host:port` (port 1-65535; IPv6 in brackets); throws MailHostError naming `field`. */
export function parseMailHost(value: string, field: string): MailHost {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new MailHostError(field, `${field} must be host:port, e.g. ${field === 'smtpHost' ? DEFAULT_SMTP_HOST : DEFAULT_IMAP_HOST}`);
  return { host: m[1].replace(/^\[|\]$/g, '').toLowerCase(), port };
}

/**
 * Accepts Microsoft's own mail hosts, and any host:port the operator lists in `allowedHosts`
 * (`host` allows every port); loopback hosts only when insecure endpoints are allowed (the
 * simulators). Throws MailHostError naming `field` for anything else.
 */
export function checkMailHost(value: string, field: string, policy: { allowedHosts: string[]; allowInsecure: boolean }): MailHost {
  const parsed = parseMailHost(value, field);
  if (MICROSOFT_MAIL_HOSTS.includes(parsed.host)) return parsed;
  const listed = policy.allowedHosts.some((entry) => {
    const e = entry.trim().toLowerCase();
    return e === parsed.host || e === `${parsed.host}:${parsed.port}`;
  });
  if (listed) return parsed;
  if (policy.allowInsecure && isLoopback(parsed.host)) return parsed;
  throw new MailHostError(field, `${field} ${parsed.host}:${parsed.port} is not an allowed mail host (Microsoft's, or one the operator lists in EXSYNC_ALLOWED_HOSTS)`);
}

/** Implicit TLS on 993/465; anything else starts in plaintext (STARTTLS required unless insecure endpoints are allowed). */
export function usesImplicitTls(port: number): boolean {
  return port === 993 || port === 465;
}

/**
 * The policy from the configuration: insecure (loopback) endpoints with EXSYNC_ALLOW_INSECURE_AUTHORITY,
 * and the operator's EXSYNC_ALLOWED_HOSTS (from `config.allowedHosts` when the config parses it).
 */
export function mailHostPolicy(config: { allowInsecureAuthority: boolean; allowedHosts?: string[] }): { allowedHosts: string[]; allowInsecure: boolean } {
  const allowedHosts = Array.isArray(config.allowedHosts)
    ? config.allowedHosts
    : (process.env.EXSYNC_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  return { allowedHosts, allowInsecure: config.allowInsecureAuthority };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
