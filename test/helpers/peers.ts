// Real MCP peers for tests: the SDK's server behind node:http on 127.0.0.1,
// speaking Streamable HTTP or the old HTTP+SSE transport, optionally demanding
// credentials or misbehaving (hanging, garbage, dying, failing with a status,
// flooding, echoing the credentials they got).
// The low-level `Server` is used rather than `McpServer` because McpServer
// answers every list in one page, and paging is what these peers must exercise.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

export interface CatalogInput {
  /** A count makes tools named tool_0001, tool_0002, ... */
  tools?: number | Tool[];
  resources?: Resource[];
  templates?: ResourceTemplate[];
  prompts?: Prompt[];
  instructions?: string;
}

export type ExpectedAuth =
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | { type: 'headers'; headers: Record<string, string> }
  | { type: 'oauth'; tokens: TokenServer };

export interface PeerOptions extends CatalogInput {
  transport?: 'streamable' | 'sse';
  /** What an SSE peer answers to a POST on its SSE URL (default 405). */
  ssePostStatus?: number;
  /** Items per page of every list; unset: everything in one page. */
  pageSize?: number;
  auth?: ExpectedAuth;
  /** true: no request is ever answered; a method name: only that one is not. */
  hang?: boolean | string;
  /** Answer tools/list with invalid JSON, or with JSON that is not a tools/list result. */
  garbage?: 'json' | 'schema';
  /** Serve this many pages of tools/list, then drop the connection and stop listening. */
  dieAfterPages?: number;
  /** Answer the first `times` HTTP requests with this status (and headers) instead. */
  failFirst?: { status: number; times: number; headers?: Record<string, string> };
  /** Awaited before each JSON-RPC request is answered (a test holds the peer mid-exchange with it). */
  beforeAnswer?: (method: string) => Promise<void>;
  /** Capabilities merged, key by key, over the ones the catalog implies. */
  capabilities?: ServerCapabilities;
  /** Listen on this port (a peer coming back where a closed one was); default: a free one. */
  port?: number;
  /** Streamable HTTP: answer requests with application/json bodies instead of one SSE stream each. */
  jsonResponse?: boolean;
  /** Answer tools/list with a huge answer, generated as it is sent (never held in memory). */
  flood?: Flood;
  /** Answer a request with a text built from the headers it came with (a peer that echoes our credentials). */
  echo?: Echo;
  /** Serves tools/call with this; a throw is answered as a JSON-RPC error (McpError keeps its code). */
  callTool?: (name: string, args: Record<string, unknown> | undefined) => CallToolResult | Promise<CallToolResult>;
}

export interface Flood {
  /** How much to send at most: the peer stops early when the client hangs up. */
  bytes: number;
  /**
   * `json`: an application/json tools/list result of ever more tools (Streamable HTTP only).
   * `event`: one SSE event (the POST's own stream, or the SSE transport's event stream)
   * whose data line does not end before `bytes`.
   */
  as: 'json' | 'event';
}

export interface Echo {
  /** The JSON-RPC method answered so (default tools/list). */
  method?: string;
  /** `jsonrpc`: the text is the message of a JSON-RPC error; `body`: the body of an HTTP 500. */
  as: 'jsonrpc' | 'body';
  /** The text, from the request's headers; undefined: answer normally. */
  text: (headers: IncomingHttpHeaders) => string | undefined;
}

export interface PeerRequests {
  /** Every HTTP request that reached the peer. */
  http: number;
  /** Answered by failFirst. */
  rejected: number;
  /** Answered 401 for missing or wrong credentials. */
  unauthorized: number;
  /** JSON-RPC methods received (after auth and failFirst). */
  methods: Record<string, number>;
  /** performance.now() of each HTTP request's arrival. */
  times: number[];
  /** Bytes of flood answers written to sockets (what a client that hangs up early never gets is not counted). */
  flooded: number;
  /** Every text an echo answer carried. */
  echoed: string[];
}

