import { startSimulators, type Simulators } from '../../../scripts/simulators';
import { envelope, post } from '../../support/soap';
import { clientCredentialsToken } from '../../support/sims';

/** Client-credentials token from the Entra simulator for a resource (`https://graph.microsoft.com`). */
export function appToken(sims: Simulators, resource: string, clientId = sims.applicationId, secret = sims.clientSecret): Promise<string> {
  return clientCredentialsToken(sims.entraUrl, sims.tenantId, clientId, secret, resource);
}

export interface GraphAnswer {
  status: number;
  headers: Headers;
  json: any;
}

/** One hand-written Graph request: `path` is after /v1.0 (or a full link the simulator gave). */
export async function graph(
  sims: Simulators,
  token: string | undefined,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; base?: string } = {},
): Promise<GraphAnswer> {
  const url = path.startsWith('http') ? path : `${opts.base ?? sims.graphUrl}${path}`;
  const res = await fetch(url, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

/** Follows a delta round from its first link to the deltaLink; returns every item and the deltaLink. */
export async function deltaRound(
  sims: Simulators,
  token: string,
  first: string,
  headers: Record<string, string> = {},
): Promise<{ items: any[]; deltaLink: string; pages: number }> {
  const items: any[] = [];
  let link = first;
  let pages = 0;
  for (;;) {
    const r = await graph(sims, token, 'GET', link, { headers });
    if (r.status !== 200) throw new Error(`delta page answered ${r.status}: ${JSON.stringify(r.json)}`);
    pages++;
    items.push(...r.json.value);
    if (r.json['@odata.deltaLink']) return { items, deltaLink: r.json['@odata.deltaLink'], pages };
    link = r.json['@odata.nextLink'];
  }
}

/** A SOAP call to the EWS simulator as the app, impersonating a mailbox. */
export async function ews(sims: Simulators, token: string, mailbox: string, body: string): Promise<{ status: number; text: string; headers: Headers }> {
  return post(sims.ewsUrl, envelope(body, { impersonate: mailbox }), token);
}

export function ewsItemId(xml: string): { id: string; changeKey: string } {
  const m = /<t:ItemId Id="([^"]+)" ChangeKey="([^"]+)"/.exec(xml);
  if (!m) throw new Error(`no ItemId in ${xml.slice(0, 400)}`);
  return { id: m[1], changeKey: m[2] };
}

export { startSimulators, type Simulators };
