// A page of 50 gateways with the first 20 tools of each costs the same number
// of SQL statements whatever the number of gateways and tools.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../gql/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { seedToolWorld } from '../helpers/seed.js';

const GatewaysWithTools = graphql(`
  query GatewaysWithTools {
    gateways(first: 50) {
      totalCount
      edges {
        node {
          name
          status
          tools(first: 20) {
            totalCount
            edges { node { name } }
          }
        }
      }
    }
  }
`);

let t: TestApp;
let statements: string[] = [];
beforeAll(async () => {
  t = await startTestApp({ onQuery: (sql) => statements.push(sql) });
});
afterAll(() => t?.close());

async function firstPage() {
  statements = [];
  const { data, errors } = await t.request(GatewaysWithTools);
  expect(errors).toBeUndefined();
  return { gateways: data!.gateways, statements: [...statements] };
}

test('a page of 50 gateways with 20 tools each is 3 statements, small world or large', async () => {
  await seedToolWorld(t.app.db.prisma, 'm', 50, 30);
  const small = await firstPage();
  expect(small.gateways.totalCount).toBe(50);
  expect(small.gateways.edges).toHaveLength(50);
  for (const { node } of small.gateways.edges) {
    expect(node.tools.totalCount).toBe(30);
    expect(node.tools.edges.map((e) => e.node.name)).toEqual(
      Array.from({ length: 20 }, (_, i) => `${node.name}__t${String(i).padStart(3, '0')}`),
    );
  }

  // Larger gateways that sort first, so the page is now made of them.
  await seedToolWorld(t.app.db.prisma, 'b', 60, 60);
  const large = await firstPage();
  expect(large.gateways.totalCount).toBe(110);
  expect(large.gateways.edges.map((e) => e.node.name)).toEqual(Array.from({ length: 50 }, (_, i) => `b${String(i).padStart(3, '0')}`));
  for (const { node } of large.gateways.edges) {
    expect(node.tools.totalCount).toBe(60);
    expect(node.tools.edges).toHaveLength(20);
  }

  // The page of gateways, their total, and one statement for the first tools of
  // every gateway with their counts (joined laterally): 3, whatever the sizes.
  expect(small.statements).toHaveLength(3);
  expect(large.statements).toHaveLength(small.statements.length);
  // The tool counts are read from catalog_count: no statement counts tool rows.
  const counting = large.statements.filter((s) => /count\(/i.test(s));
  expect(counting.length).toBeGreaterThan(0); // the gateways' own total
  for (const statement of counting) expect(statement).not.toMatch(/"tool"/);
  // Each gateway's tools are limited in SQL, not read whole and cut in memory.
  const page = large.statements.find((s) => /"tool"/.test(s)) ?? '';
  expect(page).toMatch(/LATERAL/);
  expect(page).toMatch(/LIMIT/);
  // Only what was asked for is read: never the sealed peer credentials.
  expect(large.statements.join('\n')).not.toMatch(/auth_secret/);
});
