import type { AccountInfo, ConfidentialClientApplication } from '@azure/msal-node';

/**
 * MSAL keeps the refresh token it receives inside its cache and never returns it; exsync stores
 * refresh tokens itself (encrypted, per user), so it reads the account's refresh token back out and
 * then drops the account from the process cache.
 */
export async function takeRefreshToken(client: ConfidentialClientApplication, account: AccountInfo | null): Promise<string | undefined> {
  if (!account) return undefined;
  const cache = client.getTokenCache();
  let secret: string | undefined;
  try {
    const parsed = JSON.parse(cache.serialize()) as {
      RefreshToken?: Record<string, { home_account_id?: string; secret?: string }>;
    };
    for (const rt of Object.values(parsed.RefreshToken ?? {})) {
      if (rt.home_account_id === account.homeAccountId && rt.secret) secret = rt.secret;
    }
  } finally {
    await cache.removeAccount(account);
  }
  return secret;
}
