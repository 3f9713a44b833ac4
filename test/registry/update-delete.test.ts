// updateGateway (rename, reconnect to another URL, refused changes) and deleteGateway.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { refusedUrl, startPeer, type TestPeer } from '../helpers/peers.js';
import { byOriginalName, catalogOf, deleteGateway, eventTypes, registered, rowCounts, updateGateway, uuidOf, PEER_ENV } from '../helpers/registry.js';

describe('updateGateway and deleteGateway', () => {
  let t: TestApp;
  let peer: TestPeer;
  let second: TestPeer;
  beforeAll(async () => {
    t = await startTestApp({ env: { ...PEER_ENV, TOOL_NAME_MAX_LENGTH: '32' } });
    peer = await startPeer({ tools: 3, prompts: [{ name: 'greet' }] });
    second = await startPeer({ tools: 2, prompts: [{ name: 'other' }] });
  });
  // Each test starts with no gateway (events stay: the log outlives gateways).
  afterEach(() => t.app.db.prisma.gateway.deleteMany());
  afterAll(async () => {
    await t?.close();
    await Promise.all([peer?.close(), second?.close()]);
  });

  const gatewayRow = (id: string) => t.app.db.prisma.gateway.findUniqueOrThrow({ where: { id: uuidOf(id) } });

  test('a rename changes the slug and the name of every tool and prompt, without reconnecting', async () => {
    const gateway = await registered(t, { name: 'Old Name', url: peer.url, tags: ['a'] });
    const before = await catalogOf(t, gateway.id);
    const requests = peer.requests.http;
    const result = await updateGateway(t, gateway.id, { name: 'New Name', description: 'renamed', tags: ['b', 'c'] });
    expect(result.__typename).toBe('UpdateGatewaySuccess');
    expect(result.gateway).toMatchObject({ id: gateway.id, name: 'New Name', slug: 'new-name', description: 'renamed', tags: ['b', 'c'], url: peer.url });
    const after = await catalogOf(t, gateway.id);
    expect(after.tools.map((x) => x.name)).toEqual(['new-name__tool_0001', 'new-name__tool_0002', 'new-name__tool_0003']);
    expect(after.prompts.map((x) => x.name)).toEqual(['new-name__greet']);
    expect(after.tools.map((x) => x.id)).toEqual(before.tools.map((x) => x.id));
    expect(peer.requests.http).toBe(requests);
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_UPDATED']);
  });

  test('a rename to a taken name, or to a name whose entries would be too long, changes nothing', async () => {
    const taken = await registered(t, { name: 'Taken', url: second.url });
    const gateway = await registered(t, { name: 'Short', url: peer.url });
    const before = { row: await gatewayRow(gateway.id), catalog: await catalogOf(t, gateway.id), counts: await rowCounts(t) };
    expect(await updateGateway(t, gateway.id, { name: 'Taken' })).toMatchObject({ __typename: 'NameConflictError', name: 'Taken' });
    expect(await updateGateway(t, gateway.id, { name: 'taken!' })).toMatchObject({ __typename: 'NameConflictError', name: 'taken' });
    // "a-much-longer-gateway-name__tool_0001" is 37 characters; the maximum here is 32.
    const tooLong = await updateGateway(t, gateway.id, { name: 'A much longer gateway name' });
    expect(tooLong).toMatchObject({ __typename: 'ValidationError', field: 'name' });
    expect(tooLong.message).toMatch(/a-much-longer-gateway-name__tool_0001/);
    expect(await updateGateway(t, gateway.id, { name: '' })).toMatchObject({ __typename: 'ValidationError', field: 'name' });
    expect(await updateGateway(t, gateway.id, { tags: ['x'.repeat(51)] })).toMatchObject({ __typename: 'ValidationError', field: 'tags[0]' });
    expect(await gatewayRow(gateway.id)).toEqual(before.row);
    expect(await catalogOf(t, gateway.id)).toEqual(before.catalog);
    expect(await rowCounts(t)).toEqual(before.counts);
  });

  test('a URL change to a failing peer is a PeerConnectionError and keeps the old URL and catalog', async () => {
    const gateway = await registered(t, { name: 'Stable', url: peer.url });
    const before = { row: await gatewayRow(gateway.id), catalog: await catalogOf(t, gateway.id), counts: await rowCounts(t) };
    const result = await updateGateway(t, gateway.id, { url: await refusedUrl(), name: 'Stable renamed' });
    expect(result).toMatchObject({ __typename: 'PeerConnectionError', reason: 'REFUSED' });
    expect(await updateGateway(t, gateway.id, { url: 'ftp://127.0.0.1/' })).toMatchObject({ __typename: 'ValidationError', field: 'url' });
    expect(await gatewayRow(gateway.id)).toEqual(before.row);
    expect(await catalogOf(t, gateway.id)).toEqual(before.catalog);
    expect(await rowCounts(t)).toEqual(before.counts);
  });

  test('a URL change to a working peer resyncs the catalog (and a rename with it names the new entries)', async () => {
    const gateway = await registered(t, { name: 'Mover', url: peer.url });
    const before = byOriginalName((await catalogOf(t, gateway.id)).tools);
    const result = await updateGateway(t, gateway.id, { url: second.url, name: 'Moved' });
    expect(result.gateway).toMatchObject({ url: second.url, slug: 'moved', status: 'ACTIVE' });
    const { tools, prompts } = await catalogOf(t, gateway.id);
    expect(tools.map((x) => x.name)).toEqual(['moved__tool_0001', 'moved__tool_0002']);
    expect(prompts.map((x) => x.name)).toEqual(['moved__other']);
    // Entries the new peer also has keep their ids; the rest is gone.
    expect(byOriginalName(tools).tool_0001.id).toBe(before.tool_0001.id);
    expect(await t.app.db.prisma.tool.count({ where: { gatewayId: uuidOf(gateway.id) } })).toBe(2);
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_UPDATED', 'GATEWAY_CATALOG_CHANGED']);
    const changed = await t.app.db.prisma.gatewayEvent.findFirstOrThrow({ where: { gatewayId: uuidOf(gateway.id), type: 'GATEWAY_CATALOG_CHANGED' } });
    expect(changed.payload).toMatchObject({ catalog: { tools: { added: 0, updated: 2, removed: 1 }, prompts: { added: 1, removed: 1 } } });
  });

  test('a transport change reconnects before it is stored; another gateway\'s URL is a DuplicateGatewayError', async () => {
    const gateway = await registered(t, { name: 'Transport', url: peer.url });
    const other = await registered(t, { name: 'Other', url: second.url });
    const before = { row: await gatewayRow(gateway.id), counts: await rowCounts(t) };
    const initializes = peer.requests.methods.initialize ?? 0;
    // The peer speaks Streamable HTTP only: forcing SSE fails, and the change is not kept.
    expect(await updateGateway(t, gateway.id, { transport: 'SSE' })).toMatchObject({ __typename: 'PeerConnectionError', reason: 'HTTP_STATUS' });
    expect(await updateGateway(t, gateway.id, { url: second.url })).toMatchObject({ __typename: 'DuplicateGatewayError', existingGatewayId: other.id });
    expect(await gatewayRow(gateway.id)).toEqual(before.row);
    expect(await rowCounts(t)).toEqual(before.counts);
    const forced = await updateGateway(t, gateway.id, { transport: 'STREAMABLE_HTTP' });
    expect(forced.gateway).toMatchObject({ transport: 'STREAMABLE_HTTP', status: 'ACTIVE' });
    expect(peer.requests.methods.initialize).toBe(initializes + 1);
  });

  test('deleteGateway removes the gateway and its catalog, records GATEWAY_DELETED; a second delete is NotFoundError', async () => {
    const keep = await registered(t, { name: 'Keeper', url: second.url });
    const gateway = await registered(t, { name: 'Doomed', url: peer.url });
    const before = await rowCounts(t);
    const result = await deleteGateway(t, gateway.id);
    expect(result).toEqual({ __typename: 'DeleteGatewaySuccess', deletedGatewayId: gateway.id });
    expect(await rowCounts(t)).toEqual({ ...before, gateways: before.gateways - 1, tools: before.tools - 3, prompts: before.prompts - 1, events: before.events + 1 });
    expect(await t.app.db.prisma.tool.count({ where: { gatewayId: uuidOf(gateway.id) } })).toBe(0);
    expect(await t.app.db.prisma.tool.count({ where: { gatewayId: uuidOf(keep.id) } })).toBe(2);
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_DELETED']);
    expect((await t.gql(`query ($id: ID!) { gateway(id: $id) { id } }`, { id: gateway.id })).data.gateway).toBeNull();
    // NotFoundError.id is the id as sent: the global id.
    expect(await deleteGateway(t, gateway.id)).toMatchObject({ __typename: 'NotFoundError', id: gateway.id });
    expect(await updateGateway(t, gateway.id, { name: 'Ghost' })).toMatchObject({ __typename: 'NotFoundError' });
  });
});
