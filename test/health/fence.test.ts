// The fence, at the database: once a newer leadership term has begun, a write
// carrying an older one is refused by the database itself (SQLSTATE MF001),
// on both backends, whatever the process believed about its lock.
import { afterEach, describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { EventBus } from '../../src/events/event-bus.js';
import { recordCheck, type CheckedGateway } from '../../src/health/health-store.js';
import {
  beginTerm,
  endTerm,
  fenceTerm,
  HEALTH_CHECKER_ROLE,
  isStaleTerm,
  readLeadership,
  recordSweep,
  renewTerm,
  STALE_TERM_SQLSTATE,
} from '../../src/health/leadership-store.js';
import { backendAvailable, backends, testDatabase } from '../helpers/db.js';
import { seedGateway } from '../helpers/seed.js';

const ROLE = HEALTH_CHECKER_ROLE;
const failure = { ok: false as const, error: 'connection to the peer failed (ECONNREFUSED)' };
const options = (term: bigint | null) => ({ term, threshold: 3, nextCheckAt: () => null });

for (const backend of backends) {
  describe.runIf(backendAvailable(backend))(`leadership fence on ${backend}`, () => {
    const opened: Database[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((db) => db.close()));
    });
    async function database(): Promise<Database> {
      const db = await testDatabase(backend);
      opened.push(db);
      return db;
    }
    async function gateway(db: Database): Promise<CheckedGateway> {
      const row = await seedGateway(db.prisma, { name: 'Fenced' });
      return { id: row.id, authFingerprint: row.authFingerprint, transport: row.transport };
    }

    test('terms only grow, each recorded with its holder; a lease renews only for the current term', async () => {
      const db = await database();
      const first = await beginTerm(db.prisma, ROLE, 'worker-a', 10_000);
      const second = await beginTerm(db.prisma, ROLE, 'worker-b', 10_000);
      expect(second).toBe(first + 1n);
      const row = await readLeadership(db.prisma, ROLE);
      expect(row).toMatchObject({ term: second, holder: 'worker-b', current: true });
      expect(await renewTerm(db.prisma, ROLE, first, 10_000)).toBe(false);
      expect(await renewTerm(db.prisma, ROLE, second, 10_000)).toBe(true);
      await endTerm(db.prisma, ROLE, second);
      // Ended: nobody is shown as leader, and the number stays for the next term to exceed.
      expect(await readLeadership(db.prisma, ROLE)).toMatchObject({ term: second, current: false });
      expect(await beginTerm(db.prisma, ROLE, 'worker-a', 10_000)).toBe(second + 1n);
    });

    test('a check result from an older term is refused by the database and changes nothing', async () => {
      const db = await database();
      const events = EventBus.inProcess();
      const gw = await gateway(db);
      const old = await beginTerm(db.prisma, ROLE, 'paused-worker', 10_000);
      expect(await recordCheck(db.prisma, events, gw, failure, options(old))).toMatchObject({ written: true, consecutiveFailures: 1 });
      const current = await beginTerm(db.prisma, ROLE, 'new-worker', 10_000);

      const refused = await recordCheck(db.prisma, events, gw, failure, options(old)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isStaleTerm(refused), String(refused)).toBe(true);
      expect(String((refused as Error).message)).toContain(`leadership term ${old} of ${ROLE} is stale`);
      const after = await db.prisma.gateway.findUniqueOrThrow({ where: { id: gw.id } });
      expect(after.consecutiveFailures).toBe(1);

      // The current term writes; a manual check (no term) is not fenced.
      await recordCheck(db.prisma, events, gw, failure, options(current));
      await recordCheck(db.prisma, events, gw, failure, options(null));
      const written = await db.prisma.gateway.findUniqueOrThrow({ where: { id: gw.id } });
      expect(written.consecutiveFailures).toBe(3);
      expect(written.reachable).toBe(false);
      await events.close();
    });

    test('the fence raises its own SQLSTATE in a transaction, which then commits nothing', async () => {
      const db = await database();
      const gw = await gateway(db);
      const old = await beginTerm(db.prisma, ROLE, 'a', 10_000);
      await beginTerm(db.prisma, ROLE, 'b', 10_000);
      const error = await db.prisma
        .$transaction(async (tx) => {
          await tx.gateway.update({ where: { id: gw.id }, data: { lastError: 'written before the fence' } });
          await fenceTerm(tx, ROLE, old);
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isStaleTerm(error), String(error)).toBe(true);
      expect((await db.prisma.gateway.findUniqueOrThrow({ where: { id: gw.id } })).lastError).toBeNull();
      // The raw driver sees the code itself.
      await expect(db.sql.query(`SELECT leader_term_is_current($1, $2::bigint)`, [ROLE, String(old)])).rejects.toMatchObject({
        code: STALE_TERM_SQLSTATE,
      });
      // A sweep record from the old term is not written either.
      const sweep = { startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), checked: 1, failed: 0, durationMs: 1 };
      expect(await recordSweep(db.prisma, ROLE, old, sweep, new Date())).toBe(false);
      expect((await readLeadership(db.prisma, ROLE))?.lastSweep).toBeNull();
    });

    test('a result for a gateway deleted, disabled or moved during its check is not written', async () => {
      const db = await database();
      const events = EventBus.inProcess();
      const term = await beginTerm(db.prisma, ROLE, 'a', 10_000);
      const gw = await gateway(db);
      await db.prisma.gateway.update({ where: { id: gw.id }, data: { enabled: false } });
      expect(await recordCheck(db.prisma, events, gw, failure, options(term))).toEqual({ written: false });
      await db.prisma.gateway.update({ where: { id: gw.id }, data: { enabled: true, authFingerprint: 'another peer' } });
      expect(await recordCheck(db.prisma, events, gw, failure, options(term))).toEqual({ written: false });
      await db.prisma.gateway.delete({ where: { id: gw.id } });
      expect(await recordCheck(db.prisma, events, gw, failure, options(term))).toEqual({ written: false });
      expect(await db.prisma.gateway.count()).toBe(0);
      await events.close();
    });
  });
}

describe.runIf(backendAvailable('postgres'))('leadership fence across connections (PostgreSQL)', () => {
  test('no new term begins between a fenced check and its commit', async () => {
    const db = await testDatabase('postgres');
    try {
      const old = await beginTerm(db.prisma, ROLE, 'a', 10_000);
      let commit!: () => void;
      const held = new Promise<void>((resolve) => (commit = resolve));
      let fenced!: () => void;
      const inside = new Promise<void>((resolve) => (fenced = resolve));
      const writer = db.prisma.$transaction(async (tx) => {
        await fenceTerm(tx, ROLE, old);
        fenced();
        await held;
      });
      await inside;
      let begun = false;
      const next = beginTerm(db.prisma, ROLE, 'b', 10_000).then((term) => {
        begun = true;
        return term;
      });
      // The new term waits on the writer's share lock: it cannot have begun while the writer is open.
      const lockWaits = async () =>
        (await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`))[0]!.n;
      let waiting = await lockWaits();
      for (let i = 0; i < 100 && waiting === 0; i++) waiting = await lockWaits();
      expect(waiting).toBe(1);
      expect(begun).toBe(false);
      commit();
      await writer;
      expect(await next).toBe(old + 1n);
    } finally {
      await db.close();
    }
  });
});
