// GET /metrics: never open (401 without a token, 403 without the read scope,
// METRICS_TOKEN accepted there only), Prometheus text, and counts that follow
// what the app did: GraphQL operations by name, forwarded calls, events, the
// catalog and gateways read at scrape time, the leader. Each app counts only
// its own work, though several run in one process.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/health.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { PEER_ENV, registered } from '../helpers/registry.js';

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

describe('/metrics of a leader', () => {
  let t: TestApp;
  let peer: TestPeer;

  beforeAll(async () => {
    peer = await startPeer({ tools: 1 });
    t = await startTestApp({ env: { ...PEER_ENV, HEALTH_CHECKS: 'true', HEALTH_CHECK_INTERVAL_MS: '200', HEALTH_CHECK_SPREAD_PERCENT: '0' } });
    await registered(t, { name: 'Checked', url: peer.url });
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
  });
});
