// A page of the event history deep in a large log against the first page:
// keyset paging must cost the same wherever the page is.
// Usage: npx tsx bench/event-history.ts [--backend postgres|pglite] [--events 1000000] [--rounds 15]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../test/helpers/app.js';
import { testDatabase } from '../test/helpers/db.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'postgres' },
    events: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '15' },
  },
});
const backend = values.backend as 'pglite' | 'postgres';
const total = Number(values.events);
const rounds = Number(values.rounds);

const database = await testDatabase(backend);
// Seeded by the database itself: a million rows through the API would take hours.
await database.sql.exec(`
  INSERT INTO gateway_event (type, gateway_id, payload, created_at)
  SELECT 'GATEWAY_UPDATED', NULL, jsonb_build_object('name', 'g' || i), now() - make_interval(secs => ${total} - i)
  FROM generate_series(1, ${total}) AS i;
  ANALYZE gateway_event;`);
const adminToken = randomBytes(24).toString('hex');
const config = loadConfig({ LOG_LEVEL: 'warn', ADMIN_TOKEN: adminToken, SECRET_KEY: randomBytes(32).toString('base64'), HEALTH_CHECKS: 'false' });
const app = await createApp(config, { database, logger: silentLogger('warn'), announce: () => undefined });

const PAGE = /* GraphQL */ `query ($after: String) { events(first: 50, after: $after) { edges { node { sequence type occurredAt } } pageInfo { endCursor } } }`;
async function page(after: string | null): Promise<number> {
  const start = performance.now();
  const response = await app.yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ query: PAGE, variables: { after } }),
  });
  const body = (await response.json()) as { data?: { events: { edges: unknown[] } }; errors?: unknown };
  if (body.errors || body.data?.events.edges.length !== 50) throw new Error(`unexpected answer: ${JSON.stringify(body).slice(0, 300)}`);
  return performance.now() - start;
}

const { rows } = { rows: await database.sql.query<{ id: string }>(`SELECT id::text FROM gateway_event ORDER BY id OFFSET ${total - 1000} LIMIT 1`) };
const deepCursor = Buffer.from(`GatewayEvent:${rows[0]!.id}`).toString('base64');
const first: number[] = [];
const deep: number[] = [];
try {
  await page(null);
  await page(deepCursor);
  for (let round = 0; round < rounds; round++) {
    first.push(await page(null));
    deep.push(await page(deepCursor));
  }
} finally {
  await app.close();
}
console.log(
  JSON.stringify({
    backend,
    events: total,
    rounds,
    firstPageMs: Number(median(first).toFixed(2)),
    deepPageMs: Number(median(deep).toFixed(2)),
    ratio: Number((median(deep) / median(first)).toFixed(2)),
  }),
);
