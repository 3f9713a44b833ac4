// callTool from GraphQL: the same forwarding as /mcp (original name, arguments
// unchanged, the peer's result unchanged), each failure a typed union member,
// and the `invoke` scope required.
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { registered, setGatewayEnabled, setToolEnabled, PEER_ENV } from '../helpers/registry.js';

const CALL = /* GraphQL */ `
  mutation ($name: String!, $arguments: JSON) {
    callTool(name: $name, arguments: $arguments) {
      __typename
      ... on CallToolSuccess { content structuredContent isError meta }
      ... on Error { message }
      ... on GatewayUnavailableError { status }
      ... on PeerCallError { timedOut reason }
      ... on PeerRefusedError { code data }
      ... on ValidationError { field }
    }
  }
`;

const TOKEN = `mutation ($scopes: [ApiScope!]!) { createApiToken(name: "caller", scopes: $scopes) { ... on CreateApiTokenSuccess { secret } } }`;

describe('callTool', () => {
  let t: TestApp;
  let peer: TestPeer;
  let gateway: any;
  const calls: { name: string; args: unknown }[] = [];
  let hang = false;

  beforeAll(async () => {
    peer = await startPeer({
      tools: 3,
      callTool: async (name, args) => {
        calls.push({ name, args });
        if (name === 'tool_0002') throw new McpError(ErrorCode.InvalidParams, 'n must be positive');
        if (name === 'tool_0003' && hang) await new Promise(() => {});
        if (name === 'tool_0003') return { isError: true, content: [{ type: 'text', text: 'it failed' }] };
        return { content: [{ type: 'text', text: 'ok' }], structuredContent: { echoed: args }, _meta: { from: 'peer' } };
      },
    });
    t = await startTestApp({ env: { ...PEER_ENV, TOOL_CALL_TIMEOUT_MS: '500' } });
    gateway = await registered(t, { name: 'Calls', url: peer.url });
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  const call = async (name: string, args?: unknown, token?: string) => {
    const { data, errors } = await t.gql(CALL, { name, arguments: args }, token);
    expect(errors).toBeUndefined();
    return data.callTool;
  };

  test('forwards the original name and the arguments unchanged, and returns the result as the peer sent it', async () => {
    const args = { n: 1, nested: { list: [1, 'two', null] } };
    expect(await call('calls__tool_0001', args)).toEqual({
      __typename: 'CallToolSuccess',
      content: [{ type: 'text', text: 'ok' }],
      structuredContent: { echoed: args },
      isError: false,
      meta: { from: 'peer' },
    });
    expect(calls.at(-1)).toEqual({ name: 'tool_0001', args });
  });

  test("a tool that ran and failed is a success with isError; the peer's JSON-RPC error is PeerRefusedError with its code", async () => {
    expect(await call('calls__tool_0003', {})).toMatchObject({ __typename: 'CallToolSuccess', isError: true, content: [{ type: 'text', text: 'it failed' }] });
    // The message as the peer sent it (an SDK server puts "MCP error <code>: " before an McpError's text).
    expect(await call('calls__tool_0002', { n: -1 })).toMatchObject({
      __typename: 'PeerRefusedError',
      code: ErrorCode.InvalidParams,
      message: `MCP error ${ErrorCode.InvalidParams}: n must be positive`,
    });
  });

  test('an unknown name, a disabled tool, a disabled gateway and arguments that are not an object are typed errors; nothing reaches the peer', async () => {
    const before = calls.length;
    expect(await call('calls__nope')).toEqual({ __typename: 'CatalogEntryNotFoundError', message: 'unknown tool: calls__nope' });
    expect(await call('calls__tool_0001', [1, 2])).toMatchObject({ __typename: 'ValidationError', field: 'arguments' });

    const { data } = await t.gql(`{ tools(filter: { search: "tool_0001" }) { edges { node { id } } } }`);
    const toolId = data.tools.edges[0].node.id;
    await setToolEnabled(t, toolId, false);
    expect(await call('calls__tool_0001')).toMatchObject({ __typename: 'CatalogEntryDisabledError', message: expect.stringContaining('disabled') });
    await setToolEnabled(t, toolId, true);

    await setGatewayEnabled(t, gateway.id, false);
    expect(await call('calls__tool_0001')).toMatchObject({ __typename: 'GatewayUnavailableError', status: 'DISABLED', message: expect.stringContaining('Calls') });
    expect(calls.length).toBe(before);
    await setGatewayEnabled(t, gateway.id, true);
    expect(await call('calls__tool_0001', {})).toMatchObject({ __typename: 'CallToolSuccess' });
  });

  test('a peer that does not answer within TOOL_CALL_TIMEOUT_MS is PeerCallError with timedOut', async () => {
    hang = true;
    try {
      expect(await call('calls__tool_0003', {})).toMatchObject({ __typename: 'PeerCallError', timedOut: true, reason: 'TIMEOUT', message: expect.stringContaining('500 ms') });
    } finally {
      hang = false;
    }
    // The gateway still serves.
    expect(await call('calls__tool_0001', {})).toMatchObject({ __typename: 'CallToolSuccess' });
  });

  test('it takes the invoke scope: a read token gets AuthorizationError, an invoke token calls', async () => {
    const reader = (await t.gql(TOKEN, { scopes: ['read'] })).data.createApiToken.secret;
    const invoker = (await t.gql(TOKEN, { scopes: ['invoke'] })).data.createApiToken.secret;
    expect(await call('calls__tool_0001', {}, reader)).toMatchObject({ __typename: 'AuthorizationError' });
    expect(await call('calls__tool_0001', {}, invoker)).toMatchObject({ __typename: 'CallToolSuccess' });
    // readResource is a query, yet an invoke-only token may use it: scope invoke, not read.
    const read = await t.gql(`{ readResource(uri: "mcp-federation://calls/file:///x") { __typename } }`, {}, invoker);
    expect(read.errors).toBeUndefined();
    expect(read.data.readResource.__typename).not.toBe('AuthorizationError');
  });
});
