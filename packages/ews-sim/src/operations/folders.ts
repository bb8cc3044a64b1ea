import type { Folder, Mailbox } from '../store';
import { errorMessage, responseClose, responseOpen, successClose, successOpen } from '../soap';
import { child, childText, escapeText, type El } from '../xml';
import { ItemError, resolveFolder, type OpContext } from './context';

function folderElementName(f: Folder): string {
  if (f.itemKind === 'CalendarItem') return 'CalendarFolder';
  if (f.itemKind === 'Contact') return 'ContactsFolder';
  return 'Folder';
}

function childCount(mb: Mailbox, f: Folder): number {
  let n = 0;
  for (const other of mb.folders.values()) if (other.parentId === f.id) n++;
  return n;
}

const EFFECTIVE_RIGHTS =
  '<t:EffectiveRights><t:CreateAssociated>true</t:CreateAssociated><t:CreateContents>true</t:CreateContents>' +
  '<t:CreateHierarchy>true</t:CreateHierarchy><t:Delete>true</t:Delete><t:Modify>true</t:Modify><t:Read>true</t:Read>' +
  '<t:ViewPrivateItems>true</t:ViewPrivateItems></t:EffectiveRights>';

/** One folder in the requested shape, in BaseFolderType order. */
export function renderFolder(mb: Mailbox, f: Folder, shapeEl: El | undefined): string {
  const base = (childText(shapeEl, 'BaseShape') ?? 'Default').trim();
  const extra = new Set((child(shapeEl, 'AdditionalProperties')?.children ?? []).map((p) => (p.attrs.FieldURI ?? '').split(':')[1] ?? ''));
  const want = (name: string, inDefault: boolean) => extra.has(name) || base === 'AllProperties' || (base === 'Default' && inDefault);
  const tag = folderElementName(f);
  const parts: string[] = [`<t:${tag}>`, `<t:FolderId Id="${f.id}" ChangeKey="${f.changeKey}"/>`];
  const parent = f.parentId ? mb.folders.get(f.parentId) : undefined;
  if (parent && want('ParentFolderId', false)) parts.push(`<t:ParentFolderId Id="${parent.id}" ChangeKey="${parent.changeKey}"/>`);
  if (want('FolderClass', false) && f.folderClass) parts.push(`<t:FolderClass>${f.folderClass}</t:FolderClass>`);
  if (want('DisplayName', true)) parts.push(`<t:DisplayName>${escapeText(f.displayName)}</t:DisplayName>`);
  if (want('TotalCount', true)) parts.push(`<t:TotalCount>${f.items.size}</t:TotalCount>`);
  if (want('ChildFolderCount', true)) parts.push(`<t:ChildFolderCount>${childCount(mb, f)}</t:ChildFolderCount>`);
  if (want('EffectiveRights', false)) parts.push(EFFECTIVE_RIGHTS);
  if (extra.has('DistinguishedFolderId') || base === 'AllProperties') {
    parts.push(`<t:DistinguishedFolderId>${f.distinguishedId}</t:DistinguishedFolderId>`);
  }
  if (tag === 'Folder' && want('UnreadCount', true)) parts.push('<t:UnreadCount>0</t:UnreadCount>');
  parts.push(`</t:${tag}>`);
  return parts.join('');
}

function folderIds(ctx: OpContext): El[] {
  return child(ctx.request, 'FolderIds')?.children ?? [];
}

export function getFolder(ctx: OpContext): string {
  const shape = child(ctx.request, 'FolderShape');
  const out: string[] = [responseOpen('GetFolder')];
  for (const idEl of folderIds(ctx)) {
    try {
      const f = resolveFolder(ctx, idEl);
      out.push(successOpen('GetFolder'), '<m:Folders>', renderFolder(ctx.mb, f, shape), '</m:Folders>', successClose('GetFolder'));
    } catch (e) {
      if (!(e instanceof ItemError)) throw e;
      out.push(errorMessage('GetFolder', { code: e.code, text: e.message === e.code ? undefined : e.message, messageXml: e.messageXml }, '<m:Folders/>'));
    }
  }
  out.push(responseClose('GetFolder'));
  return out.join('');
}

/** FindFolder with Shallow/Deep traversal; exchangelib walks the hierarchy with it. */
export function findFolder(ctx: OpContext): string {
  const shape = child(ctx.request, 'FolderShape');
  const deep = ctx.request.attrs.Traversal === 'Deep';
  const out: string[] = [responseOpen('FindFolder')];
  for (const idEl of child(ctx.request, 'ParentFolderIds')?.children ?? []) {
    try {
      const parent = resolveFolder(ctx, idEl);
      const found: Folder[] = [];
      const walk = (p: Folder) => {
        for (const f of ctx.mb.folders.values()) {
          if (f.parentId !== p.id) continue;
          found.push(f);
          if (deep) walk(f);
        }
      };
      walk(parent);
      out.push(
        successOpen('FindFolder'),
        `<m:RootFolder IndexedPagingOffset="${found.length}" TotalItemsInView="${found.length}" IncludesLastItemInRange="true"><t:Folders>`,
        ...found.map((f) => renderFolder(ctx.mb, f, shape)),
        '</t:Folders></m:RootFolder>',
        successClose('FindFolder'),
      );
    } catch (e) {
      if (!(e instanceof ItemError)) throw e;
      out.push(errorMessage('FindFolder', { code: e.code }));
    }
  }
  out.push(responseClose('FindFolder'));
  return out.join('');
}
