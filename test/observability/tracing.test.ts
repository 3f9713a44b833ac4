// OpenTelemetry tracing (src/observability/tracing*.ts): with
// OTEL_EXPORTER_OTLP_ENDPOINT set, one registerGateway is one trace, from the
// GraphQL operation through the calls to the peer down to the SQL, with the
// peer named by its origin and nothing of its credentials, and the spans reach
// the collector by the time the app has closed. Unset, nothing is installed,
// nothing is recorded, and the SDK is never loaded.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { activePeerTracer } from '../../src/observability/tracing.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startPeer, type TestPeer } from '../helpers/peers.js';
import { ROOT } from '../helpers/process.js';
import { wsClient } from '../helpers/subscriptions.js';
import { PEER_ENV } from '../helpers/registry.js';

const REGISTER = /* GraphQL */ `
  mutation RegisterGateway($input: RegisterGatewayInput!) {
    registerGateway(input: $input) {
      __typename
      ... on Error { message }
      ... on RegisterGatewaySuccess { gateway { id tools(first: 5) { totalCount } } }
    }
  }
`;

/** An OTLP/HTTP collector on 127.0.0.1 that keeps what it is sent. */
interface Collector {
  url: string;
  received: { path: string; contentType: string; body: Buffer }[];
  close(): Promise<void>;
}

