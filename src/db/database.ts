// One factory for both dialects: PGlite (embedded, the default) and PostgreSQL.
// Same schema, same migrations, same queries. Each dialect's driver is loaded
// only when it is opened: a process runs on one of them, and the other's
// modules would only take memory.
import type { PGlite } from '@electric-sql/pglite';
import type { PrismaPg } from '@prisma/adapter-pg';
import type { PrismaPGlite } from 'pglite-prisma-adapter';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { lockDataDir } from './data-dir-lock.js';
import { isUpToDate, migrate, readMigrations, type Migration, type MigrationReport } from './migrator.js';
import { hasCluster, initdbInChild } from './pglite-initdb.js';
import { pgliteSql, pgSql, type SqlDatabase } from './sql.js';

/**
 * PostgreSQL's default, 128MB, is allocated and zeroed inside PGlite's
 * WebAssembly heap at every start, and stays resident: about 150 MB of an
 * idle server. One process with one connection needs far less; a table read
 * past it comes from the data directory's files, which the OS caches anyway
 * (and a scan of a table over a quarter of shared_buffers goes through a small
 * ring buffer whatever the setting). Measured in bench/README.md ("Idle memory
 * after `npm start`").
 */
export const PGLITE_SHARED_BUFFERS = '16MB';

export type DatabaseTarget =
  | { kind: 'pglite'; dataDir?: string; loadDataDir?: Blob }
  | { kind: 'postgres'; url: string };

export function databaseTarget(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>): DatabaseTarget {
  const url = config.DATABASE_URL;
  if (url === 'memory:') return { kind: 'pglite' };
  if (url) return { kind: 'postgres', url };
  return { kind: 'pglite', dataDir: resolve(config.DATA_DIR, 'pglite') };
}

export interface Database {
  kind: DatabaseTarget['kind'];
  prisma: PrismaClient;
  sql: SqlDatabase;
  migrate(): Promise<MigrationReport>;
  /** Whether the database answers and every known migration is applied; if not, which. */
  readiness(): Promise<Readiness>;
  close(): Promise<void>;
  /** PGlite only: the data directory as a tarball, for cloning migrated test databases. */
  dumpDataDir?(): Promise<Blob>;
}

export type Readiness = { ready: true } | { ready: false; reason: 'database unreachable' | 'migrations pending' };

export interface OpenOptions {
  /** Called with each SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
  /** Called when PostgreSQL ends an idle pooled connection. */
  onPoolError?: (error: Error) => void;
  /** Called if the data directory lock is lost while running. */
  onLockLost?: (error: Error) => void;
}

export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<Database> {
  const migrations = await readMigrations();
  if (target.kind === 'postgres') {
    const [{ default: pg }, { PrismaPg }] = await Promise.all([import('pg'), import('@prisma/adapter-pg')]);
    const pool = new pg.Pool({ connectionString: target.url, max: 10 });
    // An idle connection the server ends (restart, failover, admin termination)
    // must not crash the process: the pool replaces it at the next checkout.
    pool.on('error', (error) => options.onPoolError?.(error));
    const prisma = newPrismaClient(new PrismaPg(pool), options);
    return assemble('postgres', prisma, pgSql(pool), migrations, async () => {
      await prisma.$disconnect();
      await pool.end();
    });
  }
  const unlock = target.dataDir
    ? await lockDataDir(target.dataDir, options.onLockLost ?? (() => undefined))
    : undefined;
  try {
    const [{ PGlite }, { pg_trgm }, { PrismaPGlite }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite/contrib/pg_trgm'),
      import('pglite-prisma-adapter'),
    ]);
    // A new data directory is created elsewhere (see pglite-initdb.ts): here it is only opened.
    if (target.dataDir && !target.loadDataDir && !(await hasCluster(target.dataDir))) await initdbInChild(target.dataDir);
    const pglite = await PGlite.create({
      // The catalog search index (migration catalog_counts_and_search) needs it.
      extensions: { pg_trgm },
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
      ...(target.dataDir ? { dataDir: target.dataDir } : {}),
      ...(target.loadDataDir ? { loadDataDir: target.loadDataDir } : {}),
    });
    yieldToIoBeforeEachStatement(pglite);
    const prisma = newPrismaClient(new PrismaPGlite(pglite), options);
    const database = assemble('pglite', prisma, pgliteSql(pglite), migrations, async () => {
      await prisma.$disconnect();
      await pglite.close();
      await unlock?.();
    });
    return { ...database, dumpDataDir: () => pglite.dumpDataDir('none') };
  } catch (error) {
    await unlock?.();
    throw error;
  }
}

/**
 * PGlite runs each statement synchronously on this thread, and answers it
 * through a promise: statement after statement, query after query, everything
 * continues in microtasks, and the event loop reaches its I/O phase only when
 * no query is left. Under load that is never: on a dashboard page at 50
 * connections the server accepted one new connection and read one new request
 * about every half second, and a request that came in early waited up to 15 s
 * while later ones on already-read connections were answered (bench/README.md,
 * "PGlite and the event loop"). PostgreSQL's answers come through a socket,
 * which gives I/O its turn between statements; this gives PGlite's the same:
 * every statement (of a query, a script or a transaction: all of them go
 * through `_runExclusiveQuery`, PGlite's one entry to its engine) first waits
 * for the next turn of the event loop, after its I/O. Statements keep their
 * order: immediates run first in, first out.
 */
function yieldToIoBeforeEachStatement(pglite: PGlite): void {
  const runExclusiveQuery = pglite._runExclusiveQuery.bind(pglite);
  pglite._runExclusiveQuery = async (statement) => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return runExclusiveQuery(statement);
  };
}

function newPrismaClient(adapter: PrismaPg | PrismaPGlite, options: OpenOptions): PrismaClient {
  // 'minimal': Prisma's other formats capture a stack trace (new Error) on every
  // query, to point an error at the calling line; the API's errors never show
  // it, and it is a cost on every statement.
  const errorFormat = 'minimal';
  if (!options.onQuery) return new PrismaClient({ adapter, errorFormat });
  const onQuery = options.onQuery;
  const prisma = new PrismaClient({ adapter, errorFormat, log: [{ emit: 'event', level: 'query' }] });
  prisma.$on('query', (event) => onQuery(event.query));
  return prisma as unknown as PrismaClient;
}

function assemble(
  kind: DatabaseTarget['kind'],
  prisma: PrismaClient,
  sql: SqlDatabase,
  migrations: Migration[],
  close: () => Promise<void>,
): Database {
  let closed: Promise<void> | undefined;
  return {
    kind,
    prisma,
    sql,
    migrate: () => migrate(sql, migrations),
    async readiness(): Promise<Readiness> {
      // Told apart for whoever is paged: a database down is not a deploy that skipped its migrations.
      try {
        await sql.query('SELECT 1');
      } catch {
        return { ready: false, reason: 'database unreachable' };
      }
      // An empty database has no migrations table yet: also pending.
      const upToDate = await isUpToDate(sql, migrations).catch(() => false);
      return upToDate ? { ready: true } : { ready: false, reason: 'migrations pending' };
    },
    close: () => (closed ??= close()),
  };
}
