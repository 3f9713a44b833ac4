// Catalog search: a case-insensitive substring over name, title and
// description, ranked, paged with cursors, its totalCount bounded as the schema
// says, and served by the trigram index on both backends.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SEARCH_TEXT_SQL } from '../../src/catalog/catalog-search.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends } from '../helpers/db.js';
import { seedGateway } from '../helpers/seed.js';

const SEARCH = /* GraphQL */ `
  query Search($search: String!, $first: Int, $after: String, $last: Int, $before: String, $more: CatalogFilter) {
    tools(filter: { search: $search }, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { name } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
    filtered: tools(filter: $more) { totalCount edges { node { name } } }
  }
`;

async function seedSearchWorld(prisma: PrismaClient) {
  const live = await seedGateway(prisma, { name: 'live' });
  const down = await seedGateway(prisma, { name: 'down', reachable: false });
  const tool = (gatewayId: string, slug: string, originalName: string, extra: { title?: string; description?: string; enabled?: boolean } = {}) => ({
    gatewayId,
    name: `${slug}__${originalName}`,
    originalName,
    ...extra,
  });
  await prisma.tool.createMany({
    data: [
      tool(live.id, 'live', 'deploy', { description: 'Ships a build.' }),
      tool(live.id, 'live', 'redeploy_service', { description: 'Restarts a service.' }),
      tool(live.id, 'live', 'status', { title: 'Deploy status', description: 'Where the last run is.' }),
      tool(live.id, 'live', 'notes', { description: 'Notes written after each DEPLOYMENT.' }),
      tool(live.id, 'live', 'unrelated', { description: 'Nothing to see.' }),
      tool(live.id, 'live', 'hidden_deploy', { enabled: false }),
      tool(down.id, 'down', 'deploy', { description: 'Ships a build, elsewhere.' }),
      tool(live.id, 'live', 'discount', { description: 'Takes 50% off.' }),
      tool(live.id, 'live', 'discount_any', { description: 'Takes 500 off.' }),
      tool(live.id, 'live', 'snake', { description: 'a_b in the text' }),
      tool(live.id, 'live', 'snake_free', { description: 'axb in the text' }),
      ...Array.from({ length: 30 }, (_, i) => tool(live.id, 'live', `widget_${String(i).padStart(2, '0')}`, { description: `Widget number ${i}.` })),
      ...Array.from({ length: 5 }, (_, i) => tool(live.id, 'live', `gadget_${i}`, { description: 'Fits any widget.' })),
    ],
  });
  return { live, down };
}

