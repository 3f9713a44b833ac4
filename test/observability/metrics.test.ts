// GET /metrics: never open (401 without a token, 403 without the read scope,
// METRICS_TOKEN accepted there only), Prometheus text, and counts that follow
// what the app did: GraphQL operations by name, forwarded calls, operations
// with peers (probes, syncs, health checks) by gateway and outcome, events,
// the catalog and gateways read at scrape time, the leader. Each app counts
// only its own work, though several run in one process.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { checkHealth, until } from '../helpers/health.js';
import { peerPool, refusedUrl, startPeer, type TestPeer } from '../helpers/peers.js';
import { PEER_ENV, refreshGateway, registerGateway, registered, uuidOf } from '../helpers/registry.js';

const TOOLS = 3;
const METRICS_TOKEN = `metrics-${randomBytes(24).toString('hex')}`;

const CALL = /* GraphQL */ `
  mutation Call($name: String!, $arguments: JSON) {
    callTool(name: $name, arguments: $arguments) { __typename ... on CallToolSuccess { isError } }
  }
`;
const TOKEN = /* GraphQL */ `
  mutation CreateToken($scopes: [ApiScope!]!) { createApiToken(name: "metrics test", scopes: $scopes) { ... on CreateApiTokenSuccess { secret } } }
`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the sample with exactly these labels, or undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}

const PEER_OPS = 'mcp_federation_peer_operations_total';
const PEER_DURATION_COUNT = 'mcp_federation_peer_operation_duration_seconds_count';
const PEER_DURATION_SUM = 'mcp_federation_peer_operation_duration_seconds_sum';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REASONS = ['DNS', 'REFUSED', 'TIMEOUT', 'TLS', 'HTTP_STATUS', 'AUTH_REJECTED', 'PROTOCOL', 'BLOCKED', 'LOOP', 'OTHER'];

/** The peer operation series of one gateway: operation/outcome[/reason] -> count. */
function peerOpsOf(samples: Sample[], gatewayId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== PEER_OPS || s.labels.gateway_id !== gatewayId) continue;
    out[[s.labels.operation, s.labels.outcome, s.labels.reason].filter(Boolean).join('/')] = s.value;
  }
  return out;
}

