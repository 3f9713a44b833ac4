import { SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type Prompt, type Resource, type ResourceTemplate, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpAgent } from '../../src/federation/http-agent.js';
import { connectPeer, fetchCatalog, listCatalog, probePeer, type ConnectOptions } from '../../src/federation/peer-client.js';
import { classifyError, parseRetryAfter, PeerConnectionError, withoutSecrets } from '../../src/federation/peer-errors.js';
import { peerPool, refusedUrl, type PeerOptions, type TestPeer } from '../helpers/peers.js';
import { peerFailure } from '../helpers/peer-failure.js';

const agent = createHttpAgent({ connectTimeoutMs: 2_000, headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000 });
afterAll(() => agent.close());

const pool = peerPool();
afterEach(() => pool.closeAll());
const peer = (options: PeerOptions = {}): Promise<TestPeer> => pool.start(options);

const base = (url: string, extra: Partial<ConnectOptions> = {}): ConnectOptions => ({ url, fetch: agent.fetch, timeoutMs: 2_000, ...extra });
const quickRetry = { totalTimeoutMs: 5_000, retries: 3, minTimeoutMs: 10, maxTimeoutMs: 50 };



describe('transports', () => {
  it('talks Streamable HTTP and records what initialize said', async () => {
    const p = await peer({ tools: 3, instructions: 'use me wisely' });
    const catalog = await listCatalog(base(p.url, { transport: 'STREAMABLE_HTTP' }));
    expect(catalog).toMatchObject({
      transport: 'STREAMABLE_HTTP',
      protocolVersion: '2025-11-25',
      serverInfo: { name: 'test-peer', version: '1.2.3', title: 'Test Peer' },
      instructions: 'use me wisely',
      capabilities: { tools: { listChanged: true } },
    });
    expect(catalog.tools.map((t) => t.name)).toEqual(['tool_0001', 'tool_0002', 'tool_0003']);
    expect(p.requests.methods['notifications/initialized']).toBe(1);
  });

  it('talks the old HTTP+SSE transport to an SSE-only peer', async () => {
    const p = await peer({ transport: 'sse', tools: 2 });
    const catalog = await listCatalog(base(p.url, { transport: 'SSE' }));
    expect(catalog.transport).toBe('SSE');
    expect(catalog.tools).toHaveLength(2);
  });

  it('AUTO uses Streamable HTTP when the peer speaks it', async () => {
    const p = await peer({ tools: 1 });
    expect((await listCatalog(base(p.url))).transport).toBe('STREAMABLE_HTTP');
  });

  it.each([405, 404, 400])('AUTO falls back to SSE when the POST of initialize gets %i', async (status) => {
    const p = await peer({ transport: 'sse', tools: 1, ssePostStatus: status });
    const catalog = await listCatalog(base(p.url, { transport: 'AUTO' }));
    expect(catalog.transport).toBe('SSE');
    expect(catalog.tools).toHaveLength(1);
  });

  it('forced STREAMABLE_HTTP does not fall back', async () => {
    const p = await peer({ transport: 'sse' });
    const error = await peerFailure(connectPeer(base(p.url, { transport: 'STREAMABLE_HTTP' })));
    expect(error).toMatchObject({ reason: 'HTTP_STATUS', status: 405, retryable: false });
  });

  it('AUTO does not fall back on failures other than 400/404/405', async () => {
    const p = await peer({ failFirst: { status: 500, times: 10 } });
    const error = await peerFailure(connectPeer(base(p.url)));
    expect(error).toMatchObject({ reason: 'HTTP_STATUS', status: 500 });
    expect(p.requests.http).toBe(1);
  });
});

