// The migrator must behave like `prisma migrate deploy` on the records it
// leaves, and never leave a database half migrated.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate, MigrationError, MIGRATIONS_DIR, readMigrations } from '../../src/db/migrator.js';
import type { SqlSession } from '../../src/db/sql.js';
import { loadConfig } from '../../src/config.js';
import { createRouter } from '../../src/http/router.js';
import { refusedPort } from '../helpers/peers.js';
import { backendAvailable, backends, createPostgresDatabase, testDatabase } from '../helpers/db.js';

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

const recorded = (db: SqlSession) =>
  db.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');

async function tableExists(db: SqlSession, name: string): Promise<boolean> {
  const [row] = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [name]);
  return row!.present;
}

const tempDirs: string[] = [];

/** Writes migrations in Prisma's layout (<name>/migration.sql) into a new or given directory. */
async function migrationsDir(migrations: Record<string, string>, dir?: string): Promise<string> {
  if (!dir) tempDirs.push((dir = await mkdtemp(join(tmpdir(), 'migrations-'))));
  for (const [name, sql] of Object.entries(migrations)) {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

for (const backend of backends) {
  describe.runIf(backendAvailable(backend))(`migrator on ${backend}`, () => {
    const opened: Database[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((db) => db.close()));
    });
    async function emptyDatabase(): Promise<Database> {
      const db = await testDatabase(backend, { empty: true });
      opened.push(db);
      return db;
    }

    it('applies every migration to an empty database, recorded with the sha256 of the file bytes', async () => {
      const db = await emptyDatabase();
      expect(await tableExists(db.sql, 'gateway')).toBe(false);
      const names = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
      expect(names.length).toBeGreaterThan(0);

      expect(await db.migrate()).toEqual({ applied: names, alreadyApplied: 0 });

      const rows = await recorded(db.sql);
      const expected = await Promise.all(
        names.map(async (name) => {
          const bytes = await readFile(join(MIGRATIONS_DIR, name, 'migration.sql'));
          return { migration_name: name, checksum: createHash('sha256').update(bytes).digest('hex') };
        }),
      );
      expect(rows.map(({ migration_name, checksum }) => ({ migration_name, checksum }))).toEqual(expected);
      for (const row of rows) {
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.rolled_back_at).toBeNull();
        expect(row.applied_steps_count).toBe(1);
      }
      expect(await tableExists(db.sql, 'gateway')).toBe(true);
      expect(await db.readiness()).toEqual({ ready: true });
    });

    it('applies nothing on a second run', async () => {
      const db = await emptyDatabase();
      await db.migrate();
      const before = await recorded(db.sql);
      expect(await db.migrate()).toEqual({ applied: [], alreadyApplied: before.length });
      expect(await recorded(db.sql)).toEqual(before);
    });

    it('refuses a migration whose file changed after it was applied', async () => {
      const db = await emptyDatabase();
      const dir = await migrationsDir({ '20000101000000_first': 'CREATE TABLE mig_first (id int);' });
      await migrate(db.sql, await readMigrations(dir));
      await migrationsDir({ '20000101000000_first': 'CREATE TABLE mig_first (id bigint);' }, dir);

      const error = await migrate(db.sql, await readMigrations(dir)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(/20000101000000_first.*checksum/);
    });

    it('leaves nothing behind when a migration fails halfway, and recovers once it is fixed', async () => {
      const db = await emptyDatabase();
      const dir = await migrationsDir({ '20000101000000_first': 'CREATE TABLE mig_first (id int);' });
      await migrate(db.sql, await readMigrations(dir));
      await migrationsDir(
        {
          '20000102000000_second': 'CREATE TABLE mig_second (id int);',
          '20000103000000_broken': 'CREATE TABLE mig_broken (id int);\nSELECT no_such_column FROM mig_broken;',
        },
        dir,
      );

      await expect(migrate(db.sql, await readMigrations(dir))).rejects.toThrow(/no_such_column/);
      expect((await recorded(db.sql)).map((row) => row.migration_name)).toEqual(['20000101000000_first']);
      expect(await tableExists(db.sql, 'mig_first')).toBe(true);
      expect(await tableExists(db.sql, 'mig_second')).toBe(false);
      expect(await tableExists(db.sql, 'mig_broken')).toBe(false);

      await migrationsDir({ '20000103000000_broken': 'CREATE TABLE mig_broken (id int);' }, dir);
      expect(await migrate(db.sql, await readMigrations(dir))).toEqual({
        applied: ['20000102000000_second', '20000103000000_broken'],
        alreadyApplied: 1,
      });
    });

    it('refuses a database holding a migration this build does not know', async () => {
      const db = await emptyDatabase();
      const dir = await migrationsDir({
        '20000101000000_first': 'CREATE TABLE mig_first (id int);',
        '20000102000000_newer': 'CREATE TABLE mig_newer (id int);',
      });
      await migrate(db.sql, await readMigrations(dir));
      await rm(join(dir, '20000102000000_newer'), { recursive: true });

      const error = await migrate(db.sql, await readMigrations(dir)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toContain('20000102000000_newer');
    });

    it('refuses a migration recorded as started but never finished', async () => {
      const db = await emptyDatabase();
      const dir = await migrationsDir({ '20000101000000_first': 'CREATE TABLE mig_first (id int);' });
      const migrations = await readMigrations(dir);
      await migrate(db.sql, migrations);
      await db.sql.query('UPDATE "_prisma_migrations" SET finished_at = NULL');

      const error = await migrate(db.sql, migrations).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(/20000101000000_first.*never finished/);
    });

    it('is not ready until every migration is applied, and says so', async () => {
      const db = await emptyDatabase();
      expect(await db.readiness()).toEqual({ ready: false, reason: 'migrations pending' });
      const all = await readMigrations();
      await migrate(db.sql, all.slice(0, 1));
      expect(await db.readiness()).toEqual({ ready: false, reason: 'migrations pending' });
      await db.migrate();
      expect(await db.readiness()).toEqual({ ready: true });
    });
  });
}

describe.runIf(backendAvailable('postgres'))('readiness of a PostgreSQL server that does not answer', () => {
  it('is "database unreachable", not "migrations pending", and /readyz answers 503 with that reason', async () => {
    const db = await openDatabase({ kind: 'postgres', url: `postgres://postgres@127.0.0.1:${await refusedPort()}/nothing` });
    try {
      expect(await db.readiness()).toEqual({ ready: false, reason: 'database unreachable' });
      const route = createRouter(loadConfig({}), db, undefined as never);
      const server = createServer((req, res) => void route(req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
        expect([response.status, await response.json()]).toEqual([503, { status: 'not ready', reason: 'database unreachable' }]);
      } finally {
        server.close();
      }
    } finally {
      await db.close();
    }
  });
});

// Several workers start at once against one PostgreSQL; exactly one may migrate.
describe.runIf(backendAvailable('postgres'))('migrator with concurrent workers on postgres', () => {
  it('serialises them: one applies the migrations, the other finds them applied', async () => {
    const { url, drop } = await createPostgresDatabase();
    const blocker = new pg.Client({ connectionString: url });
    const workers: Database[] = [];
    try {
      await blocker.connect();
      // The migration waits on a table lock we hold, so both workers are provably
      // inside migrate() at the same time before we let either proceed.
      await blocker.query('CREATE TABLE gate (id int)');
      await blocker.query('BEGIN; LOCK TABLE gate IN ACCESS EXCLUSIVE MODE');
      const dir = await migrationsDir({ '20000101000000_first': 'SELECT * FROM gate;\nCREATE TABLE mig_first (id int);' });
      const migrations = await readMigrations(dir);
      workers.push(await openDatabase({ kind: 'postgres', url }), await openDatabase({ kind: 'postgres', url }));

      const runs = workers.map((db) => migrate(db.sql, migrations));
      runs.forEach((run) => run.catch(() => undefined)); // judged below, after the gate opens
      await waitForBlockedSessions(blocker, 2);
      await blocker.query('COMMIT');

      const reports = await Promise.all(runs);
      expect(reports.map((r) => r.applied.length).sort()).toEqual([0, 1]);
      expect((await recorded(workers[0]!.sql)).map((r) => r.migration_name)).toEqual(['20000101000000_first']);
    } finally {
      await blocker.end().catch(() => undefined);
      await Promise.all(workers.map((db) => db.close()));
      await drop();
    }
  });
});

/** Polls (a condition, not a timing) until `count` other sessions wait on a lock. */
async function waitForBlockedSessions(client: pg.Client, count: number): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    // The client is inside a transaction, where pg_stat_activity is a cached snapshot.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows[0]!.n >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never saw ${count} sessions waiting on a lock`);
}
