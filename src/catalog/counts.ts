// Catalog counts read from catalog_count, which triggers keep exact in the same
// transaction as every write (migration catalog_counts_and_search). A count is
// one aggregate over at most (gateways x kinds) rows, however many entries there are.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { EntryTable } from './entry-tables.js';
import { catalogEnabledRule, catalogGatewayWhere, type CatalogFilter } from './filters.js';

/** How many entries a catalog listing without text search has: its totalCount. */
export async function countCatalog(prisma: PrismaClient, table: EntryTable, filter: CatalogFilter | null | undefined): Promise<number> {
  const { _sum } = await prisma.catalogCount.aggregate({
    where: { kind: table.table, ...(filter?.gatewayId ? { gatewayId: filter.gatewayId } : {}), gateway: catalogGatewayWhere(filter) },
    _sum: { entries: true, enabled: true },
  });
  const entries = _sum.entries ?? 0;
  const enabled = _sum.enabled ?? 0;
  const rule = catalogEnabledRule(filter);
  return rule === null ? entries : rule ? enabled : entries - enabled;
}

export interface VisibleCounts {
  tools: number;
  resources: number;
  resourceTemplates: number;
  prompts: number;
}

/** What MCP clients can see, by kind: the enabled entries of enabled, reachable gateways. */
export async function visibleCounts(prisma: PrismaClient): Promise<VisibleCounts> {
  const groups = await prisma.catalogCount.groupBy({
    by: ['kind'],
    where: { gateway: catalogGatewayWhere(null) },
    _sum: { enabled: true },
  });
  const of = (kind: string) => groups.find((g) => g.kind === kind)?._sum.enabled ?? 0;
  return { tools: of('tool'), resources: of('resource'), resourceTemplates: of('resource_template'), prompts: of('prompt') };
}
