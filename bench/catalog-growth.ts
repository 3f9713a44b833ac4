// The read path over a large catalog: the queries a dashboard and an MCP client
// make, timed one at a time through the GraphQL API over N gateways × M tools
// that the database seeds itself.
// Usage: npx tsx bench/catalog-growth.ts [--backend postgres|pglite] [--gateways 100] [--tools-per-gateway 10000] [--runs 5] [--explain] [--wait-idle 0]
// --explain (PostgreSQL): for each query, the SQL statements the API sent and
// their EXPLAIN (ANALYZE, BUFFERS), on stderr; stdout keeps its one JSON line.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../test/helpers/app.js';
import { BROAD_WORD, openBenchDatabase, postGraphQL, RARE_WORD, seedCatalog, settle, slugOf, type Backend } from './catalog-seed.js';
import { runConditions } from './idle.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'postgres' },
    gateways: { type: 'string', default: '100' },
    'tools-per-gateway': { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    'batch-rows': { type: 'string', default: '100000' },
    explain: { type: 'boolean', default: false },
    'wait-idle': { type: 'string', default: '0' },
  },
});
const backend = values.backend as Backend;
const gateways = Number(values.gateways);
const perGateway = Number(values['tools-per-gateway']);
const runs = Number(values.runs);
const total = gateways * perGateway;
// --wait-idle S: first wait (at most S seconds) for 9 s of a CPU at least 90% idle.
const conditions = await runConditions(Number(values['wait-idle']));
const log = (message: string) => process.stderr.write(`[catalog-growth] ${message}\n`);

const database = await openBenchDatabase(backend);
let seedMs = 0;
let settleMs = 0;
try {
  let start = performance.now();
  await seedCatalog(database.sql, {
    gateways,
    toolsPerGateway: perGateway,
    batchRows: Number(values['batch-rows']),
    onProgress: (written) => log(`${written.toLocaleString('en')} tools written, ${Math.round((performance.now() - start) / 1000)} s`),
  });
  seedMs = performance.now() - start;
  start = performance.now();
  await settle(database.sql);
  settleMs = performance.now() - start;
  log(`seeded in ${Math.round(seedMs)} ms, VACUUM ANALYZE ${Math.round(settleMs)} ms`);
} catch (error) {
  await database.close();
  throw error;
}

const adminToken = randomBytes(24).toString('hex');
const config = loadConfig({ LOG_LEVEL: 'warn', ADMIN_TOKEN: adminToken, SECRET_KEY: randomBytes(32).toString('base64'), HEALTH_CHECKS: 'false' });
const app = await createApp(config, { database, logger: silentLogger('warn'), announce: () => undefined });
const gql = <T = any>(query: string, variables?: Record<string, unknown>) =>
  postGraphQL<T>((url, init) => app.yoga.fetch(url, init), 'http://localhost/graphql', adminToken, query, variables);

// What the seeding must have produced, as the API counts it. A read path that
// maintains counts outside the database (in the app's write path) would answer
// wrong totals over rows seeded by SQL: better to stop than to time them.
const rareCount = total > 337 ? Math.floor((total - 1 - 337) / 1000) + 1 : 0;
const broadCount = total - Math.ceil(total / 10);
const expected = { tools: total, rare: rareCount, broad: broadCount, perGateway };

interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Checks the answer; returns what the report shows of it. */
  check: (data: any) => unknown;
}
// A wrong answer is reported, not fatal: the read path may be mid-change (a
// search that ranks by similarity may match more rows than a substring does).
const warnings = new Set<string>();
let checking = '';
const warn = (message: string) => warnings.add(`${checking}: ${message}`);
const edges = (connection: { edges: unknown[] }, n: number) => {
  if (connection.edges.length !== n) warn(`expected ${n} edges, got ${connection.edges.length}`);
};
const totalIs = (connection: { totalCount: number }, n: number) => {
  if (connection.totalCount !== n) warn(`expected totalCount ${n}, got ${connection.totalCount}`);
  return connection.totalCount;
};

// A search's totalCount counts at most this many matches (the schema says so).
const SEARCH_COUNT_LIMIT = loadConfig({}).SEARCH_COUNT_LIMIT;

