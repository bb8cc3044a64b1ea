/**
 * The mail endpoint policy: which `host:port` an organisation may point its IMAP or SMTP settings
 * at. It is the service's one endpoint policy (@exsync/config endpointPolicy: Microsoft's hosts plus
 * the operator's EXSYNC_ALLOWED_HOSTS), applied to the `imap` and `smtp` kinds, with errors
 * carrying the settings field they came from.
 */
import { checkHostPort, EndpointRefusedError, resolveForConnect, type EndpointPolicy } from '@exsync/config';

/** Exchange Online's IMAP and SMTP AUTH endpoints (Microsoft Learn, "POP, IMAP, and SMTP settings"). */
export const DEFAULT_IMAP_HOST = 'outlook.office365.com:993';
export const DEFAULT_SMTP_HOST = 'smtp.office365.com:587';

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

function kindOf(field: string): 'imap' | 'smtp' {
  return field.toLowerCase().startsWith('smtp') ? 'smtp' : 'imap';
}

/**
 * Save-time check of `host:port` (port 1-65535; IPv6 in brackets): Microsoft's mail hosts, or one
 * the operator lists. Throws MailHostError naming `field`.
 */
export function checkMailHost(value: string, field: string, policy: EndpointPolicy): MailHost {
  try {
    return checkHostPort(policy, kindOf(field), field, value);
  } catch (e) {
    if (e instanceof EndpointRefusedError) throw new MailHostError(field, e.message);
    throw e;
  }
}

/**
 * Connect-time check: the host is still allowed, and unless the operator listed it, it resolves to
 * public addresses only (no loopback, private or link-local target). Throws MailHostError naming `field`.
 */
export async function checkMailHostForConnect(host: MailHost, field: string, policy: EndpointPolicy): Promise<void> {
  try {
    await resolveForConnect(policy, kindOf(field), field, host.host, host.port);
  } catch (e) {
    if (e instanceof EndpointRefusedError) throw new MailHostError(field, e.message);
    throw e;
  }
}

/** Implicit TLS on 993/465; anything else starts in plaintext (STARTTLS required unless insecure endpoints are allowed). */
export function usesImplicitTls(port: number): boolean {
  return port === 993 || port === 465;
}
