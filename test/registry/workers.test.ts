// Two workers on one PostgreSQL database: the in-process mutex cannot order
// them, so the database must (row lock, unique constraints, advisory lock).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, createPostgresDatabase } from '../helpers/db.js';
import { makeTools, startPeer, type TestPeer } from '../helpers/peers.js';
import { catalogOf, eventTypes, PEER_ENV, refreshGateway, registered, registerGateway, rowCounts, updateGateway } from '../helpers/registry.js';

describe.runIf(backendAvailable('postgres'))('two workers on one PostgreSQL database', () => {
  let drop: () => Promise<void>;
  let workers: TestApp[] = [];
  const peers: TestPeer[] = [];
  beforeAll(async () => {
    const database = await createPostgresDatabase();
    drop = database.drop;
    // Workers of one deployment share the secret key (fingerprints depend on it).
    const env = { SECRET_KEY: randomBytes(32).toString('base64'), ...PEER_ENV };
    for (let i = 0; i < 2; i++) {
      workers.push(await startTestApp({ env, database: await openDatabase({ kind: 'postgres', url: database.url }) }));
    }
    peers.push(...(await Promise.all([1, 2, 3].map(() => startPeer({ tools: 40 })))));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(peers.map((p) => p.close()));
    await drop?.();
  });

  test('refreshes of one gateway from both workers at once: each succeeds, changes are applied once', async () => {
    const [a, b] = workers as [TestApp, TestApp];
    const peer = peers[0]!;
    const gateway = await registered(a, { name: 'Shared', url: peer.url });
    for (const [round, tools] of [makeTools(60).slice(10), makeTools(70).slice(25), makeTools(30)].entries()) {
      peer.setCatalog({ tools });
      const results = await Promise.all([refreshGateway(a, gateway.id), refreshGateway(b, gateway.id)]);
      expect(results.map((r) => r.__typename), `round ${round}: ${JSON.stringify(results)}`).toEqual(['RefreshGatewaySuccess', 'RefreshGatewaySuccess']);
      const { tools: stored, totalTools } = await catalogOf(b, gateway.id);
      expect(totalTools).toBe(tools.length);
      expect(stored.map((x) => x.originalName)).toEqual(tools.map((x) => x.name));
      // One of the two found the change; the other, waiting on the row lock, found nothing left.
      expect(results.filter((r) => r.tools.added + r.tools.removed > 0)).toHaveLength(1);
    }
    expect(await eventTypes(a, gateway.id)).toEqual(['GATEWAY_ADDED', ...Array(3).fill('GATEWAY_CATALOG_CHANGED')]);
  });

  test('a refresh that probed the old URL while another worker moved the gateway does not store the old catalog', async () => {
    const [a, b] = workers as [TestApp, TestApp];
    let armed = false;
    let reached!: () => void;
    let release!: () => void;
    const reachedOld = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const old = await startPeer({
      tools: 3,
      beforeAnswer: async (method) => {
        if (!armed || method !== 'tools/list') return;
        reached();
        await released;
      },
    });
    const moved = await startPeer({ tools: [{ name: 'fresh', inputSchema: { type: 'object' } }] });
    peers.push(old, moved);
    const gateway = await registered(a, { name: 'Moving', url: old.url });

    armed = true;
    const refreshing = refreshGateway(b, gateway.id); // worker b: holds the old peer's catalog
    await reachedOld;
    expect(await updateGateway(a, gateway.id, { url: moved.url })).toMatchObject({ __typename: 'UpdateGatewaySuccess' });
    release();
    const refreshed = await refreshing;
    expect(refreshed).toMatchObject({ __typename: 'RefreshGatewaySuccess', tools: { added: 0, updated: 0, removed: 0 } });
    const { tools } = await catalogOf(a, gateway.id);
    expect(tools.map((x) => x.originalName)).toEqual(['fresh']);
    expect((await a.gql(`query ($id: ID!) { gateway(id: $id) { url } }`, { id: gateway.id })).data.gateway.url).toBe(moved.url);
  });

  test('one name registered on both workers at once: exactly one wins', async () => {
    const [a, b] = workers as [TestApp, TestApp];
    const before = await rowCounts(a);
    const results = await Promise.all([
      registerGateway(a, { name: 'Contested', url: peers[1]!.url }),
      registerGateway(b, { name: 'Contested', url: peers[2]!.url }),
    ]);
    expect(results.map((r) => r.__typename).sort()).toEqual(['NameConflictError', 'RegisterGatewaySuccess']);
    expect((await rowCounts(b)).gateways).toBe(before.gateways + 1);
  });

  test('one peer registered under two names on both workers at once: exactly one wins', async () => {
    const [a, b] = workers as [TestApp, TestApp];
    const url = peers[2]!.url.replace('/mcp', '/mcp?same-peer');
    const results = await Promise.all([registerGateway(a, { name: 'Left', url }), registerGateway(b, { name: 'Right', url })]);
    expect(results.map((r) => r.__typename).sort()).toEqual(['DuplicateGatewayError', 'RegisterGatewaySuccess']);
  });
});
