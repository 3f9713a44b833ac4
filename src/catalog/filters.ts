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
  /** Also show entries of disabled or unreachable gateways. */
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

/** The `where` of a catalog listing (tools, resources, templates, prompts). */
export function catalogWhere(filter: CatalogFilter | null | undefined) {
  const gateway: Prisma.GatewayWhereInput[] = [gatewayWhere({ status: filter?.gatewayStatus, tag: filter?.tag })];
  if (!filter?.includeUnavailable) gateway.push(STATUS_WHERE.ACTIVE);
  return {
    ...(filter?.gatewayId ? { gatewayId: filter.gatewayId } : {}),
    gateway: { AND: gateway },
    ...textSearch(filter?.search),
  };
}
