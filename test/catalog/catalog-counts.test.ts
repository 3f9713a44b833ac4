// catalog_count is kept by triggers in the same transaction as every write:
// after each operation of the registry (and after plain SQL), the kept counts
// equal a recount of the rows, and every count the API serves agrees with one.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { countCatalog, visibleCounts } from '../../src/catalog/counts.js';
import { ENTRY_TABLES } from '../../src/catalog/entry-tables.js';
import { catalogWhere, type CatalogFilter } from '../../src/catalog/filters.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends } from '../helpers/db.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { deleteGateway, PEER_ENV, refreshGateway, registered, setGatewayEnabled, setToolEnabled, uuidOf } from '../helpers/registry.js';
import { seedCatalog, seedGateway } from '../helpers/seed.js';

interface CountRow {
  gateway_id: string;
  kind: string;
  entries: number;
  enabled: number;
}

const KINDS = ['tool', 'resource', 'resource_template', 'prompt'] as const;

/** What catalog_count holds, and what counting every row gives; gateways with no entries left out of both. */
async function keptAndRecounted(t: TestApp) {
  const sql = t.app.db.sql;
  const kept = await sql.query<CountRow>(
    `SELECT gateway_id, kind, entries, enabled FROM catalog_count WHERE entries <> 0 OR enabled <> 0 ORDER BY gateway_id, kind`,
  );
  const recount = await sql.query<CountRow>(
    KINDS.map(
      (kind) =>
        `SELECT gateway_id, '${kind}' AS kind, count(*)::int AS entries, (count(*) FILTER (WHERE enabled))::int AS enabled FROM ${kind} GROUP BY gateway_id`,
    ).join(' UNION ALL ') + ' ORDER BY gateway_id, kind',
  );
  return { kept, recount };
}

async function expectExact(t: TestApp) {
  const { kept, recount } = await keptAndRecounted(t);
  expect(kept).toEqual(recount);
  return kept;
}