async function scrape(base: string, token?: string | null): Promise<Response> {
  return fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

async function samplesOf(base: string, token: string): Promise<Sample[]> {
  const response = await scrape(base, token);
  expect(response.status).toBe(200);
  return parse(await response.text());
}

async function tokenWith(t: TestApp, scopes: string[]): Promise<string> {
  const { data, errors } = await t.gql(TOKEN, { scopes });
  expect(errors).toBeUndefined();
  return data.createApiToken.secret;
}

describe('/metrics', () => {
  let t: TestApp;
  let other: TestApp;
  let base: string;
  let otherBase: string;
  let peer: TestPeer;
  let gatewayUuid: string;
  let readToken: string;
  let writeToken: string;

  beforeAll(async () => {
    peer = await startPeer({ tools: TOOLS, callTool: () => ({ content: [{ type: 'text', text: 'ok' }] }) });
    t = await startTestApp({ env: { ...PEER_ENV, METRICS_TOKEN } });
    other = await startTestApp({ env: { ...PEER_ENV } });
    base = await t.app.listen();
    otherBase = await other.app.listen();
    readToken = await tokenWith(t, ['read']);
    writeToken = await tokenWith(t, ['write']);
    const gateway = await registered(t, { name: 'Metered', url: peer.url });
    gatewayUuid = (await t.app.db.prisma.gateway.findFirstOrThrow({ where: { slug: gateway.slug } })).id;
    const { data, errors } = await t.gql(CALL, { name: 'metered__tool_0001', arguments: { n: 1 } });
    expect(errors).toBeUndefined();
    expect(data.callTool).toEqual({ __typename: 'CallToolSuccess', isError: false });
  });
  afterAll(async () => {
    await t?.close();
    await other?.close();
    await peer?.close();
  });

  test('no token is 401 with WWW-Authenticate: Bearer; an unknown token is 401 too', async () => {
    const none = await scrape(base, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const unknown = await scrape(base, `mcpg_${'0'.repeat(32)}_${'A'.repeat(43)}`);
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // Without METRICS_TOKEN it is no more open.
    expect((await scrape(otherBase, null)).status).toBe(401);
  });

  test('a token without the read scope is 403', async () => {
    const response = await scrape(base, writeToken);
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="read"');
    expect(await response.text()).not.toContain('mcp_federation_');
  });

  test('a read token, the admin token and METRICS_TOKEN get Prometheus text', async () => {
    for (const token of [readToken, t.adminToken, METRICS_TOKEN]) {
      const response = await scrape(base, token);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await response.text();
      expect(text).toContain('# TYPE mcp_federation_forwarded_calls_total counter');
      expect(parse(text).length).toBeGreaterThan(0);
    }
  });

  test('METRICS_TOKEN opens /metrics only, not the API; another app does not take it', async () => {
    expect((await t.gql('{ viewer { name } }', {}, METRICS_TOKEN)).status).toBe(401);
    expect((await scrape(otherBase, METRICS_TOKEN)).status).toBe(401);
  });

  test('counts the GraphQL operations by name, type and outcome, and times them', async () => {
    const samples = await samplesOf(base, METRICS_TOKEN);
    const ops = 'mcp_federation_graphql_operations_total';
    expect(valueOf(samples, ops, { operation_name: 'Register', operation_type: 'mutation', outcome: 'ok' })).toBe(1);
    expect(valueOf(samples, ops, { operation_name: 'Call', operation_type: 'mutation', outcome: 'ok' })).toBe(1);
    expect(valueOf(samples, ops, { operation_name: 'CreateToken', operation_type: 'mutation', outcome: 'ok' })).toBe(2);
    expect(valueOf(samples, 'mcp_federation_graphql_operation_duration_seconds_count', { operation_name: 'Call', operation_type: 'mutation' })).toBe(1);

    // An anonymous query, and one whose result has errors.
    expect((await t.gql('{ viewer { name } }')).status).toBe(200);
    const forbidden = await t.gql('query Forbidden { gateways(first: 1) { totalCount } }', {}, writeToken);
    expect(forbidden.errors?.length, JSON.stringify(forbidden)).toBeGreaterThan(0);
    const after = await samplesOf(base, METRICS_TOKEN);
    expect(valueOf(after, ops, { operation_name: 'anonymous', operation_type: 'query', outcome: 'ok' })).toBe(1);
    expect(valueOf(after, ops, { operation_name: 'Forbidden', operation_type: 'query', outcome: 'error' })).toBe(1);
  });

  test('counts the forwarded call by method, gateway and outcome, and times it', async () => {
    const samples = await samplesOf(base, METRICS_TOKEN);
    expect(valueOf(samples, 'mcp_federation_forwarded_calls_total', { method: 'tools/call', gateway_id: gatewayUuid, outcome: 'ok' })).toBe(1);
    expect(valueOf(samples, 'mcp_federation_forwarded_call_duration_seconds_count', { method: 'tools/call', gateway_id: gatewayUuid })).toBe(1);
    expect(valueOf(samples, 'mcp_federation_forwarded_call_duration_seconds_sum', { method: 'tools/call', gateway_id: gatewayUuid })).toBeGreaterThan(0);
    // The arguments are never a label.
    expect(samples.filter((s) => s.name.startsWith('mcp_federation_forwarded_')).every((s) => !JSON.stringify(s.labels).includes('"n"'))).toBe(true);
  });

  test('a registration counts its probe and its sync, ok, under the new gateway id, and times them', async () => {
    const samples = await samplesOf(base, METRICS_TOKEN);
    expect(peerOpsOf(samples, gatewayUuid)).toEqual({ 'probe/ok': 1, 'sync/ok': 1 });
    for (const operation of ['probe', 'sync']) {
      expect(valueOf(samples, PEER_DURATION_COUNT, { operation, gateway_id: gatewayUuid }), operation).toBe(1);
      expect(valueOf(samples, PEER_DURATION_SUM, { operation, gateway_id: gatewayUuid }), operation).toBeGreaterThan(0);
    }
    // The forwarded call is not a peer operation: it keeps its own metric.
    expect(samples.some((s) => s.name === PEER_OPS && s.labels.operation === 'tools/call')).toBe(false);
  });

  test('reads the catalog, the gateways, the subscribers, the sessions and the leader at scrape time', async () => {
    const samples = await samplesOf(base, METRICS_TOKEN);
    expect(valueOf(samples, 'mcp_federation_catalog_entries', { kind: 'tools' })).toBe(TOOLS);
    expect(valueOf(samples, 'mcp_federation_catalog_entries', { kind: 'resources' })).toBe(0);
    expect(valueOf(samples, 'mcp_federation_catalog_entries', { kind: 'resource_templates' })).toBe(0);
    expect(valueOf(samples, 'mcp_federation_catalog_entries', { kind: 'prompts' })).toBe(0);
    expect(valueOf(samples, 'mcp_federation_gateways', { status: 'ACTIVE' })).toBe(1);
    expect(valueOf(samples, 'mcp_federation_gateways', { status: 'DISABLED' })).toBe(0);
    expect(valueOf(samples, 'mcp_federation_gateways', { status: 'UNREACHABLE' })).toBe(0);
    expect(valueOf(samples, 'mcp_federation_events_published_total', { type: 'GATEWAY_ADDED' })).toBe(1);
    expect(valueOf(samples, 'mcp_federation_mcp_sessions')).toBe(0);
    // The /mcp pool's own follower of the event bus is one feed.
    expect(valueOf(samples, 'mcp_federation_event_subscribers')).toBeGreaterThanOrEqual(1);
    // HEALTH_CHECKS=false in test apps: this worker does not lead, and nobody ever has.
    expect(valueOf(samples, 'mcp_federation_leader')).toBe(0);
    expect(valueOf(samples, 'mcp_federation_leader_term')).toBe(0);
    // Process metrics, under their usual names.
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);

    // A disabled tool leaves the visible catalog: the gauge is read again, not kept.
    const tool = await t.app.db.prisma.tool.findFirstOrThrow({ where: { gatewayId: gatewayUuid } });
    await t.app.db.prisma.tool.update({ where: { id: tool.id }, data: { enabled: false } });
    expect(valueOf(await samplesOf(base, METRICS_TOKEN), 'mcp_federation_catalog_entries', { kind: 'tools' })).toBe(TOOLS - 1);
    await t.app.db.prisma.tool.update({ where: { id: tool.id }, data: { enabled: true } });
  });

  test('two apps in one process do not share counts', async () => {
    const otherToken = other.adminToken;
    const samples = await samplesOf(otherBase, otherToken);
    expect(samples.filter((s) => s.name === 'mcp_federation_forwarded_calls_total')).toEqual([]);
    expect(samples.filter((s) => s.name === 'mcp_federation_events_published_total')).toEqual([]);
    expect(samples.filter((s) => s.name.startsWith('mcp_federation_peer_operation'))).toEqual([]);
    expect(valueOf(samples, 'mcp_federation_catalog_entries', { kind: 'tools' })).toBe(0);
    expect(valueOf(samples, 'mcp_federation_gateways', { status: 'ACTIVE' })).toBe(0);
    expect(samples.some((s) => s.name === 'mcp_federation_graphql_operations_total' && s.labels.operation_name === 'Register')).toBe(false);

    const { status } = await other.gql('query OnlyHere { viewer { name } }');
    expect(status).toBe(200);
    const ops = 'mcp_federation_graphql_operations_total';
    const labels = { operation_name: 'OnlyHere', operation_type: 'query', outcome: 'ok' };
    expect(valueOf(await samplesOf(otherBase, otherToken), ops, labels)).toBe(1);
    expect(valueOf(await samplesOf(base, METRICS_TOKEN), ops, labels)).toBeUndefined();
  });
});

describe('/metrics of peer operations', () => {
  const pool = peerPool();
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...PEER_ENV } });
    base = await t.app.listen();
  });
  afterAll(async () => {
    await t?.close();
    await pool.closeAll();
  });

  test('a registration against a peer that refuses counts a failed probe, with its reason, under gateway_id "none"', async () => {
    const result = await registerGateway(t, { name: 'Nowhere', url: await refusedUrl() });
    expect(result).toMatchObject({ __typename: 'PeerConnectionError', reason: 'REFUSED' });
    const samples = await samplesOf(base, t.adminToken);
    // Nothing was stored: no sync, and no probe counted as ok.
    expect(peerOpsOf(samples, 'none')).toEqual({ 'probe/failed/REFUSED': 1 });
    expect(valueOf(samples, PEER_DURATION_COUNT, { operation: 'probe', gateway_id: 'none' })).toBe(1);
    expect(valueOf(samples, PEER_DURATION_COUNT, { operation: 'sync', gateway_id: 'none' })).toBeUndefined();
  });

  test('refreshes count a probe and a sync; health checks count ok and failed, with the reason', async () => {
    const flaky = await pool.start({ tools: 1 });
    const gateway = await registered(t, { name: 'Flaky', url: flaky.url });
    const flakyUuid = uuidOf(gateway.id);
    expect((await refreshGateway(t, gateway.id)).__typename).toBe('RefreshGatewaySuccess');
    expect(peerOpsOf(await samplesOf(base, t.adminToken), flakyUuid)).toEqual({ 'probe/ok': 2, 'sync/ok': 2 });

    expect(await checkHealth(t, gateway.id)).toMatchObject({ __typename: 'CheckGatewayHealthSuccess', ok: true });
    await flaky.close();
    expect(await checkHealth(t, gateway.id)).toMatchObject({ __typename: 'CheckGatewayHealthSuccess', ok: false, reason: 'REFUSED' });
    expect(await refreshGateway(t, gateway.id)).toMatchObject({ __typename: 'PeerConnectionError', reason: 'REFUSED' });

    const samples = await samplesOf(base, t.adminToken);
    expect(peerOpsOf(samples, flakyUuid)).toEqual({
      'probe/ok': 2,
      'probe/failed/REFUSED': 1,
      'sync/ok': 2,
      'health_check/ok': 1,
      'health_check/failed/REFUSED': 1,
    });
    expect(valueOf(samples, PEER_DURATION_COUNT, { operation: 'health_check', gateway_id: flakyUuid })).toBe(2);
    expect(valueOf(samples, PEER_DURATION_COUNT, { operation: 'probe', gateway_id: flakyUuid })).toBe(3);
    // Manual checks are not the sweeps' checks (this app does not lead).
    expect(samples.filter((s) => s.name === 'mcp_federation_health_checks_total')).toEqual([]);
  });

  test('peer operation labels are bounded: operation, gateway id or none, outcome, a fixed reason; never a URL or a name', async () => {
    const samples = (await samplesOf(base, t.adminToken)).filter((s) => s.name.startsWith('mcp_federation_peer_operation'));
    expect(samples.length).toBeGreaterThan(0);
    for (const { name, labels } of samples) {
      const { operation, gateway_id, outcome, reason, le, ...rest } = labels;
      expect(rest, name).toEqual({});
      expect(['probe', 'sync', 'health_check']).toContain(operation);
      expect(gateway_id === 'none' || UUID.test(gateway_id!), gateway_id).toBe(true);
      if (name === PEER_OPS) {
        expect(['ok', 'failed']).toContain(outcome);
        if (outcome === 'ok') expect(reason).toBeUndefined();
        else expect(REASONS).toContain(reason);
        expect(le).toBeUndefined();
      } else {
        expect(outcome).toBeUndefined();
        expect(reason).toBeUndefined();
      }
      expect(JSON.stringify(labels)).not.toMatch(/127\.0\.0\.1|Metered|Flaky|Nowhere/i);
    }
  });
});

