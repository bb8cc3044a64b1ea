import * as ews from 'ews-javascript-api';
import { startSimulators } from '../../scripts/simulators';
import { entraAppToken, ewsService } from './support/ewsClient';
async function main() {
  const sims = await startSimulators();
  const token = await entraAppToken(sims.entraUrl, sims.tenantId, sims.applicationId, sims.clientSecret);
  const svc = ewsService(sims.ewsUrl, token, 'alice@contoso.example');
  const origXhr = svc.XHRApi;
  svc.XHRApi = { xhr: (o: any) => { if (/CreateItem|UpdateItem/.test(String(o.data))) console.log(String(o.data).replace(/.*<soap:Body>/s, '').slice(0, 5000)); return origXhr.xhr(o); }, type: 'x' } as any;
  const a = new ews.Appointment(svc);
  a.Subject = 'Anniv';
  a.StartTimeZone = ews.TimeZoneInfo.FindSystemTimeZoneById('New Zealand Standard Time');
  a.EndTimeZone = a.StartTimeZone;
  a.Start = ews.DateTime.Parse('2026-04-04T11:00:00Z');
  a.End = ews.DateTime.Parse('2026-04-05T11:00:00Z');
  a.IsAllDayEvent = true;
  const p = new (ews.Recurrence.YearlyPattern as any)(ews.DateTime.Parse('2026-04-05T00:00:00Z'), ews.Month.April, 5);
  a.Recurrence = p;
  await a.Save(ews.WellKnownFolderName.Calendar, ews.SendInvitationsMode.SendToNone);
  const j = sims.ews.store.readItem('alice@contoso.example', a.Id.UniqueId);
  console.log(j.fields.Start, j.fields.End, JSON.stringify(j.recurrence));
  await sims.close();
}
main();
