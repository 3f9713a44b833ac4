// Event log retention: what is older than EVENT_RETENTION_DAYS, or past the
// newest EVENT_RETENTION_MAX sequences, is deleted in bounded batches, each
// fenced by the leader's term, always as a prefix of the log whose end (the
// horizon) is recorded; the leader does it in the background; a subscription
// asked to resume below the horizon is told what was pruned, never silently
// given less.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { prunedThrough, pruneEvents } from '../../src/events/event-retention.js';
import { beginTerm, fenceTerm, HEALTH_CHECKER_ROLE, isStaleTerm } from '../../src/health/leadership-store.js';
import type { Prisma, PrismaClient } from '../../src/generated/prisma/client.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends, testDatabase } from '../helpers/db.js';
import { until } from '../helpers/deployment.js';
import { subscribeWs, wsClient } from '../helpers/subscriptions.js';

const ROLE = HEALTH_CHECKER_ROLE;

/** `count` events created `daysAgo` days ago (in sequence order), returning their sequences. */
async function insertEvents(prisma: PrismaClient, count: number, daysAgo: number): Promise<bigint[]> {
  const rows = await prisma.$queryRaw<{ id: bigint }[]>`
    INSERT INTO gateway_event (type, payload, created_at)
    SELECT 'GATEWAY_UPDATED', jsonb_build_object('n', n), now() - make_interval(days => ${daysAgo})
    FROM generate_series(1, ${count}) AS n ORDER BY n
    RETURNING id`;
  return rows.map((row) => row.id).sort((a, b) => (a < b ? -1 : 1));
}

const sequences = async (prisma: PrismaClient) =>
  (await prisma.gatewayEvent.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map((row) => row.id);

for (const backend of backends) {
  describe.runIf(backendAvailable(backend))(`pruning the event log on ${backend}`, () => {
    const opened: Database[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((db) => db.close()));
    });
    async function leader() {
      const db = await testDatabase(backend);
      opened.push(db);
      const term = await beginTerm(db.prisma, ROLE, 'leader', 60_000);
      const fence = (tx: Prisma.TransactionClient) => fenceTerm(tx, ROLE, term);
      return { db, prisma: db.prisma, fence };
    }

    test('deletes what is older than the age limit, in batches of at most the batch size, and records the horizon', async () => {
      const { prisma, fence } = await leader();
      const old = await insertEvents(prisma, 30, 40);
      const recent = await insertEvents(prisma, 10, 0);
      expect(await prunedThrough(prisma)).toBe(0n);

      const report = await pruneEvents(prisma, { days: 30, max: 0, batch: 7, fence });
      expect(report).toEqual({ deleted: 30, batches: 5, prunedThrough: old.at(-1) });
      expect(await sequences(prisma)).toEqual(recent);
      expect(await prunedThrough(prisma)).toBe(old.at(-1));
      // Nothing more is due: a second run deletes nothing and keeps the horizon.
      expect(await pruneEvents(prisma, { days: 30, max: 0, batch: 7, fence })).toEqual({ deleted: 0, batches: 0, prunedThrough: old.at(-1) });
    });

    test('keeps at most the newest EVENT_RETENTION_MAX sequences, however recent the others', async () => {
      const { prisma, fence } = await leader();
      const all = await insertEvents(prisma, 12, 0);
      const report = await pruneEvents(prisma, { days: 30, max: 4, batch: 100, fence });
      expect(report).toMatchObject({ deleted: 8, batches: 1, prunedThrough: all[7] });
      expect(await sequences(prisma)).toEqual(all.slice(8));
    });

    test('an old event above a recent one stays: only a prefix of the log is ever deleted', async () => {
      const { prisma, fence } = await leader();
      const first = await insertEvents(prisma, 3, 40);
      const middle = await insertEvents(prisma, 1, 0);
      const last = await insertEvents(prisma, 2, 40);
      expect(await pruneEvents(prisma, { days: 30, max: 0, batch: 100, fence })).toMatchObject({ deleted: 3, prunedThrough: first.at(-1) });
      expect(await sequences(prisma)).toEqual([...middle, ...last]);
    });

    test('0 and 0 keep everything', async () => {
      const { prisma, fence } = await leader();
      const all = await insertEvents(prisma, 5, 400);
      expect(await pruneEvents(prisma, { days: 0, max: 0, batch: 100, fence })).toEqual({ deleted: 0, batches: 0, prunedThrough: 0n });
      expect(await sequences(prisma)).toEqual(all);
    });

    test('a worker whose term is over deletes nothing: the database refuses it', async () => {
      const { prisma, fence } = await leader();
      const all = await insertEvents(prisma, 5, 40);
      await beginTerm(prisma, ROLE, 'newer-leader', 60_000);
      const refused = await pruneEvents(prisma, { days: 30, max: 0, batch: 100, fence }).catch((error: unknown) => error);
      expect(isStaleTerm(refused)).toBe(true);
      expect(await sequences(prisma)).toEqual(all);
      expect(await prunedThrough(prisma)).toBe(0n);
    });
  });
}

describe('the leader prunes in the background, and a subscription resuming below the horizon is told', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { HEALTH_CHECKS: 'true', EVENT_RETENTION_MAX: '3', EVENT_PRUNE_INTERVAL_MS: '1000', EVENT_PRUNE_BATCH: '2' } });
    url = await t.app.listen();
  });
  afterAll(async () => {
    await t?.close();
  });

  test('the log shrinks to the newest 3; resuming below the horizon is EVENTS_PRUNED, resuming from it replays the rest', async () => {
    const published = [];
    for (let n = 0; n < 10; n++) published.push(await t.app.services.events.publish(t.app.db.prisma, 'GATEWAY_UPDATED', null, { n }));
    const kept = published.slice(-3).map((event) => event.id);
    await until('the leader pruned down to 3 events', async () => (await sequences(t.app.db.prisma)).length === 3, 20_000, 50);
    expect((await sequences(t.app.db.prisma)).map(String)).toEqual(kept);
    const horizon = (await prunedThrough(t.app.db.prisma)).toString();
    expect(horizon).toBe(published[6]!.id);

    const client = wsClient(url, t.adminToken);
    try {
      const query = `subscription ($after: String) { gatewayEvents(after: $after) { sequence } }`;
      const stale = subscribeWs(client, query, { after: published[2]!.id });
      const ended = await stale.results.next(10_000);
      expect(ended.data ?? null).toBeNull();
      expect(ended.errors).toHaveLength(1);
      expect(ended.errors![0]).toMatchObject({ extensions: { code: 'EVENTS_PRUNED', after: published[2]!.id, prunedThrough: horizon } });
      expect(ended.errors![0]!.message).toContain(`resume with after: "${horizon}"`);

      const resumed = subscribeWs(client, query, { after: horizon });
      const received = [];
      for (let n = 0; n < 3; n++) received.push((await resumed.results.next(10_000)).data!.gatewayEvents.sequence);
      expect(received).toEqual(kept);
      resumed.unsubscribe();
    } finally {
      await client.dispose();
    }
  }, 60_000);
});
