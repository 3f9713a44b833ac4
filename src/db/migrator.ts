// Applies prisma/migrations/*/migration.sql in name order, each once, recorded
// in Prisma's own _prisma_migrations table so that `prisma migrate deploy`
// stays usable wherever the schema engine can be had.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIGRATION_LOCK } from './advisory-locks.js';
import type { SqlDatabase, SqlSession } from './sql.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations/', import.meta.url));

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

// Same DDL as Prisma's migrate engine creates, so either tool can take over.
const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      // Prisma checksums the file's bytes with SHA-256, hex encoded.
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

async function appliedMigrations(tx: SqlSession): Promise<Map<string, AppliedRow>> {
  const rows = await tx.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
  );
  return new Map(rows.map((row) => [row.migration_name, row]));
}

function checkHistory(migrations: Migration[], applied: Map<string, AppliedRow>): void {
  const known = new Set(migrations.map((m) => m.name));
  for (const [name, row] of applied) {
    if (!known.has(name)) {
      throw new MigrationError(`the database has migration ${name}, which this build does not know; refusing to start an older build on a newer database`);
    }
    if (row.finished_at === null) {
      throw new MigrationError(`migration ${name} was started but never finished; inspect the database and mark it rolled back before starting again`);
    }
  }
  for (const migration of migrations) {
    const row = applied.get(migration.name);
    if (row && row.checksum !== migration.checksum) {
      throw new MigrationError(`migration ${migration.name} was changed after it was applied (checksum ${row.checksum.slice(0, 12)}… in the database, ${migration.checksum.slice(0, 12)}… on disk); restore the file or write a new migration`);
    }
  }
}

/** All pending migrations go in one transaction: either every one lands or none. */
export async function migrate(db: SqlDatabase, migrations?: Migration[]): Promise<MigrationReport> {
  const all = migrations ?? (await readMigrations());
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(CREATE_TABLE);
    const applied = await appliedMigrations(tx);
    checkHistory(all, applied);
    const pending = all.filter((m) => !applied.has(m.name));
    for (const migration of pending) {
      await tx.exec(migration.sql).catch((error: unknown) => {
        // The driver's error may quote the whole script; name the migration instead.
        const reason = error instanceof Error ? error.message.split('\n', 1)[0]!.slice(0, 300) : String(error);
        throw new MigrationError(`migration ${migration.name} failed and nothing was applied: ${reason}`, { cause: error });
      });
      await tx.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), now(), 1)`,
        [randomUUID(), migration.checksum, migration.name],
      );
    }
    return { applied: pending.map((m) => m.name), alreadyApplied: applied.size };
  });
}

/** True when every migration on disk is recorded as applied (for /readyz). */
export async function isUpToDate(db: SqlSession, migrations: Migration[]): Promise<boolean> {
  const rows = await db.query<{ migration_name: string }>(
    'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
  );
  const applied = new Set(rows.map((r) => r.migration_name));
  return migrations.every((m) => applied.has(m.name));
}
