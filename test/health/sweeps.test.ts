// How a sweep paces its checks: never two sweeps at once (a late one says so),
// never more than HEALTH_CHECK_CONCURRENCY checks at once, starts spread over
// HEALTH_CHECK_SPREAD_PERCENT of the interval; and a list_changed session that
// drops while its peer stays healthy is reopened and listens again.
import { afterEach, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { checkerStatus, sweepsPass, until } from '../helpers/health.js';
import { peerPool, startPeer, type TestPeer } from '../helpers/peers.js';
import { PEER_ENV, registered } from '../helpers/registry.js';

const pool = peerPool();
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  await pool.closeAll();
});

async function app(env: Record<string, string>): Promise<TestApp> {
  t = await startTestApp({ env: { ...PEER_ENV, HEALTH_CHECKS: 'true', HEALTH_CHECK_TIMEOUT_MS: '5000', ...env } });
  return t;
}

/** Pings answered after `ms`, counted while in flight across every peer that shares it; arrival instants recorded. */
function slowPings(ms: number) {
  const state = { inFlight: 0, most: 0, arrivals: [] as number[] };
  const beforeAnswer = async (method: string) => {
    if (method !== 'ping') return;
    state.arrivals.push(Date.now());
    state.most = Math.max(state.most, ++state.inFlight);
    await new Promise((resolve) => setTimeout(resolve, ms));
    state.inFlight--;
  };
  return { state, beforeAnswer };
}

describe('sweeps', () => {
  test('a sweep longer than the interval delays the next one, says so, and sweeps never overlap', async () => {
    const app_ = await app({ HEALTH_CHECK_INTERVAL_MS: '100', HEALTH_CHECK_SPREAD_PERCENT: '0' });
    const pings = slowPings(400);
    const peer = await pool.start({ tools: 1, beforeAnswer: pings.beforeAnswer });
    await registered(app_, { name: 'Slow', url: peer.url });
    const sweeps: { startedAt: string; finishedAt: string }[] = [];
    await until(async () => {
      const sweep = (await checkerStatus(app_)).lastSweep;
      if (sweep && sweep.checked === 1 && sweeps.at(-1)?.startedAt !== sweep.startedAt) sweeps.push(sweep);
      return sweeps.length >= 3;
    }, 20_000, 'three sweeps of the slow peer');
    expect(pings.state.most).toBe(1);
    for (const [previous, next] of sweeps.slice(1).map((s, i) => [sweeps[i]!, s] as const)) {
      expect(Date.parse(next.startedAt)).toBeGreaterThanOrEqual(Date.parse(previous.finishedAt));
    }
    expect(app_.logs.some((line) => line.includes('health sweep took longer than the interval'))).toBe(true);
  });

  /** Registers peers, then waits for a sweep that checked all of them; returns it. */
  async function sweepOf(app_: TestApp, peers: TestPeer[]) {
    for (const [i, peer] of peers.entries()) await registered(app_, { name: `Peer ${i}`, url: peer.url });
    return until(async () => {
      const sweep = (await checkerStatus(app_)).lastSweep;
      return sweep?.checked === peers.length ? sweep : undefined;
    }, 20_000, `a sweep over ${peers.length} gateways`);
  }

  test('at most HEALTH_CHECK_CONCURRENCY checks at once', async () => {
    const app_ = await app({ HEALTH_CHECK_INTERVAL_MS: '1500', HEALTH_CHECK_SPREAD_PERCENT: '0', HEALTH_CHECK_CONCURRENCY: '2' });
    const pings = slowPings(150);
    const peers = await Promise.all(Array.from({ length: 6 }, () => pool.start({ tools: 1, beforeAnswer: pings.beforeAnswer })));
    await sweepOf(app_, peers);
    expect(pings.state.most).toBe(2);
  });

  test('check starts are spread over HEALTH_CHECK_SPREAD_PERCENT of the interval: the k-th no sooner than k slots in', async () => {
    const app_ = await app({ HEALTH_CHECK_INTERVAL_MS: '1000', HEALTH_CHECK_SPREAD_PERCENT: '50', HEALTH_CHECK_CONCURRENCY: '20' });
    const pings = slowPings(0);
    const peers = await Promise.all(Array.from({ length: 5 }, () => pool.start({ tools: 1, beforeAnswer: pings.beforeAnswer })));
    const sweep = await sweepOf(app_, peers);
    const start = Date.parse(sweep.startedAt);
    const during = pings.state.arrivals.filter((at) => at >= start && at <= Date.parse(sweep.finishedAt)).sort((a, b) => a - b);
    expect(during).toHaveLength(5);
    // 50% of 1000 ms over 5 checks: one 100 ms slot each, a random start within it. Timers fire late, never early.
    const slot = 100;
    during.forEach((at, k) => expect(at - start).toBeGreaterThanOrEqual(k * slot - 2));
    expect(during.at(-1)! - start).toBeGreaterThanOrEqual(4 * slot - 2);
  });
});

describe('list_changed sessions', () => {
  test('a session that drops while its peer stays healthy is reopened, the peer resynced, and notifications heard again', async () => {
    const app_ = await app({ HEALTH_CHECK_INTERVAL_MS: '200', HEALTH_CHECK_SPREAD_PERCENT: '0', UNHEALTHY_THRESHOLD: '50', LIST_CHANGED_DEBOUNCE_MS: '100' });
    const first = await startPeer({ tools: 2 });
    const port = Number(new URL(first.url).port);
    const gateway = await registered(app_, { name: 'Restarting', url: first.url });
    await until(async () => (await checkerStatus(app_)).listChangedSessions === 1 && first.openStreams() === 1, 15_000, 'a standing session');
    // The peer restarts: every session it knew is gone, the event stream with them.
    await first.close();
    const second = await pool.start({ tools: 3, port });
    await until(() => second.openStreams() === 1, 15_000, 'the session reopened on the restarted peer');
    // Reopened, it resyncs what it may have missed: the third tool.
    const tools = async () => (await app_.gql(`query ($id: ID!) { gateway(id: $id) { tools { totalCount } } }`, { id: gateway.id })).data.gateway.tools.totalCount;
    await until(async () => (await tools()) === 3, 15_000, 'the resync after reopening');
    expect((await checkerStatus(app_)).listChangedSessions).toBe(1);
    // And it listens: a fourth tool announced by notification arrives.
    second.setCatalog({ tools: 4 });
    await until(async () => {
      await second.notifyToolsChanged();
      return (await tools()) === 4;
    }, 15_000, 'the notified tool');
    await sweepsPass(app_, 1);
  });
});
