import { XhrApi } from '@ewsjs/xhr';
import { ConnectingIdType, ExchangeService, ExchangeVersion, ImpersonatedUserId, OAuthCredentials, TimeZoneInfo, Uri } from 'ews-javascript-api';

/** A plain ews-javascript-api service, the way exsync configures one, pointed at the simulator. */
export function ewsService(ewsUrl: string, token: string, impersonate?: string): ExchangeService {
  const service = new ExchangeService(ExchangeVersion.Exchange2016, TimeZoneInfo.Utc);
  service.Url = new Uri(ewsUrl);
  service.Credentials = new OAuthCredentials(token);
  service.XHRApi = new XhrApi({ timeout: 10_000, proxy: false } as never);
  if (impersonate) {
    service.ImpersonatedUserId = new ImpersonatedUserId(ConnectingIdType.SmtpAddress, impersonate);
    service.HttpHeaders.Add('X-AnchorMailbox', impersonate);
  }
  return service;
}

/** Client-credentials token from the Entra simulator for EWS. */
export async function entraAppToken(entraUrl: string, tenantId: string, clientId: string, clientSecret: string): Promise<string> {
  const res = await fetch(`${entraUrl}/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      scope: 'https://outlook.office365.com/.default',
    }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${body.error_description}`);
  return body.access_token;
}
