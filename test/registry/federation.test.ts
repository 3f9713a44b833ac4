// The federation query: merged capabilities of the ACTIVE gateways only, where
// each came from, gateways by status and visible catalog entries by kind.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { registered, setGatewayEnabled, setToolEnabled, uuidOf } from '../helpers/registry.js';

const FEDERATION = /* GraphQL */ `
  {
    federation {
      capabilities
      provenance { gatewayId name capabilities }
      gateways { active disabled unreachable }
      catalog { tools resources resourceTemplates prompts }
    }
  }
`;

describe('federation', () => {
  let t: TestApp;
  let files: TestPeer;
  let chat: TestPeer;
  let spare: TestPeer;
  beforeAll(async () => {
    t = await startTestApp();
    [files, chat, spare] = await Promise.all([
      startPeer({
        tools: 2,
        resources: [{ uri: 'file:///a', name: 'a' }],
        templates: [{ uriTemplate: 'file:///{p}', name: 'p' }],
        capabilities: { resources: { subscribe: true }, logging: {}, experimental: { search: { version: 1 } } },
      }),
      startPeer({
        tools: 3,
        prompts: [{ name: 'hi' }, { name: 'bye' }],
        capabilities: { tools: { listChanged: false }, completions: {}, experimental: { stream: { chunked: true } } },
      }),
      startPeer({ tools: 1, capabilities: { experimental: { spare: {} } } }),
    ]);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([files, chat, spare].map((p) => p?.close()));
  });

  const federation = async () => {
    const { data, errors } = await t.gql(FEDERATION);
    expect(errors).toBeUndefined();
    return data.federation;
  };

  test('with no gateway: nothing merged, all counts zero', async () => {
    expect(await federation()).toEqual({
      capabilities: {},
      provenance: [],
      gateways: { active: 0, disabled: 0, unreachable: 0 },
      catalog: { tools: 0, resources: 0, resourceTemplates: 0, prompts: 0 },
    });
  });

  test('capabilities of active gateways merge key by key, with provenance; disabled and unreachable ones drop out', async () => {
    const a = await registered(t, { name: 'Files', url: files.url });
    const b = await registered(t, { name: 'Chat', url: chat.url });
    const c = await registered(t, { name: 'Spare', url: spare.url });

    const all = await federation();
    expect(all.capabilities).toEqual({
      completions: {},
      experimental: { search: { version: 1 }, spare: {}, stream: { chunked: true } },
      logging: {},
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      // Set by one peer, unset by another: a flag is set if any peer sets it.
      tools: { listChanged: true },
    });
    // Provenance: each gateway with exactly what it advertised.
    const byName = Object.fromEntries(all.provenance.map((p: any) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(['Chat', 'Files', 'Spare']);
    expect(byName.Files).toEqual({ gatewayId: a.id, name: 'Files', capabilities: a.capabilities });
    expect(byName.Chat.capabilities).toEqual({
      tools: { listChanged: false },
      prompts: { listChanged: true },
      completions: {},
      experimental: { stream: { chunked: true } },
    });
    expect(all.gateways).toEqual({ active: 3, disabled: 0, unreachable: 0 });
    expect(all.catalog).toEqual({ tools: 6, resources: 1, resourceTemplates: 1, prompts: 2 });

    // Disabled through the API; unreachable is what the health checker records.
    expect(await setGatewayEnabled(t, b.id, false)).toMatchObject({ __typename: 'SetGatewayEnabledSuccess' });
    await t.app.db.prisma.gateway.update({ where: { id: uuidOf(c.id) }, data: { reachable: false } });
    const some = await federation();
    expect(some.capabilities).toEqual({
      experimental: { search: { version: 1 } },
      logging: {},
      resources: { listChanged: true, subscribe: true },
      tools: { listChanged: true },
    });
    expect(some.provenance).toEqual([{ gatewayId: a.id, name: 'Files', capabilities: a.capabilities }]);
    expect(some.gateways).toEqual({ active: 1, disabled: 1, unreachable: 1 });
    expect(some.catalog).toEqual({ tools: 2, resources: 1, resourceTemplates: 1, prompts: 0 });

    // Back to active: its capabilities return.
    expect(await setGatewayEnabled(t, b.id, true)).toMatchObject({ __typename: 'SetGatewayEnabledSuccess' });
    const again = await federation();
    expect(again.capabilities.prompts).toEqual({ listChanged: true });
    expect(again.gateways).toEqual({ active: 2, disabled: 0, unreachable: 1 });
    expect(again.catalog).toEqual({ tools: 5, resources: 1, resourceTemplates: 1, prompts: 2 });

    // A tool an operator disabled is not one clients can see: it leaves the count, and comes back.
    const { data } = await t.gql(`query ($id: ID!) { gateway(id: $id) { tools(first: 1) { edges { node { id } } } } }`, { id: a.id });
    const toolId = data.gateway.tools.edges[0].node.id;
    expect(await setToolEnabled(t, toolId, false)).toMatchObject({ tool: { enabled: false } });
    expect((await federation()).catalog).toEqual({ tools: 4, resources: 1, resourceTemplates: 1, prompts: 2 });
    expect(await setToolEnabled(t, toolId, true)).toMatchObject({ tool: { enabled: true } });
    expect((await federation()).catalog.tools).toBe(5);
  });

  test('needs the read scope only', async () => {
    const reader = (await t.app.services.tokens.create('reader', ['read'])).secret;
    const { data, errors } = await t.gql(FEDERATION, undefined, reader);
    expect(errors).toBeUndefined();
    expect(data.federation.gateways.active).toBe(2);
    const invoker = (await t.app.services.tokens.create('invoker', ['invoke'])).secret;
    const denied = await t.gql(FEDERATION, undefined, invoker);
    expect(denied.data).toBeNull();
    expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: ['read'] });
  });
});
