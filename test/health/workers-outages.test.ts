// The health checker's workers when things go wrong: a leader deposed without
// knowing it has its write refused by the database, the PostgreSQL advisory
// lock replaces a dead leader without Redis, and losing Redis leaves no leader
// (and every worker up) until it returns.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { killAllMain } from '../helpers/process.js';
import { redisProxy, type RedisProxy } from '../helpers/redis-proxy.js';
import { requireServices, TEST_REDIS_URL } from '../helpers/services.js';
import { deployment, heldPeer, sleep, START_TIMEOUT, until, type Deployment, type HeldPeer, type LogLine } from '../helpers/deployment.js';

const leadingLine = (line: LogLine) => line.msg === 'leading the health checker';
const endedLine = (line: LogLine) => line.msg === 'no longer leading the health checker';
const FAST = { HEALTH_CHECK_INTERVAL_MS: '500', LEADER_LOCK_TTL_MS: '2000', LEADER_LOCK_EXTEND_MS: '500', LEADER_RETRY_MS: '200' };

afterAll(killAllMain);

describe.runIf(requireServices('postgres', 'redis'))('a leader deposed without knowing it', () => {
  // Long enough that the old leader's own timers (extension, term renewal, lock
  // expiry) cannot tell it anything while the test runs: only the database can.
  const TTL = 60_000;
  const EXTEND = 30_000;
  let d: Deployment;
  let peer: HeldPeer | undefined;
  let redis: Redis;

  beforeAll(async () => {
    d = await deployment({
      REDIS_URL: TEST_REDIS_URL,
      HEALTH_CHECK_INTERVAL_MS: '500',
      LEADER_LOCK_TTL_MS: String(TTL),
      LEADER_LOCK_EXTEND_MS: String(EXTEND),
      LEADER_RETRY_MS: '200',
      // A ping held by the test is not a timeout.
      HEALTH_CHECK_TIMEOUT_MS: '30000',
      PEER_TIMEOUT_MS: '30000',
    });
    redis = new Redis(TEST_REDIS_URL);
    await d.start(3);
  }, START_TIMEOUT);
  afterAll(async () => {
    await d?.close();
    await peer?.close();
    redis?.disconnect();
  });

  test('its check result, answered after a newer term began, is refused by the database; it steps down; the row stays the new leader’s', async () => {
    const stale = await d.leader();
    const term = BigInt((await stale.status()).leader!.term);
    const key = `${d.prefix}:leader:health-checker`;
    // Its next extension (which would find the lock gone) is PTTL - (TTL - EXTEND) away: keep 15 s of it ahead.
    await until('most of an extension period ahead', async () => (await redis.pttl(key)) - (TTL - EXTEND) > 15_000, EXTEND + 5_000, 200);

    peer = await heldPeer();
    await d.workers.find((w) => w !== stale)!.register('held', peer.url);
    const id = (await d.gateway('held')).id;
    await peer.held; // the leader's first check of it, waiting on its ping
    const heldAt = Date.now();

    // Paused, it does nothing at all while it is replaced; on resume, none of its
    // timers is due, so the first thing it does is read the answer and write it.
    const mark = stale.mark();
    stale.main.kill('SIGSTOP');
    // The lock is lost from Redis (a restart without persistence, a failover to a
    // replica that had not got it): another worker takes it and begins a term.
    expect(await redis.del(key)).toBe(1);
    const newTerm = await until('a newer term', async () => {
      const row = await d.leadership();
      return BigInt(row.term) > term ? row : undefined;
    });
    const next = d.workers.find((w) => w.instanceId === newTerm.holder)!;
    expect(next).toBeDefined();
    expect(next).not.toBe(stale);
    const written = await until('the new leader’s check of the gateway', async () => {
      const row = await d.gateway('held');
      return row.last_latency_ms !== null ? row : undefined;
    });
    await next.waitForLog((line) => line.msg === 'health check' && line.gatewayId === id && line.term === newTerm.term, { timeoutMs: 5_000 });

    await peer.release(); // the answer waits in the paused leader's socket
    const heldFor = Date.now() - heldAt;
    stale.main.kill('SIGCONT');

    const refused = await stale.waitForLog((line) => line.msg === 'write refused by the database: a newer leadership term has begun', {
      from: mark,
      timeoutMs: 10_000,
    });
    expect(refused.gatewayId).toBe(id);
    const ended = await stale.waitForLog(endedLine, { from: mark });
    expect(ended.reason).toBe('the database refused a write from this term');
    expect(ended.term).toBe(String(term));
    // In this order: it acted on the answer under its old term, the database refused, it stepped down.
    const lines = stale.lines(mark);
    const attempt = lines.findIndex((line) => line.msg === 'health check' && line.gatewayId === id);
    expect(attempt, stale.main.stdout().slice(mark)).toBeGreaterThanOrEqual(0);
    expect(lines[attempt]).toMatchObject({ ok: true, term: String(term), instanceId: stale.instanceId });
    const refusedAt = lines.findIndex((line) => line.msg === refused.msg);
    expect(refusedAt).toBeGreaterThan(attempt);
    expect(lines.findIndex(endedLine)).toBeGreaterThan(refusedAt);
    expect(lines.filter(endedLine)).toHaveLength(1);

    // The row is the new leader's: the refused result (as slow as the hold) left no trace.
    const row = await d.gateway('held');
    expect(row.last_latency_ms!).toBeLessThan(heldFor);
    expect(row.consecutive_failures).toBe(0);
    expect(row.last_checked_at!.getTime()).toBeGreaterThanOrEqual(written.last_checked_at!.getTime());
    expect(await d.leadership()).toMatchObject({ term: newTerm.term, holder: next.instanceId });
    expect((await d.leader()).instanceId).toBe(next.instanceId);
    expect((await stale.status()).leading).toBe(false);
  }, 60_000);
});

