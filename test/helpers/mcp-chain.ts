// A federation of separate deployments, for the /mcp chain suite: instances
// of this project as child processes (src/main.ts, each on its own fresh
// PostgreSQL database, so each has its own federation id), registered on one
// another through their /mcp endpoints, and a plain MCP server at the end of
// the chain built on the SDK's McpServer. Everything here is reached the way
// an operator and a client reach it: GraphQL, /mcp, the process's logs.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import pg from 'pg';
import { z } from 'zod';
import { createPostgresDatabase } from './db.js';
import { startMain, type MainProcess } from './process.js';
import { listenLocal } from './peers.js';
import { PEER_ENV } from './registry.js';

/** Starting main.ts loads Prisma and Pothos: seconds each, more for several at once on two cores. */
export const START_TIMEOUT = 60_000;

/** The experimental capability and _meta key of src/mcp/federation-identity.ts, spelled out: the wire format is what is under test. */

// ---- C: a plain MCP server at the end of the chain ---------------------------

/** The tools of the end server (original names). */
export const END_TOOLS = ['echo', 'progress', 'wait_cancel'] as const;

/** What `echo` answers for `args`: every kind of field a CallToolResult may carry, so that any rewriting on the way shows. */
export function echoResult(args: Record<string, unknown>): CallToolResult {
  return {
    content: [
      { type: 'text', text: JSON.stringify(args), annotations: { audience: ['user', 'assistant'], priority: 0.25 }, _meta: { 'test.end/part': 1 } },
      { type: 'image', data: Buffer.from('not really a png').toString('base64'), mimeType: 'image/png' },
      { type: 'resource_link', uri: 'file:///notes.md', name: 'notes', mimeType: 'text/markdown' },
      { type: 'resource', resource: { uri: 'file:///echo.json', mimeType: 'application/json', text: JSON.stringify({ end: 'c' }) } },
    ],
    structuredContent: { echoed: args, from: 'c' },
    _meta: { 'test.end/nested': { list: [1, 'two', { three: 3 }] } },
  };
}

export interface EndCall {
  name: string;
  arguments: unknown;
  /** The request's _meta as it reached the end server (the hop count, the progress token). */
  _meta: Record<string, unknown> | undefined;
}

export interface EndServer {
  url: string;
  /** tools/call requests that reached a tool, in order. */
  calls: EndCall[];
  /** Runs of wait_cancel in progress now. */
  waiting(): number;
  /** Abort reasons of wait_cancel runs whose extra.signal aborted. */
  cancelled: unknown[];
  /** POST requests whose response is still open (a cancelled request's stream the SDK never ends, say). */
  openPosts(): number;
  close(): Promise<void>;
}

export async function startEndServer(): Promise<EndServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const calls: EndCall[] = [];
  const cancelled: unknown[] = [];
  let waiting = 0;
  let openPosts = 0;
  let closed!: () => void;
  const whenClosed = new Promise<void>((resolve) => (closed = resolve));
  const servers = new Set<McpServer>();

  const record = (name: string, args: unknown, meta: Record<string, unknown> | undefined) =>
    calls.push({ name, arguments: structuredClone(args), _meta: meta === undefined ? undefined : structuredClone(meta) });

  const mcpServer = () => {
    const mcp = new McpServer({ name: 'chain-end', version: '3.1.4' }, { instructions: 'The end of the chain.' });
    mcp.registerTool(
      'echo',
      {
        title: 'Echo',
        description: 'Answers with its arguments, in every kind of content',
        inputSchema: { text: z.string(), n: z.number().int().optional() },
        outputSchema: { echoed: z.record(z.string(), z.unknown()), from: z.string() },
        annotations: { readOnlyHint: true, idempotentHint: true },
        _meta: { 'test.end/tool': 'echo' },
      },
      (args, extra) => {
        record('echo', args, extra._meta as Record<string, unknown> | undefined);
        return echoResult(args);
      },
    );
    mcp.registerTool(
      'progress',
      { description: 'Reports progress step by step, then answers', inputSchema: { steps: z.number().int().min(1).max(50) } },
      async ({ steps }, extra) => {
        record('progress', { steps }, extra._meta as Record<string, unknown> | undefined);
        const progressToken = extra._meta?.progressToken;
        if (progressToken !== undefined) {
          for (let step = 1; step <= steps; step++) {
            await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: step, total: steps, message: `step ${step} of ${steps}` } });
          }
        }
        return { content: [{ type: 'text', text: `done after ${steps} steps` }] };
      },
    );
    mcp.registerTool('wait_cancel', { description: 'Answers only once its request is cancelled' }, async (extra) => {
      record('wait_cancel', undefined, extra._meta as Record<string, unknown> | undefined);
      waiting++;
      try {
        await Promise.race([new Promise((resolve) => extra.signal.addEventListener('abort', resolve, { once: true })), whenClosed]);
        if (extra.signal.aborted) cancelled.push(extra.signal.reason);
        return { content: [{ type: 'text', text: 'cancelled' }] };
      } finally {
        waiting--;
      }
    });
    servers.add(mcp);
    return mcp;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://end').pathname !== '/mcp') return void res.writeHead(404).end();
    if (req.method === 'POST') {
      openPosts++;
      res.once('close', () => openPosts--);
    }
    const sessionId = req.headers['mcp-session-id'];
    const known = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (known) return known.handleRequest(req, res);
    if (sessionId !== undefined) return void res.writeHead(404).end();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => void sessions.set(id, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await mcpServer().connect(transport);
    await transport.handleRequest(req, res);
  };

  const { http, port } = await listenLocal(handle);

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    waiting: () => waiting,
    cancelled,
    openPosts: () => openPosts,
    close: () =>
      (closing ??= (async () => {
        closed();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
        await Promise.all([...servers].map((mcp) => mcp.close().catch(() => {})));
      })()),
  };
}

