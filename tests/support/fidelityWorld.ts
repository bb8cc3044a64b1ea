/**
 * The moves the field fidelity end-to-end tests (issue 14) make on a stack with one user
 * (useUserStack): a CRM write, a person's edit in Outlook, a sync, and reading either side.
 */
import { expect } from 'vitest';
import type { UserStack } from './stack';

/** The world the fidelity tests share: useUserStack's. */
export type FidelityWorld = UserStack;

/** The CRM's copy of an item by a field value (items made in Outlook get engine-minted ids). */
export async function crmItemWhere(w: FidelityWorld, path: 'appointments' | 'contacts', field: string, value: string): Promise<{ crmId: string; item: any }> {
  const items = (await w.stack.api('GET', `${w.base}/${path}?limit=1000`)).body.items as { crmId: string; item: any }[];
  const hit = items.find((i) => i.item[field] === value);
  if (!hit) throw new Error(`no CRM ${path} with ${field} ${value}`);
  return hit;
}

export async function crmGet(w: FidelityWorld, path: 'appointments' | 'contacts', crmId: string): Promise<any> {
  return (await w.stack.api('GET', `${w.base}/${path}/${crmId}`)).body.item;
}

export async function crmPut(w: FidelityWorld, path: 'appointments' | 'contacts', crmId: string, item: object): Promise<void> {
  const res = await w.stack.api('PUT', `${w.base}/${path}/${crmId}`, item);
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${crmId}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** A person's edit in Outlook (the simulator's control API). */
export async function outlookEdit(w: FidelityWorld, itemId: string, patch: object): Promise<void> {
  const res = await w.stack.sim('PATCH', `/_sim/mailboxes/${w.mb}/items/${encodeURIComponent(itemId)}`, patch);
  if (res.status !== 200) throw new Error(`sim PATCH: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function outlookCreate(w: FidelityWorld, folder: 'calendar' | 'contacts', item: object): Promise<string> {
  const res = await w.stack.sim('POST', `/_sim/mailboxes/${w.mb}/${folder}`, item);
  if (res.status !== 201) throw new Error(`sim POST: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** One sync run through the API and the worker; it must succeed. */
export async function syncRun(w: FidelityWorld): Promise<void> {
  const status = await w.stack.syncNow(w.user);
  expect(status.state, JSON.stringify(status.lastError)).toBe('healthy');
}
