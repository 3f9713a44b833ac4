// The read side of the API over each database backend: gateways, the
// federated catalog, Relay nodes. The world is seeded once per backend (see
// seedReadWorld); every test only reads it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GatewayStatus } from '../gql/graphql.js';
import { graphql } from '../gql/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends } from '../helpers/db.js';
import { CHECKED_AT, SEEN_AT, seedReadWorld } from '../helpers/seed.js';

const GatewayById = graphql(`
  query GatewayById($id: ID!) {
    gateway(id: $id) {
      id name slug url transport description tags enabled reachable status capabilities protocolVersion
      serverInfo instructions lastSeenAt lastCheckedAt consecutiveFailures lastError createdAt updatedAt
      tools(first: 2) { totalCount edges { node { name } } }
      resources { totalCount edges { node { uri } } }
      resourceTemplates { totalCount edges { node { uriTemplate } } }
      prompts { totalCount edges { node { name } } }
    }
  }
`);

const Gateways = graphql(`
  query Gateways($filter: GatewayFilter) {
    gateways(filter: $filter) { totalCount edges { node { id name status } } }
  }
`);

const Catalog = graphql(`
  query Catalog($filter: CatalogFilter) {
    tools(filter: $filter) { totalCount edges { node { name } } }
    resources(filter: $filter) { totalCount edges { node { uri } } }
    resourceTemplates(filter: $filter) { totalCount edges { node { uriTemplate } } }
    prompts(filter: $filter) { totalCount edges { node { name } } }
  }
`);

const Node = graphql(`
  query Node($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Gateway { name }
      ... on Tool { name gateway { name } }
      ... on Resource { uri gateway { name } }
      ... on ResourceTemplate { uriTemplate gateway { name } }
      ... on Prompt { name gateway { name } }
    }
  }
`);

const CatalogIds = graphql(`
  query CatalogIds($gatewayId: ID!) {
    tools(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }
    resources(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }
    resourceTemplates(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }
    prompts(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }
  }
`);

