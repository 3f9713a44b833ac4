// Registry changes are published to subscribers once committed (never for a
// failed change), and registry mutations need the write scope.
import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { refusedUrl, startPeer, type TestPeer } from '../helpers/peers.js';
import {
  deleteGateway,
  refreshGateway,
  registered,
  registerGateway,
  rowCounts,
  setGatewayEnabled,
  setToolEnabled,
  updateGateway,
  uuidOf,
  PEER_ENV,
} from '../helpers/registry.js';
import { nextNonProbe, subscribeSse, subscribeWs, untilLive, wsClient, type Subscription } from '../helpers/subscriptions.js';

const EVENTS = /* GraphQL */ `
  subscription { gatewayEvents { sequence type gatewayId payload } }
`;

describe('registry events and scopes', () => {
  let t: TestApp;
  let url: string;
  let peer: TestPeer;
  let guarded: TestPeer;
  let readToken: string;
  let client: Client;
  const subscriptions: Subscription[] = [];
  beforeAll(async () => {
    t = await startTestApp({ env: PEER_ENV });
    url = await t.app.listen();
    [peer, guarded] = await Promise.all([startPeer({ tools: 2 }), startPeer({ tools: 1 })]);
    readToken = (await t.app.services.tokens.create('reader', ['read'])).secret;
    client = wsClient(url, readToken);
  });
  afterAll(async () => {
    for (const s of subscriptions) s.unsubscribe();
    await client?.dispose();
    await t?.close();
    await Promise.all([peer?.close(), guarded?.close()]);
  });

  const probe = (attempt: number) => t.app.services.events.publish(t.app.db.prisma, 'GATEWAY_HEALTH_CHANGED', randomUUID(), { probe: attempt });

  test('graphql-ws and SSE subscribers receive the GATEWAY_ADDED of a registration, and nothing of a failed one', async () => {
    const ws = subscribeWs(client, EVENTS);
    const sse = await subscribeSse(url, readToken, EVENTS);
    subscriptions.push(ws, sse);
    await untilLive(ws.results, probe);
    await untilLive(sse.results, probe);

    expect(await registerGateway(t, { name: 'Fails first', url: await refusedUrl() })).toMatchObject({ __typename: 'PeerConnectionError' });
    const gateway = await registered(t, { name: 'Announced', url: peer.url });
    for (const subscriber of [ws, sse]) {
      const event = (await nextNonProbe(subscriber.results)).data?.gatewayEvents;
      expect(event).toMatchObject({ type: 'GATEWAY_ADDED', gatewayId: gateway.id, payload: { name: 'Announced', catalog: { tools: { added: 2 } } } });
      // What was delivered is what the event log holds.
      const row = await t.app.db.prisma.gatewayEvent.findUniqueOrThrow({ where: { id: BigInt(event.sequence) } });
      expect(row).toMatchObject({ type: 'GATEWAY_ADDED', gatewayId: uuidOf(gateway.id) });
    }

    peer.setCatalog({ tools: 3 });
    expect(await updateGateway(t, gateway.id, { description: 'changed' })).toMatchObject({ __typename: 'UpdateGatewaySuccess' });
    expect(await refreshGateway(t, gateway.id)).toMatchObject({ tools: { added: 1 } });
    for (const type of ['GATEWAY_UPDATED', 'GATEWAY_CATALOG_CHANGED']) {
      expect((await nextNonProbe(ws.results)).data?.gatewayEvents).toMatchObject({ type, gatewayId: gateway.id });
    }
    const rows = await t.app.db.prisma.gatewayEvent.findMany({ where: { gatewayId: uuidOf(gateway.id) }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => r.type)).toEqual(['GATEWAY_ADDED', 'GATEWAY_UPDATED', 'GATEWAY_CATALOG_CHANGED']);
    expect(rows[2]!.payload).toEqual({ catalog: expect.objectContaining({ tools: expect.objectContaining({ added: 1, updated: 0, removed: 0 }) }) });
  });

  test('a read-only token gets AuthorizationError from every registry mutation, and nothing changes', async () => {
    const gateway = await registered(t, { name: 'Guarded', url: guarded.url });
    const tool = await t.app.db.prisma.tool.findFirstOrThrow({ where: { gatewayId: uuidOf(gateway.id) } });
    const toolId = encodeGlobalID('Tool', tool.id);
    const before = await rowCounts(t);
    const requests = [peer.requests.http, guarded.requests.http];
    const results = [
      await registerGateway(t, { name: 'Sneaky', url: peer.url }, readToken),
      await updateGateway(t, gateway.id, { name: 'Renamed' }, readToken),
      await setGatewayEnabled(t, gateway.id, false, readToken),
      await refreshGateway(t, gateway.id, readToken),
      await setToolEnabled(t, toolId, false, readToken),
      await deleteGateway(t, gateway.id, readToken),
    ];
    for (const result of results) expect(result).toMatchObject({ __typename: 'AuthorizationError', requiredScopes: ['write'] });
    expect(await rowCounts(t)).toEqual(before);
    expect([peer.requests.http, guarded.requests.http]).toEqual(requests);
    expect(await t.app.db.prisma.gateway.findUniqueOrThrow({ where: { id: uuidOf(gateway.id) } })).toMatchObject({ name: 'Guarded', enabled: true });
    expect(await t.app.db.prisma.tool.findUniqueOrThrow({ where: { id: tool.id } })).toMatchObject({ enabled: true });
  });
});
