// "A consistent API for generated clients": each result union lists exactly the
// errors its mutation can return; every id is a global id, and a bad one is a
// typed NotFoundError echoing what was sent (in a query: no gateway, no match);
// the default catalog listings agree
// with federation.catalog; setGatewayEnabled says when it changed nothing and
// refreshGateway refuses a disabled gateway; Gateway.negotiatedTransport says
// what AUTO used.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { eventTypes, registered, refreshGateway, setGatewayEnabled, setToolEnabled, uuidOf, PEER_ENV } from '../helpers/registry.js';

const UNION_MEMBERS: Record<string, string[]> = {
  RegisterGatewayResult: ['DuplicateGatewayError', 'FederationLoopError', 'NameConflictError', 'PeerConnectionError', 'ValidationError'],
  UpdateGatewayResult: ['DuplicateGatewayError', 'FederationLoopError', 'NameConflictError', 'NotFoundError', 'PeerConnectionError', 'ValidationError'],
  DeleteGatewayResult: ['NotFoundError'],
  SetGatewayEnabledResult: ['FederationLoopError', 'NameConflictError', 'NotFoundError', 'PeerConnectionError', 'ValidationError'],
  RefreshGatewayResult: ['FederationLoopError', 'GatewayDisabledError', 'NameConflictError', 'NotFoundError', 'PeerConnectionError', 'ValidationError'],
  SetToolEnabledResult: ['NotFoundError'],
  CheckGatewayHealthResult: ['GatewayDisabledError', 'NotFoundError'],
  CreateApiTokenResult: ['ValidationError'],
  RevokeApiTokenResult: ['NotFoundError'],
};

const ERRORS = /* GraphQL */ `__typename ... on NotFoundError { id message }`;

let t: TestApp;
const peers: TestPeer[] = [];
/** A peer of its own for each registration: one URL registered twice is a DuplicateGatewayError. */
async function newPeer(options: Parameters<typeof startPeer>[0] = { tools: 3 }): Promise<TestPeer> {
  const peer = await startPeer(options);
  peers.push(peer);
  return peer;
}
beforeAll(async () => {
  t = await startTestApp({ env: PEER_ENV });
});
afterAll(async () => {
  await t?.close();
  await Promise.all(peers.map((peer) => peer.close()));
});

test('each mutation result union lists exactly the success and the errors that mutation can return', async () => {
  const { data, errors } = await t.gql(`{ __schema { mutationType { fields { name type { name ofType { name } } } } types { name kind possibleTypes { name } } } }`);
  expect(errors).toBeUndefined();
  const unions = new Map<string, string[]>(
    data.__schema.types.filter((type: any) => type.kind === 'UNION').map((type: any) => [type.name, type.possibleTypes.map((p: any) => p.name).sort()]),
  );
  const results = Object.fromEntries(
    data.__schema.mutationType.fields
      .map((field: any) => field.type.ofType?.name ?? field.type.name)
      .filter((name: string) => name in UNION_MEMBERS)
      .map((name: string) => [name, unions.get(name)]),
  );
  const expected = Object.fromEntries(
    Object.entries(UNION_MEMBERS).map(([name, errorTypes]) => [
      name,
      [...errorTypes, 'AuthorizationError', name.replace(/Result$/, 'Success')].sort(),
    ]),
  );
  expect(results).toEqual(expected);
});

