// Catalog data a peer may send that the database cannot take as is: each case
// ends in a typed answer (never "Unexpected error") and leaves nothing half-stored.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type PeerOptions, peerPool } from '../helpers/peers.js';
import { PEER_ENV, refreshGateway, registered, registerGateway, rowCounts } from '../helpers/registry.js';

const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({ name, inputSchema: { type: 'object' }, ...extra });

describe('peer data the catalog cannot store as sent', () => {
  let t: TestApp;
  const pool = peerPool();
  const peer = pool.start;
  beforeAll(async () => {
    t = await startTestApp({ env: PEER_ENV });
  });
  afterEach(async () => {
    await pool.closeAll();
  });
  afterAll(() => t?.close());

  test.each<[string, PeerOptions, string]>([
    ['a tool listed twice (across pages)', { tools: [tool('a'), tool('b'), tool('a')], pageSize: 2 }, 'tools[2]'],
    ['a NUL character in a description', { tools: [tool('a', { description: 'bad\u0000text' })] }, 'tools[0]'],
    ['a NUL character in a schema key', { tools: [tool('ok'), tool('a', { inputSchema: { type: 'object', properties: { 'k\u0000': {} } } })] }, 'tools[1]'],
    ['a NUL character in a prompt argument', { tools: 1, prompts: [{ name: 'p', arguments: [{ name: 'x\u0000' }] }] }, 'prompts[0]'],
    ['a NUL character in the instructions', { tools: 1, instructions: 'hello\u0000' }, 'instructions'],
  ])('%s is a ValidationError naming the entry, and nothing is stored', async (_label, options, field) => {
    const p = await peer(options);
    const before = await rowCounts(t);
    const result = await registerGateway(t, { name: 'Odd', url: p.url });
    expect(result, JSON.stringify(result)).toMatchObject({ __typename: 'ValidationError', field });
    expect(result.message).toMatch(/twice|NUL/);
    expect(await rowCounts(t)).toEqual(before);
  });

  test('text that merely spells \\u0000 is stored as sent', async () => {
    const p = await peer({ tools: [tool('a', { description: 'escape: \\u0000' })] });
    const gateway = await registered(t, { name: 'Spelled', url: p.url });
    const { data } = await t.gql(`query ($id: ID!) { gateway(id: $id) { tools { edges { node { description } } } } }`, { id: gateway.id });
    expect(data.gateway.tools.edges[0].node.description).toBe('escape: \\u0000');
  });

  test('a resource size is kept whole up to 2^53 - 1; a fractional, negative or inexact one is left out, the rest stored', async () => {
    const p = await peer({
      tools: 1,
      resources: [
        { uri: 'file:///huge', name: 'huge', size: 5_000_000_000 },
        { uri: 'file:///largest', name: 'largest', size: Number.MAX_SAFE_INTEGER },
        { uri: 'file:///half', name: 'half', size: 12.5 },
        { uri: 'file:///negative', name: 'negative', size: -1 },
        { uri: 'file:///inexact', name: 'inexact', size: 2 ** 60 },
      ],
    });
    const gateway = await registered(t, { name: 'Sizes', url: p.url });
    const query = `query ($id: ID!) { gateway(id: $id) { resources { edges { node { uri size } } } } }`;
    const { data, errors } = await t.gql(query, { id: gateway.id });
    expect(errors).toBeUndefined();
    expect(data.gateway.resources.edges.map((e: any) => e.node)).toEqual([
      { uri: 'file:///half', size: null },
      { uri: 'file:///huge', size: 5_000_000_000 },
      { uri: 'file:///inexact', size: null },
      { uri: 'file:///largest', size: Number.MAX_SAFE_INTEGER },
      { uri: 'file:///negative', size: null },
    ]);
    // Stored sizes compare equal to what the peer sends again: a refresh changes nothing.
    const refreshed = await refreshGateway(t, gateway.id);
    expect(refreshed.resources).toEqual({ added: 0, updated: 0, removed: 0 });
  });
});
