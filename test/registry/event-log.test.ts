// The event log as an API: every mutation records its event with a typed
// payload (details) and the actor that caused it, the health checker's and
// background syncs' events are the system's, and TOOL_TOGGLED reaches
// gatewayEvents subscribers.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { recordCheck } from '../../src/health/health-store.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { uuidOf, PEER_ENV } from '../helpers/registry.js';
import { nextNonProbe, subscribeWs, untilLive, wsClient, type Subscription } from '../helpers/subscriptions.js';

const EVENT_FIELDS = /* GraphQL */ `
  id sequence type gatewayId occurredAt
  gateway { id name }
  actor { tokenId name }
  details {
    __typename
    ... on GatewayAddedDetails { name catalog { tools resources resourceTemplates prompts } }
    ... on GatewayUpdatedDetails { name changes { field oldValue newValue } credentialsChanged reconnected }
    ... on GatewayStatusChangedDetails { name oldStatus newStatus reason lastError consecutiveFailures }
    ... on GatewayCatalogChangedDetails { catalogChange { tools { added updated removed } prompts { added updated removed } } }
    ... on GatewayDeletedDetails { name catalog { tools resources resourceTemplates prompts } }
    ... on ToolToggledDetails { toolId name enabled }
  }
`;

const HISTORY = /* GraphQL */ `
  query History($filter: EventFilter) {
    events(first: 100, filter: $filter) { totalCount edges { node { ${EVENT_FIELDS} } } }
  }
`;

const NODE = /* GraphQL */ `
  query EventNode($id: ID!) { node(id: $id) { __typename ... on GatewayEvent { sequence type } } }
`;

const SUBSCRIBE = /* GraphQL */ `
  subscription Toggles($gatewayId: ID, $types: [EventType!]) {
    gatewayEvents(gatewayId: $gatewayId, types: $types) { sequence type payload actor { tokenId name } details { __typename ... on ToolToggledDetails { toolId name enabled } } }
  }
`;

// Only __typename of the results: this suite is about the events they record.
const MUTATIONS = {
  register: `mutation ($input: RegisterGatewayInput!) { r: registerGateway(input: $input) { __typename ... on RegisterGatewaySuccess { gateway { id } } } }`,
  update: `mutation ($id: ID!, $input: UpdateGatewayInput!) { r: updateGateway(id: $id, input: $input) { __typename } }`,
  delete: `mutation ($id: ID!) { r: deleteGateway(id: $id) { __typename } }`,
  setEnabled: `mutation ($id: ID!, $enabled: Boolean!) { r: setGatewayEnabled(id: $id, enabled: $enabled) { __typename } }`,
  refresh: `mutation ($id: ID!) { r: refreshGateway(id: $id) { __typename } }`,
  setToolEnabled: `mutation ($id: ID!, $enabled: Boolean!) { r: setToolEnabled(id: $id, enabled: $enabled) { __typename } }`,
};