describe('ids', () => {
  const bad = (gatewayId: string) => [
    'garbage',
    // A raw database id is not an id of this API.
    uuidOf(gatewayId),
    // A well-formed global id of the wrong type.
    encodeGlobalID('Tool', uuidOf(gatewayId)),
  ];

  test('a malformed id, a raw UUID or an id of another type is NotFoundError echoing the id sent, in every gateway mutation', async () => {
    const gateway = await registered(t, { name: 'Ids', url: (await newPeer()).url });
    const mutations = [
      `mutation ($id: ID!) { updateGateway(id: $id, input: { description: "x" }) { ${ERRORS} } }`,
      `mutation ($id: ID!) { deleteGateway(id: $id) { ${ERRORS} } }`,
      `mutation ($id: ID!) { setGatewayEnabled(id: $id, enabled: false) { ${ERRORS} } }`,
      `mutation ($id: ID!) { refreshGateway(id: $id) { ${ERRORS} } }`,
      `mutation ($id: ID!) { checkGatewayHealth(id: $id) { ${ERRORS} } }`,
    ];
    for (const mutation of mutations) {
      for (const id of bad(gateway.id)) {
        const { data, errors } = await t.gql(mutation, { id });
        expect(errors, mutation).toBeUndefined();
        expect(Object.values(data)[0], `${mutation} ${id}`).toEqual({ __typename: 'NotFoundError', id, message: `no gateway with id ${id}` });
      }
    }
    // Untouched by all of this.
    expect(await t.app.db.prisma.gateway.findUniqueOrThrow({ where: { id: uuidOf(gateway.id) } })).toMatchObject({ enabled: true, description: null });
  });

  test('setToolEnabled with a Gateway id or garbage is NotFoundError; a deleted gateway\'s id echoes the global id', async () => {
    const gateway = await registered(t, { name: 'Ids2', url: (await newPeer()).url });
    for (const id of [gateway.id, 'garbage']) {
      expect(await setToolEnabled(t, id, false)).toEqual({ __typename: 'NotFoundError', id, message: `no tool with id ${id}` });
    }
    const deleted = await t.gql(`mutation ($id: ID!) { deleteGateway(id: $id) { __typename } }`, { id: gateway.id });
    expect(deleted.data.deleteGateway.__typename).toBe('DeleteGatewaySuccess');
    expect(await setGatewayEnabled(t, gateway.id, true)).toMatchObject({ __typename: 'NotFoundError', id: gateway.id });
  });

  test('in a query, an id that names no gateway is no error: gateway(id:) is null and a filter on it matches nothing', async () => {
    const gateway = await registered(t, { name: 'Ids3', url: (await newPeer()).url });
    const lookup = `query ($id: ID!) { gateway(id: $id) { name } }`;
    const filtered = /* GraphQL */ `
      query ($id: ID!) {
        tools(filter: { gatewayId: $id, includeUnavailable: true }) { totalCount }
        events(filter: { gatewayIds: [$id] }) { totalCount }
      }
    `;
    expect(await t.gql(lookup, { id: gateway.id })).toMatchObject({ status: 200, data: { gateway: { name: 'Ids3' } } });
    expect((await t.gql(filtered, { id: gateway.id })).data).toEqual({ tools: { totalCount: 3 }, events: { totalCount: 1 } });
    for (const id of bad(gateway.id)) {
      expect(await t.gql(lookup, { id })).toEqual({ status: 200, data: { gateway: null } });
      expect(await t.gql(filtered, { id })).toEqual({ status: 200, data: { tools: { totalCount: 0 }, events: { totalCount: 0 } } });
    }
  });

  test('API tokens are nodes: a global id, revoked by it, found by node(id:) for admins only', async () => {
    const created = await t.gql(`mutation { createApiToken(name: "reader", scopes: [read]) { ... on CreateApiTokenSuccess { secret token { id } } } }`);
    const { secret, token } = created.data.createApiToken;
    expect(uuidOf(token.id)).toMatch(/^[0-9a-f-]{36}$/);
    const node = `query ($id: ID!) { node(id: $id) { __typename id ... on ApiToken { name } } }`;
    expect((await t.gql(node, { id: token.id })).data.node).toEqual({ __typename: 'ApiToken', id: token.id, name: 'reader' });
    const asReader = await t.gql(node, { id: token.id }, secret);
    expect(asReader.data?.node ?? null).toBeNull();
    expect(asReader.errors?.length).toBeGreaterThan(0);

    const revoke = `mutation ($id: ID!) { revokeApiToken(id: $id) { __typename ... on RevokeApiTokenSuccess { tokenId } ... on NotFoundError { id } } }`;
    for (const id of [uuidOf(token.id), encodeGlobalID('Gateway', uuidOf(token.id)), 'garbage']) {
      expect((await t.gql(revoke, { id })).data.revokeApiToken).toEqual({ __typename: 'NotFoundError', id });
    }
    expect((await t.gql(revoke, { id: token.id })).data.revokeApiToken).toEqual({ __typename: 'RevokeApiTokenSuccess', tokenId: token.id });
  });
});

