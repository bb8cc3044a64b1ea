import { AuthFailedError } from '../errors';
import { decodeJwtPayload } from './tokenClaims';

/**
 * A token minted for another directory would let one organisation act in another's mailboxes if a
 * setting were wrong or tampered with, so every token's `tid` must be the organisation's tenant.
 */
export function assertTokenTenant(accessToken: string, tenantId: string): void {
  const tid = decodeJwtPayload(accessToken)?.tid;
  if (typeof tid !== 'string' || tid.toLowerCase() !== tenantId.toLowerCase()) {
    throw new AuthFailedError('token-rejected', `Entra ID issued a token for tenant '${typeof tid === 'string' ? tid : '(none)'}', expected '${tenantId}'`, {
      code: 'tenant_mismatch',
    });
  }
}