// ---- instances of this project --------------------------------------------

export interface LogLine {
  msg: string;
  level: number;
  [key: string]: unknown;
}

const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterGatewayInput!) {
    registerGateway(input: $input) {
      __typename
      ... on Error { message }
      ... on PeerConnectionError { reason httpStatus }
      ... on RegisterGatewaySuccess { gateway { id name slug url status reachable capabilities } }
    }
  }
`;

const CREATE_TOKEN = /* GraphQL */ `
  mutation CreateToken($name: String!, $scopes: [ApiScope!]!) {
    createApiToken(name: $name, scopes: $scopes) { __typename ... on Error { message } ... on CreateApiTokenSuccess { secret } }
  }
`;

export interface RowCounts {
  gateways: number;
  tools: number;
  events: number;
}

export class ChainGateway {
  private readonly clients = new Set<Client>();

  constructor(
    /** A label for messages ("A", "B", ...). */
    readonly label: string,
    readonly main: MainProcess,
    /** http://127.0.0.1:<port>, as main.ts prints it. */
    readonly url: string,
    readonly adminToken: string,
    readonly sql: pg.Client,
    private readonly dropDatabase: () => Promise<void>,
  ) {}

  get mcpUrl(): string {
    return `${this.url}/mcp`;
  }

  /** A GraphQL operation as the admin; fails on GraphQL-level errors. */
  async gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.adminToken}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(20_000),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`${this.label}: GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data;
  }

  /** A new API token of this instance (default: the invoke scope only, what a peer gateway needs); its secret. */
  async issueToken(name: string, scopes: string[] = ['invoke']): Promise<string> {
    const { createApiToken } = await this.gql(CREATE_TOKEN, { name, scopes });
    if (createApiToken.__typename !== 'CreateApiTokenSuccess') throw new Error(`${this.label}: createApiToken: ${JSON.stringify(createApiToken)}`);
    return createApiToken.secret as string;
  }

  /** registerGateway's result union member as is (the caller asserts on it). */
  async register(name: string, url: string, bearer?: string): Promise<any> {
    const input = { name, url, transport: 'STREAMABLE_HTTP', ...(bearer ? { auth: { bearer: { token: bearer } } } : {}) };
    return (await this.gql(REGISTER, { input })).registerGateway;
  }

  /** Registers and expects success; the gateway as the API shows it. */
  async registered(name: string, url: string, bearer?: string): Promise<any> {
    const result = await this.register(name, url, bearer);
    if (result.__typename !== 'RegisterGatewaySuccess') throw new Error(`${this.label}: registering ${name} (${url}) failed: ${JSON.stringify(result)}`);
    return result.gateway;
  }

  /** What the registry tables hold, read from this instance's database. */
  async counts(): Promise<RowCounts> {
    const { rows } = await this.sql.query<RowCounts>(
      `SELECT (SELECT count(*)::int FROM gateway) AS gateways, (SELECT count(*)::int FROM tool) AS tools, (SELECT count(*)::int FROM gateway_event) AS events`,
    );
    return rows[0]!;
  }

  /** The deployment's federation id, as stored (federation-identity.ts). */
  async federationId(): Promise<string> {
    const { rows } = await this.sql.query<{ value: string }>(`SELECT value FROM setting WHERE name = 'federation.id'`);
    return rows[0]!.value;
  }

  /** The process's pino lines. */
  lines(): LogLine[] {
    const lines: LogLine[] = [];
    for (const text of this.main.stdout().split('\n')) {
      if (!text.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        // a line still being written
      }
    }
    return lines;
  }

  /** The forwarder's 'forwarded a call' lines (method, entry, outcome). */
  forwarded(): LogLine[] {
    return this.lines().filter((line) => line.msg === 'forwarded a call');
  }

  /** An MCP client of this instance's /mcp (default: with the admin token, which has every scope). */
  async client(token = this.adminToken): Promise<Client> {
    const client = new Client({ name: `chain-test-client-of-${this.label}`, version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(this.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    await client.connect(transport);
    this.clients.add(client);
    return client;
  }

  /**
   * Closes its clients, stops the process (SIGTERM, the way an operator does;
   * SIGKILL when it does not end within `graceMs`) and drops its database.
   * Resolves with how the process ended.
   */
  async stop(graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; ms: number }> {
    const started = performance.now();
    await Promise.all([...this.clients].map((client) => client.close().catch(() => {})));
    this.clients.clear();
    let killed = false;
    let ended: { code: number | null; signal: NodeJS.Signals | null };
    if (this.main.child.exitCode !== null || this.main.child.signalCode !== null) {
      ended = await this.main.exited;
    } else {
      this.main.kill('SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
      const first = await Promise.race([this.main.exited, late]);
      clearTimeout(timer);
      if (first === 'late') {
        killed = true;
        this.main.kill('SIGKILL');
        ended = await this.main.exited;
      } else {
        ended = first;
      }
    }
    const ms = Math.round(performance.now() - started);
    await this.sql.end().catch(() => undefined);
    await this.dropDatabase().catch(() => undefined);
    return { ...ended, killed, ms };
  }
}

export interface GatewaySpec {
  label: string;
  /** On top of the shared environment (MCP_MAX_HOPS, say). */
  env?: Record<string, string>;
}

/**
 * Starts one instance per spec, all at once, each on a fresh PostgreSQL
 * database with its own admin token and secret key: separate deployments,
 * as federated gateways are. Health checks are off (nothing here waits on
 * them, and a leader's background probes would only add noise to the logs);
 * peers answer or fail fast (PEER_ENV) and a forwarded call is bounded well
 * inside the suite's timeouts.
 */
export async function startGateways(specs: GatewaySpec[]): Promise<ChainGateway[]> {
  const databases = await Promise.all(specs.map(() => createPostgresDatabase()));
  const started = specs.map((spec, i) => {
    const adminToken = `chain-${spec.label.toLowerCase()}-${randomBytes(16).toString('hex')}`;
    const main = startMain({
      DATABASE_URL: databases[i]!.url,
      PORT: '0',
      ADMIN_TOKEN: adminToken,
      SECRET_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'info',
      HEALTH_CHECKS: 'false',
      SHUTDOWN_TIMEOUT_MS: '3000',
      TOOL_CALL_TIMEOUT_MS: '20000',
      ...PEER_ENV,
      ...spec.env,
    });
    return { spec, main, adminToken, database: databases[i]! };
  });
  const settled = await Promise.allSettled(
    started.map(async ({ spec, main, adminToken, database }) => {
      const url = await main.listening(START_TIMEOUT);
      const sql = new pg.Client({ connectionString: database.url });
      await sql.connect();
      return new ChainGateway(spec.label, main, url, adminToken, sql, database.drop);
    }),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    for (const { main } of started) main.kill('SIGKILL');
    await Promise.all(started.map(({ main }) => main.exited));
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.sql.end().catch(() => undefined) : undefined)));
    await Promise.all(databases.map((database) => database.drop().catch(() => undefined)));
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<ChainGateway>).value);
}
