// The health checker in-process on PGlite (no election: this process leads),
// against real MCP peers: sweeps, the unreachable threshold and reactivation by
// resync, back-off, failure reasons, disabled gateways, writes that come too
// late, and what the healthChecker query shows. Every wait is on a condition.
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  checkerStatus,
  checkHealth,
  eventsOf,
  gatewayRow,
  healthSuite,
  holdingServer,
  pingHold,
  sweepsPass,
  sweepStartedAfter,
  until,
} from '../helpers/health.js';
import { closeServer, makeTools, peerPool, refusedPort } from '../helpers/peers.js';
import {
  byOriginalName,
  catalogOf,
  deleteGateway,
  eventTypes,
  registered,
  setGatewayEnabled,
  setToolEnabled,
  uuidOf,
  PEER_ENV,
} from '../helpers/registry.js';

const portOf = (peer: { url: string }) => Number(new URL(peer.url).port);
const NO_LIST_CHANGED = { tools: { listChanged: false } };

const VIEWS = /* GraphQL */ `
  query Views($id: ID!) {
    mine: tools(filter: { gatewayId: $id }) { totalCount }
    all: tools(filter: { gatewayId: $id, includeUnavailable: true }) { totalCount }
    federation { catalog { tools } gateways { active unreachable } }
  }
`;