export interface TestPeer {
  /** The MCP endpoint (the SSE stream's GET URL for an SSE peer). */
  url: string;
  requests: PeerRequests;
  /** Changes what the next list calls return. */
  setCatalog(catalog: CatalogInput): void;
  /** Sends notifications/tools/list_changed on every open session; resolves with how many sessions it reached. */
  notifyToolsChanged(): Promise<number>;
  /** Event streams (Streamable HTTP GET, or SSE) open right now: the sessions notifications can reach. */
  openStreams(): number;
  /** Streamable HTTP sessions the peer holds: each initialize adds one, a DELETE or expireSessions ends it. */
  openSessions(): number;
  /** Ends every Streamable HTTP session on the peer's side, as a server may at any time; requests with their ids then get 404. */
  expireSessions(): Promise<void>;
  close(): Promise<void>;
}

export function makeTools(count: number): Tool[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `tool_${String(i + 1).padStart(4, '0')}`,
    description: `Tool number ${i + 1}`,
    inputSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
  }));
}

interface Catalog {
  tools: Tool[];
  resources: Resource[];
  templates: ResourceTemplate[];
  prompts: Prompt[];
  instructions?: string;
}

export async function startPeer(options: PeerOptions = {}): Promise<TestPeer> {
  const catalog: Catalog = { tools: [], resources: [], templates: [], prompts: [] };
  const setCatalog = (input: CatalogInput) => {
    if (input.tools !== undefined) catalog.tools = typeof input.tools === 'number' ? makeTools(input.tools) : input.tools;
    if (input.resources) catalog.resources = input.resources;
    if (input.templates) catalog.templates = input.templates;
    if (input.prompts) catalog.prompts = input.prompts;
    if (input.instructions !== undefined) catalog.instructions = input.instructions;
  };
  setCatalog(options);
  const requests: PeerRequests = { http: 0, rejected: 0, unauthorized: 0, methods: {}, times: [], flooded: 0, echoed: [] };
  let toolPages = 0;
  const streamable = new Map<string, StreamableHTTPServerTransport>();
  const servers = new Set<Server>();
  let streams = 0;
  const sse = new Map<string, { transport: SSEServerTransport; res: ServerResponse }>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    requests.http++;
    requests.times.push(performance.now());
    if (options.auth && !(await authorized(req, options.auth))) {
      requests.unauthorized++;
      res.writeHead(401, { 'www-authenticate': options.auth.type === 'basic' ? 'Basic realm="peer"' : 'Bearer' }).end();
      return;
    }
    if (options.failFirst && requests.rejected < options.failFirst.times) {
      requests.rejected++;
      res.writeHead(options.failFirst.status, options.failFirst.headers).end('not now');
      return;
    }
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const method = typeof body === 'object' && body !== null && 'method' in body ? String(body.method) : undefined;
    if (method) requests.methods[method] = (requests.methods[method] ?? 0) + 1;
    if (options.hang === true || (method && options.hang === method)) return; // never answered
    if (method && options.beforeAnswer) await options.beforeAnswer(method);
    if (method === 'tools/list' && options.dieAfterPages !== undefined && ++toolPages > options.dieAfterPages) {
      req.socket.destroy();
      http.close();
      http.closeAllConnections();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://peer').pathname;
    if (req.method === 'GET' && String(req.headers.accept).includes('text/event-stream')) {
      streams++;
      res.on('close', () => streams--);
    }
    if (method === 'tools/list' && options.garbage === 'json') return garbage(req, res, body);
    if (method === 'tools/list' && options.flood) return flood(req, res, body, options.flood);
    const echoed = method && options.echo && method === (options.echo.method ?? 'tools/list') ? options.echo.text(req.headers) : undefined;
    if (echoed !== undefined) return echo(req, res, body, echoed);
    if (options.transport === 'sse') return routeSse(req, res, path, body);
    return routeStreamable(req, res, path, body);
  };

  const garbage = (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    const broken = `{"jsonrpc":"2.0","id":${JSON.stringify((body as { id: unknown }).id)},"result":{"tools":[`;
    if (options.transport !== 'sse') return void res.writeHead(200, { 'content-type': 'application/json' }).end(broken);
    const session = sse.get(new URL(req.url ?? '/', 'http://peer').searchParams.get('sessionId') ?? '');
    session?.res.write(`event: message\ndata: ${broken}\n\n`);
    res.writeHead(202).end();
  };

  /** The SSE transport's event stream of the session a POST belongs to. */
  const sseSession = (req: IncomingMessage) => sse.get(new URL(req.url ?? '/', 'http://peer').searchParams.get('sessionId') ?? '');

  const flood = async (req: IncomingMessage, res: ServerResponse, body: unknown, { bytes, as }: Flood) => {
    const id = JSON.stringify((body as { id: unknown }).id);
    const result = `{"jsonrpc":"2.0","id":${id},"result":{"tools":[`;
    let target: ServerResponse = res;
    if (options.transport === 'sse') {
      const session = sseSession(req);
      if (!session) return void res.writeHead(404).end();
      res.writeHead(202).end();
      target = session.res;
    } else {
      res.writeHead(200, { 'content-type': as === 'json' ? 'application/json' : 'text/event-stream' });
    }
    if (as === 'json') {
      const tools = Array.from({ length: 64 }, (_, i) => `{"name":"flood_${i}","description":"${'x'.repeat(1000)}","inputSchema":{"type":"object"}},`);
      // Names repeat from one batch to the next: a client that took it all would refuse the duplicates.
      await pour(target, result, Buffer.from(tools.join('')), bytes, '{"name":"last","inputSchema":{"type":"object"}}]}}');
    } else {
      const head = `event: message\ndata: ${result}{"name":"endless","inputSchema":{"type":"object"},"description":"`;
      await pour(target, head, Buffer.alloc(64 * 1024, 'x'), bytes, '"}]}}\n\n');
    }
  };

  /** Writes head, then chunk after chunk as the socket takes them, up to `bytes`, then tail; stops when the client hangs up. */
  const pour = async (res: ServerResponse, head: string, chunk: Buffer, bytes: number, tail: string) => {
    const gone = new Promise<void>((resolve) => res.once('close', resolve));
    const write = async (data: string | Buffer) => {
      requests.flooded += Buffer.byteLength(data);
      if (!res.write(data)) await Promise.race([new Promise((resolve) => res.once('drain', resolve)), gone]);
    };
    await write(head);
    for (let sent = 0; sent < bytes && !res.destroyed && !res.writableEnded; sent += chunk.length) await write(chunk);
    if (!res.destroyed) res.end(tail);
  };

  const echo = (req: IncomingMessage, res: ServerResponse, body: unknown, text: string) => {
    requests.echoed.push(text);
    if (options.echo!.as === 'body') return void res.writeHead(500, { 'content-type': 'text/plain' }).end(text);
    const error = JSON.stringify({ jsonrpc: '2.0', id: (body as { id: unknown }).id, error: { code: ErrorCode.InvalidRequest, message: text } });
    if (options.transport !== 'sse') return void res.writeHead(200, { 'content-type': 'application/json' }).end(error);
    const session = sseSession(req);
    if (!session) return void res.writeHead(404).end();
    session.res.write(`event: message\ndata: ${error}\n\n`);
    res.writeHead(202).end();
  };

  const routeStreamable = async (req: IncomingMessage, res: ServerResponse, path: string, body: unknown) => {
    if (path !== '/mcp') return void res.writeHead(404).end();
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? streamable.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId !== undefined || (body as { method?: string } | undefined)?.method !== 'initialize') {
        return void res.writeHead(sessionId ? 404 : 400).end();
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: options.jsonResponse ?? false,
        onsessioninitialized: (id) => void streamable.set(id, created),
      });
      const server = createMcpServer();
      created.onclose = () => {
        servers.delete(server);
        if (created.sessionId) streamable.delete(created.sessionId);
      };
      await server.connect(created);
      servers.add(server);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  };

  const routeSse = async (req: IncomingMessage, res: ServerResponse, path: string, body: unknown) => {
    if (req.method === 'GET' && path === '/mcp') {
      const transport = new SSEServerTransport('/messages', res);
      sse.set(transport.sessionId, { transport, res });
      const server = createMcpServer();
      res.on('close', () => {
        sse.delete(transport.sessionId);
        servers.delete(server);
      });
      await server.connect(transport);
      servers.add(server);
      return;
    }
    if (req.method === 'POST' && path === '/messages') {
      const session = sse.get(new URL(req.url ?? '/', 'http://peer').searchParams.get('sessionId') ?? '');
      if (!session) return void res.writeHead(404).end();
      return session.transport.handlePostMessage(req, res, body);
    }
    // What a server from before Streamable HTTP answers to a POST on its SSE URL.
    res.writeHead(path === '/mcp' ? (options.ssePostStatus ?? 405) : 404).end();
  };

  const createMcpServer = () => {
    const capabilities: ServerCapabilities = { tools: { listChanged: true } };
    const hasResources = catalog.resources.length > 0 || catalog.templates.length > 0;
    if (hasResources) capabilities.resources = { listChanged: true };
    if (catalog.prompts.length > 0) capabilities.prompts = { listChanged: true };
    for (const [key, value] of Object.entries(options.capabilities ?? {})) {
      (capabilities as Record<string, unknown>)[key] = { ...(capabilities as Record<string, object | undefined>)[key], ...value };
    }
    const server = new Server(
      { name: 'test-peer', version: '1.2.3', title: 'Test Peer' },
      { capabilities, ...(catalog.instructions ? { instructions: catalog.instructions } : {}) },
    );
    server.setRequestHandler(ListToolsRequestSchema, (request) =>
      options.garbage === 'schema' ? ({ tools: 'garbage' } as never) : page(catalog.tools, request.params?.cursor, 'tools'),
    );
    if (hasResources) {
      server.setRequestHandler(ListResourcesRequestSchema, (r) => page(catalog.resources, r.params?.cursor, 'resources'));
      server.setRequestHandler(ListResourceTemplatesRequestSchema, (r) => page(catalog.templates, r.params?.cursor, 'resourceTemplates'));
    }
    if (catalog.prompts.length > 0) {
      server.setRequestHandler(ListPromptsRequestSchema, (r) => page(catalog.prompts, r.params?.cursor, 'prompts'));
    }
    const callTool = options.callTool;
    if (callTool) server.setRequestHandler(CallToolRequestSchema, (r) => callTool(r.params.name, r.params.arguments));
    return server;
  };

  const page = <K extends string, T>(items: T[], cursor: string | undefined, key: K) => {
    const start = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(start) || start < 0) throw new McpError(ErrorCode.InvalidParams, 'bad cursor');
    const end = Math.min(items.length, start + (options.pageSize ?? Number.MAX_SAFE_INTEGER));
    return { [key]: items.slice(start, end), ...(end < items.length ? { nextCursor: String(end) } : {}) } as Record<K, T[]> & {
      nextCursor?: string;
    };
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    setCatalog,
    notifyToolsChanged: async () => {
      const sent = await Promise.allSettled([...servers].map((server) => server.sendToolListChanged()));
      return sent.filter((r) => r.status === 'fulfilled').length;
    },
    openStreams: () => streams,
    openSessions: () => streamable.size,
    expireSessions: async () => {
      await Promise.all([...streamable.values()].map((transport) => transport.close()));
    },
    close: () => closeServer(http),
  };
}

