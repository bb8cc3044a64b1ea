import {
  BatchRequestContent,
  BatchResponseContent,
  Client,
  GraphError,
  HTTPMessageHandler,
  RetryHandler,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appToken, startSimulators, type Simulators } from './support/graph';

/**
 * A second, independent client: Microsoft's own @microsoft/microsoft-graph-client (3.0.7), unchanged,
 * pointed at the simulator through its documented extension points: `baseUrl`, and a middleware chain
 * (its RetryHandler and HTTPMessageHandler behind a bearer middleware, because the SDK's
 * AuthenticationHandler only signs https Graph or custom hosts, and the simulator listens on http).
 * For the same reason the SDK parses absolute links only when they are https, so the simulator's http
 * links are passed to `api()` relative to the base.
 */
const DAVE = 'dave@contoso.example';

let sims: Simulators;
let client: Client;

/** The middleware chain: sign each request, then the SDK's own retry and HTTP handlers. */
function bearer(token: string): Middleware {
  const retry = new RetryHandler();
  retry.setNext(new HTTPMessageHandler());
  return {
    async execute(context: Context) {
      if (context.request instanceof Request) context.request.headers.set('Authorization', `Bearer ${token}`);
      else context.options = { ...context.options, headers: { ...(context.options?.headers as Record<string, string>), Authorization: `Bearer ${token}` } };
      await retry.execute(context);
    },
  };
}

function relative(link: string): string {
  return link.slice(sims.graphUrl.length);
}

beforeAll(async () => {
  sims = await startSimulators();
  sims.ews.store.createMailbox({ email: DAVE, tenantId: sims.tenantId, displayName: 'Dave' });
  sims.ews.store.seed(DAVE, { calendarItems: 12, contacts: 0, startDate: '2026-04-06T00:00:00Z', recurringEvery: 6 });
  const token = await appToken(sims, 'https://graph.microsoft.com');
  client = Client.initWithMiddleware({ baseUrl: `${sims.graph.url}/`, defaultVersion: 'v1.0', middleware: bearer(token) });
});

afterAll(async () => {
  await sims?.close();
});

describe('@microsoft/microsoft-graph-client against the simulator', () => {
  it('runs a calendarView delta round, a create, a conditional update and a $batch', async () => {
    // Delta round: pages of nextLink to a deltaLink.
    let page = await client
      .api(`/users/${DAVE}/calendarView/delta`)
      .query({ startDateTime: '2026-04-01T00:00:00Z', endDateTime: '2026-05-01T00:00:00Z' })
      .header('Prefer', 'odata.maxpagesize=5')
      .get();
    const seen: any[] = [...page.value];
    let pages = 1;
    while (page['@odata.nextLink']) {
      page = await client.api(relative(page['@odata.nextLink'])).header('Prefer', 'odata.maxpagesize=5').get();
      seen.push(...page.value);
      pages++;
    }
    expect(pages).toBeGreaterThan(2);
    expect(page['@odata.deltaLink']).toBeTruthy();
    expect(seen.some((e) => e.type === 'seriesMaster')).toBe(false);
    expect(seen.some((e) => e.type === 'occurrence')).toBe(true);
    expect(seen.some((e) => e.type === 'exception')).toBe(true);

    // Create.
    const created = await client.api(`/users/${DAVE}/calendar/events`).post({
      subject: 'From the SDK',
      start: { dateTime: '2026-04-20T10:00:00', timeZone: 'Eastern Standard Time' },
      end: { dateTime: '2026-04-20T11:00:00', timeZone: 'Eastern Standard Time' },
      transactionId: 'sdk-1',
    });
    expect(created.start).toEqual({ dateTime: '2026-04-20T14:00:00.0000000', timeZone: 'UTC' });

    // The next round reports it.
    const next = await client.api(relative(page['@odata.deltaLink'])).get();
    expect(next.value.map((e: any) => e.id)).toContain(created.id);

    // Conditional update: the current etag wins, a stale one is a 412 the SDK surfaces as a GraphError.
    const updated = await client
      .api(`/users/${DAVE}/events/${created.id}`)
      .header('If-Match', created['@odata.etag'])
      .patch({ subject: 'From the SDK (edited)' });
    expect(updated.subject).toBe('From the SDK (edited)');
    const stale = await client
      .api(`/users/${DAVE}/events/${created.id}`)
      .header('If-Match', created['@odata.etag'])
      .patch({ subject: 'lost' })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(GraphError);
    expect((stale as GraphError).statusCode).toBe(412);
    expect((stale as GraphError).code).toBe('ErrorIrresolvableConflict');

    // $batch built with the SDK's BatchRequestContent, with a dependency.
    const base = `${sims.graphUrl}/users/${DAVE}`;
    const batch = new BatchRequestContent([
      { id: '1', request: new Request(`${base}/events/${created.id}`, { method: 'GET' }) },
      {
        id: '2',
        request: new Request(`${base}/events/${created.id}`, {
          method: 'PATCH',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ location: { displayName: 'Batch room' } }),
        }),
        dependsOn: ['1'],
      },
      { id: '3', request: new Request(`${base}/contactFolders`, { method: 'GET' }), dependsOn: ['1'] },
    ]);
    const raw = await client.api('/$batch').post(await batch.getContent());
    const answers = new BatchResponseContent(raw);
    expect(answers.getResponseById('1').status).toBe(200);
    expect(answers.getResponseById('2').status).toBe(200);
    expect(((await answers.getResponseById('2').json()) as any).location.displayName).toBe('Batch room');
    expect(((await answers.getResponseById('3').json()) as any).value[0].displayName).toBe('Contacts');
  });
});