describe('health sweeps (threshold 3)', () => {
  const suite = healthSuite({
    // Far above the check's own bound: only HEALTH_CHECK_TIMEOUT_MS can end a hanging check within a test.
    PEER_TIMEOUT_MS: '60000',
    PEER_RETRY_TOTAL_MS: '60000',
    HEALTH_CHECK_INTERVAL_MS: '200',
    HEALTH_CHECK_TIMEOUT_MS: '2000',
    HEALTH_CHECK_MAX_BACKOFF_MS: '1000',
    UNHEALTHY_THRESHOLD: '3',
  });
  const { pool, register } = suite;
  let t: TestApp;
  beforeAll(() => void (t = suite.t));

  const views = async (id: string) => (await t.gql(VIEWS, { id })).data;
  const status = async (id: string) => (await gatewayRow(t, id))?.reachable;

  test('healthChecker: this process leads with no election; a sweep checks the enabled gateways', async () => {
    const [a, b, c] = await Promise.all([pool.start({ tools: 1 }), pool.start({ tools: 1 }), pool.start({ tools: 1 })]);
    await register('One', a);
    await register('Two', b);
    const off = await register('Off', c);
    await setGatewayEnabled(t, off.id, false);
    const sweep = await sweepStartedAfter(t, Date.now());
    expect(sweep).toMatchObject({ checked: 2, failed: 0 });
    expect(Date.parse(sweep.finishedAt)).toBeGreaterThanOrEqual(Date.parse(sweep.startedAt));
    const s = await checkerStatus(t);
    expect(s).toMatchObject({ leading: true, mode: 'NONE', leader: { instanceId: s.instanceId } });
    expect(s.instanceId).toEqual(expect.any(String));
    expect(s.leader.term).toBeGreaterThanOrEqual(1);
    expect(Date.parse(s.nextSweepAt)).toBeGreaterThan(Date.parse(s.lastSweep.startedAt));
  });

  test('a peer that goes away is UNREACHABLE after exactly 3 failures; back on its port, it is resynced and ACTIVE', async () => {
    let peer = await pool.start({ tools: makeTools(3) });
    const port = portOf(peer);
    const gateway = await register('Flappy', peer);
    const before = byOriginalName((await catalogOf(t, gateway.id)).tools);
    await setToolEnabled(t, before.tool_0002.id, false);
    // The default listing and the federation both count what clients can call: not the tool switched off.
    expect(await views(gateway.id)).toMatchObject({ mine: { totalCount: 2 }, all: { totalCount: 3 }, federation: { catalog: { tools: 2 } } });

    await peer.close();
    await until(async () => (await status(gateway.id)) === false, 15_000, 'UNREACHABLE');
    const down = (await eventsOf(t, gateway.id)).filter((e) => e.type === 'GATEWAY_HEALTH_CHANGED');
    expect(down).toHaveLength(1);
    expect(down[0]!.payload).toMatchObject({ name: 'Flappy', oldStatus: 'ACTIVE', newStatus: 'UNREACHABLE', consecutiveFailures: 3 });
    expect((down[0]!.payload as any).lastError).toEqual(expect.stringMatching(/\S/));
    // Out of the default listings, still there when asked for.
    expect(await views(gateway.id)).toMatchObject({
      mine: { totalCount: 0 },
      all: { totalCount: 3 },
      federation: { catalog: { tools: 0 }, gateways: { active: 0, unreachable: 1 } },
    });
    // An unreachable gateway holds no list_changed session.
    await until(async () => (await checkerStatus(t)).listChangedSessions === 0, 15_000, 'the session closed');

    peer = await pool.start({ port, tools: makeTools(4) });
    await until(async () => (await status(gateway.id)) === true, 15_000, 'ACTIVE again');
    const after = byOriginalName((await catalogOf(t, gateway.id)).tools);
    expect(Object.keys(after).sort()).toEqual(['tool_0001', 'tool_0002', 'tool_0003', 'tool_0004']);
    for (const name of ['tool_0001', 'tool_0002', 'tool_0003']) expect(after[name].id, name).toBe(before[name].id);
    expect(after.tool_0002.enabled).toBe(false);
    expect(await views(gateway.id)).toMatchObject({ mine: { totalCount: 3 }, all: { totalCount: 4 }, federation: { catalog: { tools: 3 }, gateways: { active: 1 } } });
    expect(await gatewayRow(t, gateway.id)).toMatchObject({ consecutiveFailures: 0, lastError: null });
    await until(async () => (await checkerStatus(t)).listChangedSessions === 1, 15_000, 'its session again');

    const events = await eventsOf(t, gateway.id);
    expect(events.map((e) => e.type)).toEqual(['GATEWAY_ADDED', 'TOOL_TOGGLED', 'GATEWAY_HEALTH_CHANGED', 'GATEWAY_HEALTH_CHANGED', 'GATEWAY_CATALOG_CHANGED']);
    expect(events[3]!.payload).toMatchObject({ oldStatus: 'UNREACHABLE', newStatus: 'ACTIVE', lastError: null });
    expect(events[4]!.payload).toMatchObject({ catalog: { tools: { added: 1, updated: 0, removed: 0 } } });
  });

  test('a peer that answers ping but not tools/list stays UNREACHABLE, its failures growing', async () => {
    const peer = await pool.start({ tools: 2 });
    const port = portOf(peer);
    const gateway = await register('Garbled', peer);
    await peer.close();
    await until(async () => (await status(gateway.id)) === false, 15_000, 'UNREACHABLE');

    const garbled = await pool.start({ port, tools: 2, garbage: 'schema' });
    const failures = (await gatewayRow(t, gateway.id))!.consecutiveFailures;
    const row = await until(async () => {
      const r = await gatewayRow(t, gateway.id);
      return (garbled.requests.methods['tools/list'] ?? 0) >= 2 && r!.consecutiveFailures >= failures + 2 && r;
    }, 15_000, 'two failed resyncs');
    expect(garbled.requests.methods.ping).toBeGreaterThanOrEqual(2);
    expect(row).toMatchObject({ reachable: false, enabled: true });
    expect(row.lastError).toMatch(/could not be resynced/);
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_HEALTH_CHANGED']);
    expect((await views(gateway.id)).mine.totalCount).toBe(0);
  });

  test('failures and their reasons, from checkGatewayHealth and from the sweeps; a hanging peer does not stall them', async () => {
    const healthy = await pool.start({ tools: 1 });
    const hanging = await pool.start({ tools: 1, hang: 'ping' });
    const [refused, notMcp, authed] = await Promise.all([
      pool.start({ tools: 1 }),
      pool.start({ tools: 1 }),
      pool.start({ tools: 1, auth: { type: 'bearer', token: 'right-token' } }),
    ]);
    const ids = {
      healthy: (await register('Healthy', healthy)).id,
      hanging: (await register('Hanging', hanging)).id,
      refused: (await register('Refused', refused)).id,
      notMcp: (await register('NotMcp', notMcp)).id,
      auth: (await register('Authed', authed, { auth: { bearer: { token: 'right-token' } } })).id,
    };
    await Promise.all([refused.close(), notMcp.close(), authed.close()]);
    let plainRequests = 0;
    const plain = createServer((req, res) => {
      plainRequests++;
      req.resume().on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello, not MCP'));
    });
    await new Promise<void>((resolve) => plain.listen(portOf(notMcp), '127.0.0.1', resolve));
    const rekeyed = await pool.start({ port: portOf(authed), tools: 1, auth: { type: 'bearer', token: 'another-token' } });
    try {
      // Until a sweep reaches the new servers, a request may still go out on a pooled socket the old one closed.
      await until(() => plainRequests > 0 && rekeyed.requests.unauthorized > 0, 15_000, 'the sweeps to reach the new servers');
      const expected = { hanging: 'TIMEOUT', refused: 'REFUSED', notMcp: 'PROTOCOL', auth: 'AUTH_REJECTED' } as const;
      const manual = Object.fromEntries(
        await Promise.all(Object.keys(expected).map(async (key) => [key, await checkHealth(t, ids[key as keyof typeof ids])])),
      );
      for (const [key, reason] of Object.entries(expected)) {
        expect(manual[key], JSON.stringify(manual[key])).toMatchObject({ __typename: 'CheckGatewayHealthSuccess', ok: false, reason, latencyMs: null });
        expect(manual[key].error, key).toEqual(expect.stringMatching(/\S/));
        expect(manual[key].gateway.consecutiveFailures, key).toBeGreaterThanOrEqual(1);
      }
      const ok = await checkHealth(t, ids.healthy);
      expect(ok).toMatchObject({ ok: true, reason: null, error: null, status: 'ACTIVE', gateway: { consecutiveFailures: 0, lastError: null } });
      expect(ok.latencyMs).toBeGreaterThanOrEqual(0);

      // The sweeps record the same failures; the healthy peer is checked sweep after sweep meanwhile.
      const healthyChecks = new Set<number>();
      await until(async () => {
        healthyChecks.add((await gatewayRow(t, ids.healthy))!.lastCheckedAt!.getTime());
        const rows = await Promise.all(Object.keys(expected).map((key) => gatewayRow(t, ids[key as keyof typeof ids])));
        return healthyChecks.size >= 3 && rows.every((r, i) => r!.consecutiveFailures > manual[Object.keys(expected)[i]!].gateway.consecutiveFailures);
      }, 25_000, 'the sweeps to record failures and keep checking the healthy peer');
      for (const key of Object.keys(expected)) {
        expect((await gatewayRow(t, ids[key as keyof typeof ids]))!.lastError, key).toBe(manual[key].error);
      }
      expect(await gatewayRow(t, ids.healthy)).toMatchObject({ reachable: true, consecutiveFailures: 0, lastError: null });
    } finally {
      await closeServer(plain);
    }
  });

  test('disabled gateways are not checked; checkGatewayHealth: disabled, unknown, not allowed', async () => {
    const peer = await pool.start({ tools: 1 });
    const gateway = await register('Quiet', peer);
    await until(() => (peer.requests.methods.ping ?? 0) >= 2, 15_000, 'two checks');
    await setGatewayEnabled(t, gateway.id, false);
    // Checks of sweeps that began before the change may still ping; one that began after has none.
    await sweepStartedAfter(t, Date.now());
    const pings = peer.requests.methods.ping;
    const checkedAt = (await gatewayRow(t, gateway.id))!.lastCheckedAt;
    await sweepsPass(t, 2);
    expect(peer.requests.methods.ping).toBe(pings);
    expect((await gatewayRow(t, gateway.id))!.lastCheckedAt).toEqual(checkedAt);

    expect(await checkHealth(t, gateway.id)).toMatchObject({ __typename: 'GatewayDisabledError', gatewayId: gateway.id });
    expect(peer.requests.methods.ping).toBe(pings);

    const created = await t.gql(`mutation { createApiToken(name: "reader", scopes: [read]) { ... on CreateApiTokenSuccess { secret } } }`);
    const reader = created.data.createApiToken.secret as string;
    await setGatewayEnabled(t, gateway.id, true);
    expect(await checkHealth(t, gateway.id, reader)).toMatchObject({ __typename: 'AuthorizationError', requiredScopes: ['write'] });

    await deleteGateway(t, gateway.id);
    expect(await checkHealth(t, gateway.id)).toMatchObject({ __typename: 'NotFoundError', id: gateway.id });
  });

  test('a check that ends after its gateway was disabled or deleted writes nothing', async () => {
    for (const change of ['disable', 'delete'] as const) {
      const hold = pingHold();
      const peer = await pool.start({ tools: 1, beforeAnswer: hold.beforeAnswer });
      const gateway = await register(`Late ${change}`, peer);
      await until(() => peer.requests.methods.ping, 15_000, 'a first check');
      hold.hold();
      // A sweep's check, then a manual one, both waiting for the peer's answer to ping.
      await until(() => hold.held() === 1, 15_000, "the sweep's ping");
      const manual = checkHealth(t, gateway.id);
      await until(() => hold.held() === 2, 15_000, "the manual check's ping");
      if (change === 'disable') await setGatewayEnabled(t, gateway.id, false);
      else await deleteGateway(t, gateway.id);
      const row = await gatewayRow(t, gateway.id);
      const events = await eventTypes(t, gateway.id);
      hold.release();
      const result = await manual;
      await sweepStartedAfter(t, Date.now());
      expect(await gatewayRow(t, gateway.id), change).toEqual(row);
      expect(await eventTypes(t, gateway.id), change).toEqual(events);
      if (change === 'disable') {
        expect(result).toMatchObject({ __typename: 'CheckGatewayHealthSuccess', ok: true, status: null, gateway: { status: 'DISABLED' } });
      } else {
        expect(row).toBeNull();
        expect(result).toMatchObject({ __typename: 'NotFoundError', id: gateway.id });
      }
    }
  });
});

