// Shared by catalog-growth.ts and dashboard-load.ts: a private database, and a
// catalog of N gateways × M tools written by the database itself (one
// INSERT … SELECT over generate_series per batch), not by registering peers.
// The rows are what registration would store: ascending UUIDv7-like ids, names
// `<slug>__tool_<i>`, a title, a two-sentence description that varies with the
// row, and an input schema.
import type { Database } from '../src/db/database.js';
import type { SqlSession } from '../src/db/sql.js';
import { testDatabase } from '../test/helpers/db.js';

export type Backend = 'pglite' | 'postgres';

/**
 * Search terms with a known selectivity in every description (see seedCatalog):
 * RARE_WORD in one row of 1,000, BROAD_WORD in nine of ten. Neither occurs in a
 * tool or gateway name.
 */
export const RARE_WORD = 'quokka';
export const BROAD_WORD = 'records';

// Prime lengths, indexed by the row number modulo each: every combination occurs,
// however few rows there are.
const VERBS = ['Lists', 'Creates', 'Updates', 'Deletes', 'Searches', 'Exports', 'Imports', 'Archives', 'Validates', 'Summarizes', 'Fetches'];
const NOUNS = [
  'invoices', 'customers', 'support tickets', 'deployments', 'repositories', 'calendar events', 'documents', 'payments', 'shipments', 'alerts',
  'contacts', 'datasets', 'pull requests', 'incidents', 'orders', 'subscriptions', 'playlists', 'spreadsheets', 'user accounts',
];
/** Each about 1/13 of the rows: the dashboard's catalog search takes one of these. */
export const SYSTEMS = ['Salesforce', 'GitHub', 'Jira', 'Stripe', 'Slack', 'Google Drive', 'Zendesk', 'PagerDuty', 'Shopify', 'Notion', 'HubSpot', 'Datadog', 'Snowflake'];
/** The second sentence: all but the first carry BROAD_WORD. */
const DETAILS = [
  'Results are paginated; pass the cursor of the previous answer to continue.',
  'Returns the matching records with their identifiers and timestamps.',
  'Only records the caller may read are included.',
  'Filters the records by date range, owner and status.',
  'Use dry_run to preview the affected records without changing them.',
  'Large exports are split into several files of at most 10,000 records.',
  'Deleted records stay recoverable for thirty days.',
  'The records are sorted by their last modification, newest first.',
  'Fails with a conflict if another change to the records is in progress.',
  'At most 100 records are returned per call; narrow the query for more.',
];

const sqlArray = (values: string[]) => `ARRAY[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]`;

/** The description of the k-th tool (0-based over the whole catalog), as the seeding SQL writes it. */
export function describeTool(k: number): { title: string; description: string } {
  const verb = VERBS[k % VERBS.length]!;
  const noun = NOUNS[k % NOUNS.length]!;
  const system = SYSTEMS[k % SYSTEMS.length]!;
  const rare = k % 1000 === 337 ? ` Superseded by the ${RARE_WORD} endpoint.` : '';
  return {
    title: `${verb} ${noun} (${system})`,
    description: `${verb} ${noun} in ${system}. ${DETAILS[k % DETAILS.length]!}${rare}`,
  };
}

export const slugOf = (g: number) => `gateway-${String(g).padStart(4, '0')}`;

const INPUT_SCHEMA = JSON.stringify({
  type: 'object',
  properties: {
    query: { type: 'string', description: 'Search terms, such as status:open or owner:me.' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 30, description: 'Results per page.' },
    cursor: { type: 'string', description: 'Where the previous page ended.' },
  },
  required: ['query'],
});

export interface SeedOptions {
  gateways: number;
  toolsPerGateway: number;
  /** Rows per INSERT statement (rounded to whole gateways). */
  batchRows?: number;
  onProgress?: (toolsWritten: number) => void;
}

/**
 * Writes gateways 1..N (enabled, reachable, as a successful registration leaves
 * them) and their M tools. Ids are UUIDv7-shaped and ascend with the row, as the
 * app's do, so the primary key grows at its right edge as in production.
 */
