import type { SimState } from './simState';

/**
 * The tenant a `/<tenant>/oauth2/...` path names: undefined for the aliases Entra ID accepts in its
 * place (`common`, `organizations`, `consumers`: the tenant then comes from the app or the user),
 * null for a tenant the simulator does not know (AADSTS90002).
 */
export function resolvePathTenant(state: SimState, segment: string): string | undefined | null {
  const s = segment.toLowerCase();
  if (s === 'common' || s === 'organizations' || s === 'consumers') return undefined;
  return state.resolveTenant(segment) ?? null;
}
