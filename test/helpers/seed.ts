// Catalog rows written straight into the database: the registration path does
// not exist yet, and the read API only cares about what is stored.
import type { Prisma, PrismaClient } from '../../src/generated/prisma/client.js';

export type GatewaySeed = Partial<Omit<Prisma.GatewayCreateManyInput, 'name'>> & { name: string };

/** One gateway; its slug defaults to the lower-cased name. */
export function seedGateway(prisma: PrismaClient, gateway: GatewaySeed) {
  return prisma.gateway.create({
    data: { slug: gateway.name.toLowerCase(), url: `http://127.0.0.1:9/${gateway.name}`, ...gateway },
  });
}

export interface CatalogSeed {
  tools?: number;
  resources?: number;
  resourceTemplates?: number;
  prompts?: number;
}

const pad = (i: number) => String(i).padStart(3, '0');

/**
 * Numbered entries for one gateway: tools and prompts `<slug>__t000`…,
 * resources `file:///<slug>/r000`…, templates `file:///<slug>/x000/{id}`….
 */
export async function seedCatalog(prisma: PrismaClient, gateway: { id: string; slug: string }, counts: CatalogSeed) {
  const each = (n = 0) => Array.from({ length: n }, (_, i) => pad(i));
  const { id: gatewayId, slug } = gateway;
  await prisma.tool.createMany({
    data: each(counts.tools).map((i) => ({ gatewayId, name: `${slug}__t${i}`, originalName: `t${i}` })),
  });
  await prisma.resource.createMany({
    data: each(counts.resources).map((i) => ({ gatewayId, uri: `file:///${slug}/r${i}`, name: `r${i}` })),
  });
  await prisma.resourceTemplate.createMany({
    data: each(counts.resourceTemplates).map((i) => ({ gatewayId, uriTemplate: `file:///${slug}/x${i}/{id}`, name: `x${i}` })),
  });
  await prisma.prompt.createMany({
    data: each(counts.prompts).map((i) => ({ gatewayId, name: `${slug}__p${i}`, originalName: `p${i}` })),
  });
}

/**
 * `gateways` gateways named `<prefix>000`… with `toolsEach` tools each
 * (`<slug>__t000`…), in one statement: Prisma's createMany spends about 1.5 ms
 * per row on PGlite, a generated INSERT a few milliseconds for thousands.
 */
export async function seedToolWorld(prisma: PrismaClient, prefix: string, gateways: number, toolsEach: number) {
  await prisma.$executeRaw`
    WITH g AS (
      INSERT INTO gateway (id, name, slug, url, updated_at)
      SELECT gen_random_uuid(), n, n, 'http://127.0.0.1:9/' || n, now()
      FROM (SELECT ${prefix} || lpad(i::text, 3, '0') AS n FROM generate_series(0, ${gateways} - 1) AS i) AS names
      RETURNING id, slug
    )
    INSERT INTO tool (id, gateway_id, name, original_name, updated_at)
    SELECT gen_random_uuid(), g.id, g.slug || '__t' || lpad(i::text, 3, '0'), 't' || lpad(i::text, 3, '0'), now()
    FROM g, generate_series(0, ${toolsEach} - 1) AS i`;
}

/** Fixed instants, so responses can be compared exactly. */
export const SEEN_AT = new Date('2025-01-02T03:04:05.678Z');
export const CHECKED_AT = new Date('2025-01-02T03:05:00.000Z');

/**
 * Five gateways, one of each state, with small catalogs:
 *
 * | gateway | status                  | tags     | tools | resources | templates | prompts |
 * | alpha   | ACTIVE                  | prod, eu | 5     | 3         | 2         | 2       |
 * | beta    | DISABLED                | prod     | 2     | 1         | 1         | 1       |
 * | delta   | ACTIVE                  | staging  | 2 *   | 1         | 1         | 1       |
 * | epsilon | DISABLED (+unreachable) |          | 0     | 0         | 0         | 0       |
 * | gamma   | UNREACHABLE             | eu       | 2     | 1         | 1         | 1       |
 *
 * (*) delta__t000 and delta__lookup, described as "Find a City by name".
 */
export async function seedReadWorld(prisma: PrismaClient) {
  const alpha = await seedGateway(prisma, {
    name: 'alpha',
    transport: 'STREAMABLE_HTTP',
    description: 'Weather forecasts',
    tags: ['prod', 'eu'],
    capabilities: { tools: { listChanged: true }, prompts: {} },
    protocolVersion: '2025-11-25',
    serverInfo: { name: 'alpha-server', version: '1.2.3' },
    instructions: 'Ask about the weather.',
    lastSeenAt: SEEN_AT,
    lastCheckedAt: CHECKED_AT,
  });
  const beta = await seedGateway(prisma, { name: 'beta', enabled: false, description: 'File storage', tags: ['prod'] });
  const delta = await seedGateway(prisma, { name: 'delta', tags: ['staging'] });
  const epsilon = await seedGateway(prisma, { name: 'epsilon', enabled: false, reachable: false });
  const gamma = await seedGateway(prisma, {
    name: 'gamma',
    reachable: false,
    tags: ['eu'],
    consecutiveFailures: 3,
    lastError: 'connect ECONNREFUSED',
    lastCheckedAt: CHECKED_AT,
  });
  await seedCatalog(prisma, alpha, { tools: 5, resources: 3, resourceTemplates: 2, prompts: 2 });
  for (const gateway of [beta, delta, gamma]) {
    await seedCatalog(prisma, gateway, { tools: gateway === delta ? 1 : 2, resources: 1, resourceTemplates: 1, prompts: 1 });
  }
  await prisma.tool.create({
    data: { gatewayId: delta.id, name: 'delta__lookup', originalName: 'lookup', description: 'Find a City by name' },
  });
  return { alpha, beta, delta, epsilon, gamma };
}
