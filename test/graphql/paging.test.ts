// Relay paging of every connection, walked forwards (first/after) and
// backwards (last/before), page by page, with exact pageInfo and totalCount.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { graphql } from '../gql/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends } from '../helpers/db.js';
import { seedReadWorld } from '../helpers/seed.js';

// Each document aliases its sort key to `key`, so one walker serves them all.
const Gateways = graphql(`
  query PageGateways($first: Int, $after: String, $last: Int, $before: String) {
    connection: gateways(first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }
    }
  }
`);
const Tools = graphql(`
  query PageTools($first: Int, $after: String, $last: Int, $before: String) {
    connection: tools(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }
    }
  }
`);
const Resources = graphql(`
  query PageResources($first: Int, $after: String, $last: Int, $before: String) {
    connection: resources(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uri } }
    }
  }
`);
const Templates = graphql(`
  query PageResourceTemplates($first: Int, $after: String, $last: Int, $before: String) {
    connection: resourceTemplates(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uriTemplate } }
    }
  }
`);
const Prompts = graphql(`
  query PagePrompts($first: Int, $after: String, $last: Int, $before: String) {
    connection: prompts(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }
    }
  }
`);
const GatewayTools = graphql(`
  query PageGatewayTools($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    gateway(id: $id) {
      connection: tools(first: $first, after: $after, last: $last, before: $before) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }
      }
    }
  }
`);

interface PageArgs {
  first?: number;
  after?: string | null;
  last?: number;
  before?: string | null;
}
interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor?: string | null; endCursor?: string | null };
  edges: { cursor: string; node: { key: string } }[];
}

const alpha = (kind: string) => Array.from({ length: 5 }, (_, i) => `alpha__${kind}00${i}`);
const EXPECTED: Record<string, string[]> = {
  gateways: ['alpha', 'beta', 'delta', 'epsilon', 'gamma'],
  tools: [...alpha('t'), 'beta__t000', 'beta__t001', 'delta__lookup', 'delta__t000', 'gamma__t000', 'gamma__t001'],
  resources: ['alpha/r000', 'alpha/r001', 'alpha/r002', 'beta/r000', 'delta/r000', 'gamma/r000'].map((r) => `file:///${r}`),
  resourceTemplates: ['alpha/x000', 'alpha/x001', 'beta/x000', 'delta/x000', 'gamma/x000'].map((x) => `file:///${x}/{id}`),
  prompts: ['alpha__p000', 'alpha__p001', 'beta__p000', 'delta__p000', 'gamma__p000'],
  'gateway.tools': alpha('t'),
};

/** Splits keys into pages of `size`; backwards, the short page is the first one. */
function chunks(keys: string[], size: number, backwards: boolean): string[][] {
  const pages: string[][] = [];
  if (backwards) for (let end = keys.length; end > 0; end -= size) pages.push(keys.slice(Math.max(0, end - size), end));
  else for (let start = 0; start < keys.length; start += size) pages.push(keys.slice(start, start + size));
  return pages;
}

async function walk(fetchPage: (args: PageArgs) => Promise<Page>, size: number, backwards: boolean): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await fetchPage(backwards ? { last: size, before: cursor } : { first: size, after: cursor });
    pages.push(page);
    const more = backwards ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage;
    if (!more || pages.length > 20) return pages;
    cursor = (backwards ? page.pageInfo.startCursor : page.pageInfo.endCursor) ?? null;
  }
}

function expectPages(pages: Page[], keys: string[], size: number, backwards: boolean): void {
  const expected = chunks(keys, size, backwards);
  expect(pages.map((p) => p.edges.map((e) => e.node.key))).toEqual(expected);
  pages.forEach((page, i) => {
    const first = i === 0;
    const last = i === expected.length - 1;
    expect(page.totalCount).toBe(keys.length);
    expect(page.pageInfo).toEqual({
      hasNextPage: backwards ? !first : !last,
      hasPreviousPage: backwards ? !last : !first,
      startCursor: page.edges[0]!.cursor,
      endCursor: page.edges.at(-1)!.cursor,
    });
  });
}

for (const backend of backends) {
  describe.runIf(backendAvailable(backend))(`paging on ${backend}`, () => {
    let t: TestApp;
    let alphaId: string;
    beforeAll(async () => {
      t = await startTestApp({ backend });
      await seedReadWorld(t.app.db.prisma);
      alphaId = (await t.gql('{ gateways(first: 1) { edges { node { id } } } }')).data.gateways.edges[0].node.id;
    });
    afterAll(() => t?.close());

    const fetchers: Record<string, (args: PageArgs) => Promise<Page>> = {
      gateways: async (args) => ok(await t.request(Gateways, args)).connection,
      tools: async (args) => ok(await t.request(Tools, args)).connection,
      resources: async (args) => ok(await t.request(Resources, args)).connection,
      resourceTemplates: async (args) => ok(await t.request(Templates, args)).connection,
      prompts: async (args) => ok(await t.request(Prompts, args)).connection,
      'gateway.tools': async (args) => ok(await t.request(GatewayTools, { id: alphaId, ...args })).gateway!.connection,
    };

    test.each(Object.keys(fetchers))('%s pages forwards and backwards with stable cursors', async (name) => {
      const keys = EXPECTED[name]!;
      const forwards = await walk(fetchers[name]!, 2, false);
      expectPages(forwards, keys, 2, false);
      const backwards = await walk(fetchers[name]!, 2, true);
      expectPages(backwards, keys, 2, true);
      // A node has one cursor, whichever way it was reached.
      const cursors = (pages: Page[]) => new Map(pages.flatMap((p) => p.edges.map((e) => [e.node.key, e.cursor])));
      expect(cursors(backwards)).toEqual(cursors(forwards));
    });
  });
}

function ok<T>(response: { data?: T; errors?: unknown }): T {
  expect(response.errors).toBeUndefined();
  return response.data!;
}
