/**
 * A separate worker process for the shared-cache test: gets the org's app token through its own
 * AppTokenProvider and the shared Redis cache, prints a hash of the token, exits.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
// Only the auth modules: the package index also loads ews-javascript-api, which this process does not need.
import { AppTokenProvider } from '../../packages/ews-client/src/auth/appTokenProvider';
import { RedisTokenCache } from '../../packages/ews-client/src/auth/redisTokenCache';
import { sealingWith } from './testSealing';

function main(): void {
  const env = (k: string): string => {
    const v = process.env[k];
    if (!v) throw new Error(`missing ${k}`);
    return v;
  };
  const redis = new Redis(env('REDIS_URL'));
  const provider = new AppTokenProvider({
    allowInsecureAuthority: true,
    cache: new RedisTokenCache({ redis, prefix: env('CACHE_PREFIX'), ...sealingWith(Buffer.from(env('CACHE_KEY_HEX'), 'hex')) }),
  });
  provider
    .getToken({
      authorityHost: env('AUTHORITY_HOST'),
      tenantId: env('TENANT_ID'),
      applicationId: env('APPLICATION_ID'),
      clientSecret: env('CLIENT_SECRET'),
    })
    .then((token) => {
      process.stdout.write(`${createHash('sha256').update(token).digest('hex')}\n`);
    })
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    })
    .finally(() => {
      redis.disconnect();
      // fetch keeps the connection to the token endpoint alive for seconds; nothing else is pending.
      process.exit();
    });
}

main();
