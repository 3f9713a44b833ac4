import type { ApiScope } from '../generated/prisma/enums.js';

export type Scope = ApiScope;
export const SCOPES: readonly Scope[] = ['read', 'write', 'invoke', 'admin'];

/** Who is calling: an authenticated API token (or the environment's admin token). */
export interface Principal {
  tokenId: string | null;
  name: string;
  scopes: ReadonlySet<Scope>;
}

/** `admin` implies every other scope: an operator's token can do anything. */
export function hasScope(principal: Principal | null, scope: Scope): boolean {
  return !!principal && (principal.scopes.has(scope) || principal.scopes.has('admin'));
}
