// The health checker on several workers (src/main.ts child processes) of one
// deployment on PostgreSQL and Redis: exactly one sweeps, a dead leader is
// replaced within its lease and the new one goes on from the failure counts in
// the database, a leader paused past its lease drops what it was doing when it
// resumes, and a leader that shuts down gives its lock up at once.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { killAllMain } from '../helpers/process.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { requireServices, TEST_REDIS_URL } from '../helpers/services.js';
import { checksOf, deployment, heldPeer, sleep, START_TIMEOUT, until, type Deployment, type LogLine, type Worker } from '../helpers/deployment.js';

const INTERVAL = 500;
const TTL = 2_000;
const RETRY = 200;
const THRESHOLD = 8;
const leadingLine = (line: LogLine) => line.msg === 'leading the health checker';

afterAll(killAllMain);

describe.runIf(requireServices('postgres', 'redis'))('three workers on one PostgreSQL and one Redis', () => {
  let d: Deployment;
  const peers: TestPeer[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    // LEADER_ELECTION unset: REDIS_URL makes it `redis`.
    d = await deployment({
      REDIS_URL: TEST_REDIS_URL,
      HEALTH_CHECK_INTERVAL_MS: String(INTERVAL),
      LEADER_LOCK_TTL_MS: String(TTL),
      LEADER_LOCK_EXTEND_MS: '500',
      LEADER_RETRY_MS: String(RETRY),
      UNHEALTHY_THRESHOLD: String(THRESHOLD),
      // A ping held by a test is not a timeout.
      HEALTH_CHECK_TIMEOUT_MS: '30000',
      PEER_TIMEOUT_MS: '30000',
    });
    await d.start(3);
  }, START_TIMEOUT);
  afterAll(async () => {
    await d?.close();
    await Promise.all(peers.map((p) => p.close()));
  });

  test('exactly one leads, all agree on it, and only it checks: one ping per peer per sweep', async () => {
    const leader = await d.leader();
    const statuses = await Promise.all(d.workers.map((w) => w.status()));
    expect(statuses.filter((s) => s.leading).map((s) => s.instanceId)).toEqual([leader.instanceId]);
    for (const s of statuses) {
      expect(s.mode).toBe('REDIS');
      expect(s.leader?.instanceId).toBe(leader.instanceId);
    }
    const row = await d.leadership();
    expect(row.holder).toBe(leader.instanceId);
    expect(String(statuses[0]!.leader!.term)).toBe(row.term);

    // Registered through a worker that does not lead: the leader finds them in the database.
    const follower = d.workers.find((w) => w !== leader)!;
    peers.push(...(await Promise.all([0, 1, 2].map(() => startPeer({ tools: 1 })))));
    for (const [i, peer] of peers.entries()) {
      await follower.register(`peer-${i}`, peer.url);
      ids.push((await d.gateway(`peer-${i}`)).id);
    }
    // Steady state: every gateway checked by the leader already.
    await until('a first check of each gateway', () => ids.every((id) => checksOf(leader, id).length >= 2), 15_000);

    const mark = leader.mark();
    const pingsBefore = peers.map((p) => p.requests.methods.ping ?? 0);
    await until('five more sweeps', () => ids.every((id) => checksOf(leader, id, mark).length >= 5), 15_000);
    const pingsAfter = peers.map((p) => p.requests.methods.ping ?? 0);
    // Each sweep checks every gateway once: as many checks of each as there were sweeps.
    const sweeps = checksOf(leader, ids[0]!, mark).length;
    for (const [i, id] of ids.entries()) {
      expect(Math.abs(checksOf(leader, id, mark).length - sweeps), `gateway ${i}`).toBeLessThanOrEqual(1);
      // One ping per sweep (±1: a sweep in flight at either end of the window); a second checker would double it.
      const pings = pingsAfter[i]! - pingsBefore[i]!;
      expect(pings, `pings of peer ${i} over ${sweeps} sweeps`).toBeGreaterThanOrEqual(sweeps - 1);
      expect(pings, `pings of peer ${i} over ${sweeps} sweeps`).toBeLessThanOrEqual(sweeps + 1);
    }

    const checks = leader.lines().filter((line) => line.msg === 'health check');
    expect(new Set(checks.map((line) => line.instanceId))).toEqual(new Set([leader.instanceId]));
    expect(new Set(checks.map((line) => line.term))).toEqual(new Set([row.term]));
    for (const other of d.workers.filter((w) => w !== leader)) {
      expect(other.lines().filter((line) => line.msg === 'health check')).toEqual([]);
      expect(other.lines().filter(leadingLine)).toEqual([]);
      expect((await other.status()).leading).toBe(false);
    }
  });

  test('SIGKILL of the leader: another leads with a higher term within the lease, and counts on from the stored failures', async () => {
    const first = await d.leader();
    const firstTerm = BigInt((await first.status()).leader!.term);
    const [peer, id] = [peers[2]!, ids[2]!];
    const name = 'peer-2';
    await peer.close(); // refused from now on
    await until('two failed checks in a row', async () => (await d.gateway(name)).consecutive_failures >= 2, 10_000, 20);

    const others = d.workers.filter((w) => w !== first);
    const marks = others.map((w) => w.mark());
    first.main.kill('SIGKILL');
    const killedAt = Date.now();
    await first.main.exited;
    // Whatever the first leader wrote, it wrote before it died.
    const atKill = await d.gateway(name);
    expect(atKill.consecutive_failures).toBeGreaterThanOrEqual(2);
    expect(atKill.consecutive_failures, 'the first leader got too far: the test proves nothing').toBeLessThan(THRESHOLD - 1);
    expect(atKill.reachable).toBe(true);

    // Bound: the lock's TTL, one retry, one interval, and slack for a loaded machine.
    const bound = TTL + RETRY + INTERVAL + 6_000;
    const next = await Promise.any(
      others.map(async (w, i) => ({ worker: w, line: await w.waitForLog(leadingLine, { from: marks[i], timeoutMs: bound }) })),
    );
    const tookOverAfter = Date.now() - killedAt;
    expect(tookOverAfter).toBeLessThan(bound);
    expect(BigInt(next.line.term as string)).toBeGreaterThan(firstTerm);
    expect(next.line.instanceId).toBe(next.worker.instanceId);

    // Follow the stored count until the gateway is unreachable: it only grows.
    const seen: number[] = [];
    const final = await until(
      'the gateway unreachable',
      async () => {
        const row = await d.gateway(name);
        seen.push(row.consecutive_failures);
        return row.reachable ? undefined : row;
      },
      15_000,
      20,
    );
    expect(Math.min(...seen), `failure counts seen: ${seen.join(',')}`).toBeGreaterThanOrEqual(atKill.consecutive_failures);
    expect(seen.some((n) => n > atKill.consecutive_failures)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(final.consecutive_failures).toBeGreaterThanOrEqual(THRESHOLD);
    // The new leader wrote the failures after the kill, continuing from the first one's.
    await until('the new leader’s failed checks in the log', () =>
      checksOf(next.worker, id).filter((line) => line.ok === false).length >= THRESHOLD - atKill.consecutive_failures,
    );

    // UNREACHABLE exactly at the threshold, counted over both leaders: one status change, at THRESHOLD failures.
    const { rows } = await d.sql.query<{ payload: Record<string, unknown> }>(
      `SELECT payload FROM gateway_event WHERE gateway_id = $1 AND type = 'GATEWAY_HEALTH_CHANGED' ORDER BY id`,
      [id],
    );
    expect(rows.map((r) => r.payload)).toEqual([
      expect.objectContaining({ oldStatus: 'ACTIVE', newStatus: 'UNREACHABLE', consecutiveFailures: THRESHOLD }),
    ]);
  });

  // What a pause alone does. The lease runs out on the paused leader's clock
  // too. Paused where an idle Node process waits (epoll_wait), it resumes with
  // that call failing EINTR past its timeout: libuv then runs the overdue timers
  // (the lock's extension and expiry) before it polls again and finds the
  // peer's answer in the socket. So the old leader ends its term before it can
  // act on the answer; it writes nothing and logs no refusal. (Paused anywhere
  // else in its loop, it reads the answer first, tries the write, and its term
  // ends in that same turn of the loop, before the database's refusal comes
  // back: refused, but not logged. The logged refusal needs a leader whose own
  // clock still says it leads: see the lost lock in workers-outages.test.ts.)
  test('a leader paused past its lease drops the check it held on resume: its own clock ends the term before the answer is read', async () => {
    const paused = await d.leader();
    const term = BigInt((await paused.status()).leader!.term);
    const peer = await heldPeer();
    peers.push(peer);
    const follower = d.workers.find((w) => w !== paused && w.main.child.exitCode === null && w.main.child.signalCode === null)!;
    await follower.register('held', peer.url);
    const id = (await d.gateway('held')).id;
    await peer.held; // the leader's first check of it, waiting on its ping
    const heldAt = Date.now();

    const mark = paused.mark();
    await stopWhileWaiting(paused);
    await until('a newer term', async () => BigInt((await d.leadership()).term) > term, 15_000);
    const before = await d.gateway('held');
    await until('a check by the new leader', async () => {
      const row = await d.gateway('held');
      return row.last_latency_ms !== null && row.last_checked_at! > before.last_checked_at! ? row : undefined;
    });
    await peer.release(); // into the paused leader's socket buffer
    const heldFor = Date.now() - heldAt;
    paused.main.kill('SIGCONT');

    const ended = await paused.waitForLog((line) => line.msg === 'no longer leading the health checker', { from: mark, timeoutMs: 5_000 });
    expect(ended.reason).toMatch(/expired/);
    await sleep(1_000);
    const after = paused.lines(mark);
    expect(after.filter((line) => line.msg === 'health check' && line.gatewayId === id), 'the paused leader acted on the answer').toEqual([]);
    expect(after.filter((line) => line.msg.startsWith('write refused'))).toEqual([]);
    // Its check took as long as the pause: a result written by it would show that latency.
    expect((await d.gateway('held')).last_latency_ms!).toBeLessThan(heldFor);
    expect((await paused.status()).leading).toBe(false);
    expect((await d.leader()).instanceId).not.toBe(paused.instanceId);
  });
});

