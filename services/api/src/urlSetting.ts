import { badRequest } from './httpError';

const BARE_HOST = /^[A-Za-z0-9.-]+(:\d+)?$/;

/**
 * Normalises an authorityHost/ewsUrl setting: a bare host name means https; only https is accepted
 * unless EXSYNC_ALLOW_INSECURE_AUTHORITY is on (the simulators speak http); no credentials, query
 * or fragment; no trailing slash.
 */
export function normaliseEndpointUrl(raw: string, field: string, allowInsecure: boolean): string {
  const text = BARE_HOST.test(raw) ? `https://${raw}` : raw;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest(`body field "${field}" must be an absolute URL`, field);
  }
  if (url.protocol === 'http:' && !allowInsecure) {
    throw badRequest(`body field "${field}" must use https (http is accepted only when EXSYNC_ALLOW_INSECURE_AUTHORITY=true)`, field);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badRequest(`body field "${field}" must be an https URL`, field);
  if (url.username || url.password || url.search || url.hash) {
    throw badRequest(`body field "${field}" must not contain credentials, a query or a fragment`, field);
  }
  return url.toString().replace(/\/+$/, '');
}