describe('catalog', () => {
  it('follows every page: 1,200 tools in pages of 100 take 12 tools/list requests', async () => {
    const p = await peer({ tools: 1200, pageSize: 100 });
    const catalog = await listCatalog(base(p.url));
    expect(catalog.tools).toHaveLength(1200);
    expect(new Set(catalog.tools.map((t) => t.name)).size).toBe(1200);
    expect(catalog.tools.at(-1)?.name).toBe('tool_1200');
    expect(p.requests.methods['tools/list']).toBe(12);
  });

  const icons = [{ src: 'https://example.com/icon.png', mimeType: 'image/png', sizes: ['48x48'] }];
  const tools: Tool[] = [
    {
      name: 'search',
      title: 'Search',
      description: 'Searches the index',
      inputSchema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
      outputSchema: { type: 'object', properties: { hits: { type: 'number' } } },
      annotations: { title: 'Search it', readOnlyHint: true, openWorldHint: false },
      icons,
      _meta: { 'example.com/owner': 'team-a' },
    },
  ];
  const resources: Resource[] = [
    {
      uri: 'file:///a.txt',
      name: 'a',
      title: 'A',
      description: 'first file',
      mimeType: 'text/plain',
      size: 12,
      annotations: { audience: ['user'], priority: 0.5 },
      icons,
      _meta: { k: 1 },
    },
    { uri: 'file:///b.txt', name: 'b' },
  ];
  const templates: ResourceTemplate[] = [
    {
      uriTemplate: 'file:///{path}',
      name: 'files',
      title: 'Files',
      description: 'any file',
      mimeType: 'text/plain',
      annotations: { audience: ['assistant'] },
      icons,
      _meta: { k: 2 },
    },
  ];
  const prompts: Prompt[] = [
    { name: 'greet', title: 'Greet', description: 'Says hi', arguments: [{ name: 'who', description: 'whom', required: true }], icons, _meta: { k: 3 } },
    { name: 'bye' },
  ];

  for (const transport of ['streamable', 'sse'] as const) {
    it(`keeps every field of tools, resources, templates and prompts (${transport}, paged)`, async () => {
      const p = await peer({ transport, tools, resources, templates, prompts, pageSize: 1 });
      const catalog = await listCatalog(base(p.url));
      expect(catalog.tools).toEqual(tools);
      expect(catalog.resources).toEqual(resources);
      expect(catalog.resourceTemplates).toEqual(templates);
      expect(catalog.prompts).toEqual(prompts);
      expect(p.requests.methods).toMatchObject({ 'resources/list': 2, 'resources/templates/list': 1, 'prompts/list': 2 });
    });
  }

  it('asks only for the lists the peer advertises', async () => {
    const p = await peer({ tools: 2 });
    const catalog = await listCatalog(base(p.url));
    expect(catalog).toMatchObject({ resources: [], resourceTemplates: [], prompts: [] });
    expect(Object.keys(p.requests.methods).filter((m) => m.endsWith('/list'))).toEqual(['tools/list']);
  });

  it('sees changes of the peer between two syncs', async () => {
    const p = await peer({ tools: 2 });
    expect((await listCatalog(base(p.url))).tools).toHaveLength(2);
    p.setCatalog({ tools: 5, prompts: [{ name: 'new' }] });
    const catalog = await listCatalog(base(p.url));
    expect(catalog.tools).toHaveLength(5);
    expect(catalog.prompts).toEqual([{ name: 'new' }]);
  });
});

describe('failures', () => {
  for (const transport of ['streamable', 'sse'] as const) {
    it(`a peer that hangs gives TIMEOUT within the bound (${transport})`, async () => {
      const p = await peer({ transport, hang: true });
      const started = performance.now();
      const error = await peerFailure(
        probePeer({ ...base(p.url, { timeoutMs: 300 }), retry: { totalTimeoutMs: 1_000, retries: 10, minTimeoutMs: 10 } }),
      );
      expect(error.reason).toBe('TIMEOUT');
      // A bound, not a measurement: the retries stop at totalTimeoutMs.
      expect(performance.now() - started).toBeLessThan(1_000 + 500);
    });
  }

  it('a peer that hangs on tools/list gives TIMEOUT', async () => {
    const p = await peer({ tools: 3, hang: 'tools/list' });
    const error = await peerFailure(listCatalog(base(p.url, { timeoutMs: 300 })));
    expect(error).toMatchObject({ reason: 'TIMEOUT', retryable: true });
  });

  it('a refused port gives REFUSED, retryable', async () => {
    const error = await peerFailure(connectPeer(base(await refusedUrl())));
    expect(error).toMatchObject({ reason: 'REFUSED', retryable: true });
  });

  it('a refused port over SSE gives REFUSED', async () => {
    const error = await peerFailure(connectPeer(base(await refusedUrl(), { transport: 'SSE' })));
    expect(error).toMatchObject({ reason: 'REFUSED', retryable: true });
  });

  it('a name that does not resolve gives DNS', async () => {
    const error = await peerFailure(connectPeer(base('http://peer.invalid/mcp')));
    expect(error.reason).toBe('DNS');
  });

  for (const transport of ['streamable', 'sse'] as const) {
    for (const garbage of ['json', 'schema'] as const) {
      it(`garbage answers (${garbage}, ${transport}) give PROTOCOL, fast`, async () => {
        const p = await peer({ transport, tools: 3, garbage });
        const error = await peerFailure(listCatalog(base(p.url, { timeoutMs: 10_000 })));
        expect(error).toMatchObject({ reason: 'PROTOCOL', retryable: false });
      });
    }

    it(`a peer that dies in the middle of listing gives an error (${transport})`, async () => {
      const p = await peer({ transport, tools: 1200, pageSize: 100, dieAfterPages: 3 });
      const error = await peerFailure(listCatalog(base(p.url)));
      expect(['REFUSED', 'PROTOCOL']).toContain(error.reason);
      expect(p.requests.methods['tools/list']).toBe(4);
    });
  }
});

