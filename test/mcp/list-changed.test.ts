// list_changed on /mcp: a connected client is told its lists may have changed
// whenever what it can see may have changed (a resynced catalog, a tool or a
// gateway turned off, a gateway deleted, a health transition), whichever worker
// made the change, and even when the change was made while this worker was cut
// off from Redis; and the list it then asks for shows the change.
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { keptOpen, testDatabase } from '../helpers/db.js';
import { checkHealth, until } from '../helpers/health.js';
import { makeTools, peerPool, type TestPeer } from '../helpers/peers.js';
import { redisProxy, type RedisProxy } from '../helpers/redis-proxy.js';
import { catalogOf, deleteGateway, PEER_ENV, refreshGateway, registered, setGatewayEnabled, setToolEnabled } from '../helpers/registry.js';
import { requireServices, TEST_REDIS_URL } from '../helpers/services.js';

type List = 'tools' | 'resources' | 'prompts';

/** How long a burst of notifications may take to arrive in full; used only to keep one step's notifications out of the next. */
const SETTLE_MS = 150;

interface Listener {
  client: Client;
  /** Every list_changed received, in order of arrival. */
  heard: List[];
  /** Resolves once the list of `kind` changed after `mark` (an index into heard). */
  changed(mark: number, ...kinds: List[]): Promise<void>;
  /** Waits until nothing has arrived for SETTLE_MS; returns the mark to wait from next. */
  settled(): Promise<number>;
  toolNames(): Promise<string[]>;
  promptNames(): Promise<string[]>;
}

const listeners: Client[] = [];

/**
 * An SDK client on /mcp with handlers for the three list_changed notifications.
 * Resolves once its standalone SSE stream (the GET the client opens after
 * initializing) is open: a notification sent before would reach nobody.
 */
async function listen(base: string, token: string): Promise<Listener> {
  let streamOpen!: () => void;
  const opened = new Promise<void>((resolve) => (streamOpen = resolve));
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', base), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    // The server registers the stream before it answers the GET: its 200 means notifications can reach us.
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      if (init?.method === 'GET' && response.ok) streamOpen();
      return response;
    },
  });
  const client = new Client({ name: 'list-changed-test', version: '1.0.0' });
  const heard: List[] = [];
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard.push('tools'));
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void heard.push('resources'));
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => void heard.push('prompts'));
  await client.connect(transport);
  listeners.push(client);
  await Promise.race([opened, new Promise((_, reject) => setTimeout(() => reject(new Error('the SSE stream never opened')), 10_000))]);
  return {
    client,
    heard,
    changed: async (mark, ...kinds) => {
      for (const kind of kinds) await until(() => heard.slice(mark).includes(kind), 10_000, `notifications/${kind}/list_changed`);
    },
    settled: async () => {
      let seen = -1;
      let since = performance.now();
      await until(() => {
        if (heard.length !== seen) [seen, since] = [heard.length, performance.now()];
        return performance.now() - since >= SETTLE_MS;
      }, 10_000, 'the notifications to settle');
      return heard.length;
    },
    toolNames: async () => {
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined);
        names.push(...page.tools.map((tool) => tool.name));
        cursor = page.nextCursor;
      } while (cursor);
      return names.sort();
    },
    promptNames: async () => (await client.listPrompts()).prompts.map((prompt) => prompt.name).sort(),
  };
}

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((client) => client.close().catch(() => undefined)));
});

const PROMPTS = [{ name: 'greet', description: 'Says hello', arguments: [{ name: 'who', required: true }] }];

/** The namespaced names of a gateway's tools and prompts, as the API shows them. */
async function namesOf(t: TestApp, gatewayId: string): Promise<{ tools: string[]; prompts: string[]; toolIds: Record<string, string> }> {
  const catalog = await catalogOf(t, gatewayId);
  return {
    tools: catalog.tools.map((tool) => tool.name).sort(),
    prompts: catalog.prompts.map((prompt) => prompt.name).sort(),
    toolIds: Object.fromEntries(catalog.tools.map((tool) => [tool.originalName, tool.id])),
  };
}

