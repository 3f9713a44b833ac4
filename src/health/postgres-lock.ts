// LEADER_ELECTION=postgres: a session-level advisory lock held on a connection
// of its own. PostgreSQL frees it when that connection ends, so a worker that
// dies frees it too; the holder pings its connection to learn when it is gone.
import pg from 'pg';
import { LOCK_SPACE } from '../db/advisory-locks.js';
import { leaseControl, type LeaderLock } from './leader-lock.js';

export interface PostgresLockOptions {
  url: string;
  extendMs: number;
}

/** The key within LOCK_SPACE.leader: one role, the health checker, for now. */
const HEALTH_CHECKER_KEY = 1;

export function postgresLock({ url, extendMs }: PostgresLockOptions): LeaderLock {
  return {
    mode: 'postgres',
    async tryAcquire() {
      const client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: extendMs,
        query_timeout: extendMs,
        keepAlive: true,
        application_name: 'mcp-federation health leader',
      });
      let lease: ReturnType<typeof leaseControl> | undefined;
      client.on('error', (error) => lease?.lose(`the leader lock's connection failed: ${error.message}`));
      client.on('end', () => lease?.lose("the leader lock's connection ended"));
      try {
        await client.connect();
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS ok', [
          LOCK_SPACE.leader,
          HEALTH_CHECKER_KEY,
        ]);
        if (!rows[0]?.ok) {
          await client.end();
          return null;
        }
      } catch {
        await client.end().catch(() => undefined);
        return null;
      }
      const held = leaseControl(async () => {
        // Ending the session frees the lock; no unlock statement can get lost on the way.
        await client.end().catch(() => undefined);
      });
      lease = held;
      let pinging = false;
      held.every(extendMs, () => {
        if (pinging || held.lost.aborted) return;
        pinging = true;
        client
          .query('SELECT 1')
          .catch((error: Error) => held.lose(`the leader lock's connection failed: ${error.message}`))
          .finally(() => (pinging = false));
      });
      return { lost: held.lost, release: held.release };
    },
    close: async () => undefined,
  };
}