describe.each(backends)('catalog counts on %s', (backend) => {
  describe.runIf(backendAvailable(backend))('', () => {
    let t: TestApp;
    let peer: TestPeer;
    beforeAll(async () => {
      t = await startTestApp({ backend, env: PEER_ENV });
      peer = await startPeer({
        tools: 5,
        resources: [{ uri: 'file:///a', name: 'a' }],
        prompts: [{ name: 'p1' }, { name: 'p2' }],
      });
    });
    afterAll(async () => {
      await t?.close();
      await peer?.close();
    });

    test('stay exact through registration, resyncs, toggles, disabling, deletion and plain SQL', async () => {
      const gateway = await registered(t, { name: 'counted', url: peer.url });
      const id = uuidOf(gateway.id);
      const afterRegister = await expectExact(t);
      expect(afterRegister.find((r) => r.kind === 'tool')).toMatchObject({ gateway_id: id, entries: 5, enabled: 5 });

      // A resync that adds, changes and removes entries of every kind.
      peer.setCatalog({ tools: 8, resources: [], prompts: [{ name: 'p1', description: 'changed' }, { name: 'p3' }] });
      expect((await refreshGateway(t, gateway.id)).__typename).toBe('RefreshGatewaySuccess');
      const afterRefresh = await expectExact(t);
      expect(afterRefresh.find((r) => r.kind === 'tool')).toMatchObject({ entries: 8, enabled: 8 });
      expect(afterRefresh.find((r) => r.kind === 'prompt')).toMatchObject({ entries: 2 });

      const tools = await t.app.db.prisma.tool.findMany({ where: { gatewayId: id }, orderBy: { name: 'asc' } });
      await setToolEnabled(t, encodeGlobalID('Tool', tools[0]!.id), false);
      await setToolEnabled(t, encodeGlobalID('Tool', tools[1]!.id), false);
      await setToolEnabled(t, encodeGlobalID('Tool', tools[1]!.id), false); // no change: nothing moves
      expect((await expectExact(t)).find((r) => r.kind === 'tool')).toMatchObject({ entries: 8, enabled: 6 });

      // A resync keeps the operator's choices, and the counts with them.
      peer.setCatalog({ tools: 9, resources: [], prompts: [] });
      await refreshGateway(t, gateway.id);
      expect((await expectExact(t)).find((r) => r.kind === 'tool')).toMatchObject({ entries: 9, enabled: 7 });

      // Disabling the gateway changes what clients see, not its own counts.
      await setGatewayEnabled(t, gateway.id, false);
      expect((await visibleCounts(t.app.db.prisma)).tools).toBe(0);
      await setGatewayEnabled(t, gateway.id, true);
      expect((await visibleCounts(t.app.db.prisma)).tools).toBe(7);

      // Writers that bypass the service are counted too: several rows per statement, moves between gateways.
      const other = await seedGateway(t.app.db.prisma, { name: 'other' });
      await seedCatalog(t.app.db.prisma, other, { tools: 4, resources: 3, resourceTemplates: 2, prompts: 1 });
      await t.app.db.sql.exec(`UPDATE tool SET gateway_id = '${other.id}', name = name || '_moved' WHERE gateway_id = '${id}' AND NOT enabled`);
      await t.app.db.sql.exec(`UPDATE resource SET enabled = false WHERE gateway_id = '${other.id}'`);
      await t.app.db.sql.exec(`DELETE FROM resource_template WHERE gateway_id = '${other.id}' AND name = 'x000'`);
      const moved = await expectExact(t);
      expect(moved.find((r) => r.gateway_id === other.id && r.kind === 'tool')).toMatchObject({ entries: 6, enabled: 4 });

      // Deleting a gateway takes its entries and their counts with it.
      expect((await deleteGateway(t, gateway.id)).__typename).toBe('DeleteGatewaySuccess');
      const afterDelete = await expectExact(t);
      expect(afterDelete.some((r) => r.gateway_id === id)).toBe(false);
      expect((await t.app.db.sql.query(`SELECT 1 FROM catalog_count WHERE gateway_id = '${id}'`)).length).toBe(0);
    });

    test('a write that rolls back leaves the counts as they were', async () => {
      const gateway = await seedGateway(t.app.db.prisma, { name: 'rolled' });
      await seedCatalog(t.app.db.prisma, gateway, { tools: 3 });
      const before = await expectExact(t);
      await expect(
        t.app.db.prisma.$transaction(async (tx) => {
          await tx.tool.createMany({ data: [{ gatewayId: gateway.id, name: 'rolled__new', originalName: 'new' }] });
          await tx.tool.updateMany({ where: { gatewayId: gateway.id }, data: { enabled: false } });
          throw new Error('abandon');
        }),
      ).rejects.toThrow('abandon');
      expect(await expectExact(t)).toEqual(before);
    });

    test('the counts of every catalog filter agree with counting the rows it lists', async () => {
      const prisma = t.app.db.prisma;
      const up = await seedGateway(prisma, { name: 'filt-up', tags: ['blue'] });
      const down = await seedGateway(prisma, { name: 'filt-down', reachable: false, tags: ['blue'] });
      const off = await seedGateway(prisma, { name: 'filt-off', enabled: false });
      for (const g of [up, down, off]) await seedCatalog(prisma, g, { tools: 6, resources: 4, resourceTemplates: 3, prompts: 2 });
      await prisma.tool.updateMany({ where: { gatewayId: { in: [up.id, down.id] }, originalName: { in: ['t000', 't001'] } }, data: { enabled: false } });
      await prisma.resource.updateMany({ where: { gatewayId: off.id, name: 'r000' }, data: { enabled: false } });

      const filters: CatalogFilter[] = [
        {},
        { includeUnavailable: true },
        { enabled: false },
        { enabled: true, includeUnavailable: true },
        { enabled: false, includeUnavailable: true },
        { gatewayStatus: ['UNREACHABLE'] },
        { gatewayStatus: ['ACTIVE', 'DISABLED'], enabled: false },
        { tag: 'blue' },
        { tag: 'blue', includeUnavailable: true },
        { gatewayId: up.id },
        { gatewayId: down.id, includeUnavailable: true },
        { gatewayId: off.id, gatewayStatus: ['DISABLED'] },
      ];
      const counters = {
        Tool: (where: object) => prisma.tool.count({ where }),
        Resource: (where: object) => prisma.resource.count({ where }),
        ResourceTemplate: (where: object) => prisma.resourceTemplate.count({ where }),
        Prompt: (where: object) => prisma.prompt.count({ where }),
      };
      for (const filter of filters) {
        for (const [model, count] of Object.entries(counters)) {
          const table = ENTRY_TABLES[model as keyof typeof ENTRY_TABLES];
          expect(await countCatalog(prisma, table, filter), `${model} ${JSON.stringify(filter)}`).toBe(await count(catalogWhere(filter)));
        }
      }
      const visible = await visibleCounts(prisma);
      expect(visible).toEqual({
        tools: await counters.Tool(catalogWhere(null)),
        resources: await counters.Resource(catalogWhere(null)),
        resourceTemplates: await counters.ResourceTemplate(catalogWhere(null)),
        prompts: await counters.Prompt(catalogWhere(null)),
      });
    });
  });
});

describe.runIf(backendAvailable('postgres'))('catalog counts under concurrent writers (postgres)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ backend: 'postgres' });
  });
  afterAll(() => t?.close());

  test('writers on the same gateway at once lose no update', async () => {
    const prisma = t.app.db.prisma;
    const gateway = await seedGateway(prisma, { name: 'busy' });
    // 20 transactions at once, each adding 5 tools and disabling one of its own.
    await Promise.all(
      Array.from({ length: 20 }, (_, w) =>
        prisma.$transaction(async (tx) => {
          await tx.tool.createMany({
            data: Array.from({ length: 5 }, (_, i) => ({ gatewayId: gateway.id, name: `busy__w${w}_${i}`, originalName: `w${w}_${i}` })),
          });
          await tx.tool.updateMany({ where: { name: `busy__w${w}_0` }, data: { enabled: false } });
        }),
      ),
    );
    const [row] = await t.app.db.sql.query<CountRow>(`SELECT entries, enabled FROM catalog_count WHERE gateway_id = '${gateway.id}' AND kind = 'tool'`);
    expect(row).toMatchObject({ entries: 100, enabled: 80 });
    await expectExact(t);
  });
});
