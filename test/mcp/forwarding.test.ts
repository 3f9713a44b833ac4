// /mcp as a client sees it, forwarding half: the SDK's own Client over
// Streamable HTTP against the gateway, and rich SDK peers (test/helpers/
// mcp-peer.ts) behind it on 127.0.0.1. Lists come from the catalog, paged;
// every call reaches the owning peer with its original name or URI and comes
// back unchanged; every way a call can fail reaches the client as the MCP
// error or isError result the spec asks for, in bounded time.
import { request, type ClientRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, LATEST_PROTOCOL_VERSION, McpError, ResourceUpdatedNotificationSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { HOPS_META } from '../../src/mcp/federation-identity.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { checkHealth, until } from '../helpers/health.js';
import { echoResult, RAISED, RICH_PROMPTS, RICH_RESOURCES, RICH_TEMPLATES, RICH_TOOLS, richPeers, type RichPeer } from '../helpers/mcp-peer.js';
import { catalogOf, deleteGateway, PEER_ENV, registered, setGatewayEnabled, setToolEnabled, uuidOf } from '../helpers/registry.js';

const PAGE_SIZE = 2;
const peers = richPeers();
const clients: Client[] = [];

/** A gateway as the tests use it: its API id, slug, and the peer behind it. */
interface Registered {
  id: string;
  slug: string;
  name: string;
  peer: RichPeer;
}

/** An MCP client session on the /mcp of the app at `baseUrl`, as the API token `token`. */
async function connect(baseUrl: string, token: string): Promise<Client> {
  const client = new Client({ name: 'forwarding-test', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/**
 * DELETE of an MCP session, with Content-Length: 0. (The SDK's terminateSession sends
 * none, as fetch does for a bodyless DELETE, and the router answers that with 411.)
 */
function endSession(baseUrl: string, token: string, sessionId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'content-length': '0' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A raw Streamable HTTP session on /mcp, for what the SDK's client hides: whether
 * the response stream of one POST ends. post() sends a request and keeps its
 * response open; notify() sends a notification.
 */
async function rawSession(baseUrl: string, token: string) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` };
  const send = (body: unknown, extra: Record<string, string> = {}) => fetch(`${baseUrl}/mcp`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) });
  const init = await send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } } });
  const session = { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  await init.text();
  await (await send({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)).text();
  const opened: ClientRequest[] = [];
  return {
    /** Sends a request; `ended()` tells whether its response has ended. */
    post(message: unknown) {
      let ended = false;
      const body = JSON.stringify(message);
      const req = request(`${baseUrl}/mcp`, { method: 'POST', headers: { ...headers, ...session, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        res.resume();
        res.once('end', () => (ended = true));
      });
      req.on('error', () => {});
      req.end(body);
      opened.push(req);
      return { ended: () => ended };
    },
    notify: async (notification: unknown) => void (await (await send(notification, session)).text()),
    close: () => opened.forEach((req) => req.destroy()),
  };
}

async function register(t: TestApp, name: string, peer?: RichPeer): Promise<Registered> {
  const behind = peer ?? (await peers.start({ label: name.toLowerCase() }));
  const gateway = await registered(t, { name, url: behind.url });
  return { id: gateway.id, slug: gateway.slug, name, peer: behind };
}

const exposed = (gateway: Registered, uri: string) => `mcp-federation://${gateway.slug}/${uri}`;

/** The MCP error a promise rejects with. */
async function mcpError(promise: Promise<unknown>): Promise<McpError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected an MCP error, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

/** The single text of an isError result. */
function errorText(result: unknown): string {
  expect(result).toMatchObject({ isError: true, content: [{ type: 'text' }] });
  return (result as { content: { text: string }[] }).content[0]!.text;
}

/** Every item of a list, following nextCursor; each page's size, to check the paging. */
async function everyPage<T>(list: (cursor?: string) => Promise<{ nextCursor?: string } & Record<string, unknown>>, key: string) {
  const items: T[] = [];
  const sizes: number[] = [];
  const cursors: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const answer = await list(cursor);
    const pageItems = answer[key] as T[];
    items.push(...pageItems);
    sizes.push(pageItems.length);
    if (!answer.nextCursor) return { items, sizes, cursors };
    cursor = answer.nextCursor;
    cursors.push(cursor);
  }
  throw new Error(`${key}: still paging after 100 pages`);
}

/** Pages of PAGE_SIZE, the last one possibly shorter (never empty unless the list is). */
function expectPaged(sizes: number[], total: number) {
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
  expect(sizes.length).toBe(Math.max(1, Math.ceil(total / PAGE_SIZE)));
  for (const size of sizes.slice(0, -1)) expect(size).toBe(PAGE_SIZE);
}

describe('/mcp forwarding (page size 2)', () => {
  let t: TestApp;
  let baseUrl: string;
  let client: Client;
  let alpha: Registered;
  let beta: Registered;
  /** Gateways a test registered for itself: deleted after it, so that every test starts with alpha and beta only. */
  const extra: Registered[] = [];
  const own = async (name: string, peer?: RichPeer) => {
    const gateway = await register(t, name, peer);
    extra.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { ...PEER_ENV, MCP_PAGE_SIZE: String(PAGE_SIZE), UNHEALTHY_THRESHOLD: '1', TOOL_CALL_TIMEOUT_MS: '10000' } });
    baseUrl = await t.app.listen();
    // Both serve file:///README.md, each with its own text.
    alpha = await register(t, 'Alpha', await peers.start({ label: 'alpha', readme: '# Alpha docs' }));
    beta = await register(t, 'Beta', await peers.start({ label: 'beta', readme: '# Beta docs' }));
    client = await connect(baseUrl, t.adminToken);
  });
  afterEach(async () => {
    for (const gateway of extra.splice(0)) await deleteGateway(t, gateway.id);
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
    await t?.close();
    await peers.closeAll();
  });

  test('initialize says what this server is: its name, the federation capability and instructions naming the name rules', () => {
    expect(client.getServerVersion()).toMatchObject({ name: 'mcp-federation' });
    expect(client.getServerCapabilities()).toMatchObject({
      tools: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      prompts: { listChanged: true },
      completions: {},
      experimental: { 'io.github.mcp-federation': { reaches: [expect.stringMatching(/^[0-9a-f-]{36}$/)] } },
    });
    expect(client.getInstructions()).toContain('<gateway>__<original name>');
    expect(client.getInstructions()).toContain('mcp-federation://<gateway>/');
  });

  describe('lists', () => {
    const toolNames = (...gateways: Registered[]) => gateways.flatMap((g) => RICH_TOOLS.map((tool) => `${g.slug}__${tool}`)).sort();

    test('tools/list pages with opaque cursors and lists exactly the visible tools: no disabled tool, nothing of a disabled gateway', async () => {
      const gamma = await own('Gamma');
      expect((await setGatewayEnabled(t, gamma.id, false)).__typename).toBe('SetGatewayEnabledSuccess');
      const echo = (await catalogOf(t, beta.id)).tools.find((tool) => tool.originalName === 'echo');
      expect((await setToolEnabled(t, echo.id, false)).__typename).toBe('SetToolEnabledSuccess');
      try {
        const { items, sizes, cursors } = await everyPage<{ name: string }>((cursor) => client.listTools(cursor ? { cursor } : undefined), 'tools');
        const expected = toolNames(alpha, beta).filter((name) => name !== `${beta.slug}__echo`);
        expect(items.map((tool) => tool.name).sort()).toEqual(expected);
        expect(new Set(items.map((tool) => tool.name)).size).toBe(items.length);
        expectPaged(sizes, expected.length);
        // Opaque: no cursor is a tool's name (the last one served) in the clear.
        for (const cursor of cursors) expect(expected).not.toContain(cursor);
        // The peer's own definition comes through (description, input schema).
        expect(items.find((tool) => tool.name === `${alpha.slug}__progress`)).toMatchObject({
          description: 'Reports progress, then answers',
          inputSchema: { type: 'object', properties: { steps: { type: 'integer' } }, required: ['steps'] },
        });
      } finally {
        await setToolEnabled(t, echo.id, true);
      }
      // What was hidden comes back: the test saw the disabling, not something else.
      const after = await everyPage<{ name: string }>((cursor) => client.listTools(cursor ? { cursor } : undefined), 'tools');
      expect(after.items.map((tool) => tool.name).sort()).toEqual(toolNames(alpha, beta));
    });

    test('resources/list, resources/templates/list and prompts/list page the same way, under each gateway', async () => {
      const gamma = await own('Gamma');
      expect((await setGatewayEnabled(t, gamma.id, false)).__typename).toBe('SetGatewayEnabledSuccess');

      const resources = await everyPage<{ uri: string; name: string }>((cursor) => client.listResources(cursor ? { cursor } : undefined), 'resources');
      const expectedResources = [alpha, beta].flatMap((g) => RICH_RESOURCES.map((uri) => exposed(g, uri))).sort();
      expect(resources.items.map((r) => r.uri).sort()).toEqual(expectedResources);
      expectPaged(resources.sizes, expectedResources.length);
      expect(resources.items.find((r) => r.uri === exposed(alpha, 'file:///README.md'))).toMatchObject({ name: 'readme', title: 'Read me', mimeType: 'text/markdown' });

      const templates = await everyPage<{ uriTemplate: string }>(
        (cursor) => client.listResourceTemplates(cursor ? { cursor } : undefined),
        'resourceTemplates',
      );
      const expectedTemplates = [alpha, beta].flatMap((g) => RICH_TEMPLATES.map((uri) => exposed(g, uri))).sort();
      expect(templates.items.map((r) => r.uriTemplate).sort()).toEqual(expectedTemplates);
      expectPaged(templates.sizes, expectedTemplates.length);

      const prompts = await everyPage<{ name: string; arguments?: unknown }>((cursor) => client.listPrompts(cursor ? { cursor } : undefined), 'prompts');
      const expectedPrompts = [alpha, beta].flatMap((g) => RICH_PROMPTS.map((name) => `${g.slug}__${name}`)).sort();
      expect(prompts.items.map((p) => p.name).sort()).toEqual(expectedPrompts);
      expectPaged(prompts.sizes, expectedPrompts.length);
      expect(prompts.items.find((p) => p.name === `${alpha.slug}__greet`)?.arguments).toEqual([
        { name: 'name', required: true },
        { name: 'style', required: true },
      ]);
    });

    test('a malformed cursor, or one of another list, is InvalidParams', async () => {
      const first = await client.listTools();
      expect(first.nextCursor).toEqual(expect.any(String));
      // Thunks: each request is sent only when awaited, so none is left unhandled if one fails.
      for (const attempt of [
        () => client.listTools({ cursor: 'not-a-cursor' }),
        () => client.listTools({ cursor: Buffer.from('["tools",42]').toString('base64url') }),
        () => client.listPrompts({ cursor: first.nextCursor! }),
        () => client.listResources({ cursor: first.nextCursor! }),
      ]) {
        const error = await mcpError(attempt());
        expect(error.code).toBe(ErrorCode.InvalidParams);
        // Once: the SDK's client puts "MCP error <code>:" before the server's message itself.
        expect(error.message).toMatch(/^MCP error -32602: invalid cursor/);
        expect(error.message).not.toMatch(/MCP error .*MCP error/);
      }
    });
  });

  describe('forwarded requests come back unchanged', () => {
    test('tools/call: the original name and the arguments as sent; content, structuredContent and _meta as answered', async () => {
      const args = { text: 'hello', n: 42, flag: false, none: null, nested: { list: [1, 'two', null, { deep: true }], empty: {} }, unicode: 'ünï©ødé ✓ 🚀' };
      const result = await client.callTool({ name: `${alpha.slug}__echo`, arguments: args });
      expect(result).toEqual(echoResult('alpha', args));
      // Only the hop count is added to the request's _meta (no progress token: the client asked for none).
      expect(alpha.peer.calls().at(-1)).toEqual({ name: 'echo', arguments: args, _meta: { [HOPS_META]: 1 } });

      // isError and _meta of a tool that ran and failed: a result, as the peer gave it.
      const failed = await client.callTool({ name: `${beta.slug}__fail`, arguments: { why: 'the disk is full' } });
      expect(failed).toEqual({ isError: true, content: [{ type: 'text', text: 'beta could not: the disk is full' }], _meta: { 'test.peer/failed': true } });
      expect(beta.peer.calls().at(-1)).toMatchObject({ name: 'fail', arguments: { why: 'the disk is full' } });
    });

    test("the hop count of the client's request goes on, one more; past MCP_MAX_HOPS the call is refused, not forwarded", async () => {
      await client.callTool({ name: `${alpha.slug}__echo`, arguments: {}, _meta: { [HOPS_META]: 3 } });
      expect(alpha.peer.calls().at(-1)?._meta).toEqual({ [HOPS_META]: 4 });
      const calls = alpha.peer.calls().length;
      const refused = await client.callTool({ name: `${alpha.slug}__echo`, arguments: {}, _meta: { [HOPS_META]: 8 } });
      expect(errorText(refused)).toMatch(/passed through 8 gateways already \(MCP_MAX_HOPS is 8\)/);
      expect(alpha.peer.calls()).toHaveLength(calls);
    });

    test('one pooled peer session serves many calls, concurrent and sequential', async () => {
      const solo = await own('Solo');
      const before = solo.peer.initializes;
      const callsBefore = solo.peer.calls().length;
      const answers = await Promise.all([1, 2, 3].map((n) => client.callTool({ name: `${solo.slug}__echo`, arguments: { n } })));
      for (let n = 4; n <= 8; n++) answers.push(await client.callTool({ name: `${solo.slug}__echo`, arguments: { n } }));
      expect(answers.map((a) => (a.structuredContent as { echoed: { n: number } }).echoed.n).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(solo.peer.calls().length - callsBefore).toBe(8);
      expect(solo.peer.initializes - before).toBe(1);
    });

    test('resources/read, prompts/get and completion/complete reach the peer with its own names and come back as answered', async () => {
      expect(await client.readResource({ uri: exposed(alpha, 'file:///CHANGELOG.md') })).toEqual({
        contents: [{ uri: 'file:///CHANGELOG.md', mimeType: 'text/markdown', text: 'alpha: nothing changed' }],
      });
      expect(alpha.peer.received.at(-1)).toEqual({ method: 'resources/read', params: { uri: 'file:///CHANGELOG.md', _meta: { [HOPS_META]: 1 } } });

      const prompt = await client.getPrompt({ name: `${beta.slug}__greet`, arguments: { name: 'Ada', style: 'formal' } });
      expect(prompt).toEqual({ description: 'beta greets', messages: [{ role: 'user', content: { type: 'text', text: 'Greet Ada in a formal style (beta)' } }] });
      expect(beta.peer.received.at(-1)).toEqual({ method: 'prompts/get', params: { name: 'greet', arguments: { name: 'Ada', style: 'formal' }, _meta: { [HOPS_META]: 1 } } });

      const styles = await client.complete({ ref: { type: 'ref/prompt', name: `${alpha.slug}__greet` }, argument: { name: 'style', value: 'f' }, context: { arguments: { name: 'Ada' } } });
      expect(styles).toEqual({ completion: { values: ['formal', 'friendly'], total: 2, hasMore: false } });
      expect(alpha.peer.received.at(-1)).toEqual({
        method: 'completion/complete',
        params: { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'style', value: 'f' }, context: { arguments: { name: 'Ada' } }, _meta: { [HOPS_META]: 1 } },
      });

      const paths = await client.complete({ ref: { type: 'ref/resource', uri: exposed(beta, 'file:///{+path}') }, argument: { name: 'path', value: 'src/' } });
      expect(paths).toEqual({ completion: { values: ['src/app.ts', 'src/index.ts'], total: 2, hasMore: false } });
      expect(beta.peer.received.at(-1)).toMatchObject({ method: 'completion/complete', params: { ref: { type: 'ref/resource', uri: 'file:///{+path}' }, argument: { name: 'path', value: 'src/' } } });
    });

    test('two peers that both serve file:///README.md: two URIs, each read from its own peer; a template read reaches the right peer', async () => {
      const listed = await everyPage<{ uri: string }>((cursor) => client.listResources(cursor ? { cursor } : undefined), 'resources');
      const readmes = listed.items.map((r) => r.uri).filter((uri) => uri.endsWith('/file:///README.md'));
      expect(readmes.sort()).toEqual([`mcp-federation://${alpha.slug}/file:///README.md`, `mcp-federation://${beta.slug}/file:///README.md`].sort());

      const alphaReads = alpha.peer.received.length;
      const betaReads = beta.peer.received.length;
      expect(await client.readResource({ uri: exposed(alpha, 'file:///README.md') })).toEqual({
        contents: [{ uri: 'file:///README.md', mimeType: 'text/markdown', text: '# Alpha docs' }],
      });
      expect(await client.readResource({ uri: exposed(beta, 'file:///README.md') })).toEqual({
        contents: [{ uri: 'file:///README.md', mimeType: 'text/markdown', text: '# Beta docs' }],
      });
      expect(alpha.peer.received.length - alphaReads).toBe(1);
      expect(beta.peer.received.length - betaReads).toBe(1);

      // The template's expansion: everything after the prefix is the peer's URI, verbatim.
      expect(await client.readResource({ uri: exposed(beta, 'file:///some/path') })).toEqual({
        contents: [{ uri: 'file:///some/path', mimeType: 'text/plain', text: 'beta read some/path' }],
      });
      expect(beta.peer.received.at(-1)).toMatchObject({ method: 'resources/read', params: { uri: 'file:///some/path' } });
      expect(alpha.peer.received.length - alphaReads).toBe(1);
    });
  });

  describe('progress and cancellation', () => {
    test("the peer's progress notifications reach the client's onprogress, with their values, before the result", async () => {
      const steps = 20;
      const seen: (Progress | 'result')[] = [];
      const result = await client.callTool({ name: `${alpha.slug}__progress`, arguments: { steps } }, undefined, { onprogress: (progress) => seen.push(progress) });
      seen.push('result');
      expect(result).toEqual({ content: [{ type: 'text', text: `alpha: done after ${steps} steps` }] });
      expect(seen).toEqual([
        ...Array.from({ length: steps }, (_, i) => ({ progress: i + 1, total: steps, message: `step ${i + 1} of ${steps}` })),
        'result',
      ]);
      // The gateway asked the peer for progress with a token of its own session.
      expect(alpha.peer.calls().at(-1)?._meta).toEqual({ [HOPS_META]: 1, progressToken: expect.anything() });
    });

    test('a client that cancels cancels the request at the peer', async () => {
      const peer = alpha.peer;
      const cancelledBefore = peer.cancelled.length;
      const controller = new AbortController();
      const call = client.callTool({ name: `${alpha.slug}__wait_cancel`, arguments: {} }, undefined, { signal: controller.signal });
      const outcome = call.then(
        () => 'answered',
        () => 'rejected',
      );
      await until(() => peer.waiting() === 1, 10_000, 'the peer to be running the call');
      controller.abort(new Error('the user gave up'));
      expect(await outcome).toBe('rejected');
      await until(() => peer.cancelled.length > cancelledBefore, 10_000, 'the peer to see its request cancelled');
      expect(peer.waiting()).toBe(0);
      // It was told so by notifications/cancelled.
      expect(peer.cancelNotifications.at(-1)).toMatchObject({ requestId: expect.anything() });
      await until(() => forwardedLines().some((line) => line.entry === `${alpha.slug}__wait_cancel` && line.outcome === 'cancelled'), 5_000, 'the cancelled call to be logged');
    });

    test("a cancelled request's response stream is ended, not held open until the session closes", async () => {
      const peer = alpha.peer;
      const cancelledBefore = peer.cancelled.length;
      const raw = await rawSession(baseUrl, t.adminToken);
      try {
        const call = raw.post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: `${alpha.slug}__wait_cancel`, arguments: {} } });
        await until(() => peer.waiting() === 1, 10_000, 'the peer to be running the call');
        await raw.notify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'the user gave up' } });
        await until(() => peer.cancelled.length > cancelledBefore, 10_000, 'the peer to see its request cancelled');
        await until(() => call.ended(), 5_000, "the cancelled request's response to end");
      } finally {
        raw.close();
      }
    });
  });

  describe('errors', () => {
    test('an unknown tool, or a disabled one, is InvalidParams with a message saying so', async () => {
      const unknown = await mcpError(client.callTool({ name: `${alpha.slug}__nope`, arguments: {} }));
      expect(unknown.code).toBe(ErrorCode.InvalidParams);
      expect(unknown.message).toBe(`MCP error -32602: unknown tool: ${alpha.slug}__nope`);

      const fail = (await catalogOf(t, alpha.id)).tools.find((tool) => tool.originalName === 'fail');
      expect((await setToolEnabled(t, fail.id, false)).__typename).toBe('SetToolEnabledSuccess');
      const callsBefore = alpha.peer.calls().length;
      try {
        const disabled = await mcpError(client.callTool({ name: `${alpha.slug}__fail`, arguments: { why: 'x' } }));
        expect(disabled.code).toBe(ErrorCode.InvalidParams);
        expect(disabled.message).toMatch(new RegExp(`^MCP error -32602: tool ${alpha.slug}__fail is disabled`));
      } finally {
        await setToolEnabled(t, fail.id, true);
      }
      expect(alpha.peer.calls().length).toBe(callsBefore);
    });

    test('a disabled gateway, or an unreachable one: an isError result naming the gateway, nothing sent', async () => {
      const gamma = await own('Gamma');
      expect((await setGatewayEnabled(t, gamma.id, false)).__typename).toBe('SetGatewayEnabledSuccess');
      const disabled = await client.callTool({ name: `${gamma.slug}__echo`, arguments: {} });
      expect(errorText(disabled)).toBe('gateway Gamma is disabled');

      const delta = await own('Delta');
      expect((await client.callTool({ name: `${delta.slug}__echo`, arguments: { n: 1 } })).isError).toBeUndefined();
      await delta.peer.close();
      const check = await checkHealth(t, delta.id);
      expect(check).toMatchObject({ __typename: 'CheckGatewayHealthSuccess', ok: false, gateway: { reachable: false } });
      const started = performance.now();
      const unreachable = await client.callTool({ name: `${delta.slug}__echo`, arguments: { n: 2 } });
      expect(errorText(unreachable)).toMatch(/^gateway Delta is unreachable/);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(delta.peer.calls()).toHaveLength(1);
      expect(gamma.peer.calls()).toHaveLength(0);
      // Neither lists anything meanwhile.
      const listed = await everyPage<{ name: string }>((cursor) => client.listTools(cursor ? { cursor } : undefined), 'tools');
      expect(listed.items.filter((tool) => tool.name.startsWith(`${gamma.slug}__`) || tool.name.startsWith(`${delta.slug}__`))).toEqual([]);
    });

    test("the peer's own JSON-RPC error reaches the client with its code, message and data, as a client of the peer would see it", async () => {
      // The reference: the same call made straight to the peer.
      const direct = new Client({ name: 'direct', version: '1.0.0' });
      const directTransport = new StreamableHTTPClientTransport(new URL(alpha.peer.url));
      await direct.connect(directTransport);
      clients.push(direct);
      for (const args of [{}, { code: ErrorCode.InvalidParams, message: 'n must be positive' }, { code: 4_001, message: 'custom', data: ['a', { b: 1 }] }]) {
        const expected = await mcpError(direct.callTool({ name: 'raise', arguments: args }));
        const error = await mcpError(client.callTool({ name: `${alpha.slug}__raise`, arguments: args }));
        expect({ code: error.code, message: error.message, data: error.data }).toEqual({ code: expected.code, message: expected.message, data: expected.data });
        expect(error.code).toBe('code' in args ? args.code : RAISED.code);
        expect(error.message).toContain('message' in args ? args.message : RAISED.message);
      }
      const error = await mcpError(client.callTool({ name: `${beta.slug}__raise`, arguments: {} }));
      expect(error.data).toEqual(RAISED.data);
      await directTransport.terminateSession();
    });

    test('a peer that dies mid-call: a clear error in bounded time, and the gateway goes on serving the others', async () => {
      const mortal = await own('Mortal');
      const started = performance.now();
      const result = await client.callTool({ name: `${mortal.slug}__die`, arguments: {} });
      const elapsed = performance.now() - started;
      expect(errorText(result)).toMatch(/^gateway Mortal failed/);
      // Well inside TOOL_CALL_TIMEOUT_MS (10 s): the broken connection ended the call, not the clock.
      expect(elapsed).toBeLessThan(5_000);
      expect(await client.callTool({ name: `${alpha.slug}__echo`, arguments: { after: 'death' } })).toEqual(echoResult('alpha', { after: 'death' }));
      expect(await client.callTool({ name: `${beta.slug}__echo`, arguments: { after: 'death' } })).toEqual(echoResult('beta', { after: 'death' }));
    });

    test('a peer that answers garbage, or JSON that is no result: a clear error, and its next call works', async () => {
      const garbled = await own('Garbled');
      for (const tool of ['garbage', 'misshapen']) {
        const started = performance.now();
        const result = await client.callTool({ name: `${garbled.slug}__${tool}`, arguments: {} });
        expect(errorText(result), tool).toMatch(/^gateway Garbled failed \(PROTOCOL\)/);
        expect(performance.now() - started).toBeLessThan(5_000);
        expect(await client.callTool({ name: `${garbled.slug}__echo`, arguments: { after: tool } })).toEqual(echoResult('garbled', { after: tool }));
      }
    });

    test('resources/read of a URI no gateway serves is -32002 (resource not found)', async () => {
      for (const uri of ['mcp-federation://nobody/file:///README.md', 'file:///README.md', `mcp-federation://${alpha.slug}`, 'mcp-federation://Alpha/file:///README.md']) {
        const error = await mcpError(client.readResource({ uri }));
        expect(error.code, uri).toBe(-32002);
        expect(error.message).toBe(`MCP error -32002: unknown resource: ${uri}`);
      }
    });
  });

  test('resources/subscribe: the peer is subscribed with its own URI, and its updates reach the client under the exposed one', async () => {
    const updates: string[] = [];
    const subscriber = await connect(baseUrl, t.adminToken);
    subscriber.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => void updates.push(notification.params.uri));
    const uri = exposed(beta, 'file:///README.md');
    await subscriber.subscribeResource({ uri });
    expect(beta.peer.subscribed()).toEqual(['file:///README.md']);
    // The pooled session's standing stream is what an unsolicited notification travels on.
    await until(() => beta.peer.openStreams() > 0, 10_000, "the gateway's standing stream to the peer");
    expect(await beta.peer.emitResourceUpdated('file:///README.md')).toBe(1);
    await until(() => updates.length > 0, 10_000, 'the update to reach the client');
    expect(updates).toEqual([uri]);

    // The peer forgets its sessions (a restart): the client subscribes again, as after any reconnection,
    // and that subscribe reaches the peer, on a new session, though the gateway had the resource subscribed.
    await beta.peer.expireSessions();
    expect(beta.peer.subscribed()).toEqual([]);
    await subscriber.subscribeResource({ uri });
    expect(beta.peer.subscribed()).toEqual(['file:///README.md']);
    await until(() => beta.peer.openStreams() > 0, 10_000, "the gateway's new standing stream to the peer");
    expect(await beta.peer.emitResourceUpdated('file:///README.md')).toBe(1);
    await until(() => updates.length > 1, 10_000, 'the update after resubscribing to reach the client');
    expect(updates).toEqual([uri, uri]);

    await subscriber.unsubscribeResource({ uri });
    expect(beta.peer.subscribed()).toEqual([]);
  });

  test('client sessions share the subscription at the peer; each gets the updates it subscribed to until it unsubscribes or ends', async () => {
    const updates = { first: [] as string[], second: [] as string[] };
    const first = await connect(baseUrl, t.adminToken);
    const second = await connect(baseUrl, t.adminToken);
    first.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.first.push(n.params.uri));
    second.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.second.push(n.params.uri));
    const readme = exposed(alpha, 'file:///README.md');
    const changelog = exposed(alpha, 'file:///CHANGELOG.md');
    const subscribes = () => alpha.peer.received.filter((r) => r.method === 'resources/subscribe').length;
    const before = subscribes();
    await first.subscribeResource({ uri: readme });
    await second.subscribeResource({ uri: readme });
    await first.subscribeResource({ uri: changelog });
    // Each subscribe reaches the peer: that is how a subscription lost with its peer session is made again.
    expect(subscribes() - before).toBe(3);
    expect(alpha.peer.subscribed().sort()).toEqual(['file:///CHANGELOG.md', 'file:///README.md']);
    await until(() => alpha.peer.openStreams() > 0, 10_000, "the gateway's standing stream to the peer");

    await alpha.peer.emitResourceUpdated('file:///README.md');
    await until(() => updates.first.length === 1 && updates.second.length === 1, 10_000, 'both sessions to get the update');

    // The first unsubscribes: the peer stays subscribed for the second.
    await first.unsubscribeResource({ uri: readme });
    expect(alpha.peer.subscribed()).toContain('file:///README.md');
    await alpha.peer.emitResourceUpdated('file:///README.md');
    await alpha.peer.emitResourceUpdated('file:///CHANGELOG.md');
    // In order on one peer stream and one client stream: once CHANGELOG's reached the first, README's would have too.
    await until(() => updates.first.length === 2 && updates.second.length === 2, 10_000, 'the second README update and the CHANGELOG one');
    expect(updates.first).toEqual([readme, changelog]);
    expect(updates.second).toEqual([readme, readme]);

    // The second session ends (DELETE): the last subscriber of README gone, the peer is unsubscribed.
    expect(await endSession(baseUrl, t.adminToken, (second.transport as StreamableHTTPClientTransport).sessionId!)).toBe(200);
    await until(() => !alpha.peer.subscribed().includes('file:///README.md'), 10_000, 'the peer to be unsubscribed from README');
    expect(alpha.peer.subscribed()).toEqual(['file:///CHANGELOG.md']);
    await first.unsubscribeResource({ uri: changelog });
    expect(alpha.peer.subscribed()).toEqual([]);
  });

  // Log lines of forwarded calls, as JSON.
  const forwardedLines = () =>
    t.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'forwarded a call');

  test("every forwarded call logs one line 'forwarded a call' with its method, entry, gateway, duration, outcome and caller; never its arguments", async () => {
    const secret = `argument-value-${Math.random().toString(36).slice(2)}`;
    const from = t.logs.length;
    await client.callTool({ name: `${alpha.slug}__echo`, arguments: { secret } });
    await client.callTool({ name: `${alpha.slug}__fail`, arguments: { why: secret } });
    await mcpError(client.callTool({ name: `${beta.slug}__raise`, arguments: { message: 'refused', data: { secret } } }));
    await client.readResource({ uri: exposed(beta, `file:///${secret}`) });
    await client.getPrompt({ name: `${alpha.slug}__summarize`, arguments: { text: secret } });
    await client.complete({ ref: { type: 'ref/prompt', name: `${alpha.slug}__greet` }, argument: { name: 'style', value: secret } });
    // Refused before forwarding: no line.
    await mcpError(client.callTool({ name: `${alpha.slug}__nope`, arguments: { secret } }));
    // The caller is the session's API token.
    const bot = await t.app.services.tokens.create('mcp-bot', ['invoke']);
    const botClient = await connect(baseUrl, bot.secret);
    await botClient.callTool({ name: `${beta.slug}__echo`, arguments: { secret } });

    const lines = t.logs
      .slice(from)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'forwarded a call');
    const a = uuidOf(alpha.id);
    const b = uuidOf(beta.id);
    const line = (method: string, entry: string, gatewayId: string, outcome: string) =>
      expect.objectContaining({ method, entry, gatewayId, outcome, caller: 'ADMIN_TOKEN', durationMs: expect.any(Number) });
    expect(lines).toEqual([
      line('tools/call', `${alpha.slug}__echo`, a, 'ok'),
      line('tools/call', `${alpha.slug}__fail`, a, 'tool error'),
      line('tools/call', `${beta.slug}__raise`, b, 'peer error'),
      line('resources/read', exposed(beta, `file:///${secret}`), b, 'ok'),
      line('prompts/get', `${alpha.slug}__summarize`, a, 'ok'),
      line('completion/complete', `${alpha.slug}__greet`, a, 'ok'),
      expect.objectContaining({ method: 'tools/call', entry: `${beta.slug}__echo`, gatewayId: b, outcome: 'ok', caller: 'mcp-bot' }),
    ]);
    for (const l of lines) expect(Object.keys(l)).not.toContain('arguments');
    // The secret is in no line, bar the one entry that is a URI built from it.
    const leaks = t.logs.slice(from).filter((l) => l.includes(secret) && !l.includes(`"entry":"${exposed(beta, `file:///${secret}`)}"`));
    expect(leaks).toEqual([]);
  });

  // Bounds too short for the suite above (a busy machine could trip them), on an app of their own.
  describe('short bounds: TOOL_CALL_TIMEOUT_MS 1 s, MCP_PEER_SESSION_IDLE_MS 1 s, MCP_MAX_SUBSCRIPTIONS 2', () => {
    let short: TestApp;
    let url: string;
    beforeAll(async () => {
      short = await startTestApp({ env: { ...PEER_ENV, TOOL_CALL_TIMEOUT_MS: '1000', MCP_PEER_SESSION_IDLE_MS: '1000', MCP_MAX_SUBSCRIPTIONS: '2' } });
      url = await short.app.listen();
    });
    afterAll(() => short?.close());

    test('a session holds at most MCP_MAX_SUBSCRIPTIONS subscriptions (template URIs are endless): the next is refused, nothing sent', async () => {
      const many = await register(short, 'Many');
      const subscriber = await connect(url, short.adminToken);
      const uri = (path: string) => exposed(many, `file:///${path}`);
      await subscriber.subscribeResource({ uri: uri('a') });
      await subscriber.subscribeResource({ uri: uri('b') });
      await subscriber.subscribeResource({ uri: uri('a') }); // already held: not one more
      const sent = many.peer.received.filter((r) => r.method === 'resources/subscribe').length;
      const refused = await subscriber.subscribeResource({ uri: uri('c') }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(McpError);
      expect(refused).toMatchObject({ code: ErrorCode.InvalidRequest, message: expect.stringContaining('MCP_MAX_SUBSCRIPTIONS') });
      expect(many.peer.received.filter((r) => r.method === 'resources/subscribe').length).toBe(sent);
      await subscriber.unsubscribeResource({ uri: uri('a') });
      await subscriber.subscribeResource({ uri: uri('c') });
    });

    test('a subscribed resource keeps its peer session: updates still arrive once an idle session has been closed', async () => {
      const watched = await register(short, 'Watched');
      const witness = await register(short, 'Witness');
      const subscriber = await connect(url, short.adminToken);
      const updates: string[] = [];
      subscriber.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
      const uri = exposed(watched, 'file:///README.md');
      await subscriber.subscribeResource({ uri });
      // Used after the subscription: once the pool has closed this one as idle, it would have closed the other.
      await subscriber.callTool({ name: `${witness.slug}__echo`, arguments: {} });
      expect(witness.peer.openSessions()).toBe(1);
      await until(() => witness.peer.openSessions() === 0, 10_000, "the witness's idle pooled session to be closed");

      expect(watched.peer.subscribed()).toEqual(['file:///README.md']);
      await until(() => watched.peer.openStreams() > 0, 10_000, "the gateway's standing stream to the peer");
      expect(await watched.peer.emitResourceUpdated('file:///README.md')).toBe(1);
      await until(() => updates.length > 0, 10_000, 'the update to reach the client');
      expect(updates).toEqual([uri]);

      // Unsubscribed, the session is let go like any other.
      await subscriber.unsubscribeResource({ uri });
      await until(() => watched.peer.openSessions() === 0, 10_000, 'the unsubscribed session to be closed as idle');
    });

    test('a hanging tool is an isError result saying so, within bounded time', async () => {
      const gateway = await register(short, 'Sloth');
      const slowClient = await connect(url, short.adminToken);
      const started = performance.now();
      const result = await slowClient.callTool({ name: `${gateway.slug}__hang`, arguments: {} });
      const elapsed = performance.now() - started;
      expect(errorText(result)).toBe('gateway Sloth did not answer within 1000 ms');
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(5_000);
      expect(gateway.peer.waiting()).toBe(1);
      // A tool that listens for cancellation is told to stop when the gateway gives up on it.
      const waited = await slowClient.callTool({ name: `${gateway.slug}__wait_cancel`, arguments: {} });
      expect(errorText(waited)).toBe('gateway Sloth did not answer within 1000 ms');
      await until(() => gateway.peer.cancelled.length === 1, 5_000, 'the peer to see the timed-out request cancelled');
      // The gateway went on: a quick tool on the same peer still answers.
      expect(await slowClient.callTool({ name: `${gateway.slug}__echo`, arguments: { n: 1 } })).toEqual(echoResult('sloth', { n: 1 }));
    });
  });
});
