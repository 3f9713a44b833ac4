// /mcp federated through more than one gateway: three instances of this
// project as separate processes, each its own deployment (database, federation
// id), chained A → B → D → C, where C is a plain MCP server (the SDK's
// McpServer). D registers C; B registers D's /mcp, and A registers B's /mcp,
// each with an invoke-scoped API token the next one issued. A client of A's
// /mcp sees C's tools under every gateway's prefix, and its calls, progress
// and cancellation cross all three hops. Registering a gateway that already
// reaches us (a ring, or ourselves) is refused with FederationLoopError and
// writes nothing; a call that has passed through MCP_MAX_HOPS gateways is
// refused as a tool result.
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, LATEST_PROTOCOL_VERSION, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FEDERATION_CAPABILITY, HOPS_META } from '../../src/mcp/federation-identity.js';
import { until } from '../helpers/deployment.js';
import { ChainGateway, echoResult, END_TOOLS, startEndServer, startGateways, type EndServer } from '../helpers/mcp-chain.js';
import { killAllMain } from '../helpers/process.js';
import { requireServices } from '../helpers/services.js';

/** D's bound: a call D gets from B (2 hops) goes on to C as the third; one that arrives with 3 is refused there. */
const D_MAX_HOPS = 3;
/** A's bound (the default, spelled out): a client's request claiming this many hops is refused at A. */
const A_MAX_HOPS = 8;

/** Tool names as each gateway exposes them: <slug>__<name at the next hop>. */
const atD = (tool: string) => `c__${tool}`;
const atB = (tool: string) => `d__${atD(tool)}`;
const atA = (tool: string) => `b__${atB(tool)}`;

/**
 * A request POSTed to /mcp by hand on a session of its own (the SDK client
 * hides whether a response ended): `ended` tells whether the server has
 * finished its response; `notify` sends a notification on the same session.
 */
