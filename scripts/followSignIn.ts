/**
 * Completes a user's one-time Microsoft sign-in without a browser: follows the redirects of the
 * sign-in link through the (simulated) authority back to exsync's callback, carrying cookies
 * the way a browser would (the callback checks the browser-binding cookie set at the start).
 * Works against the Entra simulator, whose authorize endpoint signs in a known `login_hint`
 * user without a form. Used by `npm run demo` and by tests.
 */
export interface SignInResult {
  /** HTTP status of the final page (200 on success) */
  status: number;
  /** the final page's HTML */
  page: string;
  /** every URL visited, in order */
  hops: string[];
}

export async function followSignIn(signInUrl: string, maxHops = 10): Promise<SignInResult> {
  const cookies = new Map<string, string>(); // by "host|name"
  const hops: string[] = [];
  let url = signInUrl;
  for (let i = 0; i < maxHops; i++) {
    hops.push(url);
    const target = new URL(url);
    const cookieHeader = [...cookies.entries()]
      .filter(([k]) => k.startsWith(`${target.host}|`))
      .map(([k, v]) => `${k.slice(k.indexOf('|') + 1)}=${v}`)
      .join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookieHeader ? { cookie: cookieHeader } : {} });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) cookies.set(`${target.host}|${pair.slice(0, eq).trim()}`, pair.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url).toString();
      continue;
    }
    return { status: res.status, page: await res.text(), hops };
  }
  throw new Error(`sign-in did not finish within ${maxHops} redirects: ${hops.join(' -> ')}`);
}
