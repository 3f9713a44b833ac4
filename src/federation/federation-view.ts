// The federation as a whole: merged capabilities of the live peers with where
// each came from, gateways by status and the catalog entries clients can see, by kind.
import { visibleCounts } from '../catalog/counts.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { mergeCapabilities } from './capabilities.js';

const LIVE = { enabled: true, reachable: true } as const;

export async function federationView(prisma: PrismaClient) {
  const [live, byStatus, catalog] = await Promise.all([
    prisma.gateway.findMany({ where: LIVE, select: { id: true, name: true, capabilities: true }, orderBy: { id: 'asc' } }),
    prisma.gateway.groupBy({ by: ['enabled', 'reachable'], _count: { _all: true } }),
    visibleCounts(prisma),
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
    catalog,
  };
}

export type FederationView = Awaited<ReturnType<typeof federationView>>;
