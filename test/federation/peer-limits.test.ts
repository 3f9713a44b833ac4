// What a peer may send: response bodies and SSE events bounded by
// PEER_MAX_RESPONSE_BYTES (counted as they stream in), each kind of entry by
// PEER_MAX_CATALOG_ENTRIES (counted page by page), each stored field by
// FIELD_LIMITS. Over any of them: PROTOCOL, not retried. Real peers on 127.0.0.1.
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIELD_LIMITS } from '../../src/federation/catalog-kinds.js';
import { createHttpAgent } from '../../src/federation/http-agent.js';
import {
  boundedBody,
  connectPeer,
  DEFAULT_PEER_LIMITS,
  fetchCatalog,
  listCatalog,
  probePeer,
  type ConnectOptions,
  type PeerLimits,
} from '../../src/federation/peer-client.js';
import { PeerConnectionError } from '../../src/federation/peer-errors.js';
import { makeTools, peerPool, type PeerOptions, type TestPeer } from '../helpers/peers.js';

const agent = createHttpAgent({ connectTimeoutMs: 2_000, headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000 });
afterAll(() => agent.close());

const pool = peerPool();
afterEach(() => pool.closeAll());
const peer = (options: PeerOptions = {}): Promise<TestPeer> => pool.start(options);

const MiB = 1024 * 1024;
const limited = (url: string, limits: Partial<PeerLimits> = {}, extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
  url,
  fetch: agent.fetch,
  timeoutMs: 10_000,
  limits: { ...DEFAULT_PEER_LIMITS, ...limits },
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<PeerConnectionError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PeerConnectionError);
  return error as PeerConnectionError;
}


const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({ name, inputSchema: { type: 'object' }, ...extra });

describe('PEER_MAX_RESPONSE_BYTES', () => {
  it('a JSON body over the limit is cut: PROTOCOL naming the limit, not retried', async () => {
    // 200 tools of about 100 bytes each: about 20 KB in one application/json body.
    const p = await peer({ tools: 200, jsonResponse: true });
    const error = await failure(
      probePeer({ ...limited(p.url, { maxResponseBytes: 16 * 1024 }), retry: { totalTimeoutMs: 5_000, retries: 3, minTimeoutMs: 10 } }),
    );
    expect(error).toMatchObject({ reason: 'PROTOCOL', retryable: false });
    expect(error.message).toBe('peer sent a response body over 16384 bytes (PEER_MAX_RESPONSE_BYTES)');
    expect(p.requests.methods.initialize).toBe(1);
    // The same peer under a limit it fits in.
    expect((await listCatalog(limited(p.url, { maxResponseBytes: 64 * 1024 }))).tools).toHaveLength(200);
  });

  for (const transport of ['streamable', 'sse'] as const) {
    it(`an SSE event that never ends is cut at the limit, and the peer stops sending (${transport})`, async () => {
      const p = await peer({ transport, tools: 1, flood: { bytes: 1024 * MiB, as: 'event' } });
      const error = await failure(listCatalog(limited(p.url, { maxResponseBytes: MiB })));
      expect(error).toMatchObject({ reason: 'PROTOCOL', retryable: false });
      expect(error.message).toBe(`peer sent an event over ${MiB} bytes (PEER_MAX_RESPONSE_BYTES)`);
      // Cut at 1 MiB: what the peer got into its socket is the limit plus buffers, not the GiB it meant to send.
      expect(p.requests.flooded).toBeGreaterThan(MiB);
      expect(p.requests.flooded).toBeLessThan(64 * MiB);
    });

    it(`an event stream is counted per event: many events, more than the limit together, pass (${transport})`, async () => {
      // Each tools/list answer is one event of about 30 KB; four of them on one session's stream exceed 64 KiB.
      const p = await peer({ transport, tools: 300 });
      const session = await connectPeer(limited(p.url, { maxResponseBytes: 64 * 1024 }));
      try {
        for (let i = 0; i < 4; i++) expect((await fetchCatalog(session)).tools).toHaveLength(300);
      } finally {
        await session.close();
      }
      expect(p.requests.methods['tools/list']).toBe(4);
      // One event over the limit is not.
      const error = await failure(listCatalog(limited(p.url, { maxResponseBytes: 16 * 1024 })));
      expect(error.message).toBe('peer sent an event over 16384 bytes (PEER_MAX_RESPONSE_BYTES)');
    });
  }

  it('a standing Streamable HTTP event stream carries more than the limit in notifications and stays up', async () => {
    const p = await peer({ tools: 1 });
    let received = 0;
    const session = await connectPeer(limited(p.url, { maxResponseBytes: 2 * 1024 }, { onNotification: () => void received++ }));
    try {
      await expect.poll(() => p.openStreams(), { timeout: 10_000 }).toBe(1);
      // About 70 bytes per notification event: 100 of them are over 2 KiB together.
      for (let i = 0; i < 100; i++) expect(await p.notifyToolsChanged()).toBe(1);
      await expect.poll(() => received, { timeout: 10_000 }).toBe(100);
      expect(p.openStreams()).toBe(1);
      expect((await fetchCatalog(session)).tools).toHaveLength(1);
    } finally {
      await session.close();
    }
  });
});

