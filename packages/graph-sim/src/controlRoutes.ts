import { HttpJsonError, type ControlRoute } from '@exsync/ews-sim';
import type { GraphState } from './state';

function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpJsonError(400, 'body must be a JSON object');
  return v as Record<string, unknown>;
}

/**
 * What the Graph side adds to the shared control API under /_sim/ (documented in the README):
 * - `PUT /_sim/tenants/:tenantId/graph-scope {"mailboxes": [...] | null, "appId"?}`: the mailboxes an
 *   app (or every app) may reach with app-only tokens, standing in for RBAC for Applications;
 *   `GET` reads it.
 * - `DELETE /_sim/mailboxes/:email/graph-delta-tokens`: expires the mailbox's delta tokens (410 next).
 * - `GET /_sim/meeting-messages[?mailbox=]`, `DELETE /_sim/meeting-messages`: invitations and cancellations.
 * - `PUT /_sim/users/:email/graph-id {"id": "<object id>"}`: the object id `/users/{id}` accepts.
 * - `POST /_sim/graph/reset`: forgets all of the above (`POST /_sim/reset` does too).
 */
export function graphControlRoutes(state: GraphState): ControlRoute[] {
  return [
    {
      method: 'PUT',
      pattern: /^\/_sim\/tenants\/([^/]+)\/graph-scope$/,
      run: async (_d, m, body) => {
        const b = obj(await body());
        const list = b.mailboxes;
        if (list !== null && (!Array.isArray(list) || list.some((x) => typeof x !== 'string')))
          throw new HttpJsonError(400, 'mailboxes must be a list of addresses or null');
        if (b.appId !== undefined && typeof b.appId !== 'string') throw new HttpJsonError(400, 'appId must be a string');
        state.setScope(m[1], list as string[] | null, (b.appId as string | undefined) ?? '*');
        return { ok: true };
      },
    },
    {
      method: 'GET',
      pattern: /^\/_sim\/tenants\/([^/]+)\/graph-scope$/,
      run: (_d, m) => Object.fromEntries([...(state.scopes.get(m[1]) ?? new Map<string, Set<string>>())].map(([app, set]) => [app, [...set]])),
    },
    {
      method: 'DELETE',
      pattern: /^\/_sim\/mailboxes\/([^/]+)\/graph-delta-tokens$/,
      run: (_d, m) => ({ expired: state.delta.expire(m[1]) }),
    },
    {
      method: 'GET',
      pattern: /^\/_sim\/meeting-messages$/,
      run: (_d, _m, _b, url) => {
        const mb = url.searchParams.get('mailbox')?.toLowerCase();
        return state.messages.filter((x) => !mb || x.mailbox === mb);
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/_sim\/meeting-messages$/,
      run: () => {
        state.messages.length = 0;
        return { status: 204 };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/_sim\/users\/([^/]+)\/graph-id$/,
      run: async (_d, m, body) => {
        const b = obj(await body());
        if (typeof b.id !== 'string' || !/^[0-9a-f-]{36}$/i.test(b.id)) throw new HttpJsonError(400, 'id must be a GUID');
        state.userIds.set(b.id.toLowerCase(), m[1].toLowerCase());
        return { ok: true };
      },
    },
    {
      method: 'POST',
      pattern: /^\/_sim\/graph\/reset$/,
      run: () => {
        state.reset();
        return { ok: true };
      },
    },
  ];
}