const results: Record<string, { medianMs: number; minMs: number; maxMs: number; totalCount?: unknown }> = {};
let deepOffset = 0;
const explained: string[] = [];
try {
  // A cursor deep in the list (ordered by name): the first tool of the gateway
  // at 90%, found through the API itself (by gateway, not by text search), so
  // that it is whatever cursor the API hands out.
  const deepGateway = (await database.sql.query<{ id: string }>('SELECT id::text FROM gateway WHERE slug = $1', [slugOf(Math.ceil(gateways * 0.9))]))[0]!.id;
  const found = await gql<{ tools: { edges: { cursor: string; node: { name: string } }[] } }>(
    `query ($g: ID!) { tools(first: 1, filter: { gatewayId: $g }) { edges { cursor node { name } } } }`,
    { g: Buffer.from(`Gateway:${deepGateway}`).toString('base64') },
  );
  const deepCursor = found.tools.edges[0]?.cursor;
  const deepName = found.tools.edges[0]?.node.name;
  if (!deepCursor) throw new Error(`no deep cursor: ${JSON.stringify(found).slice(0, 300)}`);
  deepOffset = Number((await database.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM tool WHERE name < $1', [deepName]))[0]!.n);

  const cases: Case[] = [
    { name: 'toolsFirst50', query: '{ tools(first: 50) { edges { node { id name } } } }', check: (d) => edges(d.tools, Math.min(50, total)) },
    {
      name: 'toolsFirst50TotalCount',
      query: '{ tools(first: 50) { totalCount edges { node { id name } } } }',
      check: (d) => (edges(d.tools, Math.min(50, total)), totalIs(d.tools, expected.tools)),
    },
    {
      name: 'searchRare',
      query: 'query ($s: String!) { tools(first: 50, filter: { search: $s }) { totalCount edges { node { id name description } } } }',
      variables: { s: RARE_WORD },
      check: (d) => (edges(d.tools, Math.min(50, expected.rare)), totalIs(d.tools, Math.min(expected.rare, SEARCH_COUNT_LIMIT))),
    },
    {
      name: 'searchBroad',
      query: 'query ($s: String!) { tools(first: 50, filter: { search: $s }) { totalCount edges { node { id name description } } } }',
      variables: { s: BROAD_WORD },
      check: (d) => (edges(d.tools, Math.min(50, expected.broad)), totalIs(d.tools, Math.min(expected.broad, SEARCH_COUNT_LIMIT))),
    },
    {
      name: 'gatewaysNested',
      query:
        '{ gateways(first: 50) { totalCount edges { node { id name tools(first: 20) { totalCount edges { node { id name description } } } } } } }',
      check: (d) => {
        edges(d.gateways, Math.min(50, gateways));
        totalIs(d.gateways, gateways);
        for (const e of d.gateways.edges) edges(e.node.tools, Math.min(20, perGateway)), totalIs(e.node.tools, perGateway);
        return gateways;
      },
    },
    {
      name: 'federationCounts',
      query: '{ federation { catalog { tools resources resourceTemplates prompts } gateways { active disabled unreachable } } }',
      check: (d) => {
        if (d.federation.catalog.tools !== total || d.federation.gateways.active !== gateways) {
          warn(`federation counts ${JSON.stringify(d.federation)}, expected ${total} tools and ${gateways} active gateways`);
        }
        return d.federation.catalog.tools;
      },
    },
    {
      name: 'toolsDeepPage',
      query: 'query ($after: String!) { tools(first: 50, after: $after) { edges { node { id name } } } }',
      variables: { after: deepCursor },
      check: (d) => edges(d.tools, Math.min(50, total - deepOffset - 1)),
    },
  ];

  for (const c of cases) {
    checking = c.name;
    const once = async () => {
      const start = performance.now();
      const data = await gql(c.query, c.variables);
      const ms = performance.now() - start;
      return { ms, shown: c.check(data) };
    };
    const warm = await once();
    const times: number[] = [];
    for (let run = 0; run < runs; run++) times.push((await once()).ms);
    results[c.name] = {
      medianMs: Number(median(times).toFixed(2)),
      minMs: Number(Math.min(...times).toFixed(2)),
      maxMs: Number(Math.max(...times).toFixed(2)),
      ...(warm.shown !== undefined ? { totalCount: warm.shown } : {}),
    };
    log(`${c.name}: ${results[c.name]!.medianMs} ms`);
    if (values.explain && backend === 'postgres') explained.push(await explain(c.name, () => gql(c.query, c.variables)));
  }
} finally {
  await app.close();
}
if (explained.length) process.stderr.write(`${explained.join('\n')}\n`);
for (const warning of warnings) log(`WARNING ${warning}`);

console.log(
  JSON.stringify({
    backend,
    ...conditions.report(),
    gateways,
    toolsPerGateway: perGateway,
    tools: total,
    runs,
    seedMs: Math.round(seedMs),
    settleMs: Math.round(settleMs),
    deepOffset,
    rareMatches: expected.rare,
    broadMatches: expected.broad,
    queries: results,
    ...(warnings.size ? { warnings: [...warnings] } : {}),
  }),
);

/**
 * Runs one request while recording every statement sent through pg (Prisma's
 * adapter goes through pg.Client#query), then EXPLAIN ANALYZEs each of them
 * with the same parameters.
 */
async function explain(name: string, request: () => Promise<unknown>): Promise<string> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const captured: { text: string; values: unknown[] }[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [first, second] = args;
    if (typeof first === 'object' && first !== null && 'text' in first) {
      const q = first as { text: string; values?: unknown[] };
      captured.push({ text: q.text, values: q.values ?? [] });
    } else if (typeof first === 'string') captured.push({ text: first, values: Array.isArray(second) ? second : [] });
    return original.apply(this, args);
  };
  const start = performance.now();
  try {
    await request();
  } finally {
    proto.query = original;
  }
  const lines = [`=== ${name}: ${(performance.now() - start).toFixed(1)} ms, ${captured.length} statement(s)`];
  for (const statement of captured) {
    if (!/^\s*(SELECT|WITH)/i.test(statement.text)) continue;
    lines.push(`--- ${statement.text.replace(/\s+/g, ' ').slice(0, 600)}`);
    const plan = await database.sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values);
    lines.push(...plan.map((row) => `    ${row['QUERY PLAN']}`));
  }
  return lines.join('\n');
}