async function authorized(req: IncomingMessage, expected: ExpectedAuth): Promise<boolean> {
  const header = req.headers.authorization ?? '';
  switch (expected.type) {
    case 'basic':
      return header === `Basic ${Buffer.from(`${expected.username}:${expected.password}`).toString('base64')}`;
    case 'bearer':
      return header === `Bearer ${expected.token}`;
    case 'headers':
      return Object.entries(expected.headers).every(([name, value]) => req.headers[name.toLowerCase()] === value);
    case 'oauth':
      return header.startsWith('Bearer ') && expected.tokens.isValid(header.slice('Bearer '.length));
  }
}

/** A request's body as JSON, or as text when it is not JSON. */
export async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function closeServer(http: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    http.close(() => resolve());
    // Hung requests and open event streams would otherwise hold close() forever.
    http.closeAllConnections();
  });
}

/** A port on 127.0.0.1 that nothing listens on. */
export async function refusedPort(): Promise<number> {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  await closeServer(http);
  return port;
}

/** An MCP URL on a port nothing listens on. */
export async function refusedUrl(): Promise<string> {
  return `http://127.0.0.1:${await refusedPort()}/mcp`;
}

export interface TokenServer {
  /** The token endpoint. */
  url: string;
  /** Access tokens issued so far. */
  readonly issued: number;
  /** Bytes written by a `flood` answer. */
  readonly flooded: number;
  /** Every token request, as the server understood it. */
  requests: { clientAuth: 'basic' | 'body' | 'none'; scope?: string; audience?: string }[];
  isValid(token: string): boolean;
  /** Invalidates every token issued so far (the peer then answers 401). */
  revokeAll(): void;
  close(): Promise<void>;
}

