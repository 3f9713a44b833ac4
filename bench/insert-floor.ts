// The database's own cost of storing 10,000 catalog rows: no JSON, no network,
// no JavaScript per row. Rows are built first into a temporary table; the timed
// statement copies them into `tool` with all its constraints, then without the
// foreign key, then with neither the foreign key nor the indexes (the heap
// alone). Each run is rolled back.
// Usage: npx tsx bench/insert-floor.ts [--backend pglite|postgres] [--rounds 5]
import { parseArgs } from 'node:util';
import type { SqlSession } from '../src/db/sql.js';
import { testDatabase } from '../test/helpers/db.js';
import { median } from './stats.js';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'pglite' }, rounds: { type: 'string', default: '5' } } });
const backend = values.backend as 'pglite' | 'postgres';
const rounds = Number(values.rounds);
/** Thrown to end the transaction: nothing the bench writes may stay. */
class Rollback extends Error {}

const GATEWAY = '0190a000-0000-7000-8000-000000000000';
const COPY_ROWS = `INSERT INTO tool (id, gateway_id, name, original_name, description, input_schema, updated_at)
  SELECT id, '${GATEWAY}', name, original_name, description, input_schema, now() FROM floor_rows`;
const VARIANTS: Record<string, string> = {
  allConstraints: '',
  noForeignKey: 'ALTER TABLE tool DROP CONSTRAINT tool_gateway_id_fkey',
  heapOnly:
    'ALTER TABLE tool DROP CONSTRAINT tool_gateway_id_fkey, DROP CONSTRAINT tool_pkey; DROP INDEX tool_name_key, tool_gateway_id_original_name_key',
};

async function timed(tx: SqlSession, prepare: string): Promise<number> {
  await tx.exec('SAVEPOINT run');
  if (prepare) await tx.exec(prepare);
  const start = performance.now();
  await tx.exec(COPY_ROWS);
  const ms = performance.now() - start;
  await tx.exec('ROLLBACK TO run');
  return ms;
}

const db = await testDatabase(backend);
const times: Record<string, number[]> = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
try {
  await db.sql
    .transaction(async (tx) => {
      await tx.exec(`
        INSERT INTO gateway (id, name, slug, url, transport, auth_type, auth_fingerprint, updated_at)
        VALUES ('${GATEWAY}', 'floor', 'floor', 'http://127.0.0.1:1/mcp', 'AUTO', 'NONE', 'floor', now());
        -- Ascending ids, as our time-ordered UUIDv7s are within one sync.
        CREATE TEMP TABLE floor_rows AS
        SELECT ('0190a000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id,
               'floor__tool_' || lpad(i::text, 5, '0') AS name,
               'tool_' || lpad(i::text, 5, '0') AS original_name,
               'Tool number ' || i AS description,
               '{"type":"object","properties":{"n":{"type":"number"}},"required":["n"]}'::jsonb AS input_schema
        FROM generate_series(1, 10000) AS i;`);
      await timed(tx, ''); // warm-up
      for (let round = 0; round < rounds; round++) {
        for (const [name, prepare] of Object.entries(VARIANTS)) times[name]!.push(await timed(tx, prepare));
      }
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
} finally {
  await db.close();
}


console.log(
  JSON.stringify({
    backend,
    rows: 10_000,
    rounds,
    ...Object.fromEntries(Object.entries(times).map(([name, xs]) => [`${name}Ms`, Math.round(median(xs))])),
  }),
);
