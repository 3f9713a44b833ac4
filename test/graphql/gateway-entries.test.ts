// Gateway.tools and its siblings read a whole page of gateways' entries in one
// statement, only the columns the query selects, and still answer every field.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends } from '../helpers/db.js';
import { seedGateway } from '../helpers/seed.js';

describe.each(backends)('gateway entry connections on %s', (backend) => {
  describe.runIf(backendAvailable(backend))('', () => {
    let t: TestApp;
    let statements: string[] = [];
    beforeAll(async () => {
      t = await startTestApp({ backend, onQuery: (sql) => statements.push(sql) });
      const prisma = t.app.db.prisma;
      for (const name of ['g1', 'g2', 'g3']) {
        const g = await seedGateway(prisma, { name });
        await prisma.tool.createMany({
          data: ['b', 'a', 'c'].map((n) => ({
            gatewayId: g.id,
            name: `${name}__${n}`,
            originalName: n,
            inputSchema: { type: 'object', properties: { [n]: { type: 'string' } } },
            annotations: n === 'a' ? { readOnlyHint: true } : undefined,
          })),
        });
        await prisma.prompt.create({ data: { gatewayId: g.id, name: `${name}__p`, originalName: 'p', arguments: [{ name: 'topic', required: true }] } });
        await prisma.resource.createMany({ data: [{ gatewayId: g.id, uri: 'z://2', name: 'two', size: 9_007_199_254_740_991n }, { gatewayId: g.id, uri: 'z://1', name: 'one' }] });
      }
    });
    afterAll(() => t?.close());

    async function run(query: string, variables?: Record<string, unknown>) {
      statements = [];
      const result = await t.gql(query, variables);
      return { ...result, statements: [...statements] };
    }
    const entryStatement = (list: string[], table: string) => list.filter((s) => s.includes(`"${table}"`) && /LATERAL/.test(s));

    test('reads only the columns selected under node, through fragments', async () => {
      const thin = await run(`{ gateways { edges { node { tools(first: 2) { edges { node { name } } } } } } }`);
      expect(thin.errors).toBeUndefined();
      const [thinSql] = entryStatement(thin.statements, 'tool');
      expect(thinSql).toContain('"name"');
      expect(thinSql).not.toContain('input_schema');
      expect(thinSql).not.toContain('description');

      const rich = await run(`
        fragment Schema on Tool { inputSchema }
        { gateways { edges { node { tools(first: 2) { edges { node { ...Schema ... on Tool { annotations createdAt } } } } } } } }`);
      expect(rich.errors).toBeUndefined();
      const [richSql] = entryStatement(rich.statements, 'tool');
      expect(richSql).toContain('input_schema');
      expect(richSql).toContain('annotations');
      expect(richSql).toContain('created_at');
      const first = rich.data.gateways.edges[0].node.tools.edges[0].node;
      // JSON comes back as JSON and dates as dates, as through the ORM.
      expect(first.inputSchema).toEqual({ type: 'object', properties: { a: { type: 'string' } } });
      expect(first.annotations).toEqual({ readOnlyHint: true });
      expect(new Date(first.createdAt).toISOString()).toBe(first.createdAt);
    });

    test('every kind, in its own order, with its total, its typed fields and the owning gateway', async () => {
      const { data, errors } = await run(`{
        gateways {
          edges { node {
            name
            tools(first: 2) { totalCount edges { node { name gateway { name } } } pageInfo { hasNextPage } }
            prompts { totalCount edges { node { name arguments { name required } } } }
            resources { totalCount edges { node { uri size } } }
            resourceTemplates { totalCount edges { node { uriTemplate } } }
          } }
        }
      }`);
      expect(errors).toBeUndefined();
      for (const { node } of data.gateways.edges) {
        expect(node.tools.totalCount).toBe(3);
        expect(node.tools.edges.map((e: any) => e.node.name)).toEqual([`${node.name}__a`, `${node.name}__b`]);
        expect(node.tools.edges[0].node.gateway.name).toBe(node.name);
        expect(node.tools.pageInfo.hasNextPage).toBe(true);
        expect(node.prompts.edges[0].node.arguments).toEqual([{ name: 'topic', required: true }]);
        expect(node.resources.edges.map((e: any) => e.node.uri)).toEqual(['z://1', 'z://2']);
        expect(node.resources.edges[1].node.size).toBe(9_007_199_254_740_991);
        expect(node.resourceTemplates).toEqual({ totalCount: 0, edges: [] });
      }
    });

    test('two pages of the same kind with different arguments in one query each get their own', async () => {
      const { data, errors, statements: sent } = await run(`{
        gateways { edges { node { name one: tools(first: 1) { edges { node { name } } } all: tools(first: 10) { edges { node { name } } } } } }
      }`);
      expect(errors).toBeUndefined();
      for (const { node } of data.gateways.edges) {
        expect(node.one.edges.map((e: any) => e.node.name)).toEqual([`${node.name}__a`]);
        expect(node.all.edges).toHaveLength(3);
      }
      expect(entryStatement(sent, 'tool')).toHaveLength(2);
    });

    test('an empty page past the end answers the cursor it was asked from, as Pothos does', async () => {
      const first = await run(`{ gateways(first: 1) { edges { node { tools(first: 3) { edges { cursor } pageInfo { endCursor hasNextPage } } } } } }`);
      const tools = first.data.gateways.edges[0].node.tools;
      expect(tools.pageInfo).toEqual({ endCursor: tools.edges[2].cursor, hasNextPage: false });
      const after = tools.pageInfo.endCursor as string;
      const { data } = await run(`query($after: String) { gateways(first: 1) { edges { node { tools(first: 2, after: $after) { edges { cursor } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } } } } }`, { after });
      expect(data.gateways.edges[0].node.tools).toEqual({ edges: [], pageInfo: { startCursor: after, endCursor: after, hasNextPage: false, hasPreviousPage: true } });
    });

    test('a cursor that is not one is refused as bad input', async () => {
      const { errors } = await run(`{ gateways { edges { node { tools(after: "bm90IGEgY3Vyc29y") { totalCount } } } } }`);
      expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(errors?.[0]?.message).toMatch(/invalid cursor/);
    });
  });
});

