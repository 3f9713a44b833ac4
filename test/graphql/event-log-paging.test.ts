// events(): the history, oldest first with first/after and from the newest with
// last/before, filtered by gateways, types and time, in keyset pages whose
// cost in SQL statements does not grow with the log or the page's position.
import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { EventType } from '../../src/events/event-bus.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const EVENTS = /* GraphQL */ `
  query Events($first: Int, $after: String, $last: Int, $before: String, $filter: EventFilter) {
    events(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { sequence type gatewayId occurredAt actor { name } gateway { name } } }
    }
  }
`;

const TYPES: EventType[] = ['GATEWAY_ADDED', 'GATEWAY_UPDATED', 'GATEWAY_HEALTH_CHANGED', 'TOOL_TOGGLED'];
const GATEWAYS = [randomUUID(), randomUUID(), randomUUID()];
const BASE = Date.parse('2026-01-01T00:00:00Z');
const COUNT = 600;

let t: TestApp;
let statements: string[] = [];
beforeAll(async () => {
  t = await startTestApp({ onQuery: (sql) => statements.push(sql) });
  await t.app.db.prisma.gatewayEvent.createMany({
    data: Array.from({ length: COUNT }, (_, i) => ({
      type: TYPES[i % TYPES.length]!,
      gatewayId: GATEWAYS[i % GATEWAYS.length]!,
      payload: { i },
      createdAt: new Date(BASE + i * 1000),
    })),
  });
});
afterAll(() => t?.close());

async function page(variables: Record<string, unknown>) {
  statements = [];
  const { data, errors } = await t.gql(EVENTS, variables);
  expect(errors, JSON.stringify(errors)).toBeUndefined();
  return { events: data.events, statements: [...statements] };
}

/** The sequences the database holds for a filter, oldest first. */
async function expected(where: Record<string, unknown>): Promise<string[]> {
  const rows = await t.app.db.prisma.gatewayEvent.findMany({ where, orderBy: { id: 'asc' }, select: { id: true } });
  return rows.map((r) => r.id.toString());
}

const FILTER = { gatewayIds: [encodeGlobalID('Gateway', GATEWAYS[0]!), encodeGlobalID('Gateway', GATEWAYS[1]!)], types: ['GATEWAY_ADDED', 'TOOL_TOGGLED'] };
const WHERE = { gatewayId: { in: [GATEWAYS[0]!, GATEWAYS[1]!] }, type: { in: ['GATEWAY_ADDED', 'TOOL_TOGGLED'] as EventType[] } };

test('pages forwards, oldest first, through a filtered history, with its total on every page', async () => {
  const all = await expected(WHERE);
  expect(all.length).toBeGreaterThan(100);
  const seen: string[] = [];
  let after: string | null = null;
  for (let n = 0; ; n++) {
    const { events } = await page({ first: 37, after, filter: FILTER });
    expect(events.totalCount).toBe(all.length);
    expect(events.pageInfo.hasPreviousPage).toBe(n > 0);
    for (const { node } of events.edges) {
      expect(FILTER.types).toContain(node.type);
      expect(FILTER.gatewayIds).toContain(node.gatewayId);
      expect(node.actor).toEqual({ name: 'system' });
      expect(node.gateway).toBeNull();
    }
    seen.push(...events.edges.map((e: any) => e.node.sequence));
    if (!events.pageInfo.hasNextPage) break;
    expect(events.pageInfo.endCursor).toBe(events.edges.at(-1).cursor);
    after = events.pageInfo.endCursor;
  }
  expect(seen).toEqual(all);
});

test('pages backwards from the newest with last/before, each page oldest first', async () => {
  const all = await expected(WHERE);
  const pages: string[][] = [];
  let before: string | null = null;
  for (;;) {
    const { events } = await page({ last: 37, before, filter: FILTER });
    expect(events.totalCount).toBe(all.length);
    const sequences = events.edges.map((e: any) => e.node.sequence);
    pages.unshift(sequences);
    if (!events.pageInfo.hasPreviousPage) break;
    before = events.pageInfo.startCursor;
  }
  expect(pages[pages.length - 1]).toEqual(all.slice(-37));
  expect(pages.flat()).toEqual(all);
});

test('since (inclusive) and until (exclusive) bound the time', async () => {
  const since = new Date(BASE + 100_000);
  const until = new Date(BASE + 160_000);
  const { events } = await page({ first: 100, filter: { since: since.toISOString(), until: until.toISOString() } });
  expect(events.totalCount).toBe(60);
  expect(events.edges.map((e: any) => e.node.sequence)).toEqual(await expected({ createdAt: { gte: since, lt: until } }));
  expect(events.edges[0].node.occurredAt).toBe(since.toISOString());
});

test('an unknown gateway id, a bad cursor and first with last', async () => {
  expect((await page({ first: 5, filter: { gatewayIds: ['nope'] } })).events.totalCount).toBe(0);
  const bad = await t.gql(EVENTS, { first: 5, after: 'not-a-cursor' });
  expect(bad.errors?.[0]?.message).toMatch(/invalid cursor/);
  const both = await t.gql(EVENTS, { first: 5, last: 5 });
  expect(both.errors?.[0]?.message).toMatch(/not both/);
});

test('a late page costs the same SQL statements as the first: a keyset range on the id, never an offset', async () => {
  const first = await page({ first: 50 });
  expect(first.events.totalCount).toBe(COUNT);
  const all = await expected({});
  // A cursor near the end of the log.
  const lateCursor = Buffer.from(`GatewayEvent:${all[COUNT - 60]}`).toString('base64');
  const late = await page({ first: 50, after: lateCursor });
  expect(late.events.edges.map((e: any) => e.node.sequence)).toEqual(all.slice(COUNT - 59, COUNT - 9));
  const backwards = await page({ last: 50, before: lateCursor });
  expect(backwards.events.edges.map((e: any) => e.node.sequence)).toEqual(all.slice(COUNT - 110, COUNT - 60));

  // The page, its total, and the gateways of the page (one batched lookup): 3, wherever the page is.
  expect(first.statements).toHaveLength(3);
  expect(late.statements).toHaveLength(first.statements.length);
  expect(backwards.statements).toHaveLength(first.statements.length);
  const read = late.statements.find((s) => /"gateway_event"/.test(s) && /LIMIT/.test(s)) ?? '';
  expect(read).toMatch(/"id" > /);
  expect(read).not.toMatch(/OFFSET \$?[1-9]/);
});