/** An OAuth 2.0 token endpoint for the client credentials grant (RFC 6749 §4.4). */
export async function startTokenServer(options: {
  clientId: string;
  clientSecret: string;
  expiresIn?: number;
  /** Answer the first `times` token requests with this status. */
  failFirst?: { status: number; times: number };
  /** Answer with a JSON body that never ends (written as fast as it is read); `flooded` counts the bytes written. */
  flood?: boolean;
}): Promise<TokenServer> {
  const tokens = new Map<string, number>(); // token -> expiry (Date.now() ms)
  const requests: TokenServer['requests'] = [];
  let issued = 0;
  let flooded = 0;
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    let clientAuth: 'basic' | 'body' | 'none' = id ? 'body' : 'none';
    if (basic) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      [id, secret, clientAuth] = [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1)), 'basic'];
    }
    requests.push({ clientAuth, scope: form.get('scope') ?? undefined, audience: form.get('audience') ?? undefined });
    const reply = (status: number, body: object) =>
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    if (options.failFirst && requests.length <= options.failFirst.times) return reply(options.failFirst.status, { error: 'temporarily_unavailable' });
    if (req.method !== 'POST' || form.get('grant_type') !== 'client_credentials') return reply(400, { error: 'unsupported_grant_type' });
    if (id !== options.clientId || secret !== options.clientSecret) return reply(401, { error: 'invalid_client' });
    if (options.flood) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.from(`{"access_token":"${'x'.repeat(64 * 1024)}`);
      const more = () => {
        while (!res.destroyed && flooded < 1024 ** 3) {
          flooded += chunk.byteLength;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      return more();
    }
    const token = randomBytes(24).toString('base64url');
    const expiresIn = options.expiresIn ?? 3600;
    tokens.set(token, Date.now() + expiresIn * 1000);
    issued++;
    reply(200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/oauth/token`,
    get issued() {
      return issued;
    },
    get flooded() {
      return flooded;
    },
    requests,
    isValid: (token) => (tokens.get(token) ?? 0) > Date.now(),
    revokeAll: () => tokens.clear(),
    close: () => closeServer(http),
  };
}

/** An HTTP server on a free port of 127.0.0.1 whose handler's failures answer 500 (with their text). */
export async function listenLocal(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<{ http: HttpServer; port: number }> {
  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { http, port: (http.address() as AddressInfo).port };
}

/** Servers a suite starts as it goes (with `start`), closed together in its afterAll. */
export function startedTogether<O, P extends { close(): Promise<void> }>(start: (options: O) => Promise<P>, defaults: O) {
  const started: P[] = [];
  return {
    async start(options: O = defaults): Promise<P> {
      const peer = await start(options);
      started.push(peer);
      return peer;
    },
    closeAll: () => Promise.all(started.splice(0).map((p) => p.close())),
  };
}

/** Peers a suite starts as it goes, closed together in its afterAll. */
export const peerPool = () => startedTogether<PeerOptions, TestPeer>(startPeer, {});
