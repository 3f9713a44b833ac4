// Fast, isolated databases for tests. PGlite ones are in-memory clones of the
// dumps made by test/global-setup.ts; PostgreSQL ones are fresh databases on
// the test server, dropped again on close().
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database, type OpenOptions } from '../../src/db/database.js';
import { requireServices, TEST_DATABASE_URL } from './services.js';

export type Backend = 'pglite' | 'postgres';

/** Database suites run over each of these; see backendAvailable(). */
export const backends: readonly Backend[] = ['pglite', 'postgres'];

/** For `describe.runIf(backendAvailable(backend))`: PostgreSQL goes through the services guard. */
export function backendAvailable(backend: Backend): boolean {
  return backend === 'pglite' || requireServices('postgres');
}

export interface TestDatabaseOptions extends Pick<OpenOptions, 'onQuery'> {
  /** Leave the database empty, with no migration applied (migrator tests). */
  empty?: boolean;
}

/** The same database, with a close() that leaves it open: for an app that must not end it for the next one. */
export function keptOpen(db: Database): Database {
  return { ...db, close: async () => undefined };
}

export async function testDatabase(backend: Backend, options: TestDatabaseOptions = {}): Promise<Database> {
  const open = { onQuery: options.onQuery };
  if (backend === 'pglite') {
    const dump = await pgliteDump(options.empty ? 'empty' : 'migrated');
    const db = await openDatabase({ kind: 'pglite', ...(dump ? { loadDataDir: dump } : {}) }, open);
    // Without the global setup's dumps (helpers used outside vitest) build it the slow way.
    if (!dump && !options.empty) await db.migrate();
    return db;
  }
  const { url, drop } = await createPostgresDatabase();
  let db: Database | undefined;
  try {
    db = await openDatabase({ kind: 'postgres', url }, open);
    if (!options.empty) await db.migrate();
  } catch (error) {
    await db?.close();
    await drop();
    throw error;
  }
  const closeDb = db.close.bind(db);
  let closed: Promise<void> | undefined;
  db.close = () => (closed ??= closeDb().finally(drop));
  return db;
}

// Each worker reads a dump once; a Blob can be loaded any number of times.
const dumps = new Map<string, Promise<Blob | undefined>>();

/** The global setup's PGlite data directory tarball, or undefined outside a vitest run. */
export function pgliteDump(state: 'empty' | 'migrated'): Promise<Blob | undefined> {
  let dump = dumps.get(state);
  if (!dump) {
    const path = injected(state === 'empty' ? 'pgliteEmptyDump' : 'pgliteMigratedDump');
    dump = path ? readFile(path).then((bytes) => new Blob([bytes])) : Promise.resolve(undefined);
    dumps.set(state, dump);
  }
  return dump;
}

function injected(key: 'pgliteEmptyDump' | 'pgliteMigratedDump'): string | undefined {
  try {
    return inject(key);
  } catch {
    return undefined; // not inside a vitest worker
  }
}

/** A new uniquely named database on the test server, and how to drop it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin(async (client) => {
        // A closed pool's connections may still be saying goodbye; terminating
        // them then makes pg raise an error nobody listens to. Let them go first
        // (bounded), and only then FORCE what a test really left open.
        for (let i = 0; i < 50; i++) {
          const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if (rows[0].n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

async function admin(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
