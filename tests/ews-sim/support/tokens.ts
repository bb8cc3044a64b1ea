import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export const TEST_TENANT = '7c1f1e32-5a0b-4c55-9d1e-2b8a4e6f0c11';
export const TEST_APP = '3f2d4b6a-8c1e-4f7a-9b2d-5e6c7a8b9d01';

/**
 * A stand-in token issuer for EWS simulator tests that need token shapes the Entra simulator will
 * not mint (wrong audience, missing roles, foreign signing key). Tokens follow Microsoft's v1 claims.
 */
export interface TestIssuer {
  jwksUrl: string;
  sign(claims: JWTPayload, opts?: { expiresInSeconds?: number; foreignKey?: boolean }): Promise<string>;
  appToken(over?: JWTPayload): Promise<string>;
  userToken(upn: string, over?: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', use: 'sig', alg: 'RS256' };
  const server: Server = createServer((req, res) => {
    if (req.url === '/common/discovery/v2.0/keys') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const sign = async (claims: JWTPayload, opts: { expiresInSeconds?: number; foreignKey?: boolean } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iat: now - 60, nbf: now - 60, exp: now + (opts.expiresInSeconds ?? 3600), ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'test-key' })
      .sign(opts.foreignKey ? foreign.privateKey : privateKey);
  };
  const base = (tid: string): JWTPayload => ({
    aud: 'https://outlook.office365.com',
    iss: `https://sts.windows.net/${tid}/`,
    tid,
    appid: TEST_APP,
    appidacr: '1',
    ver: '1.0',
  });
  return {
    jwksUrl: `http://127.0.0.1:${port}/common/discovery/v2.0/keys`,
    sign,
    appToken: (over = {}) => sign({ ...base(String(over.tid ?? TEST_TENANT)), roles: ['full_access_as_app'], ...over }),
    userToken: (upn, over = {}) => sign({ ...base(String(over.tid ?? TEST_TENANT)), scp: 'EWS.AccessAsUser.All', upn, unique_name: upn, ...over }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
