// The few raw-SQL needs (migrations, readiness) go below Prisma, straight to the
// driver: migration files hold many statements, which Prisma's raw queries and
// pg's extended protocol refuse.
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';

export interface SqlSession {
  /** Runs a script of one or more statements, without parameters. */
  exec(script: string): Promise<void>;
  query<Row>(text: string, params?: unknown[]): Promise<Row[]>;
}

export interface SqlDatabase extends SqlSession {
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
}

function pgliteSession(db: PGlite | Transaction): SqlSession {
  return {
    async exec(script) {
      await db.exec(script);
    },
    async query<Row>(text: string, params?: unknown[]) {
      return (await db.query<Row>(text, params)).rows;
    },
  };
}

export function pgliteSql(db: PGlite): SqlDatabase {
  return {
    ...pgliteSession(db),
    transaction: (work) => db.transaction((tx) => work(pgliteSession(tx))),
  };
}

function pgSession(client: pg.Pool | pg.PoolClient): SqlSession {
  return {
    async exec(script) {
      await client.query(script);
    },
    async query<Row>(text: string, params?: unknown[]) {
      return (await client.query(text, params)).rows as Row[];
    },
  };
}

export function pgSql(pool: pg.Pool): SqlDatabase {
  return {
    ...pgSession(pool),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(pgSession(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}