describe('list_changed on /mcp (one worker)', () => {
  let t: TestApp;
  let base: string;
  const pool = peerPool();

  beforeAll(async () => {
    // One failed check makes a gateway UNREACHABLE: a health transition on demand.
    t = await startTestApp({ env: { ...PEER_ENV, UNHEALTHY_THRESHOLD: '1' } });
    base = await t.app.listen();
  });
  afterAll(async () => {
    await t?.close();
    await pool.closeAll();
  });

  /**
   * A client, then a gateway on a new peer: the client is told of the
   * registration (GATEWAY_ADDED), and lists its entries. `mark`: where the
   * notifications of the test's own change will start.
   */
  async function setup(name: string) {
    const listener = await listen(base, t.adminToken);
    const before = await listener.settled();
    const peer = await pool.start({ tools: makeTools(2), prompts: PROMPTS });
    const gateway = await registered(t, { name, url: peer.url });
    await listener.changed(before, 'tools', 'resources', 'prompts');
    const mark = await listener.settled();
    const names = await namesOf(t, gateway.id);
    expect(names.tools).toHaveLength(2);
    expect(await listener.toolNames()).toEqual(expect.arrayContaining(names.tools));
    expect(await listener.promptNames()).toEqual(expect.arrayContaining(names.prompts));
    return { peer, gateway, listener, mark, names };
  }

  it('refreshGateway picking up a changed peer catalog: tools, resources and prompts list_changed; the lists show it', async () => {
    const { peer, gateway, listener, mark } = await setup('Refreshed');
    peer.setCatalog({ tools: makeTools(3), prompts: [...PROMPTS, { name: 'farewell', description: 'Says goodbye' }] });
    const result = await refreshGateway(t, gateway.id);
    expect(result).toMatchObject({ __typename: 'RefreshGatewaySuccess', tools: { added: 1 }, prompts: { added: 1 } });

    await listener.changed(mark, 'tools', 'resources', 'prompts');
    const after = await namesOf(t, gateway.id);
    expect(after.tools).toHaveLength(3);
    expect(await listener.toolNames()).toEqual(expect.arrayContaining(after.tools));
    expect(await listener.promptNames()).toEqual(expect.arrayContaining(after.prompts));
    expect(after.prompts).toHaveLength(2);
  });

  it('setToolEnabled: tools list_changed; the tool leaves the list, and comes back', async () => {
    const { gateway, listener, mark, names } = await setup('Toggled');
    const [off, on] = names.tools;
    expect(await setToolEnabled(t, names.toolIds.tool_0001!, false)).toMatchObject({ __typename: 'SetToolEnabledSuccess' });
    await listener.changed(mark, 'tools');
    let listed = await listener.toolNames();
    expect(listed).not.toContain(off);
    expect(listed).toContain(on);

    const again = await listener.settled();
    expect(await setToolEnabled(t, names.toolIds.tool_0001!, true)).toMatchObject({ __typename: 'SetToolEnabledSuccess' });
    await listener.changed(again, 'tools');
    listed = await listener.toolNames();
    expect(listed).toEqual(expect.arrayContaining(names.tools));
    expect((await namesOf(t, gateway.id)).tools).toEqual(names.tools);
  });

  it('setGatewayEnabled(false): every list changed; none of its entries is listed', async () => {
    const { gateway, listener, mark, names } = await setup('Switched off');
    expect(await setGatewayEnabled(t, gateway.id, false)).toMatchObject({ __typename: 'SetGatewayEnabledSuccess' });
    await listener.changed(mark, 'tools', 'resources', 'prompts');
    const listed = await listener.toolNames();
    for (const name of names.tools) expect(listed).not.toContain(name);
    const prompts = await listener.promptNames();
    for (const name of names.prompts) expect(prompts).not.toContain(name);
  });

  it('deleteGateway: every list changed; none of its entries is listed', async () => {
    const { gateway, listener, mark, names } = await setup('Deleted');
    expect(await deleteGateway(t, gateway.id)).toMatchObject({ __typename: 'DeleteGatewaySuccess' });
    await listener.changed(mark, 'tools', 'resources', 'prompts');
    const listed = await listener.toolNames();
    for (const name of names.tools) expect(listed).not.toContain(name);
    const prompts = await listener.promptNames();
    for (const name of names.prompts) expect(prompts).not.toContain(name);
  });

  it('a health transition (UNREACHABLE, then ACTIVE again): list_changed each time; the lists follow', async () => {
    const { peer, gateway, listener, mark, names } = await setup('Flaky');
    const port = Number(new URL(peer.url).port);
    await peer.close();
    expect(await checkHealth(t, gateway.id)).toMatchObject({ __typename: 'CheckGatewayHealthSuccess', ok: false, status: 'UNREACHABLE' });
    await listener.changed(mark, 'tools', 'resources', 'prompts');
    let listed = await listener.toolNames();
    for (const name of names.tools) expect(listed).not.toContain(name);

    // Back on its port: the check makes it ACTIVE again, and its entries come back.
    const again = await listener.settled();
    const back: TestPeer = await pool.start({ port, tools: makeTools(2), prompts: PROMPTS });
    expect(back.url).toBe(peer.url);
    expect(await checkHealth(t, gateway.id)).toMatchObject({ __typename: 'CheckGatewayHealthSuccess', ok: true, status: 'ACTIVE' });
    await listener.changed(again, 'tools', 'resources', 'prompts');
    listed = await listener.toolNames();
    expect(listed).toEqual(expect.arrayContaining(names.tools));
  });

  it('every open session is told, whichever token opened it', async () => {
    const created = await t.gql(`mutation { createApiToken(name: "invoker", scopes: [invoke]) { ... on CreateApiTokenSuccess { secret } } }`);
    const invoker = created.data.createApiToken.secret as string;
    const { gateway, listener, names } = await setup('Shared');
    const other = await listen(base, invoker);
    const marks = [await listener.settled(), await other.settled()];
    await setToolEnabled(t, names.toolIds.tool_0002!, false);
    await listener.changed(marks[0]!, 'tools');
    await other.changed(marks[1]!, 'tools');
    expect(await other.toolNames()).not.toContain(names.tools[1]);
    await deleteGateway(t, gateway.id);
  });
});

