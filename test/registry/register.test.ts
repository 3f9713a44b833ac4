// registerGateway against real MCP peers over each transport, and a catalog
// big enough to need many pages, on PGlite and on PostgreSQL.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { backendAvailable, backends } from '../helpers/db.js';
import { peerPool } from '../helpers/peers.js';
import { catalogOf, eventTypes, registered, registerGateway, rowCounts, uuidOf, PEER_ENV } from '../helpers/registry.js';

describe.each(backends)('registerGateway on %s', (backend) => {
  let t: TestApp;
  const pool = peerPool();
  const peer = pool.start;
  beforeAll(async () => {
    if (backendAvailable(backend)) t = await startTestApp({ backend, env: PEER_ENV });
  });
  afterEach(async () => {
    await pool.closeAll();
  });
  afterAll(() => t?.close());

  test.runIf(backendAvailable(backend))('a Streamable HTTP peer: gateway, namespaced catalog and GATEWAY_ADDED stored', async () => {
    const p = await peer({ tools: 3, prompts: [{ name: 'hello' }] });
    const gateway = await registered(t, { name: 'Weather EU', url: p.url, description: ' forecasts ', tags: ['eu', 'eu', 'weather'] });
    expect(gateway).toMatchObject({
      name: 'Weather EU',
      slug: 'weather-eu',
      url: p.url,
      transport: 'AUTO',
      status: 'ACTIVE',
      description: 'forecasts',
      tags: ['eu', 'weather'],
      protocolVersion: '2025-11-25',
      serverInfo: { name: 'test-peer', version: '1.2.3', title: 'Test Peer' },
    });
    const { tools, prompts } = await catalogOf(t, gateway.id);
    expect(tools.map((x) => [x.name, x.originalName])).toEqual([
      ['weather-eu__tool_0001', 'tool_0001'],
      ['weather-eu__tool_0002', 'tool_0002'],
      ['weather-eu__tool_0003', 'tool_0003'],
    ]);
    expect(prompts.map((x) => x.name)).toEqual(['weather-eu__hello']);
    expect(await eventTypes(t, gateway.id)).toEqual(['GATEWAY_ADDED']);
    const row = await t.app.db.prisma.gatewayEvent.findFirstOrThrow({ where: { gatewayId: uuidOf(gateway.id) } });
    expect(row.payload).toMatchObject({ name: 'Weather EU', catalog: { tools: { added: 3 }, prompts: { added: 1 } } });
  });

  test.runIf(backendAvailable(backend))('an SSE-only peer is reached with AUTO (fallback) and with SSE forced', async () => {
    const p = await peer({ transport: 'sse', tools: 2 });
    const auto = await registered(t, { name: 'Legacy auto', url: p.url });
    expect(auto).toMatchObject({ transport: 'AUTO', status: 'ACTIVE', protocolVersion: '2025-11-25' });
    expect((await catalogOf(t, auto.id)).totalTools).toBe(2);

    // A peer that answers a POST on its SSE URL with 500, not 400/404/405: AUTO must not
    // fall back (the spec's rule), while SSE forced never POSTs there and so succeeds.
    const strict = await peer({ transport: 'sse', tools: 4, ssePostStatus: 500 });
    const refused = await registerGateway(t, { name: 'Strict auto', url: strict.url });
    expect(refused).toMatchObject({ __typename: 'PeerConnectionError', reason: 'HTTP_STATUS', httpStatus: 500 });
    const forced = await registered(t, { name: 'Strict sse', url: strict.url, transport: 'SSE' });
    expect(forced).toMatchObject({ transport: 'SSE', status: 'ACTIVE' });
    expect((await catalogOf(t, forced.id)).totalTools).toBe(4);
  });

  test.runIf(backendAvailable(backend))('STREAMABLE_HTTP forced against an SSE-only peer fails and stores nothing', async () => {
    const p = await peer({ transport: 'sse', tools: 2 });
    const before = await rowCounts(t);
    const result = await registerGateway(t, { name: 'Forced streamable', url: p.url, transport: 'STREAMABLE_HTTP' });
    expect(result).toMatchObject({ __typename: 'PeerConnectionError', reason: 'HTTP_STATUS', httpStatus: 405 });
    expect(await rowCounts(t)).toEqual(before);
  });

  test.runIf(backendAvailable(backend))('1,200 tools served in pages of 100 are all stored', async () => {
    const p = await peer({ tools: 1200, pageSize: 100 });
    const gateway = await registered(t, { name: 'Big', url: p.url });
    expect(p.requests.methods['tools/list']).toBe(12);
    const { tools, totalTools } = await catalogOf(t, gateway.id);
    expect(totalTools).toBe(1200);
    const names = new Set(tools.map((x) => x.originalName));
    expect(names.size).toBe(1200);
    for (let i = 1; i <= 1200; i++) expect(names.has(`tool_${String(i).padStart(4, '0')}`)).toBe(true);
    expect(tools.find((x) => x.originalName === 'tool_1200')).toMatchObject({
      name: 'big__tool_1200',
      description: 'Tool number 1200',
      inputSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
    });
  });
});
