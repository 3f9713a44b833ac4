// Catalogs the health checker keeps in step without any mutation: periodic
// resyncs (CATALOG_REFRESH_INTERVAL_MS, or a gateway's own refreshIntervalMs)
// and debounced resyncs on list_changed notifications over a standing session.
import { beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { checkerStatus, gatewayRow, healthSuite, sweepsPass, until } from '../helpers/health.js';
import { makeTools, type TestPeer } from '../helpers/peers.js';
import { catalogOf, eventTypes, registerGateway, setGatewayEnabled, updateGateway, uuidOf } from '../helpers/registry.js';

const WEEK_MS = 604_800_000;

describe('catalog resyncs by the health checker', () => {
  const suite = healthSuite({
    HEALTH_CHECK_INTERVAL_MS: '200',
    HEALTH_CHECK_TIMEOUT_MS: '2000',
    CATALOG_REFRESH_INTERVAL_MS: '1000',
    LIST_CHANGED_DEBOUNCE_MS: '300',
  });
  const { pool } = suite;
  let t: TestApp;
  beforeAll(() => void (t = suite.t));
  const register = (name: string, peer: TestPeer, refreshIntervalMs?: number) => suite.register(name, peer, { refreshIntervalMs });
  const toolNames = async (id: string) => (await catalogOf(t, id)).tools.map((tool) => tool.originalName).sort();
  const lists = (peer: TestPeer) => peer.requests.methods['tools/list'] ?? 0;
  const refreshIntervalOf = async (id: string) => (await t.gql(`query ($id: ID!) { gateway(id: $id) { refreshIntervalMs } }`, { id })).data.gateway.refreshIntervalMs;

  test('a peer without list_changed is resynced every CATALOG_REFRESH_INTERVAL_MS; an unchanged catalog records nothing', async () => {
    const quiet = { capabilities: { tools: { listChanged: false } } };
    const peer = await pool.start({ tools: makeTools(2), ...quiet });
    const gateway = await register('Polled', peer);
    // Its own interval wins over the deployment's.
    const slow = await pool.start({ tools: 1, ...quiet });
    const own = await register('Slow', slow, 60_000);
    expect(await refreshIntervalOf(own.id)).toBe(60_000);
    expect(await refreshIntervalOf(gateway.id)).toBeNull();

    await until(() => lists(peer) >= 2, 15_000, 'a periodic resync');
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED']);
    peer.setCatalog({ tools: makeTools(3) });
    await until(async () => (await toolNames(gateway.id)).includes('tool_0003'), 15_000, 'the new tool');
    expect(await toolNames(gateway.id)).toEqual(['tool_0001', 'tool_0002', 'tool_0003']);
    const syncedAt = (await gatewayRow(t, gateway.id))!.catalogSyncedAt!;

    const listed = lists(peer);
    await until(async () => lists(peer) >= listed + 2 && (await gatewayRow(t, gateway.id))!.catalogSyncedAt! > syncedAt, 15_000, 'two more resyncs');
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_CATALOG_CHANGED']);
    const changed = await t.app.db.prisma.gatewayEvent.findFirstOrThrow({ where: { gatewayId: uuidOf(gateway.id), type: 'GATEWAY_CATALOG_CHANGED' } });
    expect(changed.payload).toMatchObject({ catalog: { tools: { added: 1, updated: 0, removed: 0 } } });
    // No list_changed session for a peer that does not offer it.
    expect((await checkerStatus(t)).listChangedSessions).toBe(0);
    // Seconds of the default interval passed: the one with a minute of its own was left alone...
    expect(lists(slow)).toBe(1);
    // ...until it falls back to the default.
    expect(await updateGateway(t, own.id, { refreshIntervalMs: null })).toMatchObject({ __typename: 'UpdateGatewaySuccess' });
    expect(await refreshIntervalOf(own.id)).toBeNull();
    await until(() => lists(slow) >= 2, 15_000, 'a resync at the default interval');
  });

  test('refreshIntervalMs is validated', async () => {
    const peer = await pool.start({ tools: 1 });
    const gateway = await register('Bounds', peer, 10_000);
    expect(await refreshIntervalOf(gateway.id)).toBe(10_000);
    for (const bad of [5, 9_999, WEEK_MS + 1]) {
      expect(await updateGateway(t, gateway.id, { refreshIntervalMs: bad }), String(bad)).toMatchObject({ __typename: 'ValidationError', field: 'refreshIntervalMs' });
      expect(await registerGateway(t, { name: `Bad ${bad}`, url: peer.url, refreshIntervalMs: bad })).toMatchObject({
        __typename: 'ValidationError',
        field: 'refreshIntervalMs',
      });
    }
    expect(await refreshIntervalOf(gateway.id)).toBe(10_000);
    expect(await updateGateway(t, gateway.id, { refreshIntervalMs: WEEK_MS })).toMatchObject({ __typename: 'UpdateGatewaySuccess' });
    expect(await refreshIntervalOf(gateway.id)).toBe(WEEK_MS);
  });

  test('a burst of list_changed notifications is one resync; disabling closes the session', async () => {
    const peer = await pool.start({ tools: makeTools(1) });
    // A week of its own: no periodic resync gets in the way of the counts.
    const gateway = await register('Notifying', peer, WEEK_MS);
    await until(async () => (await checkerStatus(t)).listChangedSessions === 1 && peer.openStreams() >= 1, 15_000, 'a list_changed session');

    // The session listens once a notification leads to a resync (one sent before it listened is lost: send again).
    for (let attempt = 1; ; attempt++) {
      const listed = lists(peer);
      await peer.notifyToolsChanged();
      const heard = await until(() => lists(peer) > listed, 5_000, 'a resync').catch(() => false);
      if (heard) break;
      expect(attempt, 'notifications never led to a resync').toBeLessThan(5);
    }

    const listed = lists(peer);
    peer.setCatalog({ tools: makeTools(2) });
    await Promise.all(Array.from({ length: 10 }, () => peer.notifyToolsChanged()));
    await until(async () => (await toolNames(gateway.id)).includes('tool_0002'), 15_000, 'the new tool');
    // Sweeps go on, well past the debounce; nothing lists again.
    await sweepsPass(t, 3);
    expect(lists(peer)).toBe(listed + 1);
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_CATALOG_CHANGED']);

    await setGatewayEnabled(t, gateway.id, false);
    await until(async () => (await checkerStatus(t)).listChangedSessions === 0 && peer.openStreams() === 0, 15_000, 'the session closed');
  });
});
