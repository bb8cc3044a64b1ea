import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack, type StackUser } from '../support/stack';

let stack: Stack;
let user: StackUser;
beforeAll(async () => {
  stack = await startStack();
  user = await stack.addUser();
  await stack.waitForRunAfter(user, new Date(0)); // the first sync, queued by the scheduler
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const appointment = {
  subject: 'Quarterly review',
  body: 'Bring the numbers',
  location: 'Room 4',
  start: '2026-12-01T09:00:00Z',
  end: '2026-12-01T10:00:00Z',
  timeZone: 'Europe/Berlin',
  isAllDay: false,
};
const contact = {
  givenName: 'Dana',
  surname: 'Scully',
  displayName: 'Dana Scully',
  companyName: 'Fabrikam',
  emails: [{ address: 'dana@fabrikam.example' }],
  phones: { business: '+1 555 0100' },
  addresses: {},
};

function folder(kind: 'calendar' | 'contacts') {
  return stack.ews.store.readFolder(user.email, kind);
}

describe('CRM writes reach the Exchange mailbox through the worker', () => {
  it('creates, updates and deletes an appointment and a contact', async () => {
    const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
    expect((await stack.api('PUT', `${base}/appointments/apt-1`, appointment)).status).toBe(201);
    expect((await stack.api('PUT', `${base}/contacts/c-1`, contact)).status).toBe(201);
    let status = await stack.syncNow(user);
    expect(status.state).toBe('healthy');
    expect(status.counts.toExchange.created).toBe(2);

    const apt = folder('calendar');
    expect(apt).toHaveLength(1);
    expect(apt[0].fields).toMatchObject({ Subject: 'Quarterly review', Location: 'Room 4' });
    const con = folder('contacts');
    expect(con).toHaveLength(1);
    expect(JSON.stringify(con[0].fields)).toContain('dana@fabrikam.example');

    expect((await stack.api('PUT', `${base}/appointments/apt-1`, { ...appointment, subject: 'Quarterly review (moved)' })).status).toBe(200);
    expect((await stack.api('PUT', `${base}/contacts/c-1`, { ...contact, jobTitle: 'Agent' })).status).toBe(200);
    status = await stack.syncNow(user);
    expect(status.counts.toExchange.updated).toBe(2);
    expect(folder('calendar')[0].fields).toMatchObject({ Subject: 'Quarterly review (moved)' });
    expect(folder('contacts')[0].fields).toMatchObject({ JobTitle: 'Agent' });

    expect((await stack.api('DELETE', `${base}/appointments/apt-1`)).status).toBe(200);
    expect((await stack.api('DELETE', `${base}/contacts/c-1`)).status).toBe(200);
    status = await stack.syncNow(user);
    expect(status.counts.toExchange.deleted).toBe(2);
    expect(folder('calendar')).toHaveLength(0);
    expect(folder('contacts')).toHaveLength(0);
  });
});
