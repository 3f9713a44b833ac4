// PostgreSQL ending an idle pooled connection (restart, failover, an admin's
// pg_terminate_backend) is reported and survived, not an uncaught error.
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { createPostgresDatabase } from '../helpers/db.js';
import { requireServices, TEST_DATABASE_URL } from '../helpers/services.js';

describe.runIf(requireServices('postgres'))('PostgreSQL pool', () => {
  test('an idle connection terminated by the server is reported, and the next query works', async () => {
    const { url, drop } = await createPostgresDatabase();
    const reported: Error[] = [];
    const db = await openDatabase({ kind: 'postgres', url }, { onPoolError: (error) => reported.push(error) });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    try {
      await db.sql.query('SELECT 1');
      await admin.connect();
      const database = new URL(url).pathname.slice(1);
      const { rows } = await admin.query('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1', [database]);
      expect(rows[0].n).toBeGreaterThan(0);
      for (let i = 0; i < 100 && reported.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(reported.length).toBeGreaterThan(0);
      expect((reported[0] as Error & { code?: string }).code).toBe('57P01');
      expect(await db.sql.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await db.close();
      await drop();
    }
  });
});