describe('/metrics of a leader', () => {
  let t: TestApp;
  let peer: TestPeer;
  let gatewayUuid: string;

  beforeAll(async () => {
    peer = await startPeer({ tools: 1 });
    t = await startTestApp({ env: { ...PEER_ENV, HEALTH_CHECKS: 'true', HEALTH_CHECK_INTERVAL_MS: '200', HEALTH_CHECK_SPREAD_PERCENT: '0' } });
    gatewayUuid = uuidOf((await registered(t, { name: 'Checked', url: peer.url })).id);
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  test('shows that this worker leads, its term, and the health checks of its sweeps', async () => {
    const base = await t.app.listen();
    const samples = await until(async () => {
      const current = await samplesOf(base, t.adminToken);
      return (valueOf(current, 'mcp_federation_health_checks_total', { outcome: 'ok' }) ?? 0) >= 1 ? current : undefined;
    }, 15_000, 'a health check counted');
    expect(valueOf(samples, 'mcp_federation_leader')).toBe(1);
    expect(valueOf(samples, 'mcp_federation_leader_term')).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'mcp_federation_health_checks_total', { outcome: 'failed' })).toBe(0);
    // Each check of the sweeps is a peer operation of its gateway too, timed (reported as it ends, before its sweep is).
    const swept = valueOf(samples, 'mcp_federation_health_checks_total', { outcome: 'ok' })!;
    expect(valueOf(samples, PEER_OPS, { operation: 'health_check', gateway_id: gatewayUuid, outcome: 'ok' })).toBeGreaterThanOrEqual(swept);
    expect(valueOf(samples, PEER_DURATION_COUNT, { operation: 'health_check', gateway_id: gatewayUuid })).toBeGreaterThanOrEqual(swept);
    expect(peerOpsOf(samples, gatewayUuid)).not.toHaveProperty(['health_check/failed/REFUSED']);
    expect(Object.keys(peerOpsOf(samples, gatewayUuid)).filter((key) => key.includes('failed'))).toEqual([]);
  });
});