describe('event counting', () => {
  /** What reading `chunks` through a 16-byte bound gives: the text, or the error. */
  async function read(chunks: string[], contentType = 'text/event-stream'): Promise<string | PeerConnectionError> {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
        controller.close();
      },
    });
    const response = boundedBody(new Response(source, { headers: { 'content-type': contentType } }), 16);
    return response.text().catch((error: unknown) => error as PeerConnectionError);
  }

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('events end at a blank line with %s line ends, wherever the chunks split', async (_label, eol) => {
    const event = `data: 0123456${eol}${eol}`; // 13 bytes of text: under 16 with its line end, over 16 if events ran together
    const stream = event.repeat(10);
    // Every split point of the stream into two chunks, and one byte per chunk.
    for (let at = 0; at <= stream.length; at++) expect(await read([stream.slice(0, at), stream.slice(at)])).toBe(stream);
    expect(await read([...stream])).toBe(stream);
  });

  it('a CR at the end of one chunk and its LF at the start of the next are one line end, not a blank line', async () => {
    // One event of two lines, 24 bytes: over 16 however it is split.
    const stream = 'data: aaaa\r\ndata: bbbb\r\n\r\n';
    for (let at = 0; at <= stream.length; at++) {
      const result = await read([stream.slice(0, at), stream.slice(at)]);
      expect(result, `split at ${at}`).toBeInstanceOf(PeerConnectionError);
      expect((result as PeerConnectionError).message).toBe('peer sent an event over 16 bytes (PEER_MAX_RESPONSE_BYTES)');
    }
  });

  it('any other body counts as a whole, blank lines or not', async () => {
    expect(await read(['0123456789\n\n', '0123456789'], 'application/json')).toBeInstanceOf(PeerConnectionError);
    expect(await read(['0123456789\n\n', '0123'], 'application/json')).toBe('0123456789\n\n0123');
  });
});

describe('PEER_MAX_CATALOG_ENTRIES', () => {
  it('is checked as pages arrive: the page that goes past it ends the listing', async () => {
    const p = await peer({ tools: 1_000, pageSize: 10 });
    const error = await failure(listCatalog(limited(p.url, { maxCatalogEntries: 25 })));
    expect(error).toMatchObject({ reason: 'PROTOCOL', retryable: false });
    expect(error.message).toBe("peer's tools/list lists more than 25 tools (PEER_MAX_CATALOG_ENTRIES)");
    // Three pages asked (10, 20, 30 > 25), not the hundred the peer would serve.
    expect(p.requests.methods['tools/list']).toBe(3);
  });

  it('counts each kind on its own; exactly the limit is accepted', async () => {
    const resources: Resource[] = Array.from({ length: 5 }, (_, i) => ({ uri: `file:///${i}`, name: `r${i}` }));
    const p = await peer({ tools: 5, resources, prompts: [{ name: 'p' }], pageSize: 2 });
    const catalog = await listCatalog(limited(p.url, { maxCatalogEntries: 5 }));
    expect([catalog.tools.length, catalog.resources.length, catalog.prompts.length]).toEqual([5, 5, 1]);
    p.setCatalog({ resources: [...resources, { uri: 'file:///6', name: 'r6' }] });
    const error = await failure(listCatalog(limited(p.url, { maxCatalogEntries: 5 })));
    expect(error.message).toBe("peer's resources/list lists more than 5 resources (PEER_MAX_CATALOG_ENTRIES)");
  });

  it('one page of 130,000 tools is refused by the default limit, and taken whole under a higher one', async () => {
    const p = await peer({ tools: makeTools(130_000) });
    const error = await failure(listCatalog(limited(p.url, { maxResponseBytes: 64 * MiB })));
    expect(error.message).toBe(`peer's tools/list lists more than ${DEFAULT_PEER_LIMITS.maxCatalogEntries} tools (PEER_MAX_CATALOG_ENTRIES)`);
    // More than a spread push can pass as arguments ("Maximum call stack size exceeded").
    const catalog = await listCatalog(limited(p.url, { maxResponseBytes: 64 * MiB, maxCatalogEntries: 200_000 }));
    expect(catalog.tools).toHaveLength(130_000);
    expect(catalog.tools.at(-1)?.name).toBe('tool_130000');
  }, 60_000);
});