describe.runIf(requireServices('postgres'))('without Redis on PostgreSQL: the advisory lock', () => {
  let d: Deployment;

  beforeAll(async () => {
    // LEADER_ELECTION and REDIS_URL unset on a postgres:// DATABASE_URL: `postgres`.
    d = await deployment(FAST);
    await d.start(2);
  }, START_TIMEOUT);
  afterAll(() => d?.close());

  const lockHolders = async () =>
    (
      await d.sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() AND a.application_name = 'mcp-federation health leader'`,
      )
    ).rows[0]!.n;

  test('one leads; SIGKILL it and the other leads within a bound, in a higher term', async () => {
    const first = await d.leader();
    const statuses = await Promise.all(d.workers.map((w) => w.status()));
    expect(statuses.map((s) => s.mode)).toEqual(['POSTGRES', 'POSTGRES']);
    expect(statuses.map((s) => s.leading).sort()).toEqual([false, true]);
    expect(await lockHolders()).toBe(1);
    const term = BigInt(statuses[0]!.leader!.term);

    const other = d.workers.find((w) => w !== first)!;
    const mark = other.mark();
    first.main.kill('SIGKILL');
    const killedAt = Date.now();
    // The dead session frees the lock at once; the bound is a retry and slack, well under the lease.
    const line = await other.waitForLog(leadingLine, { from: mark, timeoutMs: 8_000 });
    expect(Date.now() - killedAt).toBeLessThan(8_000);
    expect(BigInt(line.term as string)).toBeGreaterThan(term);
    const status = await other.status();
    expect(status).toMatchObject({ leading: true, leader: { instanceId: other.instanceId, term: Number(line.term) } });
    expect((await d.leadership()).term).toBe(line.term);
    expect(await lockHolders()).toBe(1);
  });
});

describe.runIf(requireServices('postgres', 'redis'))('Redis going away', () => {
  let d: Deployment;
  let proxy: RedisProxy;
  let peer: TestPeer | undefined;

  beforeAll(async () => {
    proxy = await redisProxy();
    d = await deployment({ ...FAST, REDIS_URL: proxy.url });
    await d.start(2);
  }, START_TIMEOUT);
  afterAll(async () => {
    await d?.close();
    await proxy?.cut();
    await peer?.close();
  });

  const checked = (line: LogLine) => line.msg === 'health check';

  test('the leader steps down, no worker leads while Redis is away, all keep serving; once it is back one leads again', async () => {
    const leader = await d.leader();
    const term = BigInt((await leader.status()).leader!.term);
    peer = await startPeer({ tools: 1 });
    await leader.register('checked', peer.url);
    await leader.waitForLog(checked);
    const mark = leader.mark();
    await proxy.cut();
    const cutAt = Date.now();

    const ended = await leader.waitForLog(endedLine, { from: mark, timeoutMs: 5_000 });
    expect(ended.term).toBe(String(term));
    // Nobody is named leader, nobody leads, and every worker answers: sampled for longer than the lock's TTL.
    await until('no leader named anywhere', async () => (await Promise.all(d.workers.map((w) => w.status()))).every((s) => s.leader === null), 5_000);
    while (Date.now() - cutAt < 3_000) {
      for (const s of await Promise.all(d.workers.map((w) => w.status()))) {
        expect(s).toMatchObject({ leading: false, leader: null, mode: 'REDIS' });
      }
      await sleep(250);
    }
    for (const w of d.workers) expect(w.main.child.exitCode).toBeNull();
    // Nobody checks meanwhile.
    expect(d.workers.flatMap((w) => w.lines()).filter((line) => checked(line) && line.time > ended.time)).toEqual([]);

    await proxy.restore();
    const next = await d.leader(20_000);
    const nextTerm = (await next.status()).leader!.term;
    expect(BigInt(nextTerm)).toBeGreaterThan(term);
    await next.waitForLog((line) => checked(line) && line.term === String(nextTerm), { timeoutMs: 5_000 });
  });
});