async function startCollector(): Promise<Collector> {
  const received: Collector['received'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The trace as an indented list (PRINT_TRACE=1 prints it). */
function tree(root: ReadableSpan, spans: ReadableSpan[], depth = 0): string {
  const children = spans.filter((span) => span.parentSpanContext?.spanId === root.spanContext().spanId);
  const attributes = Object.entries(root.attributes).map(([key, value]) => `${key}=${String(value).slice(0, 60)}`);
  return [`${'  '.repeat(depth)}${root.name} ${attributes.join(' ')}`, ...children.map((child) => tree(child, spans, depth + 1))].join('\n');
}

const prismaHelperInstalled = () => {
  const global = globalThis as Record<string, unknown>;
  return Boolean(global.PRISMA_INSTRUMENTATION || global.V7_PRISMA_INSTRUMENTATION);
};

/** No global provider behind the API's proxy: every span is a non-recording no-op. */
function noProviderInstalled(): boolean {
  const delegate = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();
  return delegate.constructor.name === 'NoopTracerProvider' && !trace.getTracer('probe').startSpan('probe').isRecording();
}

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  let collector: Collector;
  let peer: TestPeer;
  let t: TestApp;
  let memory: InMemorySpanExporter;
  const bearer = `peer-bearer-${randomBytes(12).toString('hex')}`;
  const querySecret = `query-secret-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    collector = await startCollector();
    peer = await startPeer({
      tools: 3,
      prompts: [{ name: 'greet', description: 'Says hello' }],
      auth: { type: 'bearer', token: bearer },
    });
    t = await startTestApp({ env: { ...PEER_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'tracing-test' } });
    memory = new InMemorySpanExporter();
    t.app.tracing!.addSpanProcessor(new SimpleSpanProcessor({ exporter: memory }));
  });

  afterAll(async () => {
    await t?.close();
    await peer?.close();
    await collector?.close();
  });

  afterEach(() => memory.reset());

  it('makes registerGateway one trace: the GraphQL operation, its peer calls by origin only, its SQL', async () => {
    const url = `${peer.url}?token=${querySecret}`;
    const response = await t.gql(REGISTER, { input: { name: 'Traced', url, auth: { bearer: { token: bearer } } } });
    expect(response.errors).toBeUndefined();
    expect(response.data.registerGateway).toMatchObject({ __typename: 'RegisterGatewaySuccess', gateway: { tools: { totalCount: 3 } } });

    const spans = memory.getFinishedSpans();
    const operations = spans.filter((span) => span.attributes['graphql.operation.name'] === 'RegisterGateway');
    expect(operations).toHaveLength(1);
    const root = operations[0]!;
    expect(root.name).toBe('mutation RegisterGateway');
    expect(root.attributes).toMatchObject({ 'graphql.operation.type': 'mutation', 'graphql.operation.outcome': 'ok' });
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.resource.attributes['service.name']).toBe('tracing-test');

    // One trace, and every span descends from the operation's.
    const traceId = root.spanContext().traceId;
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const ancestors = (span: ReadableSpan): ReadableSpan[] => {
      const chain: ReadableSpan[] = [];
      for (let parent = span.parentSpanContext; parent; parent = byId.get(parent.spanId)?.parentSpanContext) {
        const found = byId.get(parent.spanId);
        if (!found) throw new Error(`span ${span.name}'s ancestor ${parent.spanId} was not recorded`);
        chain.push(found);
      }
      return chain;
    };
    for (const span of spans) {
      expect(span.spanContext().traceId, span.name).toBe(traceId);
      if (span !== root) expect(ancestors(span).at(-1), `${span.name} descends from the operation`).toBe(root);
    }

    // The SQL: Prisma operations, and the statements under them (through the driver adapter).
    const statements = spans.filter((span) => span.name === 'prisma:client:db_query');
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.some((span) => /^insert into ("public"\.)?"gateway" /i.test(String(span.attributes['db.query.text'])))).toBe(true);
    // Each under Prisma's span of the operation (or of the transaction's commit), under the GraphQL one.
    for (const statement of statements) expect(ancestors(statement)[0]?.name).toMatch(/^prisma:client:(operation|transaction|\w+_transaction)$/);
    if (process.env.PRINT_TRACE) console.log(tree(root, spans));

    // The peer: the connection, each JSON-RPC request, each HTTP request, all by origin.
    const origin = new URL(peer.url).origin;
    const port = Number(new URL(peer.url).port);
    const named = (name: string) => spans.filter((span) => span.name === name);
    const [connect] = named('peer connect');
    expect(connect?.attributes).toMatchObject({ 'mcp_federation.peer.origin': origin, 'mcp_federation.peer.transport': 'STREAMABLE_HTTP', 'server.address': '127.0.0.1', 'server.port': port });
    const [initialize] = named('initialize');
    expect(initialize?.attributes).toMatchObject({ 'mcp.method.name': 'initialize', 'mcp_federation.peer.origin': origin });
    expect(ancestors(initialize!)).toContain(connect);
    for (const method of ['tools/list', 'prompts/list']) {
      expect(named(method).map((span) => span.attributes['mcp_federation.peer.origin'])).toEqual([origin]);
    }
    const posts = named('POST');
    expect(posts.length).toBeGreaterThanOrEqual(4); // initialize, notifications/initialized, tools/list, prompts/list
    for (const post of posts) {
      expect(post.attributes).toMatchObject({ 'http.request.method': 'POST', 'mcp_federation.peer.origin': origin, 'server.port': port });
      expect([200, 202]).toContain(post.attributes['http.response.status_code']); // 202: notifications/initialized
    }
    expect(posts.filter((post) => ancestors(post).includes(initialize!))).toHaveLength(1);

    // Nothing of the credentials, the query string or the path, anywhere.
    const path = new URL(peer.url).pathname;
    const text = JSON.stringify(spans.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status, links: span.links })));
    for (const secret of [bearer, querySecret, 'token=', 'Bearer']) expect(text).not.toContain(secret);
    for (const span of spans.filter((s) => 'mcp_federation.peer.origin' in s.attributes)) {
      for (const [key, value] of Object.entries(span.attributes)) {
        expect(key, span.name).not.toMatch(/^url\.(full|path|query)$|header/);
        expect(String(value), `${span.name} ${key}`).not.toContain(path);
      }
    }
  });

  it('records the outcome of a failed operation, and never its document', async () => {
    const refused = await t.gql('query Whoami { viewer { name } }', undefined, null);
    expect(refused.status).toBe(401);
    const broken = await t.gql('query Broken { viewer { name ', undefined);
    expect(broken.errors).toBeDefined();
    const whoami = memory.getFinishedSpans().find((span) => span.name === 'query Whoami');
    expect(whoami?.attributes).toMatchObject({ 'graphql.operation.outcome': 'error', 'error.type': 'UNAUTHENTICATED' });
    const parseFailure = memory.getFinishedSpans().find((span) => span.attributes['error.type'] === 'GRAPHQL_PARSE_FAILED');
    expect(parseFailure?.attributes['graphql.operation.outcome']).toBe('error');
    for (const span of memory.getFinishedSpans()) expect(JSON.stringify(span.attributes)).not.toContain('viewer');
  });

  it('traces operations over graphql-ws too, with their SQL under them', async () => {
    const base = await t.app.listen();
    const client = wsClient(base, t.adminToken);
    try {
      const result = await client.iterate({ query: 'query Listed { gateways(first: 5) { totalCount } }' }).next();
      expect(result.value).toMatchObject({ data: { gateways: { totalCount: expect.any(Number) } } });
    } finally {
      await client.dispose();
    }
    const spans = memory.getFinishedSpans();
    const listed = spans.filter((span) => span.name === 'query Listed');
    expect(listed).toHaveLength(1);
    expect(listed[0]!.attributes).toMatchObject({ 'graphql.operation.type': 'query', 'graphql.operation.outcome': 'ok' });
    const under = spans.filter((span) => span.parentSpanContext?.spanId === listed[0]!.spanContext().spanId);
    expect(under.some((span) => span.name === 'prisma:client:operation' || span.name === 'prisma:client:transaction')).toBe(true);
  });

  it('flushes the spans to the OTLP collector on close, and uninstalls everything', async () => {
    expect(activePeerTracer()).toBeDefined();
    expect(prismaHelperInstalled()).toBe(true);
    await t.close();
    const exported = collector.received.filter((request) => request.path === '/v1/traces');
    expect(exported.length).toBeGreaterThan(0);
    const bodies = Buffer.concat(exported.map((request) => request.body)).toString('utf8');
    expect(bodies).toContain('mutation RegisterGateway');
    expect(bodies).toContain('prisma:client:db_query');
    expect(bodies).not.toContain(bearer);
    expect(bodies).not.toContain(querySecret);
    expect(activePeerTracer()).toBeUndefined();
    expect(prismaHelperInstalled()).toBe(false);
    expect(noProviderInstalled()).toBe(true);
  });
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT unset', () => {
  it('installs no tracer provider and records nothing, through a whole registration', async () => {
    const peer = await startPeer({ tools: 2 });
    const t = await startTestApp({ env: { ...PEER_ENV } });
    try {
      expect(t.app.tracing).toBeUndefined();
      expect(activePeerTracer()).toBeUndefined();
      expect(prismaHelperInstalled()).toBe(false);
      expect(noProviderInstalled()).toBe(true);
      const response = await t.gql(REGISTER, { input: { name: 'Untraced', url: peer.url } });
      expect(response.data.registerGateway.__typename).toBe('RegisterGatewaySuccess');
      expect(noProviderInstalled()).toBe(true);
      expect(activePeerTracer()).toBeUndefined();
    } finally {
      await t.close();
      await peer.close();
    }
  });

  it('never loads the OpenTelemetry SDK, the exporter or the Prisma instrumentation (and does with it set)', async () => {
    const dump = inject('pgliteMigratedDump');
    const dir = await mkdtemp(join(tmpdir(), 'tracing-modules-'));
    try {
      // A resolve hook reports every ES module the child loads; require.cache has the CommonJS ones.
      const hooks = join(dir, 'hooks.mjs');
      await writeFile(
        hooks,
        `let port;
export async function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) { const result = await next(specifier, context); port.postMessage(result.url); return result; }
`,
      );
      const script = join(dir, 'probe.mts');
      await writeFile(
        script,
        `import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
const { port1, port2 } = new MessageChannel();
const loaded = new Set<string>();
port1.on('message', (url: string) => loaded.add(url));
port1.unref();
register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { port: port2 }, transferList: [port2] });
const root = ${JSON.stringify(pathToFileURL(ROOT).href)};
const { createApp } = await import(root + 'src/app.ts');
const { loadConfig } = await import(root + 'src/config.ts');
const { openDatabase } = await import(root + 'src/db/database.ts');
const { createLogger } = await import(root + 'src/logger.ts');
const database = await openDatabase({ kind: 'pglite', loadDataDir: new Blob([await readFile(process.env.DUMP!)]) });
const config = loadConfig({ PORT: '0', HEALTH_CHECKS: 'false', ADMIN_TOKEN: 'a'.repeat(40), SECRET_KEY: 'b'.repeat(64), DATA_DIR: process.env.DATA_DIR, OTEL_EXPORTER_OTLP_ENDPOINT: process.env.ENDPOINT });
const logger = createLogger('fatal', new Writable({ write: (_c, _e, done) => done() }));
const app = await createApp(config, { database, logger, announce: () => undefined });
const answer = await app.yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + 'a'.repeat(40) }, body: JSON.stringify({ query: '{ viewer { name } }' }) });
if (answer.status !== 200) throw new Error('viewer: ' + answer.status);
await app.close();
await new Promise((resolve) => setTimeout(resolve, 100));
const all = [...loaded, ...Object.keys(createRequire(import.meta.url).cache)];
const otel = [...new Set(all.map((file) => /node_modules\\/(@opentelemetry\\/[^/]+|@prisma\\/instrumentation)\\//.exec(file)?.[1]).filter(Boolean))].sort();
console.log(JSON.stringify(otel));
`,
      );
      const run = (endpoint: string) =>
        new Promise<string[]>((resolve, reject) => {
          const env: NodeJS.ProcessEnv = { ...process.env, DUMP: dump, DATA_DIR: dir, ENDPOINT: endpoint };
          delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
          const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
          child.once('close', (code) => {
            if (code !== 0) return reject(new Error(`probe exited ${code}: ${err}`));
            resolve(JSON.parse(out.trim().split('\n').at(-1)!) as string[]);
          });
        });
      const collector = await startCollector();
      try {
        const [off, on] = await Promise.all([run(''), run(collector.url)]);
        // The API is always there (prom-client loads it); it is a no-op without a provider.
        expect(off).toEqual(['@opentelemetry/api']);
        // The probe does see the SDK when it is loaded.
        expect(on).toEqual(expect.arrayContaining(['@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http', '@prisma/instrumentation']));
        expect(collector.received.some((request) => request.path === '/v1/traces')).toBe(true);
      } finally {
        await collector.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