export async function seedCatalog(sql: SqlSession, options: SeedOptions): Promise<void> {
  const { gateways, toolsPerGateway: m } = options;
  const base = Date.now() - 86_400_000; // a day ago: ids and timestamps in the past
  // 48-bit millisecond timestamp, version 7, variant 10, then a counter: valid, ordered UUIDs.
  const uuid = (ms: string, counter: string) => `(lpad(to_hex(${ms}), 12, '0') || '7000' || '8' || lpad(to_hex(${counter}), 15, '0'))::uuid`;
  await sql.exec(`
    INSERT INTO gateway (id, name, slug, url, enabled, reachable, capabilities, protocol_version, server_info,
                         negotiated_transport, last_seen_at, last_checked_at, last_latency_ms, catalog_synced_at, created_at, updated_at)
    SELECT ${uuid(`${base}::bigint`, 'g')}, 'Gateway ' || lpad(g::text, 4, '0'), 'gateway-' || lpad(g::text, 4, '0'),
           'http://127.0.0.1:9/gateway-' || lpad(g::text, 4, '0') || '/mcp', true, true,
           '{"tools": {"listChanged": true}, "logging": {}}'::jsonb, '2025-11-25',
           jsonb_build_object('name', 'peer-' || g, 'version', '1.0.0'),
           'STREAMABLE_HTTP', now(), now(), 12, now(), now(), now()
    FROM generate_series(1, ${gateways}) AS g;`);
  const perBatch = Math.max(1, Math.floor((options.batchRows ?? 100_000) / m));
  for (let first = 1; first <= gateways; first += perBatch) {
    const last = Math.min(gateways, first + perBatch - 1);
    // k: the row's number over the whole catalog, 0-based (describeTool's k).
    await sql.exec(`
      INSERT INTO tool (id, gateway_id, name, original_name, title, description, input_schema, annotations, created_at, updated_at)
      SELECT ${uuid(`${base}::bigint + 1000 + g`, 'k')}, gw.id, gw.slug || '__tool_' || i, 'tool_' || i,
             (${sqlArray(VERBS)})[1 + k % ${VERBS.length}] || ' ' || (${sqlArray(NOUNS)})[1 + k % ${NOUNS.length}]
               || ' (' || (${sqlArray(SYSTEMS)})[1 + k % ${SYSTEMS.length}] || ')',
             (${sqlArray(VERBS)})[1 + k % ${VERBS.length}] || ' ' || (${sqlArray(NOUNS)})[1 + k % ${NOUNS.length}]
               || ' in ' || (${sqlArray(SYSTEMS)})[1 + k % ${SYSTEMS.length}] || '. ' || (${sqlArray(DETAILS)})[1 + k % ${DETAILS.length}]
               || CASE WHEN k % 1000 = 337 THEN ' Superseded by the ${RARE_WORD} endpoint.' ELSE '' END,
             '${INPUT_SCHEMA}'::jsonb, '{"readOnlyHint": true}'::jsonb, now(), now()
      FROM generate_series(${first}, ${last}) AS g
      JOIN gateway gw ON gw.slug = 'gateway-' || lpad(g::text, 4, '0')
      CROSS JOIN LATERAL generate_series(1, ${m}) AS i
      CROSS JOIN LATERAL (SELECT (g - 1)::bigint * ${m} + (i - 1) AS k) AS row_number
      ORDER BY g, i;`);
    options.onProgress?.(last * m);
  }
}

/** Statistics and the visibility map, as autovacuum would leave a catalog that has settled. */
export async function settle(sql: SqlSession): Promise<void> {
  // One statement each: several in one script run as one transaction block, where VACUUM may not.
  await sql.exec('VACUUM ANALYZE gateway');
  await sql.exec('VACUUM ANALYZE tool');
}

/**
 * A migrated database: in-memory PGlite, or a private PostgreSQL one on the
 * test server (TEST_DATABASE_URL) that close() drops, as the tests get them.
 */
export function openBenchDatabase(backend: Backend): Promise<Database> {
  return testDatabase(backend);
}

export interface GqlAnswer<T> {
  data?: T;
  errors?: { message: string }[];
}

/** One GraphQL POST through any fetch (yoga.fetch in process, or the global fetch over HTTP); throws on errors. */
export async function postGraphQL<T>(
  fetcher: (url: string, init: RequestInit) => Promise<Response> | Response,
  url: string,
  token: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const response = await fetcher(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GqlAnswer<T>;
  if (body.errors?.length || !body.data) throw new Error(`unexpected answer (${response.status}): ${JSON.stringify(body).slice(0, 400)}`);
  return body.data;
}