describe('the event log', () => {
  let t: TestApp;
  let url: string;
  let peer: TestPeer;
  let peers: TestPeer[];
  let ops: { id: string; secret: string };
  let client: Client;
  const subscriptions: Subscription[] = [];
  beforeAll(async () => {
    t = await startTestApp({ env: PEER_ENV });
    url = await t.app.listen();
    peers = await Promise.all([startPeer({ tools: 2 }), startPeer({ tools: 2 }), startPeer({ tools: 2 })]);
    peer = peers[0]!;
    ops = await t.app.services.tokens.create('ops-bot', ['read', 'write']);
    client = wsClient(url, ops.secret);
  });
  afterAll(async () => {
    for (const s of subscriptions) s.unsubscribe();
    await client?.dispose();
    await t?.close();
    await Promise.all((peers ?? []).map((p) => p.close()));
  });

  async function mutate(name: keyof typeof MUTATIONS, variables: Record<string, unknown>, token: string | null = ops.secret): Promise<any> {
    const { data, errors } = await t.gql(MUTATIONS[name], variables, token);
    expect(errors, JSON.stringify(errors)).toBeUndefined();
    return data.r;
  }
  const registered = async (input: Record<string, unknown>, token?: string | null) => {
    const result = await mutate('register', { input }, token);
    expect(result.__typename, JSON.stringify(result)).toBe('RegisterGatewaySuccess');
    return result.gateway as { id: string };
  };
  const setToolEnabled = (id: string, enabled: boolean) => mutate('setToolEnabled', { id, enabled });

  async function history(filter: Record<string, unknown>) {
    const { data, errors } = await t.gql(HISTORY, { filter }, ops.secret);
    expect(errors, JSON.stringify(errors)).toBeUndefined();
    return data.events as { totalCount: number; edges: { node: any }[] };
  }

  test('every mutation records its event with a typed payload and the API token that made it; health changes are the system\'s', async () => {
    const bot = { tokenId: encodeGlobalID('ApiToken', ops.id), name: 'ops-bot' };
    const system = { tokenId: null, name: 'system' };
    const gateway = await registered({ name: 'Logged', url: peer.url, description: 'first' });

    // UPDATED: the settings that changed, old and new; of the credentials, only that they changed.
    const update = await mutate('update', { id: gateway.id, input: { name: 'Logged 2', description: 'second', tags: ['x'], auth: { bearer: { token: 'hush-hush-1234' } } } });
    expect(update.__typename, JSON.stringify(update)).toBe('UpdateGatewaySuccess');

    const tool = await t.app.db.prisma.tool.findFirstOrThrow({ where: { gatewayId: uuidOf(gateway.id) }, orderBy: { name: 'asc' } });
    expect((await setToolEnabled(encodeGlobalID('Tool', tool.id), false)).__typename).toBe('SetToolEnabledSuccess');
    expect((await mutate('setEnabled', { id: gateway.id, enabled: false })).__typename).toBe('SetGatewayEnabledSuccess');
    expect((await mutate('setEnabled', { id: gateway.id, enabled: true })).__typename).toBe('SetGatewayEnabledSuccess');
    peer.setCatalog({ tools: 3 });
    expect((await mutate('refresh', { id: gateway.id })).__typename).toBe('RefreshGatewaySuccess');

    // The health checker (outside any operation): a failure makes it unreachable, a background resync brings it back.
    const row = await t.app.db.prisma.gateway.findUniqueOrThrow({ where: { id: uuidOf(gateway.id) } });
    const recorded = await recordCheck(t.app.db.prisma, t.app.services.events, { id: row.id, authFingerprint: row.authFingerprint, transport: row.transport }, { ok: false, error: 'peer went away' }, {
      term: null,
      threshold: 1,
      nextCheckAt: () => null,
    });
    expect(recorded).toMatchObject({ written: true, status: 'UNREACHABLE' });
    await t.app.services.gateways.refresh(row.id);

    expect((await mutate('delete', { id: gateway.id })).__typename).toBe('DeleteGatewaySuccess');

    const events = await history({ gatewayIds: [gateway.id] });
    expect(events.totalCount).toBe(events.edges.length);
    const nodes = events.edges.map((e) => e.node);
    expect(nodes.map((n) => [n.type, n.actor.name])).toEqual([
      ['GATEWAY_ADDED', 'ops-bot'],
      ['GATEWAY_UPDATED', 'ops-bot'],
      // The rename changed the names of its tools (a reconnection resyncs).
      ['GATEWAY_CATALOG_CHANGED', 'ops-bot'],
      ['TOOL_TOGGLED', 'ops-bot'],
      ['GATEWAY_DEACTIVATED', 'ops-bot'],
      ['GATEWAY_ACTIVATED', 'ops-bot'],
      ['GATEWAY_CATALOG_CHANGED', 'ops-bot'],
      ['GATEWAY_HEALTH_CHANGED', 'system'],
      ['GATEWAY_HEALTH_CHANGED', 'system'],
      ['GATEWAY_DELETED', 'ops-bot'],
    ]);
    // Oldest first, each a node with its own global id, the gateway null once deleted.
    const sequences = nodes.map((n) => BigInt(n.sequence));
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequences);
    for (const n of nodes) {
      expect(n.gatewayId).toBe(gateway.id);
      expect(n.gateway).toBeNull();
      expect(new Date(n.occurredAt).getTime()).not.toBeNaN();
      expect(n.actor).toEqual(n.actor.name === 'system' ? system : bot);
    }
    const [added, updated, renamed, toggled, deactivated, activated, catalog, failed, resynced, deleted] = nodes;
    expect(added.details).toEqual({ __typename: 'GatewayAddedDetails', name: 'Logged', catalog: { tools: 2, resources: 0, resourceTemplates: 0, prompts: 0 } });
    expect(updated.details).toEqual({
      __typename: 'GatewayUpdatedDetails',
      name: 'Logged 2',
      changes: [
        { field: 'name', oldValue: 'Logged', newValue: 'Logged 2' },
        { field: 'description', oldValue: 'first', newValue: 'second' },
        { field: 'tags', oldValue: [], newValue: ['x'] },
        { field: 'authType', oldValue: 'NONE', newValue: 'BEARER' },
      ],
      credentialsChanged: true,
      reconnected: true,
    });
    expect(renamed.details).toMatchObject({ catalogChange: { tools: { added: 0, updated: 2, removed: 0 } } });
    expect(toggled.details).toEqual({ __typename: 'ToolToggledDetails', toolId: encodeGlobalID('Tool', tool.id), name: tool.name, enabled: false });
    expect(deactivated.details).toEqual({
      __typename: 'GatewayStatusChangedDetails',
      name: 'Logged 2',
      oldStatus: 'ACTIVE',
      newStatus: 'DISABLED',
      reason: 'disabled',
      lastError: null,
      consecutiveFailures: null,
    });
    expect(activated.details).toMatchObject({ oldStatus: 'DISABLED', newStatus: 'ACTIVE', reason: 'enabled' });
    expect(catalog.details).toEqual({
      __typename: 'GatewayCatalogChangedDetails',
      catalogChange: { tools: { added: 1, updated: 0, removed: 0 }, prompts: { added: 0, updated: 0, removed: 0 } },
    });
    expect(failed.details).toEqual({
      __typename: 'GatewayStatusChangedDetails',
      name: 'Logged 2',
      oldStatus: 'ACTIVE',
      newStatus: 'UNREACHABLE',
      reason: 'health check failed',
      lastError: 'peer went away',
      consecutiveFailures: 1,
    });
    expect(resynced.details).toMatchObject({ oldStatus: 'UNREACHABLE', newStatus: 'ACTIVE', reason: 'resynced', lastError: null });
    expect(deleted.details).toEqual({ __typename: 'GatewayDeletedDetails', name: 'Logged 2', catalog: { tools: 3, resources: 0, resourceTemplates: 0, prompts: 0 } });

    // What the log holds: the actor's columns, and never the credentials.
    const rows = await t.app.db.prisma.gatewayEvent.findMany({ where: { gatewayId: uuidOf(gateway.id) }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => [r.actorTokenId, r.actorName])).toEqual(nodes.map((n) => (n.actor.name === 'system' ? [null, 'system'] : [ops.id, 'ops-bot'])));
    expect(JSON.stringify(rows.map((r) => r.payload))).not.toContain('hush-hush-1234');

    // An event is a node.
    const { data } = await t.gql(NODE, { id: toggled.id }, ops.secret);
    expect(data.node).toEqual({ __typename: 'GatewayEvent', sequence: toggled.sequence, type: 'TOOL_TOGGLED' });
  });

  test('the admin token is an actor without a token id; the gateway of an event is there while it exists', async () => {
    const gateway = await registered({ name: 'By admin', url: peers[1]!.url }, t.adminToken);
    const [event] = (await history({ gatewayIds: [gateway.id] })).edges.map((e) => e.node);
    expect(event.actor).toEqual({ tokenId: null, name: 'ADMIN_TOKEN' });
    expect(event.gateway).toEqual({ id: gateway.id, name: 'By admin' });
  });

  test('setToolEnabled publishes TOOL_TOGGLED, recorded with the change, to gatewayEvents subscribers', async () => {
    const gateway = await registered({ name: 'Toggled', url: peers[2]!.url });
    const tool = await t.app.db.prisma.tool.findFirstOrThrow({ where: { gatewayId: uuidOf(gateway.id) }, orderBy: { name: 'asc' } });
    const toolId = encodeGlobalID('Tool', tool.id);
    const subscription = subscribeWs(client, SUBSCRIBE, { gatewayId: gateway.id, types: ['TOOL_TOGGLED'] });
    subscriptions.push(subscription);
    await untilLive(subscription.results, (probe) => t.app.services.events.publish(t.app.db.prisma, 'TOOL_TOGGLED', uuidOf(gateway.id), { probe }));

    expect((await setToolEnabled(toolId, false)).__typename).toBe('SetToolEnabledSuccess');
    expect((await setToolEnabled(toolId, true)).__typename).toBe('SetToolEnabledSuccess');
    for (const enabled of [false, true]) {
      const result = await nextNonProbe(subscription.results);
      expect(result.errors).toBeUndefined();
      const event = result.data!.gatewayEvents;
      expect(event).toMatchObject({
        type: 'TOOL_TOGGLED',
        actor: { tokenId: encodeGlobalID('ApiToken', ops.id), name: 'ops-bot' },
        details: { __typename: 'ToolToggledDetails', toolId, name: tool.name, enabled },
      });
      // Delivered is what the log holds.
      const row = await t.app.db.prisma.gatewayEvent.findUniqueOrThrow({ where: { id: BigInt(event.sequence) } });
      expect(row).toMatchObject({ type: 'TOOL_TOGGLED', gatewayId: tool.gatewayId, actorTokenId: ops.id, payload: { toolId: tool.id, name: tool.name, enabled } });
    }
  });

  test('a toggle of an unknown tool records nothing', async () => {
    const before = await t.app.db.prisma.gatewayEvent.count();
    const result = await setToolEnabled(encodeGlobalID('Tool', '00000000-0000-7000-8000-000000000000'), false);
    expect(result.__typename).toBe('NotFoundError');
    expect(await t.app.db.prisma.gatewayEvent.count()).toBe(before);
  });
});
