// setGatewayEnabled: disabling hides a gateway's entries from the default
// catalog views; enabling reconnects and resyncs, or fails and stays disabled.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { makeTools, startPeer, type TestPeer } from '../helpers/peers.js';
import { catalogOf, eventTypes, registered, rowCounts, setGatewayEnabled, PEER_ENV } from '../helpers/registry.js';

const VIEWS = /* GraphQL */ `
  query Views($id: ID!) {
    tools { totalCount edges { node { name } } }
    resources { totalCount }
    prompts { totalCount }
    mine: tools(filter: { gatewayId: $id }) { totalCount }
    all: tools(filter: { gatewayId: $id, includeUnavailable: true }) { totalCount }
    disabled: tools(filter: { gatewayStatus: [DISABLED] }) { totalCount }
    gateway(id: $id) { status enabled }
  }
`;

describe('setGatewayEnabled', () => {
  let t: TestApp;
  let peer: TestPeer;
  let other: TestPeer;
  let gateway: any;
  beforeAll(async () => {
    t = await startTestApp({ env: PEER_ENV });
    peer = await startPeer({ tools: 3, resources: [{ uri: 'file:///r', name: 'r' }], prompts: [{ name: 'p' }] });
    other = await startPeer({ tools: 2 });
    gateway = await registered(t, { name: 'Toggle', url: peer.url });
    await registered(t, { name: 'Bystander', url: other.url });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([peer?.close(), other?.close()]);
  });

  const views = async () => {
    const { data, errors } = await t.gql(VIEWS, { id: gateway.id });
    expect(errors).toBeUndefined();
    return data;
  };

  test('disabling hides its entries from the default views and records GATEWAY_DEACTIVATED', async () => {
    expect(await views()).toMatchObject({ tools: { totalCount: 5 }, resources: { totalCount: 1 }, prompts: { totalCount: 1 }, mine: { totalCount: 3 } });
    const requests = peer.requests.http;
    const result = await setGatewayEnabled(t, gateway.id, false);
    expect(result).toMatchObject({ __typename: 'SetGatewayEnabledSuccess', gateway: { id: gateway.id, enabled: false, status: 'DISABLED' } });
    const hidden = await views();
    expect(hidden).toMatchObject({
      tools: { totalCount: 2 },
      resources: { totalCount: 0 },
      prompts: { totalCount: 0 },
      mine: { totalCount: 0 },
      all: { totalCount: 3 },
      disabled: { totalCount: 3 },
      gateway: { status: 'DISABLED', enabled: false },
    });
    expect(hidden.tools.edges.map((e: any) => e.node.name)).toEqual(['bystander__tool_0001', 'bystander__tool_0002']);
    // Hidden, not deleted; and disabling does not talk to the peer.
    expect(await t.app.db.prisma.tool.count()).toBe(5);
    expect(peer.requests.http).toBe(requests);
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_DEACTIVATED']);
    // Disabling again changes nothing and records nothing.
    expect(await setGatewayEnabled(t, gateway.id, false)).toMatchObject({ gateway: { status: 'DISABLED' } });
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_DEACTIVATED']);
  });

  test('enabling while the peer is down is a PeerConnectionError and the gateway stays disabled', async () => {
    const before = await rowCounts(t);
    const downPeer = peer.url;
    await peer.close();
    const result = await setGatewayEnabled(t, gateway.id, true);
    expect(result).toMatchObject({ __typename: 'PeerConnectionError', reason: 'REFUSED' });
    expect((await views()).gateway).toEqual({ status: 'DISABLED', enabled: false });
    expect(await rowCounts(t)).toEqual(before);
    // Same port again, for the next test, with a catalog changed while disabled.
    peer = await startPeer({ port: Number(new URL(downPeer).port), tools: makeTools(4).slice(1), prompts: [{ name: 'p' }, { name: 'q' }] });
  });

  test('enabling reconnects and resyncs the catalog the peer changed meanwhile; GATEWAY_ACTIVATED', async () => {
    const result = await setGatewayEnabled(t, gateway.id, true);
    expect(result).toMatchObject({ __typename: 'SetGatewayEnabledSuccess', gateway: { enabled: true, status: 'ACTIVE', reachable: true } });
    expect(peer.requests.methods['tools/list']).toBe(1);
    const { tools, prompts } = await catalogOf(t, gateway.id);
    expect(tools.map((x) => x.originalName)).toEqual(['tool_0002', 'tool_0003', 'tool_0004']);
    expect(prompts.map((x) => x.originalName)).toEqual(['p', 'q']);
    expect(await views()).toMatchObject({ tools: { totalCount: 5 }, resources: { totalCount: 0 }, prompts: { totalCount: 2 }, mine: { totalCount: 3 } });
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_DEACTIVATED', 'GATEWAY_ACTIVATED', 'GATEWAY_CATALOG_CHANGED']);
  });
});
