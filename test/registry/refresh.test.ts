// refreshGateway is a diff: exact counts, stable ids, operator choices kept,
// and concurrent refreshes of one gateway that do not interleave.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends } from '../helpers/db.js';
import { makeTools, startPeer, type TestPeer } from '../helpers/peers.js';
import { byOriginalName, catalogOf, eventTypes, refreshGateway, registered, setToolEnabled, uuidOf, PEER_ENV } from '../helpers/registry.js';

const schema = (type: string) => ({ type: 'object' as const, properties: { q: { type } } });
const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({ name, description: `${name} v1`, inputSchema: schema('string'), ...extra });

const BEFORE = {
  tools: [tool('keep'), tool('describe'), tool('annotate', { annotations: { readOnlyHint: true } }), tool('reshape'), tool('vanish')],
  resources: [{ uri: 'file:///a.txt', name: 'a', mimeType: 'text/plain' }, { uri: 'file:///b.txt', name: 'b' }],
  templates: [{ uriTemplate: 'file:///{path}', name: 'files' }],
  prompts: [{ name: 'stay' }, { name: 'leave' }],
};
const AFTER = {
  tools: [
    // Same content with keys in another order: not a change.
    { inputSchema: schema('string'), description: 'keep v1', name: 'keep' },
    tool('describe', { description: 'describe v2' }),
    tool('annotate', { annotations: { readOnlyHint: false, destructiveHint: true } }),
    tool('reshape', { inputSchema: schema('number'), outputSchema: { type: 'object' } }),
    tool('fresh'),
  ],
  resources: [{ uri: 'file:///a.txt', name: 'a', mimeType: 'text/markdown' }, { uri: 'file:///b.txt', name: 'b' }],
  templates: [{ uriTemplate: 'file:///{path}', name: 'files' }],
  prompts: [{ name: 'stay' }, { name: 'arrive', arguments: [{ name: 'x', required: true }] }],
};