describe('retries', () => {
  const attempts = () => {
    const failed: PeerConnectionError[] = [];
    return { failed, onFailedAttempt: ({ error }: { error: unknown }) => void failed.push(error as PeerConnectionError) };
  };

  it('a peer that answers 503 twice, then works, succeeds on the third attempt', async () => {
    const p = await peer({ tools: 4, failFirst: { status: 503, times: 2 } });
    const { failed, onFailedAttempt } = attempts();
    const catalog = await probePeer({ ...base(p.url), retry: { ...quickRetry, onFailedAttempt } });
    expect(catalog.tools).toHaveLength(4);
    expect(failed.map((e) => [e.reason, e.status])).toEqual([
      ['HTTP_STATUS', 503],
      ['HTTP_STATUS', 503],
    ]);
    expect(p.requests.rejected).toBe(2);
    expect(p.requests.methods.initialize).toBe(1);
  });

  it('a 401 is not retried', async () => {
    const p = await peer({ tools: 1, auth: { type: 'bearer', token: 'right-token' } });
    const { failed, onFailedAttempt } = attempts();
    const error = await peerFailure(probePeer({ ...base(p.url), retry: { ...quickRetry, onFailedAttempt } }));
    expect(error).toMatchObject({ reason: 'AUTH_REJECTED', status: 401 });
    expect(failed).toHaveLength(1);
    expect(p.requests.http).toBe(1);
  });

  it('a 404 is not retried', async () => {
    const p = await peer({ failFirst: { status: 404, times: 100 } });
    const error = await peerFailure(probePeer({ ...base(p.url, { transport: 'STREAMABLE_HTTP' }), retry: quickRetry }));
    expect(error).toMatchObject({ reason: 'HTTP_STATUS', status: 404, retryable: false });
    expect(p.requests.http).toBe(1);
  });

  it('a protocol error is not retried', async () => {
    const p = await peer({ tools: 2, garbage: 'schema' });
    const error = await peerFailure(probePeer({ ...base(p.url), retry: quickRetry }));
    expect(error.reason).toBe('PROTOCOL');
    expect(p.requests.methods.initialize).toBe(1);
  });

  it('honours Retry-After: the next attempt comes no sooner', async () => {
    const p = await peer({ tools: 1, failFirst: { status: 503, times: 1, headers: { 'retry-after': '1' } } });
    const { failed, onFailedAttempt } = attempts();
    await probePeer({ ...base(p.url), retry: { ...quickRetry, onFailedAttempt } });
    expect(failed).toHaveLength(1);
    expect(failed[0]?.retryAfterMs).toBe(1_000);
    const [first, second] = p.requests.times;
    // Measured on the peer between the two requests; timers may fire up to ~1 ms early.
    expect(second! - first!).toBeGreaterThanOrEqual(1_000 - 5);
  });

  it('gives up at once when Retry-After is beyond the total bound', async () => {
    const p = await peer({ failFirst: { status: 429, times: 10, headers: { 'retry-after': '60' } } });
    const started = performance.now();
    const error = await peerFailure(probePeer({ ...base(p.url), retry: quickRetry }));
    expect(error).toMatchObject({ reason: 'HTTP_STATUS', status: 429, retryAfterMs: 60_000 });
    expect(p.requests.http).toBe(1);
    expect(performance.now() - started).toBeLessThan(quickRetry.totalTimeoutMs);
  });

  it('stops at the total bound and reports the last real failure', async () => {
    const url = await refusedUrl();
    const { failed, onFailedAttempt } = attempts();
    const error = await peerFailure(
      probePeer({ ...base(url), retry: { totalTimeoutMs: 1_000, retries: 1_000, minTimeoutMs: 20, maxTimeoutMs: 50, onFailedAttempt } }),
    );
    expect(error.reason).toBe('REFUSED');
    expect(failed.length).toBeGreaterThan(1);
  });
});