async function rawPost(gateway: ChainGateway, message: unknown) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${gateway.adminToken}` };
  const post = (body: unknown, extra: Record<string, string> = {}) => fetch(gateway.mcpUrl, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) });
  const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } } });
  const session = { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  await init.text();
  await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)).text();
  let ended = false;
  const url = new URL(gateway.mcpUrl);
  const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, ...session } }, (res) => {
    res.resume();
    res.once('end', () => (ended = true));
  });
  req.on('error', () => {});
  req.end(JSON.stringify(message));
  return {
    ended: () => ended,
    notify: async (notification: unknown) => void (await (await post(notification, session)).text()),
    destroy: () => void req.destroy(),
  };
}

describe.runIf(requireServices('postgres'))('/mcp across a chain of gateways: A → B → D → C', () => {
  let c: EndServer;
  let a: ChainGateway;
  let b: ChainGateway;
  let d: ChainGateway;
  let client: Client;
  /** A client of C itself: what C answers when no gateway is in between. */
  let direct: Client;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    let t = performance.now();
    c = await startEndServer();
    // All three at once: each start is seconds of module loading.
    const gateways = await startGateways([{ label: 'A', env: { MCP_MAX_HOPS: String(A_MAX_HOPS) } }, { label: 'B' }, { label: 'D', env: { MCP_MAX_HOPS: String(D_MAX_HOPS) } }]);
    [a, b, d] = gateways as [ChainGateway, ChainGateway, ChainGateway];
    timings.start = performance.now() - t;

    t = performance.now();
    // From the end of the chain back to its head: each registration probes the
    // next hop, whose catalog (and reach) must already be in place.
    const [, forB, forA] = await Promise.all([d.registered('c', c.url), d.issueToken('gateway b'), b.issueToken('gateway a')]);
    await b.registered('d', d.mcpUrl, forB);
    await a.registered('b', b.mcpUrl, forA);
    timings.register = performance.now() - t;

    client = await a.client();
    direct = new Client({ name: 'direct', version: '1.0.0' });
    await direct.connect(new StreamableHTTPClientTransport(new URL(c.url)));
  }, 120_000);

  afterAll(async () => {
    await direct?.close().catch(() => {});
    const t = performance.now();
    const stops = await Promise.all([a, b, d].filter(Boolean).map(async (g) => [g.label, await g.stop()] as const));
    timings.stop = performance.now() - t;
    await c?.close();
    await killAllMain();
    console.info('[chain] timings (ms):', Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])), 'stops:', Object.fromEntries(stops));
  }, 60_000);

  test('each /mcp advertises its federation id first, then every id it reaches', async () => {
    const [idA, idB, idD] = await Promise.all([a.federationId(), b.federationId(), d.federationId()]);
    expect(new Set([idA, idB, idD]).size).toBe(3);
    const reaches = (caps: Record<string, any> | undefined) => caps?.experimental?.[FEDERATION_CAPABILITY]?.reaches;
    expect(reaches(client.getServerCapabilities())).toEqual([idA, idB, idD]);
    const onB = await b.client();
    expect(reaches(onB.getServerCapabilities())).toEqual([idB, idD]);
    const onD = await d.client();
    expect(reaches(onD.getServerCapabilities())).toEqual([idD]);
  });

  test("C's tools are listed on A under every gateway's prefix (b__d__c__), otherwise unchanged", async () => {
    const { tools } = await client.listTools();
    const { tools: original } = await direct.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(END_TOOLS.map(atA).sort());
    for (const { execution, ...tool } of original) {
      // `execution` (task support) is dropped on the way, rightly: the gateways
      // forward plain calls, not task-augmented ones (its absence means "forbidden").
      expect(execution).toEqual({ taskSupport: 'forbidden' });
      const listed = tools.find((t) => t.name === atA(tool.name));
      expect(listed, tool.name).toEqual({ ...tool, name: atA(tool.name) });
    }
  });

  test('a call comes back unchanged, and reaches C with its original name, arguments and a hop count of 3', async () => {
    const args = { text: 'through three gateways', n: 3 };
    const before = c.calls.length;
    const result = await client.callTool({ name: atA('echo'), arguments: args });
    expect(result).toEqual(echoResult(args));
    expect(result).toEqual(await direct.callTool({ name: 'echo', arguments: args }));
    // C's own client call (above) came without gateways: hop count absent.
    const [viaChain, viaDirect] = c.calls.slice(before);
    expect(viaChain).toMatchObject({ name: 'echo', arguments: args, _meta: { [HOPS_META]: 3 } });
    expect(viaDirect!._meta?.[HOPS_META]).toBeUndefined();
    // Each gateway forwarded it once, under its own name for the tool.
    for (const [gateway, entry] of [
      [a, atA('echo')],
      [b, atB('echo')],
      [d, atD('echo')],
    ] as const) {
      // Logs travel a pipe: the answer can overtake them.
      await until(`${gateway.label} to log ${entry}`, () => gateway.forwarded().some((line) => line.entry === entry));
      expect(gateway.forwarded().filter((line) => line.entry === entry).map((line) => line.outcome), gateway.label).toEqual(['ok']);
    }
  });

  test("C's progress notifications reach the client's onprogress across every hop, in order, before the result", async () => {
    const steps = 6;
    const seen: Progress[] = [];
    const result = await client.callTool({ name: atA('progress'), arguments: { steps } }, CallToolResultSchema, {
      onprogress: (progress) => seen.push(progress),
    });
    expect(result.content).toEqual([{ type: 'text', text: `done after ${steps} steps` }]);
    expect(seen).toEqual(Array.from({ length: steps }, (_, i) => ({ progress: i + 1, total: steps, message: `step ${i + 1} of ${steps}` })));
    // The last hop asked C for progress (with a token of its own, not the client's).
    const call = c.calls.findLast((call) => call.name === 'progress')!;
    expect(call._meta?.progressToken).toBeDefined();
  });

  test("aborting the client's call cancels the run at C, through every hop, in bounded time", async () => {
    const before = c.cancelled.length;
    const controller = new AbortController();
    const call = client.callTool({ name: atA('wait_cancel'), arguments: {} }, CallToolResultSchema, { signal: controller.signal });
    const settled = call.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await until('wait_cancel running at C', () => c.waiting() === 1);
    const aborted = performance.now();
    controller.abort(new Error('the user gave up'));
    expect(await settled).toBeInstanceOf(Error);
    await until('C to see its request cancelled', () => c.cancelled.length > before, 10_000);
    timings.cancelReachedC = performance.now() - aborted;
    expect(c.waiting()).toBe(0);
    // Every gateway on the way logged the call as cancelled (not failed, not timed out).
    for (const [gateway, entry] of [
      [a, atA('wait_cancel')],
      [b, atB('wait_cancel')],
      [d, atD('wait_cancel')],
    ] as const) {
      await until(`${gateway.label} to log ${entry} as cancelled`, () => gateway.forwarded().some((line) => line.entry === entry && line.outcome === 'cancelled'));
    }
    // The chain still answers afterwards, on the same pooled sessions.
    expect((await client.callTool({ name: atA('echo'), arguments: { text: 'after the cancel' } })).isError).toBeFalsy();
  });

  // The SDK's server never answers a cancelled request (rightly), so nothing
  // would end the POST response (an SSE stream) that waited for it: /mcp closes
  // it, and the gateway next to C (a third-party peer that does not) retires its
  // pooled session, which closes the stream it held open there.
  test("a cancelled call's response stream is ended at /mcp, and no connection stays open at the peer", async () => {
    const open = await rawPost(a, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: atA('wait_cancel'), arguments: {} } });
    try {
      await until('wait_cancel running at C', () => c.waiting() === 1);
      await open.notify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'the user gave up' } });
      await until('C to see its request cancelled', () => c.waiting() === 0);
      await until("A to end the cancelled request's response", () => open.ended(), 2_000);
      await until('no response left open at C', () => c.openPosts() === 0, 10_000);
    } finally {
      open.destroy();
    }
  });

  describe('loops are refused at registration (FederationLoopError), and nothing is written', () => {
    test("B registering A's /mcp (A already reaches B) is refused", async () => {
      const before = await b.counts();
      const result = await b.register('a', a.mcpUrl, await a.issueToken('gateway b (a ring)'));
      expect(result.__typename, JSON.stringify(result)).toBe('FederationLoopError');
      expect(result.message).toMatch(/loop/);
      expect(await b.counts()).toEqual(before);
    });

    test("D registering A's /mcp (A reaches D through B) is refused", async () => {
      const before = await d.counts();
      const result = await d.register('a', a.mcpUrl, await a.issueToken('gateway d (a longer ring)'));
      expect(result.__typename, JSON.stringify(result)).toBe('FederationLoopError');
      expect(await d.counts()).toEqual(before);
    });

    test('A registering its own /mcp is refused', async () => {
      const before = await a.counts();
      const result = await a.register('myself', a.mcpUrl, await a.issueToken('myself'));
      expect(result.__typename, JSON.stringify(result)).toBe('FederationLoopError');
      expect(await a.counts()).toEqual(before);
    });

    test('the chain is intact afterwards', async () => {
      expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(END_TOOLS.map(atA).sort());
    });
  });

  describe('the hop bound (MCP_MAX_HOPS)', () => {
    /** The gateway's first 'forwarded a call' line after the first `from` (logs travel a pipe: the answer can overtake them). */
    const lineAfter = (gateway: ChainGateway, from: number) => until(`${gateway.label}'s log line`, () => gateway.forwarded()[from]);
    const marks = () => ({ a: a.forwarded().length, b: b.forwarded().length, c: c.calls.length });

    test('a request that arrives having passed MCP_MAX_HOPS gateways is refused as a tool result, and goes nowhere', async () => {
      const before = marks();
      const result = await client.callTool({ name: atA('echo'), arguments: { text: 'looping?' }, _meta: { [HOPS_META]: A_MAX_HOPS } });
      expect(result).toEqual({ isError: true, content: [{ type: 'text', text: expect.stringContaining(`passed through ${A_MAX_HOPS} gateways already (MCP_MAX_HOPS is ${A_MAX_HOPS})`) }] });
      // A refuses before forwarding; a later call's line proves A's log has caught up.
      await client.callTool({ name: atA('echo'), arguments: { text: 'marker' } });
      expect(await lineAfter(a, before.a)).toMatchObject({ outcome: 'ok' });
      expect(c.calls.slice(before.c).map((call) => (call.arguments as { text: string }).text)).toEqual(['marker']);
    });

    test('one hop fewer passes that gateway: A forwards, and B (whose bound is the same) refuses', async () => {
      const before = marks();
      const result = await client.callTool({ name: atA('echo'), arguments: { text: 'one short' }, _meta: { [HOPS_META]: A_MAX_HOPS - 1 } });
      expect(result).toEqual({ isError: true, content: [{ type: 'text', text: expect.stringContaining(`passed through ${A_MAX_HOPS} gateways already (MCP_MAX_HOPS is ${A_MAX_HOPS})`) }] });
      expect(await lineAfter(a, before.a)).toMatchObject({ entry: atA('echo'), outcome: 'tool error' });
      expect(c.calls.length).toBe(before.c);
    });

    test("a count that grows past a gateway's bound on the way is refused there, and the refusal comes back through the chain", async () => {
      const before = marks();
      // A passes on 2, B 3; D (MCP_MAX_HOPS=3) would send 4 to C and refuses.
      const result = await client.callTool({ name: atA('echo'), arguments: { text: 'too far' }, _meta: { [HOPS_META]: 1 } });
      expect(result).toEqual({
        isError: true,
        content: [{ type: 'text', text: expect.stringContaining(`passed through ${D_MAX_HOPS} gateways already (MCP_MAX_HOPS is ${D_MAX_HOPS})`) }],
      });
      expect(c.calls.length).toBe(before.c);
      // A and B forwarded it and got a tool error back.
      expect(await lineAfter(a, before.a)).toMatchObject({ entry: atA('echo'), outcome: 'tool error' });
      expect(await lineAfter(b, before.b)).toMatchObject({ entry: atB('echo'), outcome: 'tool error' });
    });

    test('with no hop count of its own, a call fits D exactly: C sees it arrive as the third hop', async () => {
      const before = marks();
      expect((await client.callTool({ name: atA('echo'), arguments: { text: 'fits' } })).isError).toBeFalsy();
      expect(c.calls.slice(before.c)).toEqual([expect.objectContaining({ name: 'echo', _meta: expect.objectContaining({ [HOPS_META]: D_MAX_HOPS }) })]);
    });
  });
});