describe.each(backends)('catalog search on %s', (backend) => {
  describe.runIf(backendAvailable(backend))('', () => {
    let t: TestApp;
    let world: Awaited<ReturnType<typeof seedSearchWorld>>;
    let statements: string[] = [];
    beforeAll(async () => {
      t = await startTestApp({ backend, env: { SEARCH_COUNT_LIMIT: '20', SEARCH_MAX_CHARS: '40' }, onQuery: (sql) => statements.push(sql) });
      world = await seedSearchWorld(t.app.db.prisma);
    });
    afterAll(() => t?.close());

    const search = async (variables: Record<string, unknown>) => {
      const { data, errors } = await t.gql(SEARCH, { more: { search: variables.search }, ...variables });
      expect(errors).toBeUndefined();
      return data.tools as { totalCount: number; edges: { cursor: string; node: { name: string } }[]; pageInfo: any };
    };
    const names = (page: { edges: { node: { name: string } }[] }) => page.edges.map((e) => e.node.name);

    test('matches name, title and description case-insensitively, matches in the name first', async () => {
      const page = await search({ search: 'DePloy' });
      // Enabled entries of live gateways only, as every listing by default.
      // Matches in the name (deploy, redeploy_service) come before matches in a title or description, each group in name order.
      expect(names(page)).toEqual(['live__deploy', 'live__redeploy_service', 'live__notes', 'live__status']);
      expect(page.totalCount).toBe(4);
    });

    test('the listing filters still apply: unavailable gateways and disabled entries when asked, one gateway', async () => {
      const { data } = await t.gql(
        `query($id: ID!) {
          all: tools(filter: { search: "deploy", includeUnavailable: true }) { totalCount edges { node { name gateway { name } } } }
          one: tools(filter: { search: "deploy", gatewayId: $id, gatewayStatus: [UNREACHABLE] }) { totalCount edges { node { name } } }
        }`,
        { id: Buffer.from(`Gateway:${world.down.id}`).toString('base64') },
      );
      expect(data.all.totalCount).toBe(6);
      expect(new Set(names(data.all))).toEqual(new Set(['live__deploy', 'live__redeploy_service', 'live__status', 'live__notes', 'live__hidden_deploy', 'down__deploy']));
      expect(names(data.one)).toEqual(['down__deploy']);
      // Every field of a node answers, its gateway included.
      for (const { node } of data.all.edges) expect(node.gateway.name).toBe(node.name.split('__')[0]);
      expect(data.one.totalCount).toBe(1);
    });

    test('a page with its totalCount is three statements: the qualifying gateways (asked once), the page, the bounded count', async () => {
      statements = [];
      const { data } = await t.gql(`{ tools(first: 5, filter: { search: "widget" }) { totalCount edges { node { name } } } }`);
      expect(data.tools.edges).toHaveLength(5);
      expect(statements.filter((s) => !/ILIKE/.test(s))).toHaveLength(1);
      expect(statements).toHaveLength(3);
    });

    test('a page reads only the columns the query selects under node, through fragments', async () => {
      // The columns the page's statement reads: its outer SELECT list.
      const pageColumns = () => statements.filter((s) => /UNION ALL/.test(s)).map((s) => /^\s*SELECT (.*?) FROM \(/s.exec(s)![1]);
      statements = [];
      const thin = await t.gql(`{ tools(first: 2, filter: { search: "deploy" }) { edges { node { id name } } } }`);
      expect(thin.errors).toBeUndefined();
      expect(names(thin.data.tools)).toEqual(['live__deploy', 'live__redeploy_service']);
      expect(pageColumns()).toEqual(['e."id" AS "id", e."name" AS "name"']);

      await t.app.db.prisma.tool.updateMany({ where: { name: 'live__deploy' }, data: { inputSchema: { type: 'object', required: ['ref'] } } });
      statements = [];
      const rich = await t.gql(`
        fragment Schema on Tool { inputSchema }
        { tools(first: 1, filter: { search: "deploy" }) { edges { node { ...Schema ... on CatalogEntry { createdAt } gateway { name } } } } }`);
      expect(rich.errors).toBeUndefined();
      expect(pageColumns()).toEqual(['e."id" AS "id", e."input_schema" AS "inputSchema", e."created_at" AS "createdAt"']);
      const node = rich.data.tools.edges[0].node;
      // JSON as JSON, dates as dates, and the gateway through its own field.
      expect(node.inputSchema).toEqual({ type: 'object', required: ['ref'] });
      expect(new Date(node.createdAt).toISOString()).toBe(node.createdAt);
      expect(node.gateway.name).toBe('live');
    });

    test("LIKE's own characters in the text match only themselves", async () => {
      expect(names(await search({ search: '50%' }))).toEqual(['live__discount']);
      expect(names(await search({ search: 'a_b' }))).toEqual(['live__snake']);
    });

    test('pages forward and backward through the ranked matches, each once', async () => {
      const all = names(await search({ search: 'widget', first: 100 }));
      // The 30 with it in their name, then the 5 with it in their description only: pages cross the boundary.
      expect(all).toEqual([
        ...Array.from({ length: 30 }, (_, i) => `live__widget_${String(i).padStart(2, '0')}`),
        ...Array.from({ length: 5 }, (_, i) => `live__gadget_${i}`),
      ]);

      const forward: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await search({ search: 'widget', first: 7, after });
        forward.push(...names(page));
        expect(page.pageInfo.hasPreviousPage).toBe(after !== undefined);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(forward).toEqual(all);

      const backward: string[] = [];
      let before: string | undefined;
      for (;;) {
        const page = await search({ search: 'widget', last: 8, before });
        backward.unshift(...names(page));
        if (!page.pageInfo.hasPreviousPage) break;
        before = page.pageInfo.startCursor;
      }
      expect(backward).toEqual(all);
    });

    test('totalCount of a search counts at most SEARCH_COUNT_LIMIT matches; without a search it is exact', async () => {
      expect((await search({ search: 'widget', first: 5 })).totalCount).toBe(20);
      const { data } = await t.gql(`{ tools { totalCount } }`);
      expect(data.tools.totalCount).toBe(44); // the enabled tools of the live gateway
    });

    test('a search text longer than SEARCH_MAX_CHARS is refused as bad input', async () => {
      const { data, errors } = await t.gql(`query($s: String!) { tools(filter: { search: $s }) { totalCount } }`, { s: 'x'.repeat(41) });
      expect(data).toBeNull();
      expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(errors?.[0]?.message).toMatch(/41 characters.*at most 40 \(SEARCH_MAX_CHARS\)/);
    });

    test('a blank search text lists everything in the listing order', async () => {
      const { data } = await t.gql(`{ tools(filter: { search: "   " }, first: 3) { totalCount edges { node { name } } } }`);
      expect(data.tools.totalCount).toBe(44); // the enabled tools of the live gateway
      expect(names(data.tools)).toEqual(['live__deploy', 'live__discount', 'live__discount_any']);
    });

    test('resources, templates and prompts are searched the same way', async () => {
      const prisma = t.app.db.prisma;
      const id = world.live.id;
      await prisma.resource.createMany({ data: [{ gatewayId: id, uri: 'file:///a', name: 'alpha', title: 'Quarterly report' }, { gatewayId: id, uri: 'file:///b', name: 'beta' }] });
      await prisma.resourceTemplate.createMany({ data: [{ gatewayId: id, uriTemplate: 'file:///{x}', name: 'gamma', description: 'the QUARTERLY numbers' }] });
      await prisma.prompt.createMany({ data: [{ gatewayId: id, name: 'live__quarterly', originalName: 'quarterly' }, { gatewayId: id, name: 'live__other', originalName: 'other' }] });
      const { data } = await t.gql(`{
        resources(filter: { search: "quarterly" }) { totalCount edges { node { name } } }
        resourceTemplates(filter: { search: "quarterly" }) { totalCount edges { node { name } } }
        prompts(filter: { search: "quarterly" }) { totalCount edges { node { name } } }
      }`);
      expect(names(data.resources)).toEqual(['alpha']);
      expect(names(data.resourceTemplates)).toEqual(['gamma']);
      expect(names(data.prompts)).toEqual(['live__quarterly']);
      expect([data.resources.totalCount, data.resourceTemplates.totalCount, data.prompts.totalCount]).toEqual([1, 1, 1]);
    });

    async function plan(where: string, table: string) {
      const rows = await t.app.db.sql.transaction(async (tx) => {
        // Only whether an index can serve it: with other plans priced out, the planner uses one if it can.
        await tx.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off');
        return tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT e.id FROM ${table} e WHERE ${where}`);
      });
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    }

    test.each(['tool', 'resource', 'resource_template', 'prompt'])('the search text and the name of %s are each served by a trigram index', async (table) => {
      expect(await plan(`${SEARCH_TEXT_SQL} ILIKE '%quarterly%'`, table)).toContain(`${table}_search_idx`);
      expect(await plan(`e.name ILIKE '%quarterly%'`, table)).toContain(`${table}_name_search_idx`);
    });
  });
});
