// Peers that fail: each registration ends in a typed PeerConnectionError within
// the configured bounds, and leaves no gateway, catalog or event row behind.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { refusedUrl, peerPool } from '../helpers/peers.js';
import { registerGateway, rowCounts } from '../helpers/registry.js';
import { seedCatalog, seedGateway } from '../helpers/seed.js';

// Small, so the hanging peers cost little; not so small that a slow but
// answering peer (garbage, 404, dying) would time out first on a loaded machine.
const TIMEOUT_MS = 800;
const RETRY_TOTAL_MS = 2_000;
// Generous: the bound is RETRY_TOTAL_MS; the rest is slack for a loaded machine.
const UPPER_BOUND_MS = RETRY_TOTAL_MS + 3_000;

describe('registerGateway against failing peers', () => {
  let t: TestApp;
  const pool = peerPool();
  const peer = pool.start;
  beforeAll(async () => {
    t = await startTestApp({ env: { PEER_TIMEOUT_MS: String(TIMEOUT_MS), PEER_RETRY_TOTAL_MS: String(RETRY_TOTAL_MS), PEER_RETRIES: '2' } });
    // Rows of another gateway, so "nothing stored" is checked against rows that exist.
    const healthy = await seedGateway(t.app.db.prisma, { name: 'healthy' });
    await seedCatalog(t.app.db.prisma, healthy, { tools: 2, prompts: 1, resources: 1 });
    await t.app.services.events.publish(t.app.db.prisma, 'GATEWAY_ADDED', healthy.id);
  });
  afterEach(async () => {
    await pool.closeAll();
  });
  afterAll(() => t?.close());

  /** Registers `url`, expects a PeerConnectionError, and that no row was written. */
  async function fails(url: string) {
    const before = await rowCounts(t);
    const started = performance.now();
    const result = await registerGateway(t, { name: 'Failing', url });
    const elapsed = performance.now() - started;
    expect(result.__typename, JSON.stringify(result)).toBe('PeerConnectionError');
    expect(await rowCounts(t)).toEqual(before);
    expect(before).toMatchObject({ gateways: 1, tools: 2, prompts: 1, resources: 1, events: 1 });
    expect(elapsed).toBeLessThan(UPPER_BOUND_MS);
    return { result, elapsed };
  }

  test('a refused port: REFUSED, nothing stored', async () => {
    const { result } = await fails(await refusedUrl());
    expect(result.reason).toBe('REFUSED');
    expect(result.httpStatus).toBeNull();
  });

  test('a peer that never answers initialize: TIMEOUT, bounded by the configured timeouts', async () => {
    const hanging = await peer({ hang: true, tools: 1 });
    const { result, elapsed } = await fails(hanging.url);
    expect(result.reason).toBe('TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);
    // Timeouts are retryable: more than one attempt reached the peer.
    expect(hanging.requests.methods.initialize).toBeGreaterThan(1);
  });

  test('a peer that hangs on tools/list after initialize: TIMEOUT', async () => {
    const hanging = await peer({ hang: 'tools/list', tools: 1 });
    const { result } = await fails(hanging.url);
    expect(result.reason).toBe('TIMEOUT');
    expect(hanging.requests.methods['tools/list']).toBeGreaterThan(0);
  });

  test.each(['json', 'schema'] as const)('a peer answering tools/list with garbage (%s): PROTOCOL, not retried', async (garbage) => {
    const broken = await peer({ garbage, tools: 3 });
    const { result } = await fails(broken.url);
    expect(result.reason).toBe('PROTOCOL');
    expect(broken.requests.methods.initialize).toBe(1);
  });

  test('a peer that dies in the middle of listing: a PeerConnectionError, no partial catalog', async () => {
    const dying = await peer({ tools: 50, pageSize: 10, dieAfterPages: 2 });
    const { result } = await fails(dying.url);
    expect(result.reason).toBe('REFUSED');
    // It served two pages, then dropped the third request and stopped listening.
    expect(dying.requests.methods['tools/list']).toBe(3);
  });

  test('an HTTP error that cannot pass (404 on the endpoint): HTTP_STATUS, asked once', async () => {
    const missing = await peer({ tools: 1 });
    const { result } = await fails(missing.url.replace(/\/mcp$/, '/elsewhere'));
    expect(result).toMatchObject({ reason: 'HTTP_STATUS', httpStatus: 404 });
  });
});