describe.runIf(requireServices('postgres', 'redis'))('list_changed on /mcp across workers (one PostgreSQL, one Redis channel)', () => {
  let database: Database;
  let proxy: RedisProxy;
  /** Where changes are made: on the real Redis. */
  let a: TestApp;
  /** Where the client is: on Redis through a proxy the test can cut. */
  let b: TestApp;
  let bBase: string;
  const pool = peerPool();

  beforeAll(async () => {
    database = await testDatabase('postgres');
    proxy = await redisProxy();
    const shared = { ...PEER_ENV, SECRET_KEY: randomBytes(32).toString('base64'), REDIS_CHANNEL_PREFIX: `mcp-list-changed-${randomUUID()}` };
    a = await startTestApp({ database: keptOpen(database), env: { ...shared, REDIS_URL: TEST_REDIS_URL } });
    b = await startTestApp({ database, env: { ...shared, REDIS_URL: proxy.url } });
    bBase = await b.app.listen();
    await until(async () => (await a.app.services.events.readiness()).ready && (await b.app.services.events.readiness()).ready, 15_000, 'both event buses ready');
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await proxy?.restore();
    await proxy?.cut();
    await pool.closeAll();
  });

  it('a client on worker B is told of changes made on worker A, and B lists what A changed', async () => {
    const listener = await listen(bBase, b.adminToken);
    let mark = await listener.settled();
    const peer = await pool.start({ tools: makeTools(2), prompts: PROMPTS });
    const gateway = await registered(a, { name: 'Remote', url: peer.url });
    await listener.changed(mark, 'tools', 'resources', 'prompts');
    const names = await namesOf(a, gateway.id);
    expect(await listener.toolNames()).toEqual(names.tools);

    mark = await listener.settled();
    await setToolEnabled(a, names.toolIds.tool_0001!, false);
    await listener.changed(mark, 'tools');
    expect(await listener.toolNames()).toEqual([names.tools[1]]);

    mark = await listener.settled();
    peer.setCatalog({ tools: makeTools(3) });
    await refreshGateway(a, gateway.id);
    await listener.changed(mark, 'tools');
    expect(await listener.toolNames()).toEqual((await namesOf(a, gateway.id)).tools.filter((name) => name !== names.tools[0]));

    mark = await listener.settled();
    await setGatewayEnabled(a, gateway.id, false);
    await listener.changed(mark, 'tools', 'resources', 'prompts');
    expect(await listener.toolNames()).toEqual([]);

    mark = await listener.settled();
    await deleteGateway(a, gateway.id);
    await listener.changed(mark, 'tools', 'resources', 'prompts');
    expect(await listener.toolNames()).toEqual([]);
  });

  it('a change made on A while B was cut off from Redis: once B is back, its clients are told', async () => {
    const listener = await listen(bBase, b.adminToken);
    const before = await listener.settled();
    const peer = await pool.start({ tools: makeTools(2) });
    const gateway = await registered(a, { name: 'Outage', url: peer.url });
    const names = await namesOf(a, gateway.id);
    // The registration's own notification, first: nothing is then on its way to B.
    await listener.changed(before, 'tools');
    const mark = await listener.settled();
    expect(await listener.toolNames()).toEqual(names.tools);

    await proxy.cut();
    await until(async () => !(await b.app.services.events.readiness()).ready, 10_000, 'worker B to lose Redis');
    await setToolEnabled(a, names.toolIds.tool_0001!, false);
    // Nothing can tell B of it meanwhile (its clients' lists are still read from the database, though).
    expect(listener.heard.slice(mark)).toEqual([]);

    await proxy.restore();
    await listener.changed(mark, 'tools');
    expect(await listener.toolNames()).toEqual([names.tools[1]]);
    await deleteGateway(a, gateway.id);
  });
});