test('the default tools listing and federation.catalog agree on a disabled tool; includeUnavailable lists it', async () => {
  const gateway = await registered(t, { name: 'Agree', url: (await newPeer()).url });
  const query = /* GraphQL */ `
    query ($id: ID!) {
      tools(filter: { gatewayId: $id }) { totalCount edges { node { originalName } } }
      all: tools(filter: { gatewayId: $id, includeUnavailable: true }) { totalCount }
      off: tools(filter: { gatewayId: $id, enabled: false }) { totalCount edges { node { originalName enabled } } }
      everywhere: tools { totalCount }
      federation { catalog { tools } }
    }
  `;
  const before = (await t.gql(query, { id: gateway.id })).data;
  const first = await t.app.db.prisma.tool.findFirstOrThrow({ where: { gatewayId: uuidOf(gateway.id) }, orderBy: { name: 'asc' } });
  expect((await setToolEnabled(t, encodeGlobalID('Tool', first.id), false)).__typename).toBe('SetToolEnabledSuccess');

  const { data, errors } = await t.gql(query, { id: gateway.id });
  expect(errors).toBeUndefined();
  expect(data.tools.totalCount).toBe(before.tools.totalCount - 1);
  expect(data.tools.edges.map((e: any) => e.node.originalName)).not.toContain(first.originalName);
  expect(data.everywhere.totalCount).toBe(data.federation.catalog.tools);
  expect(data.everywhere.totalCount).toBe(before.everywhere.totalCount - 1);
  expect(data.all.totalCount).toBe(before.all.totalCount);
  expect(data.off).toEqual({ totalCount: 1, edges: [{ node: { originalName: first.originalName, enabled: false } }] });
});

describe('enabling and refreshing', () => {
  test('setGatewayEnabled to the state it is already in changes nothing, says so and records no event', async () => {
    const gateway = await registered(t, { name: 'Noop', url: (await newPeer()).url });
    const SET = `mutation ($id: ID!, $enabled: Boolean!) { setGatewayEnabled(id: $id, enabled: $enabled) { __typename ... on SetGatewayEnabledSuccess { changed gateway { enabled } } } }`;
    const set = async (enabled: boolean) => (await t.gql(SET, { id: gateway.id, enabled })).data.setGatewayEnabled;
    expect(await set(true)).toEqual({ __typename: 'SetGatewayEnabledSuccess', changed: false, gateway: { enabled: true } });
    expect(await set(false)).toEqual({ __typename: 'SetGatewayEnabledSuccess', changed: true, gateway: { enabled: false } });
    expect(await set(false)).toEqual({ __typename: 'SetGatewayEnabledSuccess', changed: false, gateway: { enabled: false } });
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_DEACTIVATED']);
  });

  test('refreshGateway of a disabled gateway is GatewayDisabledError, and nothing is asked of the peer', async () => {
    const peer = await newPeer();
    const gateway = await registered(t, { name: 'Refuse', url: peer.url });
    expect((await setGatewayEnabled(t, gateway.id, false)).__typename).toBe('SetGatewayEnabledSuccess');
    const requests = peer.requests.http;
    const result = await t.gql(`mutation ($id: ID!) { refreshGateway(id: $id) { __typename ... on GatewayDisabledError { gatewayId message } } }`, { id: gateway.id });
    expect(result.data.refreshGateway).toEqual({ __typename: 'GatewayDisabledError', gatewayId: gateway.id, message: expect.stringMatching(/disabled/) });
    expect(peer.requests.http).toBe(requests);
    expect((await setGatewayEnabled(t, gateway.id, true)).__typename).toBe('SetGatewayEnabledSuccess');
    expect((await refreshGateway(t, gateway.id)).__typename).toBe('RefreshGatewaySuccess');
  });
});

test('Gateway.transport stays what was asked; negotiatedTransport says what AUTO used', async () => {
  const query = `query ($id: ID!) { gateway(id: $id) { transport negotiatedTransport } }`;
  const streamable = await registered(t, { name: 'Auto streamable', url: (await newPeer()).url, transport: 'AUTO' });
  expect((await t.gql(query, { id: streamable.id })).data.gateway).toEqual({ transport: 'AUTO', negotiatedTransport: 'STREAMABLE_HTTP' });
  const sse = await registered(t, { name: 'Auto sse', url: (await newPeer({ tools: 1, transport: 'sse' })).url, transport: 'AUTO' });
  expect((await t.gql(query, { id: sse.id })).data.gateway).toEqual({ transport: 'AUTO', negotiatedTransport: 'SSE' });
  // Before any contact (a row from before the column), it is null.
  await t.app.db.prisma.gateway.update({ where: { id: uuidOf(sse.id) }, data: { negotiatedTransport: null } });
  expect((await t.gql(query, { id: sse.id })).data.gateway.negotiatedTransport).toBeNull();
  expect((await refreshGateway(t, sse.id)).__typename).toBe('RefreshGatewaySuccess');
  expect((await t.gql(query, { id: sse.id })).data.gateway).toEqual({ transport: 'AUTO', negotiatedTransport: 'SSE' });
});