test('node ids resolve synchronously, to the same global id Relay decodes', async () => {
  const { schema } = await import('../../src/graphql/schema.js');
  const { decodeGlobalID } = await import('@pothos/plugin-relay');
  const { GraphQLObjectType } = await import('graphql');
  for (const name of ['Gateway', 'Tool', 'Resource', 'ResourceTemplate', 'Prompt', 'ApiToken']) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLObjectType)) throw new Error(name);
    // A promise per node takes graphql-js off its synchronous path for the whole page.
    const id = type.getFields().id!.resolve!({ id: '0190f5d2-7000-7000-8000-000000000001' }, {}, {}, {} as never);
    expect(typeof id).toBe('string');
    expect(decodeGlobalID(id as string)).toEqual({ typename: name, id: '0190f5d2-7000-7000-8000-000000000001' });
  }
});

test('global ids are Pothos\' encoding, for ASCII ids and for any other text', async () => {
  const { encodeGlobalId } = await import('../../src/graphql/global-id.js');
  const { encodeGlobalID, decodeGlobalID } = await import('@pothos/plugin-relay');
  for (const [typename, id] of [['Tool', '0190f5d2-7000-7000-8000-000000000001'], ['Tool', 'é✓ 𝄞'], ['Gateway', 'x'], ['Prompt', '\u00ff']] as const) {
    expect(encodeGlobalId(typename, id)).toBe(encodeGlobalID(typename, id));
    expect(decodeGlobalID(encodeGlobalId(typename, id))).toEqual({ typename, id });
  }
  expect(encodeGlobalId('Tool', 42)).toBe(encodeGlobalID('Tool', 42));
});