describe('classifyError', () => {
  const coded = (code: string) => Object.assign(new Error(`boom ${code}`), { code });
  it.each([
    ['ENOTFOUND', 'DNS', false],
    ['EAI_AGAIN', 'DNS', true],
    ['ECONNREFUSED', 'REFUSED', true],
    ['ECONNRESET', 'REFUSED', true],
    ['EPIPE', 'REFUSED', true],
    ['UND_ERR_SOCKET', 'REFUSED', true],
    ['UND_ERR_CONNECT_TIMEOUT', 'TIMEOUT', true],
    ['UND_ERR_HEADERS_TIMEOUT', 'TIMEOUT', true],
    ['UND_ERR_BODY_TIMEOUT', 'TIMEOUT', true],
    ['CERT_HAS_EXPIRED', 'TLS', false],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS', false],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS', false],
  ])('%s (as the cause of fetch failed) is %s', (code, reason, retryable) => {
    const error = classifyError(new TypeError('fetch failed', { cause: coded(code) }));
    expect(error).toMatchObject({ reason, retryable });
  });

  it.each([
    [401, 'AUTH_REJECTED', false],
    [403, 'AUTH_REJECTED', false],
    [400, 'HTTP_STATUS', false],
    [404, 'HTTP_STATUS', false],
    [500, 'HTTP_STATUS', false],
    [408, 'HTTP_STATUS', true],
    [429, 'HTTP_STATUS', true],
    [502, 'HTTP_STATUS', true],
    [503, 'HTTP_STATUS', true],
    [504, 'HTTP_STATUS', true],
    [-1, 'PROTOCOL', false],
  ])('HTTP %i from the SDK is %s', (status, reason, retryable) => {
    expect(classifyError(new StreamableHTTPError(status, 'x'))).toMatchObject({ reason, retryable });
    expect(classifyError(new SseError(status, 'x', undefined as never))).toMatchObject({ reason, retryable });
  });

  it('finds a code in an AggregateError (dual-stack connect)', () => {
    const error = new TypeError('fetch failed', { cause: new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')]) });
    expect(classifyError(error).reason).toBe('REFUSED');
  });

  it('maps MCP, zod and JSON errors', () => {
    expect(classifyError(new McpError(ErrorCode.RequestTimeout, 'slow')).reason).toBe('TIMEOUT');
    expect(classifyError(new McpError(ErrorCode.MethodNotFound, 'nope')).reason).toBe('PROTOCOL');
    expect(classifyError(z.object({ tools: z.array(z.string()) }).safeParse({ tools: 1 }).error).reason).toBe('PROTOCOL');
    expect(classifyError(new SyntaxError('Unexpected token')).reason).toBe('PROTOCOL');
    expect(classifyError(new DOMException('timed out', 'TimeoutError')).reason).toBe('TIMEOUT');
    expect(classifyError(new Error('Error POSTing to endpoint (HTTP 503): busy'))).toMatchObject({ reason: 'HTTP_STATUS', status: 503 });
  });

  it('never repeats URL userinfo', () => {
    const error = classifyError(new Error('cannot fetch https://user:hunter2@peer.example/mcp'));
    expect(error.message).not.toContain('hunter2');
  });

  it('scrubs secret values a peer echoed back', () => {
    const echoed = classifyError(new McpError(ErrorCode.InvalidRequest, 'bad header Authorization: Bearer tok-123456'));
    const clean = withoutSecrets(echoed, ['Bearer tok-123456']);
    expect(clean.message).not.toContain('tok-123456');
    expect(clean).toMatchObject({ reason: 'PROTOCOL', retryable: false });
  });

  it('scrubs every form of a credential it was sent, before a long peer text is cut', () => {
    const password = 'pa55-w0rd:+x';
    const header = `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`;
    const forms = [
      header,
      header.slice('Basic '.length),
      `alice:${password}`,
      password,
      password.toUpperCase(),
      Buffer.from(password).toString('base64'),
      Buffer.from(password).toString('base64url'),
      encodeURIComponent(password),
    ];
    for (const form of forms) {
      // Past the 200 characters a peer's text is cut to, and within them.
      for (const padding of [0, 180]) {
        const error = classifyError(new McpError(ErrorCode.InvalidRequest, `${'.'.repeat(padding)}${form} was refused`), [header]);
        expect(error).toMatchObject({ reason: 'PROTOCOL', retryable: false });
        const fragments = Array.from({ length: password.length - 3 }, (_, i) => password.slice(i, i + 4).toLowerCase());
        expect(fragments.filter((f) => error.message.toLowerCase().includes(f)), error.message).toEqual([]);
      }
    }
  });

  it('parses Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