describe('FIELD_LIMITS', () => {
  const over = (limit: number) => 'y'.repeat(limit + 1);
  const schemaOf = (chars: number) => ({ type: 'object' as const, description: 'z'.repeat(chars - '{"type":"object","description":""}'.length) });

  it.each<[string, PeerOptions, string]>([
    [
      'a tool description',
      { tools: [tool('a'), tool('b', { description: over(FIELD_LIMITS.description) })] },
      `peer's tools[1] "b": its description is ${FIELD_LIMITS.description + 1} characters, over the limit of ${FIELD_LIMITS.description}`,
    ],
    [
      'a tool title',
      { tools: [tool('a', { title: over(FIELD_LIMITS.title) })] },
      `peer's tools[0] "a": its title is ${FIELD_LIMITS.title + 1} characters, over the limit of ${FIELD_LIMITS.title}`,
    ],
    [
      'a tool name (not repeated)',
      { tools: [tool(over(FIELD_LIMITS.name))] },
      `peer's tools[0]: its name is ${FIELD_LIMITS.name + 1} characters, over the limit of ${FIELD_LIMITS.name}`,
    ],
    [
      'an input schema, as JSON',
      { tools: [tool('s', { inputSchema: schemaOf(FIELD_LIMITS.json + 1) })] },
      `peer's tools[0] "s": its inputSchema is ${FIELD_LIMITS.json + 1} characters as JSON, over the limit of ${FIELD_LIMITS.json}`,
    ],
    [
      'a tool _meta, on the second page',
      { tools: [tool('a'), tool('b'), tool('m', { _meta: { k: over(FIELD_LIMITS.json) } })], pageSize: 2 },
      `peer's tools[2] "m": its _meta is ${FIELD_LIMITS.json + 1 + '{"k":""}'.length} characters as JSON, over the limit of ${FIELD_LIMITS.json}`,
    ],
    [
      'a resource URI',
      { tools: 1, resources: [{ uri: `file:///${over(FIELD_LIMITS.name - 8)}`, name: 'r' }] },
      `peer's resources[0]: its uri is ${FIELD_LIMITS.name + 1} characters, over the limit of ${FIELD_LIMITS.name}`,
    ],
    [
      'a resource template MIME type',
      { tools: 1, templates: [{ uriTemplate: 'file:///{x}', name: 't', mimeType: over(FIELD_LIMITS.name) } as ResourceTemplate] },
      `peer's resourceTemplates[0] "file:///{x}": its mimeType is ${FIELD_LIMITS.name + 1} characters, over the limit of ${FIELD_LIMITS.name}`,
    ],
    [
      'prompt arguments, as JSON',
      { tools: 1, prompts: [{ name: 'p', arguments: [{ name: 'x', description: over(FIELD_LIMITS.json) }] } as Prompt] },
      `peer's prompts[0] "p": its arguments is ${FIELD_LIMITS.json + 1 + '[{"name":"x","description":""}]'.length} characters as JSON, over the limit of ${FIELD_LIMITS.json}`,
    ],
  ])('%s over its limit is PROTOCOL naming the entry, the field and the limit', async (_label, options, message) => {
    const p = await peer(options);
    const error = await failure(probePeer({ ...limited(p.url), retry: { totalTimeoutMs: 5_000, retries: 3, minTimeoutMs: 10 } }));
    expect(error).toMatchObject({ reason: 'PROTOCOL', retryable: false, message });
    expect(p.requests.methods.initialize).toBe(1);
  });

  it('fields exactly at their limits are kept whole', async () => {
    const at = (limit: number) => 'w'.repeat(limit);
    const tools = [tool(at(FIELD_LIMITS.name), { title: at(FIELD_LIMITS.title), description: at(FIELD_LIMITS.description), inputSchema: schemaOf(FIELD_LIMITS.json) })];
    const p = await peer({ tools });
    const catalog = await listCatalog(limited(p.url));
    expect(catalog.tools).toEqual(tools);
    expect(JSON.stringify(catalog.tools[0]!.inputSchema)).toHaveLength(FIELD_LIMITS.json);
  });
});