for (const backend of backends) {
  describe.runIf(backendAvailable(backend))(`read API on ${backend}`, () => {
    let t: TestApp;
    let world: Awaited<ReturnType<typeof seedReadWorld>>;
    const globalIds: Record<string, string> = {};

    beforeAll(async () => {
      t = await startTestApp({ backend });
      world = await seedReadWorld(t.app.db.prisma);
      const { data } = await t.request(Gateways);
      for (const { node } of data!.gateways.edges) globalIds[node.name] = node.id;
    });
    afterAll(() => t?.close());

    async function ok<T>(response: Promise<{ data?: T; errors?: unknown }>): Promise<T> {
      const { data, errors } = await response;
      expect(errors).toBeUndefined();
      return data!;
    }

    test('gateway(id:) resolves every field of a gateway and its nested connections', async () => {
      const { gateway } = await ok(t.request(GatewayById, { id: globalIds.alpha! }));
      expect(gateway).toEqual({
        id: globalIds.alpha,
        name: 'alpha',
        slug: 'alpha',
        url: 'http://127.0.0.1:9/alpha',
        transport: 'STREAMABLE_HTTP',
        description: 'Weather forecasts',
        tags: ['prod', 'eu'],
        enabled: true,
        reachable: true,
        status: 'ACTIVE',
        capabilities: { tools: { listChanged: true }, prompts: {} },
        protocolVersion: '2025-11-25',
        serverInfo: { name: 'alpha-server', version: '1.2.3' },
        instructions: 'Ask about the weather.',
        lastSeenAt: SEEN_AT.toISOString(),
        lastCheckedAt: CHECKED_AT.toISOString(),
        consecutiveFailures: 0,
        lastError: null,
        createdAt: world.alpha.createdAt.toISOString(),
        updatedAt: world.alpha.updatedAt.toISOString(),
        tools: { totalCount: 5, edges: [{ node: { name: 'alpha__t000' } }, { node: { name: 'alpha__t001' } }] },
        resources: {
          totalCount: 3,
          edges: ['r000', 'r001', 'r002'].map((r) => ({ node: { uri: `file:///alpha/${r}` } })),
        },
        resourceTemplates: {
          totalCount: 2,
          edges: ['x000', 'x001'].map((x) => ({ node: { uriTemplate: `file:///alpha/${x}/{id}` } })),
        },
        prompts: { totalCount: 2, edges: [{ node: { name: 'alpha__p000' } }, { node: { name: 'alpha__p001' } }] },
      });
    });

    test('gateway(id:) reports the health fields of an unreachable gateway, and null for an unknown id', async () => {
      const { gateway } = await ok(t.request(GatewayById, { id: globalIds.gamma! }));
      expect(gateway).toMatchObject({ status: 'UNREACHABLE', enabled: true, reachable: false, consecutiveFailures: 3 });
      expect(gateway).toMatchObject({ lastError: 'connect ECONNREFUSED', lastSeenAt: null, transport: 'AUTO', tags: ['eu'] });
      const unknown = Buffer.from('Gateway:0190c3a0-0000-7000-8000-000000000000').toString('base64');
      expect(await ok(t.request(GatewayById, { id: unknown }))).toEqual({ gateway: null });
    });

    test('status is derived from enabled and reachable', async () => {
      const { edges } = (await ok(t.request(Gateways))).gateways;
      expect(Object.fromEntries(edges.map((e) => [e.node.name, e.node.status]))).toEqual({
        alpha: 'ACTIVE',
        beta: 'DISABLED',
        delta: 'ACTIVE',
        epsilon: 'DISABLED',
        gamma: 'UNREACHABLE',
      });
    });

    test('gateways lists every gateway, and filters by status, tag and case-insensitive search', async () => {
      const names = async (filter: { status?: GatewayStatus[]; tag?: string; search?: string } | null) => {
        const { gateways } = await ok(t.request(Gateways, { filter }));
        expect(gateways.totalCount).toBe(gateways.edges.length);
        return gateways.edges.map((e) => e.node.name);
      };
      expect(await names(null)).toEqual(['alpha', 'beta', 'delta', 'epsilon', 'gamma']);
      expect(await names({ status: ['DISABLED'] })).toEqual(['beta', 'epsilon']);
      expect(await names({ status: ['ACTIVE', 'UNREACHABLE'] })).toEqual(['alpha', 'delta', 'gamma']);
      expect(await names({ tag: 'prod' })).toEqual(['alpha', 'beta']);
      expect(await names({ tag: 'PROD' })).toEqual([]);
      expect(await names({ search: 'FORECAST' })).toEqual(['alpha']);
      expect(await names({ search: 'aMm' })).toEqual(['gamma']);
      expect(await names({ search: 'storage', status: ['ACTIVE'] })).toEqual([]);
    });

    test('catalog connections show only entries of active gateways by default', async () => {
      const data = await ok(t.request(Catalog, {}));
      expect(data.tools.edges.map((e) => e.node.name)).toEqual([
        'alpha__t000', 'alpha__t001', 'alpha__t002', 'alpha__t003', 'alpha__t004', 'delta__lookup', 'delta__t000',
      ]);
      expect(data.resources.edges.map((e) => e.node.uri)).toEqual([
        'file:///alpha/r000', 'file:///alpha/r001', 'file:///alpha/r002', 'file:///delta/r000',
      ]);
      expect(data.resourceTemplates.edges.map((e) => e.node.uriTemplate)).toEqual([
        'file:///alpha/x000/{id}', 'file:///alpha/x001/{id}', 'file:///delta/x000/{id}',
      ]);
      expect(data.prompts.edges.map((e) => e.node.name)).toEqual(['alpha__p000', 'alpha__p001', 'delta__p000']);
      expect([data.tools, data.resources, data.resourceTemplates, data.prompts].map((c) => c.totalCount)).toEqual([7, 4, 3, 3]);
    });

    test('includeUnavailable shows the entries of disabled and unreachable gateways too', async () => {
      const data = await ok(t.request(Catalog, { filter: { includeUnavailable: true } }));
      expect([data.tools, data.resources, data.resourceTemplates, data.prompts].map((c) => c.totalCount)).toEqual([11, 6, 5, 5]);
      expect(data.prompts.edges.map((e) => e.node.name)).toEqual(['alpha__p000', 'alpha__p001', 'beta__p000', 'delta__p000', 'gamma__p000']);
      expect(data.tools.edges.map((e) => e.node.name)).toContain('gamma__t001');
    });

    test('catalog filters: gateway status, tag, gateway id and case-insensitive search', async () => {
      const toolNames = async (filter: Record<string, unknown>) => {
        const { tools } = await ok(t.request(Catalog, { filter }));
        expect(tools.totalCount).toBe(tools.edges.length);
        return tools.edges.map((e) => e.node.name);
      };
      // An explicit status asks for those gateways, hidden by default or not.
      expect(await toolNames({ gatewayStatus: ['DISABLED'] })).toEqual(['beta__t000', 'beta__t001']);
      expect(await toolNames({ gatewayStatus: ['UNREACHABLE'] })).toEqual(['gamma__t000', 'gamma__t001']);
      expect(await toolNames({ tag: 'eu' })).toHaveLength(5);
      expect(await toolNames({ tag: 'eu', includeUnavailable: true })).toEqual([
        'alpha__t000', 'alpha__t001', 'alpha__t002', 'alpha__t003', 'alpha__t004', 'gamma__t000', 'gamma__t001',
      ]);
      expect(await toolNames({ gatewayId: globalIds.delta })).toEqual(['delta__lookup', 'delta__t000']);
      expect(await toolNames({ gatewayId: globalIds.beta })).toEqual([]);
      expect(await toolNames({ gatewayId: globalIds.beta, includeUnavailable: true })).toEqual(['beta__t000', 'beta__t001']);
      expect(await toolNames({ search: 'LOOKUP' })).toEqual(['delta__lookup']);
      expect(await toolNames({ search: 'city' })).toEqual(['delta__lookup']);
      expect(await toolNames({ search: 'T00', gatewayId: globalIds.alpha })).toHaveLength(5);
      const resources = await ok(t.request(Catalog, { filter: { search: 'R001' } }));
      expect(resources.resources.edges.map((e) => e.node.uri)).toEqual(['file:///alpha/r001']);
    });

    test('node(id:) resolves a Gateway, Tool, Resource, ResourceTemplate and Prompt', async () => {
      const node = async (id: string) => (await ok(t.request(Node, { id }))).node;
      expect(await node(globalIds.beta!)).toEqual({ __typename: 'Gateway', id: globalIds.beta, name: 'beta' });
      const ids = await ok(t.request(CatalogIds, { gatewayId: globalIds.alpha! }));
      const gateway = { name: 'alpha' };
      expect(await node(ids.tools.edges[0]!.node.id)).toMatchObject({ __typename: 'Tool', name: 'alpha__t000', gateway });
      expect(await node(ids.resources.edges[0]!.node.id)).toMatchObject({ __typename: 'Resource', uri: 'file:///alpha/r000', gateway });
      expect(await node(ids.resourceTemplates.edges[0]!.node.id)).toMatchObject({
        __typename: 'ResourceTemplate',
        uriTemplate: 'file:///alpha/x000/{id}',
        gateway,
      });
      expect(await node(ids.prompts.edges[0]!.node.id)).toMatchObject({ __typename: 'Prompt', name: 'alpha__p000', gateway });
      expect(await node(Buffer.from('Tool:0190c3a0-0000-7000-8000-000000000000').toString('base64'))).toBeNull();
    });
  });
}
