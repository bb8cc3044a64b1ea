/**
 * CRM items API (CONTRACT.md): the CRM creates, replaces, deletes and reads appointments and
 * contacts per user. Every write bumps the item's version and marks it CRM-made, so the engine
 * pushes it to the user's mailbox; items Exchange created are listed with engine-minted crm ids.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import {
  InvalidEmailError,
  keepEmailSlots,
  parseEmails,
  parseInstant,
  type Appointment,
  type Contact,
  type EmailInput,
  type ItemKind,
} from '@exsync/canonical';
import { findWindowsZone } from '@exsync/calendar';
import { getCrmItem, getMailboxByUser, getUser, listCrmItems, putCrmItem, tombstoneCrmItem, type CrmItemRow } from '@exsync/db';
import { requestSyncSoon } from '../requestSyncSoon';
import { assertOrgAccess } from '../auth';
import { badRequest, notFound } from '../httpError';
import { errorResponses, guid } from '../schemas';
import { appointmentInput, appointmentOutput, contactSchema } from '../schemas/canonical';

const crmIdSchema = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^/\\s]+$', description: "The CRM's own id for the item" } as const;

const itemParams = {
  type: 'object',
  properties: { orgId: guid, userId: guid, crmId: crmIdSchema },
  required: ['orgId', 'userId', 'crmId'],
  additionalProperties: false,
} as const;

const userParams = {
  type: 'object',
  properties: { orgId: guid, userId: guid },
  required: ['orgId', 'userId'],
  additionalProperties: false,
} as const;

const listQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    after: { ...crmIdSchema, description: 'The last crmId of the previous page' },
  },
  additionalProperties: false,
} as const;

function envelope(item: object) {
  return {
    type: 'object',
    properties: {
      crmId: { type: 'string' },
      version: { type: 'integer' },
      origin: { type: 'string', enum: ['crm', 'exchange'], description: 'Who made the last write' },
      updatedAt: { type: 'string', format: 'date-time' },
      item,
    },
    required: ['crmId', 'version', 'item'],
  } as const;
}

interface KindRoutes {
  kind: ItemKind;
  path: 'appointments' | 'contacts';
  input: object;
  output: object;
  tag: string;
  label: string;
}

const KINDS: KindRoutes[] = [
  { kind: 'appointment', path: 'appointments', input: appointmentInput, output: appointmentOutput, tag: 'appointments', label: 'appointment' },
  { kind: 'contact', path: 'contacts', input: contactSchema, output: contactSchema, tag: 'contacts', label: 'contact' },
];

function present(row: CrmItemRow) {
  return { crmId: row.crmId, version: row.version, origin: row.origin, updatedAt: row.updatedAt, item: row.data };
}

/**
 * Checks what JSON schema cannot say, and brings contact emails to their canonical entries
 * (`"Jane Doe <jane@x.test>"` -> `{name, address}`; an address the stored item already has keeps
 * its slot and display name, see keepEmailSlots); a bad entry is a 400 naming it.
 */
function checkItem(kind: ItemKind, item: Appointment | Contact, stored: CrmItemRow | null): void {
  if (kind === 'contact') {
    const c = item as Contact;
    const previous = stored && !stored.deleted ? (stored.data as Contact | null)?.emails : undefined;
    try {
      c.emails = keepEmailSlots(parseEmails(c.emails as EmailInput[]), previous);
    } catch (e) {
      if (e instanceof InvalidEmailError) throw badRequest(`body field "emails.${e.index}" ${e.message}`, `emails.${e.index}`);
      throw e;
    }
    return;
  }
  const a = item as Appointment;
  if ((parseInstant(a.end) ?? 0) < (parseInstant(a.start) ?? 0)) throw badRequest('body field "end" must not be before "start"', 'end');
  // Exchange speaks Windows zones: a zone with none could be stored but never synced.
  if (!findWindowsZone(a.timeZone)) {
    throw badRequest(`body field "timeZone" is not an IANA time zone Exchange knows (no Windows time zone): ${a.timeZone}`, 'timeZone');
  }
}

async function requireUser(app: FastifyInstance, orgId: string, userId: string): Promise<void> {
  if (!(await getUser(app.deps.pool, orgId, userId))) throw notFound('user not found');
}