describe('back-off of an unreachable gateway (threshold 1)', () => {
  let t: TestApp;
  const pool = peerPool();
  const INTERVAL = 200;
  const CAP = 1_600;
  // The stored wait is JS time (when to check next) minus the database's (when it was checked).
  const TOLERANCE = 90;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        ...PEER_ENV,
        HEALTH_CHECKS: 'true',
        HEALTH_CHECK_INTERVAL_MS: String(INTERVAL),
        HEALTH_CHECK_SPREAD_PERCENT: '0',
        HEALTH_CHECK_TIMEOUT_MS: '5000',
        HEALTH_CHECK_MAX_BACKOFF_MS: String(CAP),
        UNHEALTHY_THRESHOLD: '1',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await pool.closeAll();
  });

  test('the wait doubles with each failure up to the cap; a manual check resets it', async () => {
    const peer = await pool.start({ tools: 1, capabilities: NO_LIST_CHANGED });
    const gateway = await registered(t, { name: 'Backoff', url: peer.url });
    await peer.close();
    // Its port now answers 503, each request only when the test lets it: the row between two checks stands still.
    const server = await holdingServer(portOf(peer));
    try {
      const waits = new Map<number, number>();
      while (!waits.has(5)) {
        await until(() => server.held.length > 0, 15_000, 'the next check');
        const row = (await gatewayRow(t, gateway.id))!;
        if (row.consecutiveFailures > 0) waits.set(row.consecutiveFailures, row.nextCheckAt!.getTime() - row.lastCheckedAt!.getTime());
        server.release();
      }
      // 200, 400, 800, then the cap: 1600, 1600.
      for (const [failures, wait] of waits) {
        const expected = Math.min(INTERVAL * 2 ** (failures - 1), CAP);
        expect(Math.abs(wait - expected), `after ${failures} failures: ${wait} ms, not ${expected}`).toBeLessThan(TOLERANCE);
      }
      expect([...waits.keys()].filter((f) => f >= 2).sort()).toEqual([2, 3, 4, 5]);

      // A sweep's check is held; a manual one answered meanwhile resets the back-off.
      await until(() => server.held.length === 1, 15_000, "the sweep's check");
      const failures = (await gatewayRow(t, gateway.id))!.consecutiveFailures;
      const manual = checkHealth(t, gateway.id);
      await until(() => server.held.length === 2, 15_000, 'the manual check');
      server.release(server.held[1]);
      expect(await manual).toMatchObject({ ok: false, reason: 'HTTP_STATUS', status: 'UNREACHABLE', gateway: { consecutiveFailures: failures + 1, nextCheckAt: null } });
      expect((await gatewayRow(t, gateway.id))!.nextCheckAt).toBeNull();
      server.release();
    } finally {
      await server.close();
    }
  });
});
