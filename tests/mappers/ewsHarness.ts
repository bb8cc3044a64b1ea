/**
 * The EWS simulator with one mailbox, and a real ews-javascript-api service pointed at it over
 * HTTP (app-only token from a test issuer, impersonation + anchor header, UTC service zone).
 */
import { XhrApi } from '@ewsjs/xhr';
import * as ews from 'ews-javascript-api';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import { startTestIssuer, TEST_TENANT, type TestIssuer } from '../ews-sim/support/tokens';

export const MAILBOX = 'mapper.test@contoso.example';

export interface EwsHarness {
  sim: EwsSim;
  service: ews.ExchangeService;
  close(): Promise<void>;
}

export async function startEwsHarness(): Promise<EwsHarness> {
  const issuer: TestIssuer = await startTestIssuer();
  const sim = await startEwsSim({ jwksUrl: issuer.jwksUrl });
  sim.store.createMailbox({ email: MAILBOX, tenantId: TEST_TENANT });
  const token = await issuer.appToken();
  const service = new ews.ExchangeService(ews.ExchangeVersion.Exchange2016, ews.TimeZoneInfo.Utc);
  service.Url = new ews.Uri(sim.ewsUrl);
  service.XHRApi = new XhrApi({ timeout: 10_000, proxy: false }) as unknown as ews.IXHRApi;
  service.Credentials = new ews.OAuthCredentials(token);
  service.ImpersonatedUserId = new ews.ImpersonatedUserId(ews.ConnectingIdType.SmtpAddress, MAILBOX);
  service.HttpHeaders.Add('X-AnchorMailbox', MAILBOX);
  return {
    sim,
    service,
    close: async () => {
      await sim.close();
      await issuer.close();
    },
  };
}
