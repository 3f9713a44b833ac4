// Which gateways and catalog entries a listing shows. Shared by the GraphQL
// API and the /mcp endpoint so both answer "what can clients see" the same way.
import type { Prisma } from '../generated/prisma/client.js';

export type GatewayStatus = 'ACTIVE' | 'DISABLED' | 'UNREACHABLE';

export function gatewayStatus(gateway: { enabled: boolean; reachable: boolean }): GatewayStatus {
  if (!gateway.enabled) return 'DISABLED';
  return gateway.reachable ? 'ACTIVE' : 'UNREACHABLE';
}

const STATUS_WHERE: Record<GatewayStatus, Prisma.GatewayWhereInput> = {
  ACTIVE: { enabled: true, reachable: true },
  DISABLED: { enabled: false },
  UNREACHABLE: { enabled: true, reachable: false },
};

export interface GatewayFilter {
  status?: GatewayStatus[] | null;
  tag?: string | null;
  search?: string | null;
}

export interface CatalogFilter {
  gatewayId?: string | null;
  gatewayStatus?: GatewayStatus[] | null;
  tag?: string | null;
  search?: string | null;
  /** Entries an operator enabled (true) or disabled (false); unset: the default rule. */
  enabled?: boolean | null;
  /** Also show disabled entries, and entries of disabled or unreachable gateways. */
  includeUnavailable?: boolean | null;
}

function textSearch(search: string | null | undefined) {
  const text = search?.trim();
  if (!text) return {};
  return {
    OR: [
      { name: { contains: text, mode: 'insensitive' as const } },
      { description: { contains: text, mode: 'insensitive' as const } },
    ],
  };
}

export function gatewayWhere(filter: GatewayFilter | null | undefined): Prisma.GatewayWhereInput {
  const and: Prisma.GatewayWhereInput[] = [];
  if (filter?.status?.length) and.push({ OR: filter.status.map((s) => STATUS_WHERE[s]) });
  if (filter?.tag) and.push({ tags: { has: filter.tag } });
  and.push(textSearch(filter?.search));
  return { AND: and };
}

/**
 * Which gateways' entries a catalog listing shows. By default, what MCP clients
 * can see, as federation.catalog counts it: entries of ACTIVE gateways.
 * includeUnavailable lifts the rule; a gatewayStatus filter replaces it.
 */
export function catalogGatewayWhere(filter: CatalogFilter | null | undefined): Prisma.GatewayWhereInput {
  const gateway: Prisma.GatewayWhereInput[] = [gatewayWhere({ status: filter?.gatewayStatus, tag: filter?.tag })];
  if (!filter?.includeUnavailable && !filter?.gatewayStatus?.length) gateway.push(STATUS_WHERE.ACTIVE);
  return { AND: gateway };
}

/**
 * Which entries, by their own enabled flag: true or false, or null for both. By
 * default the enabled ones; includeUnavailable lifts the rule, an enabled filter replaces it.
 */
export function catalogEnabledRule(filter: CatalogFilter | null | undefined): boolean | null {
  return filter?.enabled ?? (filter?.includeUnavailable ? null : true);
}

/**
 * The `where` of a catalog listing (tools, resources, templates, prompts),
 * without its text search (src/catalog/search.ts ranks those with the trigram index).
 */
export function catalogWhere(filter: CatalogFilter | null | undefined) {
  const enabled = catalogEnabledRule(filter);
  return {
    ...(filter?.gatewayId ? { gatewayId: filter.gatewayId } : {}),
    ...(enabled !== null ? { enabled } : {}),
    gateway: catalogGatewayWhere(filter),
  };
}