/** A CRM write wants the mailbox synced soon; the scheduler would find it anyway, so failure only delays. */
async function nudgeSync(app: FastifyInstance, orgId: string, userId: string): Promise<void> {
  if (!app.deps.enqueueSync) return;
  const mailbox = await getMailboxByUser(app.deps.pool, orgId, userId);
  if (!mailbox || !mailbox.status.enabled) return;
  await requestSyncSoon(app.deps.enqueueSync, app.log, mailbox.id, 'crm-change');
}

export const crmItemRoutes: FastifyPluginAsync = async (app) => {
  const { pool } = app.deps;

  for (const k of KINDS) {
    const base = `/v1/orgs/:orgId/users/:userId/${k.path}`;

    app.put<{ Params: { orgId: string; userId: string; crmId: string }; Body: Appointment | Contact }>(
      `${base}/:crmId`,
      {
        schema: {
          tags: [k.tag],
          summary: `Create or replace a CRM ${k.label}`,
          description: `Stores the ${k.label} under the CRM's id and bumps its version; 201 when it was created (or re-created after a delete), 200 when replaced. The user's mailbox is synced soon after.`,
          params: itemParams,
          body: k.input,
          response: { 200: envelope(k.output), 201: envelope(k.output), ...errorResponses(400, 404) },
        },
      },
      async (request, reply) => {
        const { orgId, userId, crmId } = request.params;
        assertOrgAccess(request, orgId);
        await requireUser(app, orgId, userId);
        const before = await getCrmItem(pool, userId, k.kind, crmId);
        checkItem(k.kind, request.body, before);
        const { row } = await putCrmItem(pool, { orgId, userId, kind: k.kind, crmId, data: request.body, origin: 'crm' });
        await nudgeSync(app, orgId, userId);
        return reply.code(!before || before.deleted ? 201 : 200).send(present(row));
      },
    );

    app.delete<{ Params: { orgId: string; userId: string; crmId: string } }>(
      `${base}/:crmId`,
      {
        schema: {
          tags: [k.tag],
          summary: `Delete a CRM ${k.label}`,
          description: 'Leaves a tombstone so the delete reaches Exchange; 404 when there is no such live item.',
          params: itemParams,
          response: {
            200: {
              type: 'object',
              properties: { crmId: { type: 'string' }, version: { type: 'integer' }, deleted: { type: 'boolean' } },
              required: ['crmId', 'version', 'deleted'],
            },
            ...errorResponses(400, 404),
          },
        },
      },
      async (request) => {
        const { orgId, userId, crmId } = request.params;
        assertOrgAccess(request, orgId);
        await requireUser(app, orgId, userId);
        const row = await tombstoneCrmItem(pool, { userId, kind: k.kind, crmId, origin: 'crm' });
        if (!row) throw notFound(`${k.label} not found`);
        await nudgeSync(app, orgId, userId);
        return { crmId: row.crmId, version: row.version, deleted: true };
      },
    );

    app.get<{ Params: { orgId: string; userId: string; crmId: string } }>(
      `${base}/:crmId`,
      {
        schema: {
          tags: [k.tag],
          summary: `Read one ${k.label} as the engine holds it`,
          params: itemParams,
          response: { 200: envelope(k.output), ...errorResponses(400, 404) },
        },
      },
      async (request) => {
        const { orgId, userId, crmId } = request.params;
        assertOrgAccess(request, orgId);
        await requireUser(app, orgId, userId);
        const row = await getCrmItem(pool, userId, k.kind, crmId);
        if (!row || row.deleted || row.orgId !== orgId) throw notFound(`${k.label} not found`);
        return present(row);
      },
    );

    app.get<{ Params: { orgId: string; userId: string }; Querystring: { limit: number; after?: string } }>(
      base,
      {
        schema: {
          tags: [k.tag],
          summary: `List the user's ${k.path}, Exchange-originated ones included`,
          description: 'Ordered by crmId; pass the last crmId as `after` for the next page. `next` is null on the last page.',
          params: userParams,
          querystring: listQuery,
          response: {
            200: {
              type: 'object',
              properties: { items: { type: 'array', items: envelope(k.output) }, next: { type: 'string', nullable: true } },
              required: ['items', 'next'],
            },
            ...errorResponses(400, 404),
          },
        },
      },
      async (request) => {
        const { orgId, userId } = request.params;
        assertOrgAccess(request, orgId);
        await requireUser(app, orgId, userId);
        const { limit, after } = request.query;
        const rows = await listCrmItems(pool, userId, k.kind, { afterCrmId: after, limit });
        return { items: rows.map(present), next: rows.length === limit ? rows[rows.length - 1].crmId : null };
      },
    );
  }
};
