// What each kind of event records in its payload: the facts, never a secret.
// The GraphQL API reads them back as typed details (graphql/types/events.ts).
import { gatewayStatus } from '../catalog/filters.js';
import type { Gateway } from '../generated/prisma/client.js';

/** The settings of a gateway whose old and new values GATEWAY_UPDATED records (all non-secret). */
const UPDATABLE = ['name', 'url', 'transport', 'description', 'tags', 'refreshIntervalMs', 'authType'] as const;

type Settings = Pick<Gateway, (typeof UPDATABLE)[number]>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** GATEWAY_UPDATED: each setting that changed with its old and new value; of the credentials, only that they changed. */
export function updatedPayload(before: Settings, after: Settings, facts: { reconnected: boolean; credentialsChanged: boolean }) {
  const changes = UPDATABLE.filter((field) => !same(before[field], after[field])).map((field) => ({
    field,
    old: before[field] ?? null,
    new: after[field] ?? null,
  }));
  return { name: after.name, changes, credentialsChanged: facts.credentialsChanged, reconnected: facts.reconnected };
}

/** GATEWAY_ACTIVATED / GATEWAY_DEACTIVATED: the status before and after, and why. */
export function statusPayload(
  before: Pick<Gateway, 'enabled' | 'reachable'>,
  after: Pick<Gateway, 'name' | 'enabled' | 'reachable' | 'lastError'>,
  reason: string,
) {
  return { name: after.name, oldStatus: gatewayStatus(before), newStatus: gatewayStatus(after), reason, lastError: after.lastError };
}

export interface CatalogCounts {
  tools: number;
  resources: number;
  resourceTemplates: number;
  prompts: number;
}

/** The Prisma select that counts a gateway's catalog entries, for GATEWAY_DELETED. */
export const CATALOG_COUNTS = { _count: { select: { tools: true, resources: true, resourceTemplates: true, prompts: true } } } as const;
