// Who caused what the services are doing: the API token of the operation being
// executed, or the system (health checker, background resyncs) when no
// operation is. Carried by AsyncLocalStorage so that services log it without
// every call passing it along; it never holds a secret.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './scopes.js';

export interface Actor {
  /** The API token's id; null for ADMIN_TOKEN and for the system. */
  tokenId: string | null;
  name: string;
}

const SYSTEM: Actor = { tokenId: null, name: 'system' };
const storage = new AsyncLocalStorage<Actor>();

export function runAs<T>(principal: Principal, work: () => T): T {
  return storage.run({ tokenId: principal.tokenId, name: principal.name }, work);
}

export function currentActor(): Actor {
  return storage.getStore() ?? SYSTEM;
}
