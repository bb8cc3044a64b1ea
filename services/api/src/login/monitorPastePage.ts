import { escapeHtml } from './resultPage';

/**
 * The page for a public client registered only with the native-client/localhost redirect URIs:
 * step 1 opens Microsoft's sign-in; Microsoft then shows a blank page whose address carries the
 * code; step 2 takes that address back (posted to /oauth/monitor/paste with the state).
 */
export function monitorPastePage(input: { email: string; authorizeUrl: string; state: string; error?: string }): string {
  const err = input.error ? `<p role="alert">${escapeHtml(input.error)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect ${escapeHtml(input.email)} - exsync</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}h1{font-size:1.4rem}input[type=text]{width:100%;box-sizing:border-box;padding:.4rem}</style>
</head><body><main data-outcome="paste-address"><h1>Connect the mailbox ${escapeHtml(input.email)}</h1>${err}
<ol>
<li><a href="${escapeHtml(input.authorizeUrl)}" target="_blank" rel="noopener noreferrer">Sign in with Microsoft as ${escapeHtml(input.email)}</a> (opens a new tab).</li>
<li>After the sign-in Microsoft shows an empty page. Copy the whole address from that tab's address bar and paste it here:</li>
</ol>
<form method="post" action="/oauth/monitor/paste">
<input type="hidden" name="state" value="${escapeHtml(input.state)}">
<label for="address">Address of the empty page</label>
<input type="text" id="address" name="address" required autocomplete="off" spellcheck="false">
<p><button type="submit">Connect</button></p>
</form></main></body></html>`;
}
