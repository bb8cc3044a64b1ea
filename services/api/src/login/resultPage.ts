/**
 * The small pages a person sees at the end of a Microsoft redirect. Plain words, one outcome each;
 * `data-outcome` on <main> lets tests and support tell them apart without parsing prose.
 */
export type SignInOutcome =
  | 'signed-in'
  | 'cancelled'
  | 'wrong-tenant'
  | 'other-account'
  | 'mailbox-taken'
  | 'state-expired'
  | 'state-replayed'
  | 'state-unknown'
  | 'other-browser'
  | 'link-invalid'
  | 'link-expired'
  | 'not-configured'
  | 'code-rejected'
  | 'organisation-problem'
  | 'microsoft-error'
  | 'consent-granted'
  | 'consent-denied'
  | 'consent-wrong-tenant'
  | 'consent-pending'
  | 'monitor-connected'
  | 'mfa-required'
  | 'consent-missing';

export interface ResultPage {
  status: number;
  html: string;
}

interface Wording {
  title: string;
  body: string;
}

function wording(outcome: SignInOutcome, d: Record<string, string>): Wording {
  switch (outcome) {
    case 'signed-in':
      return {
        title: 'You are connected',
        body:
          d.enabled === 'yes'
            ? `Your mailbox ${d.email} is now connected. Your calendar and contacts start syncing now; a first sync of a large mailbox can take a while, and your administrator can follow its progress. You can close this page.`
            : `Your mailbox ${d.email} is now connected. Syncing starts as soon as your administrator switches it on. You can close this page.`,
      };
    case 'cancelled':
      return {
        title: 'Sign-in cancelled',
        body: 'You cancelled the Microsoft sign-in, so nothing was connected. To connect your mailbox, open the sign-in link again and accept.',
      };
    case 'wrong-tenant':
      return {
        title: 'Wrong organisation',
        body: 'You signed in with an account from another Microsoft organisation than the one your administrator set up. Open the sign-in link again and use your work account, or ask your administrator to check the tenant id.',
      };
    case 'other-account':
      return {
        title: 'Another account was used',
        body: `You signed in as ${d.signedInAs}, but this link is for ${d.email}. Nothing was connected. Open the link again and sign in as ${d.email} (use "Use another account" on the Microsoft page).`,
      };
    case 'mailbox-taken':
      return {
        title: 'This mailbox is already connected to another user',
        body: `The mailbox ${d.email} is already connected to another user of your organisation in exsync, so nothing was connected: one mailbox cannot sync for two users. Ask your administrator to resolve it (one of the two users needs another email, or the old user must be removed), then open the sign-in link again.`,
      };
    case 'state-expired':
      return {
        title: 'This sign-in took too long',
        body: 'The sign-in expired after 10 minutes, so nothing was connected. Open the sign-in link again to start over.',
      };
    case 'state-replayed':
      return {
        title: 'This sign-in was already used',
        body: 'This sign-in response has already been used once and cannot be used again. If your mailbox is not connected yet, open the sign-in link again.',
      };
    case 'state-unknown':
      return {
        title: 'Unknown sign-in',
        body: 'We did not start this sign-in, so nothing was connected. Open the sign-in link your administrator sent you.',
      };
    case 'other-browser':
      return {
        title: 'Finish in the same browser',
        body: 'The sign-in has to finish in the browser where you opened the link. Open the sign-in link again in this browser.',
      };
    case 'link-invalid':
      return { title: 'This link is not valid', body: 'This sign-in link is damaged or not ours. Ask your administrator for a new one.' };
    case 'link-expired':
      return { title: 'This link has expired', body: 'This sign-in link has expired. Ask your administrator for a new one.' };
    case 'not-configured':
      return {
        title: 'Not set up yet',
        body: 'Your administrator has not finished setting up the connection to Microsoft. Ask them to save the Exchange settings, then open the link again.',
      };
    case 'code-rejected':
      return {
        title: 'Microsoft did not accept the sign-in',
        body: 'Microsoft rejected the sign-in when we tried to complete it, so nothing was connected. Open the sign-in link again. If it keeps failing, ask your administrator to run "Test connection".',
      };
    case 'organisation-problem':
      return {
        title: "Your organisation's connection to Microsoft needs a fix",
        body: `Nothing was connected: ${d.cause} Your administrator must fix this: ${d.fix} Then open the sign-in link again. (exsync code ${d.code})`,
      };
    case 'microsoft-error':
      return { title: 'Microsoft reported a problem', body: `Microsoft could not sign you in: ${d.error}. Nothing was connected.` };
    case 'consent-granted':
      return {
        title: 'Consent granted',
        body: 'Exchange access for exsync is granted for your organisation. You can close this page and return to the admin page.',
      };
    case 'consent-denied':
      return { title: 'Consent not granted', body: `Microsoft reports that consent was not granted: ${d.error}. Nothing was recorded as granted.` };
    case 'consent-pending':
      return {
        title: 'Consent not confirmed yet',
        body: 'Microsoft sent you back, but exsync could not yet confirm the permission with Microsoft, so nothing was recorded as granted. Microsoft can take a few minutes to apply a consent: run "Test connection" on the admin page in a little while.',
      };
    case 'monitor-connected':
      return {
        title: 'Mailbox connected',
        body: `The mailbox ${d.email} is now connected to the mailbox monitor: new messages will be read within a minute. You can close this page.`,
      };
    case 'mfa-required':
      return {
        title: 'Your account requires multi-factor authentication',
        body:
          'Microsoft answered that this account must use multi-factor authentication (AADSTS50076), which the mailbox monitor cannot do for IMAP and SMTP access. ' +
          'Nothing was connected. Ask your administrator to exempt this account from the MFA policy for this app (or to use a mailbox without one), then open the link again.',
      };
    case 'consent-missing':
      return {
        title: 'Consent is missing',
        body: `The app has not been granted access to this mailbox (${d.error}). Nothing was connected. Ask your administrator to grant consent for IMAP.AccessAsUser.All, SMTP.Send and User.Read, then open the link again.`,
      };
    case 'consent-wrong-tenant':
      return {
        title: 'Consent given in another organisation',
        body: 'Consent was given in another Microsoft organisation than the one configured in exsync. Check the tenant id in the settings and try again.',
      };
  }
}

const OK_OUTCOMES: SignInOutcome[] = ['signed-in', 'consent-granted', 'monitor-connected'];

export function resultPage(outcome: SignInOutcome, details: Record<string, string> = {}): ResultPage {
  const w = wording(outcome, details);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(w.title)} - exsync</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}h1{font-size:1.4rem}</style>
</head><body><main data-outcome="${outcome}"><h1>${escapeHtml(w.title)}</h1><p role="status">${escapeHtml(w.body)}</p></main></body></html>`;
  return { status: OK_OUTCOMES.includes(outcome) ? 200 : 400, html };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
