import { type Folder, type ItemRef } from '@exsync/ews-sim';
import { CONTACT_PROPERTIES, readContactBody, renderContact } from '../contactShape';
import { json, type GraphResponse, type Route, type RouteContext } from '../context';
import { serveDelta } from '../delta';
import { errors } from '../errors';
import { writeExtended } from '../extendedProperties';
import { checkIfMatch } from '../etag';
import { ewsIdFromRest, resolveId, restId } from '../ids';
import { expandedExtended, list, passesFilter, shape, type Entry } from '../listing';
import { parseQuery, type QueryOptions, type ResourceRules } from '../odata/query';

/**
 * Contact routes (learn.microsoft.com/graph/api/resources/contact): CRUD under `/contacts` and
 * `/contactFolders/{id}/contacts`, and `contacts/delta` (with `$select`). The shared store has one
 * contact folder per mailbox (the default Contacts folder); `/contactFolders` lists it.
 */
const READ = { resource: 'Contacts', write: false } as const;
const WRITE = { resource: 'Contacts', write: true } as const;

const ENTITY_RULES: ResourceRules = { type: 'contact', properties: CONTACT_PROPERTIES, allow: ['$select', '$expand'] };
const LIST_RULES: ResourceRules = { type: 'contact', properties: CONTACT_PROPERTIES, allow: ['$select', '$expand', '$filter', '$top', '$skip', '$orderby'] };
const DELTA_RULES: ResourceRules = {
  type: 'contact',
  properties: CONTACT_PROPERTIES,
  allow: ['$select'],
  refuse: (opts) =>
    errors.unsupportedQuery(`The following parameters are not supported with change tracking over the 'Contacts' resource: '${opts.join(', ')}'.`),
};

function contactsFolder(ctx: RouteContext): Folder {
  return ctx.deps.store.folder(ctx.mb, 'contacts');
}

/** A contact folder by its REST id (or the well-known name `contacts`). */
function folderById(ctx: RouteContext, id: string): Folder {
  if (id.toLowerCase() === 'contacts') return contactsFolder(ctx);
  if (!/^[A-Za-z0-9_=-]+$/.test(id)) throw errors.malformedId();
  const f = ctx.mb.folders.get(ewsIdFromRest(id));
  if (!f || f.itemKind !== 'Contact') throw errors.itemNotFound();
  return f;
}

/** The folder a route names (`contactFolders/{id}/contacts...`), else the default Contacts folder (`contacts...`). */
function folderOf(ctx: RouteContext): Folder {
  return ctx.req.path.toLowerCase().includes('/contactfolders/') ? folderById(ctx, ctx.params[0]) : contactsFolder(ctx);
}

function contactRef(ctx: RouteContext, folder: Folder, id: string): ItemRef {
  const ref = resolveId(ctx.mb, id);
  if (ref.item.kind !== 'Contact' || ref.item.folderId !== folder.id) throw errors.itemNotFound();
  return ref;
}

function view(ctx: RouteContext, ref: ItemRef, q: QueryOptions): Record<string, unknown> {
  return shape(renderContact(ctx.mb, ref, ctx.prefs.idType), expandedExtended(ref, q), q.select);
}

function folderJson(ctx: RouteContext, f: Folder): Record<string, unknown> {
  return { id: restId(f.id), displayName: f.displayName, parentFolderId: f.parentId ? restId(f.parentId) : null };
}

function listContacts(ctx: RouteContext): GraphResponse {
  const q = parseQuery(ctx.req.query, LIST_RULES);
  const entries: Entry[] = [];
  for (const id of folderOf(ctx).items) {
    const item = ctx.mb.items.get(id);
    if (!item || item.kind !== 'Contact') continue;
    const ref = { item };
    const full = renderContact(ctx.mb, ref, ctx.prefs.idType);
    if (passesFilter(full, ref, q)) entries.push({ full, shown: shape(full, expandedExtended(ref, q), q.select) });
  }
  return list(ctx, 'contact', entries, q);
}

function create(ctx: RouteContext): GraphResponse {
  parseQuery(ctx.req.query, ENTITY_RULES);
  const folder = folderOf(ctx);
  const { fields, extended } = readContactBody(ctx.req.body, new Map());
  const item = ctx.deps.store.createItem(ctx.mb, folder, { kind: 'Contact', fields });
  if (extended !== undefined) writeExtended(item, extended);
  return json(201, view(ctx, { item }, {}));
}

function update(ctx: RouteContext): GraphResponse {
  const q = parseQuery(ctx.req.query, ENTITY_RULES);
  const folder = folderOf(ctx);
  const ref = contactRef(ctx, folder, ctx.params[ctx.params.length - 1]);
  checkIfMatch(ctx.req.headers['if-match'], ref);
  const { fields, extended } = readContactBody(ctx.req.body, ref.item.fields);
  ref.item.fields = fields;
  if (extended !== undefined) writeExtended(ref.item, extended);
  ctx.deps.store.touch(ctx.mb, ref.item);
  return json(200, view(ctx, ref, q));
}

function remove(ctx: RouteContext): GraphResponse {
  const folder = folderOf(ctx);
  const ref = contactRef(ctx, folder, ctx.params[ctx.params.length - 1]);
  checkIfMatch(ctx.req.headers['if-match'], ref);
  ctx.deps.store.moveItem(ctx.mb, ref.item, ctx.deps.store.folder(ctx.mb, 'deleteditems'));
  return { status: 204, headers: {} };
}

const get = (ctx: RouteContext) =>
  json(200, view(ctx, contactRef(ctx, folderOf(ctx), ctx.params[ctx.params.length - 1]), parseQuery(ctx.req.query, ENTITY_RULES)));

export const CONTACT_ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: ['contactFolders'],
    need: READ,
    name: 'GET contactFolders',
    run: (ctx) => json(200, { '@odata.context': `${ctx.req.baseUrl}/$metadata#Collection(contactFolder)`, value: [folderJson(ctx, contactsFolder(ctx))] }),
  },
  {
    method: 'GET',
    pattern: ['contactFolders', ':fid'],
    need: READ,
    name: 'GET contactFolder',
    run: (ctx) => json(200, folderJson(ctx, folderById(ctx, ctx.params[0]))),
  },
  {
    method: 'GET',
    pattern: ['contactFolders', ':fid', 'contacts', 'delta'],
    need: READ,
    name: 'GET contacts/delta',
    run: (ctx) => {
      const q = parseQuery(ctx.req.query, DELTA_RULES);
      return serveDelta(ctx, 'contacts', folderById(ctx, ctx.params[0]), q.select);
    },
  },
  ...[['contacts'], ['contactFolders', ':fid', 'contacts']].flatMap((p): Route[] => [
    { method: 'GET', pattern: p, need: READ, name: 'GET contacts', run: listContacts },
    { method: 'POST', pattern: p, need: WRITE, name: 'POST contacts', run: create },
    { method: 'GET', pattern: [...p, ':id'], need: READ, name: 'GET contact', run: get },
    { method: 'PATCH', pattern: [...p, ':id'], need: WRITE, name: 'PATCH contact', run: update },
    { method: 'DELETE', pattern: [...p, ':id'], need: WRITE, name: 'DELETE contact', run: remove },
  ]),
];
