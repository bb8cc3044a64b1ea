/** The answer pages of the browser-facing sign-in routes, and Microsoft's error text as they show it. */
import type { FastifyReply } from 'fastify';
import { resultPage, type SignInOutcome } from './resultPage';

export type { SignInOutcome };

/** Answers `outcome`'s page: never cached, never framed, no script. */
export function sendPage(reply: FastifyReply, outcome: SignInOutcome, details?: Record<string, string>): FastifyReply {
  const page = resultPage(outcome, details);
  return reply
    .code(page.status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .send(page.html);
}

/** Microsoft's error_description starts with "AADSTSnnn: sentence" and then trace ids; keep the sentence. */
export function microsoftErrorText(error: string, description: string | undefined): string {
  const first = (description ?? '').split(/\r?\n| Trace ID:/)[0].trim();
  return first ? first : error;
}