describe.each(backends)('refreshGateway on %s', (backend) => {
  const it = test.runIf(backendAvailable(backend));
  let t: TestApp;
  let peer: TestPeer;
  beforeAll(async () => {
    if (!backendAvailable(backend)) return;
    t = await startTestApp({ backend, env: PEER_ENV });
    peer = await startPeer(BEFORE);
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  it('counts what the peer added, changed and removed; ids and per-tool choices survive', async () => {
    peer.setCatalog(BEFORE);
    const gateway = await registered(t, { name: 'Diff', url: peer.url });
    const before = byOriginalName((await catalogOf(t, gateway.id)).tools);
    const promptsBefore = byOriginalName((await catalogOf(t, gateway.id)).prompts);
    const disabled = await setToolEnabled(t, before.describe.id, false);
    expect(disabled).toMatchObject({ __typename: 'SetToolEnabledSuccess', tool: { id: before.describe.id, enabled: false } });

    peer.setCatalog(AFTER);
    const result = await refreshGateway(t, gateway.id);
    expect(result).toMatchObject({
      __typename: 'RefreshGatewaySuccess',
      gateway: { id: gateway.id },
      tools: { added: 1, updated: 3, removed: 1 },
      resources: { added: 0, updated: 1, removed: 0 },
      resourceTemplates: { added: 0, updated: 0, removed: 0 },
      prompts: { added: 1, updated: 0, removed: 1 },
    });

    const { tools, prompts } = await catalogOf(t, gateway.id);
    const after = byOriginalName(tools);
    expect(Object.keys(after).sort()).toEqual(['annotate', 'describe', 'fresh', 'keep', 'reshape']);
    for (const name of ['keep', 'describe', 'annotate', 'reshape']) expect(after[name].id, name).toBe(before[name].id);
    expect(after.describe).toMatchObject({ description: 'describe v2', enabled: false });
    expect(after.annotate.annotations).toEqual({ readOnlyHint: false, destructiveHint: true });
    expect(after.reshape).toMatchObject({ inputSchema: schema('number'), outputSchema: { type: 'object' } });
    expect(after.fresh).toMatchObject({ name: 'diff__fresh', enabled: true });
    expect(after.keep.enabled).toBe(true);
    const promptsAfter = byOriginalName(prompts);
    expect(Object.keys(promptsAfter).sort()).toEqual(['arrive', 'stay']);
    expect(promptsAfter.stay.id).toBe(promptsBefore.stay.id);
    // A vanished entry is gone, not hidden: its id resolves to nothing.
    expect((await t.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id: before.vanish.id })).data.node).toBeNull();

    // The operator's toggle before the refresh is an event of its own.
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'TOOL_TOGGLED', 'GATEWAY_CATALOG_CHANGED']);
    const changed = await t.app.db.prisma.gatewayEvent.findFirstOrThrow({ where: { gatewayId: uuidOf(gateway.id), type: 'GATEWAY_CATALOG_CHANGED' } });
    expect(changed.payload).toMatchObject({
      catalog: {
        tools: { added: 1, updated: 3, removed: 1, addedNames: ['fresh'], removedNames: ['vanish'] },
        prompts: { added: 1, removed: 1, addedNames: ['arrive'], removedNames: ['leave'] },
      },
    });
    // And as the API shows it.
    const history = await t.gql(
      `query ($id: ID!) { events(filter: { gatewayIds: [$id], types: [GATEWAY_CATALOG_CHANGED] }) {
        edges { node { details { ... on GatewayCatalogChangedDetails { catalogChange { tools { added removed addedNames removedNames } } } } } } } }`,
      { id: gateway.id },
    );
    expect(history.errors).toBeUndefined();
    expect(history.data.events.edges[0].node.details.catalogChange.tools).toEqual({ added: 1, removed: 1, addedNames: ['fresh'], removedNames: ['vanish'] });

    // Nothing changed since: all zeros, no new event, ids still the same.
    const again = await refreshGateway(t, gateway.id);
    for (const kind of ['tools', 'resources', 'resourceTemplates', 'prompts']) expect(again[kind]).toEqual({ added: 0, updated: 0, removed: 0 });
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'TOOL_TOGGLED', 'GATEWAY_CATALOG_CHANGED']);
    expect(byOriginalName((await catalogOf(t, gateway.id)).tools).describe).toMatchObject({ id: before.describe.id, enabled: false });
  });

  it('concurrent refreshes of one gateway both succeed and do not interleave', async () => {
    const busy = await startPeer({ tools: 40 });
    const gateway = await registered(t, { name: 'Busy', url: busy.url });
    busy.setCatalog({ tools: makeTools(60).slice(10) }); // tool_0001..0010 removed, 0041..0060 added
    const results = await Promise.all([1, 2, 3].map(() => refreshGateway(t, gateway.id))).finally(() => busy.close());
    expect(results.map((r) => r.__typename)).toEqual(['RefreshGatewaySuccess', 'RefreshGatewaySuccess', 'RefreshGatewaySuccess']);
    // Exactly one of them applied the change; the others found nothing left to do.
    const reports = results.map((r) => r.tools).sort((a, b) => b.added - a.added);
    expect(reports).toEqual([
      { added: 20, updated: 0, removed: 10 },
      { added: 0, updated: 0, removed: 0 },
      { added: 0, updated: 0, removed: 0 },
    ]);
    const { tools, totalTools } = await catalogOf(t, gateway.id);
    expect(totalTools).toBe(50);
    expect(new Set(tools.map((x) => x.originalName)).size).toBe(50);
    expect(tools[0].originalName).toBe('tool_0011');
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED', 'GATEWAY_CATALOG_CHANGED']);
  });

  it('a refresh against a peer that is down is a PeerConnectionError and changes nothing', async () => {
    const flaky = await startPeer({ tools: 2 });
    const gateway = await registered(t, { name: 'Flaky', url: flaky.url });
    await flaky.close();
    const before = { catalog: await catalogOf(t, gateway.id), events: await eventTypes(t, gateway.id) };
    expect(await refreshGateway(t, gateway.id)).toMatchObject({ __typename: 'PeerConnectionError', reason: 'REFUSED' });
    expect(await catalogOf(t, gateway.id)).toEqual(before.catalog);
    expect(await eventTypes(t, gateway.id)).toEqual(before.events);
  });

  it('unknown ids are NotFoundError', async () => {
    const gone = 'R2F0ZXdheTowMTkwMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA='; // Gateway:01900000-0000-7000-8000-000000000000
    expect(await refreshGateway(t, gone)).toMatchObject({ __typename: 'NotFoundError' });
    const tool = 'VG9vbDowMTkwMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA='; // Tool:01900000-...
    expect(await setToolEnabled(t, tool, false)).toMatchObject({ __typename: 'NotFoundError' });
  });
});
