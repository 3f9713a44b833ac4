// The federation as a whole: merged capabilities of the live peers with where
// each came from, gateways by status and the catalog entries clients can see, by kind.
import type { PrismaClient } from '../generated/prisma/client.js';
import { mergeCapabilities } from './capabilities.js';

const LIVE = { enabled: true, reachable: true } as const;
/** What MCP clients can see: entries an operator has not disabled, of live gateways. */
const VISIBLE = { enabled: true, gateway: LIVE } as const;

export async function federationView(prisma: PrismaClient) {
  const [live, byStatus, tools, resources, resourceTemplates, prompts] = await Promise.all([
    prisma.gateway.findMany({ where: LIVE, select: { id: true, name: true, capabilities: true }, orderBy: { id: 'asc' } }),
    prisma.gateway.groupBy({ by: ['enabled', 'reachable'], _count: { _all: true } }),
    prisma.tool.count({ where: VISIBLE }),
    prisma.resource.count({ where: VISIBLE }),
    prisma.resourceTemplate.count({ where: VISIBLE }),
    prisma.prompt.count({ where: VISIBLE }),
  ]);
  const gateways = { ACTIVE: 0, DISABLED: 0, UNREACHABLE: 0 };
  for (const group of byStatus) {
    const status = !group.enabled ? 'DISABLED' : group.reachable ? 'ACTIVE' : 'UNREACHABLE';
    gateways[status] += group._count._all;
  }
  return {
    capabilities: mergeCapabilities(live.map((g) => g.capabilities)),
    provenance: live.map((g) => ({ gatewayId: g.id, name: g.name, capabilities: g.capabilities })),
    gateways,
    catalog: { tools, resources, resourceTemplates, prompts },
  };
}

export type FederationView = Awaited<ReturnType<typeof federationView>>;
