import { userInfo } from 'node:os';

/**
 * `url` with libpq's default user filled in: when the URL names no user and `PGUSER` is unset, the
 * operating-system account running the process (libpq asks the password database, not `$USER`,
 * which a container or a cron job may lack; node-postgres only reads `$USER`). Any URL that names
 * a user, and any URL that does not parse, comes back unchanged.
 * Source: PostgreSQL docs, "Connection Strings" / "Parameter Key Words" (user defaults to the
 * operating system name of the user running the application).
 */
export function withDefaultDatabaseUser(url: string, env: Record<string, string | undefined> = process.env): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.username || env.PGUSER) return url;
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    return url; // no password-database entry: leave it to the driver's own error
  }
  if (!name) return url;
  parsed.username = encodeURIComponent(name);
  return parsed.toString();
}