/** Linux system calls a Node process idles in (libuv's epoll wait), by architecture. */
const EPOLL_WAITS: Partial<Record<string, number[]>> = { x64: [232, 281, 441], arm64: [22, 441] };

/** SIGSTOPs a worker caught in its idle epoll wait; caught elsewhere, it is let go at once and tried again. */
async function stopWhileWaiting(worker: Worker): Promise<void> {
  const waits = EPOLL_WAITS[process.arch];
  if (!waits) throw new Error(`no epoll syscall numbers for ${process.arch}`);
  const pid = worker.main.child.pid!;
  for (let attempt = 0; attempt < 200; attempt++) {
    worker.main.kill('SIGSTOP');
    // Stopped ('T' after the command name), then: which system call was it in?
    await until('the worker stopped', async () => (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.startsWith('T'), 2_000, 1);
    const syscall = Number((await readFile(`/proc/${pid}/syscall`, 'utf8')).split(' ')[0]);
    if (waits.includes(syscall)) return;
    worker.main.kill('SIGCONT');
    await sleep(5 + Math.random() * 20);
  }
  throw new Error('the worker was never caught waiting in epoll');
}

describe.runIf(requireServices('postgres', 'redis'))('a leader that shuts down gracefully', () => {
  let d: Deployment;
  const LONG_TTL = 20_000;

  beforeAll(async () => {
    d = await deployment({
      REDIS_URL: TEST_REDIS_URL,
      HEALTH_CHECK_INTERVAL_MS: String(INTERVAL),
      LEADER_LOCK_TTL_MS: String(LONG_TTL),
      LEADER_LOCK_EXTEND_MS: '5000',
      LEADER_RETRY_MS: String(RETRY),
    });
    await d.start(2);
  }, START_TIMEOUT);
  afterAll(() => d?.close());

  test('SIGTERM releases the lock: the other worker leads long before the lock would have expired', async () => {
    const leader = await d.leader();
    const term = BigInt((await leader.status()).leader!.term);
    const other: Worker = d.workers.find((w) => w !== leader)!;
    const mark = other.mark();
    leader.main.kill('SIGTERM');
    const stoppedAt = Date.now();
    // 5 s against a 20 s lock: only a released lock is taken this soon.
    const line = await other.waitForLog(leadingLine, { from: mark, timeoutMs: 5_000 });
    expect(Date.now() - stoppedAt).toBeLessThan(LONG_TTL / 4);
    expect(BigInt(line.term as string)).toBeGreaterThan(term);
    expect(await leader.main.exited).toEqual({ code: 0, signal: null });
    expect(leader.lines().find((l) => l.msg === 'no longer leading the health checker')?.reason).toBe('shutting down');
    const status = await other.status();
    expect(status.leading).toBe(true);
    expect(status.leader?.instanceId).toBe(other.instanceId);
  });
});
