// A "rich" MCP peer for the /mcp forwarding tests, built on the SDK's
// high-level McpServer (unlike peers.ts, which pages its lists with the
// low-level Server): tools that echo, report progress, wait to be cancelled,
// fail in each way a tool can (isError, a JSON-RPC error, never answering, the
// server dying, garbage on the wire), resources with a template, subscriptions
// and prompts with completable arguments. It records what reached it, as it
// arrived on the wire, so that tests can assert on exactly what was forwarded.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  McpError,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { closeServer, listenLocal, readJson, startedTogether } from './peers.js';

/** The tools every rich peer serves (original names). */
export const RICH_TOOLS = ['die', 'echo', 'fail', 'garbage', 'hang', 'misshapen', 'progress', 'raise', 'wait_cancel'] as const;
/** Its resources, resource templates and prompts (peer URIs and original names). */
export const RICH_RESOURCES = ['file:///README.md', 'file:///CHANGELOG.md'] as const;
export const RICH_TEMPLATES = ['file:///{+path}', 'notes://{day}'] as const;
export const RICH_PROMPTS = ['greet', 'summarize'] as const;

/** What `raise` throws unless its arguments say otherwise: a code no SDK layer would make up. */
export const RAISED = { code: -32010, message: 'quota exceeded for this caller', data: { retryAfterSeconds: 5 } } as const;

/** Completion candidates of the `greet` prompt's `style` argument and of the `file:///{+path}` template's `path`. */
export const STYLES = ['formal', 'friendly', 'pirate'] as const;
export const PATHS = ['README.md', 'src/app.ts', 'src/index.ts'] as const;

/** What `echo` answers for `args`, on the peer labelled `label`: every field a CallToolResult may carry. */
export function echoResult(label: string, args: Record<string, unknown> | undefined): CallToolResult {
  return {
    content: [
      { type: 'text', text: JSON.stringify(args ?? null), annotations: { audience: ['user', 'assistant'], priority: 0.5 }, _meta: { 'test.peer/part': 1 } },
      { type: 'image', data: Buffer.from('not really a png').toString('base64'), mimeType: 'image/png' },
      { type: 'resource_link', uri: 'file:///README.md', name: 'README', mimeType: 'text/markdown' },
      { type: 'resource', resource: { uri: 'file:///echo.json', mimeType: 'application/json', text: JSON.stringify({ label }) } },
    ],
    structuredContent: { label, echoed: args ?? null },
    _meta: { 'test.peer/label': label, 'test.peer/nested': { list: [1, 'two', { three: 3 }] } },
  };
}

export interface RichPeerOptions {
  /** Names the peer in its answers (so a test tells two peers apart); default 'peer'. */
  label?: string;
  /** The text of file:///README.md; default `# <label>`. */
  readme?: string;
}

export interface ReceivedRequest {
  method: string;
  params: Record<string, any> | undefined;
}

export interface RichPeer {
  url: string;
  label: string;
  /** initialize requests received: one per session opened with the peer. */
  readonly initializes: number;
  /** Every JSON-RPC request received, in order, with its params as sent (arguments and _meta included). */
  received: ReceivedRequest[];
  /** The tools/call requests among them: name, arguments and _meta exactly as sent. */
  calls(): { name: string; arguments: unknown; _meta: unknown }[];
  /** notifications/cancelled received (their params). */
  cancelNotifications: { requestId: unknown; reason?: string }[];
  /** Runs of wait_cancel whose request the peer saw cancelled (extra.signal aborted), with the abort reason. */
  cancelled: unknown[];
  /** Runs of wait_cancel (or hang) in progress right now. */
  waiting(): number;
  /** URIs some session of the peer is subscribed to. */
  subscribed(): string[];
  /** Standing event streams (Streamable HTTP GET) open right now: the sessions an unsolicited notification can reach. */
  openStreams(): number;
  /** Sessions the peer holds: each initialize adds one, a DELETE or expireSessions ends it. */
  openSessions(): number;
  /** Ends every session on the peer's side (it forgets them and their subscriptions), as a restarted server would. */
  expireSessions(): Promise<void>;
  /** Sends notifications/resources/updated for `uri` to the sessions subscribed to it; resolves with how many were sent. */
  emitResourceUpdated(uri: string): Promise<number>;
  /** Stops listening and cuts every connection (what `die` does from inside a call). */
  close(): Promise<void>;
}

interface Session {
  mcp: McpServer;
  transport: StreamableHTTPServerTransport;
  subscriptions: Set<string>;
}

export async function startRichPeer(options: RichPeerOptions = {}): Promise<RichPeer> {
  const label = options.label ?? 'peer';
  const readme = options.readme ?? `# ${label}`;
  const sessions = new Map<string, Session>();
  const received: ReceivedRequest[] = [];
  const cancelNotifications: RichPeer['cancelNotifications'] = [];
  const cancelled: unknown[] = [];
  let initializes = 0;
  let waiting = 0;
  let streams = 0;
  /** Settles the calls that wait for ever, when the peer closes: nothing is left pending behind a test. */
  let closed!: () => void;
  const whenClosed = new Promise<void>((resolve) => (closed = resolve));

  const createMcpServer = (subscriptions: Set<string>): McpServer => {
    const mcp = new McpServer(
      { name: `rich-peer-${label}`, version: '2.0.0' },
      // McpServer declares resources when one is registered, but never `subscribe`: that one is ours.
      { capabilities: { resources: { subscribe: true, listChanged: true } } },
    );
    // A loose object: the arguments reach the handler as sent (a strict one would drop unknown keys).
    mcp.registerTool('echo', { description: 'Answers with its arguments', inputSchema: z.looseObject({}) }, (args) => echoResult(label, args));
    mcp.registerTool(
      'progress',
      { description: 'Reports progress, then answers', inputSchema: { steps: z.number().int().min(1).max(20) } },
      async ({ steps }, extra) => {
        const progressToken = extra._meta?.progressToken;
        if (progressToken !== undefined) {
          for (let step = 1; step <= steps; step++) {
            await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: step, total: steps, message: `step ${step} of ${steps}` } });
          }
        }
        return { content: [{ type: 'text', text: `${label}: done after ${steps} steps` }] };
      },
    );
    mcp.registerTool('wait_cancel', { description: 'Answers only once its request is cancelled' }, async (extra) => {
      waiting++;
      try {
        await Promise.race([new Promise((resolve) => extra.signal.addEventListener('abort', resolve, { once: true })), whenClosed]);
        if (extra.signal.aborted) cancelled.push(extra.signal.reason);
        return { content: [{ type: 'text', text: 'cancelled' }] };
      } finally {
        waiting--;
      }
    });
    mcp.registerTool('fail', { description: 'A tool that runs and fails', inputSchema: { why: z.string() } }, ({ why }) => ({
      isError: true,
      content: [{ type: 'text', text: `${label} could not: ${why}` }],
      _meta: { 'test.peer/failed': true },
    }));
    // Served below, before McpServer's handler (which turns every throw into an isError result).
    mcp.registerTool('raise', { description: 'Answers with a JSON-RPC error', inputSchema: z.looseObject({}) }, () => {
      throw new Error('unreachable: raise is answered before McpServer sees it');
    });
    mcp.registerTool('hang', { description: 'Never answers' }, async () => {
      waiting++;
      await whenClosed;
      waiting--;
      return { content: [] };
    });
    mcp.registerTool('die', { description: 'Kills the peer mid-call' }, async () => {
      void close();
      await whenClosed;
      return { content: [] };
    });
    // Answered on the wire (see handle): listed here so that the catalog has them.
    mcp.registerTool('garbage', { description: 'Answers with invalid JSON' }, () => ({ content: [] }));
    mcp.registerTool('misshapen', { description: 'Answers with JSON that is no tools/call result' }, () => ({ content: [] }));

    mcp.registerResource('readme', 'file:///README.md', { title: 'Read me', mimeType: 'text/markdown' }, (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/markdown', text: readme }],
    }));
    mcp.registerResource('changelog', 'file:///CHANGELOG.md', { mimeType: 'text/markdown' }, (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/markdown', text: `${label}: nothing changed` }],
    }));
    // {+path}: RFC 6570 reserved expansion, the form whose values may contain "/" (file:///some/path).
    mcp.registerResource(
      'file',
      new ResourceTemplate('file:///{+path}', {
        list: undefined,
        complete: { path: (value) => PATHS.filter((path) => path.startsWith(value)) },
      }),
      { mimeType: 'text/plain' },
      (uri, variables) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: `${label} read ${String(variables.path)}` }] }),
    );
    mcp.registerResource('notes', new ResourceTemplate('notes://{day}', { list: undefined }), {}, (uri, { day }) => ({
      contents: [{ uri: uri.href, text: `${label} notes of ${String(day)}` }],
    }));

    mcp.registerPrompt(
      'greet',
      {
        title: 'Greeting',
        description: 'Greets someone in a style',
        argsSchema: { name: z.string(), style: completable(z.string(), (value) => STYLES.filter((style) => style.startsWith(value))) },
      },
      ({ name, style }) => ({
        description: `${label} greets`,
        messages: [{ role: 'user', content: { type: 'text', text: `Greet ${name} in a ${style} style (${label})` } }],
      }),
    );
    mcp.registerPrompt('summarize', { description: 'Summarizes a text', argsSchema: { text: z.string() } }, ({ text }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Summarize: ${text}` } }],
    }));

    mcp.server.setRequestHandler(SubscribeRequestSchema, (request) => {
      subscriptions.add(request.params.uri);
      return {};
    });
    mcp.server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
      subscriptions.delete(request.params.uri);
      return {};
    });

    // McpServer answers a tool's every throw, McpError included, as an isError result; a peer's
    // JSON-RPC error to tools/call needs a handler in front of it. There is no public way to
    // reach McpServer's own handler, hence the private map (fails loudly if the SDK renames it).
    const handlers = (mcp.server as unknown as { _requestHandlers: Map<string, (request: unknown, extra: unknown) => Promise<unknown>> })._requestHandlers;
    const callTool = handlers.get('tools/call');
    if (!callTool) throw new Error('McpServer no longer keeps its tools/call handler where this helper looks for it');
    mcp.server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
      if (request.params.name === 'raise') {
        const args = request.params.arguments ?? {};
        const code = typeof args.code === 'number' ? args.code : RAISED.code;
        const message = typeof args.message === 'string' ? args.message : RAISED.message;
        throw new McpError(code, message, 'data' in args ? args.data : RAISED.data);
      }
      return callTool(request, extra) as Promise<CallToolResult>;
    });
    return mcp;
  };

  /** Answers garbage and misshapen on the wire, as no SDK server would. */
  const answerBadly = (res: ServerResponse, id: unknown, tool: string) => {
    const body =
      tool === 'garbage'
        ? `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","te`
        : JSON.stringify({ jsonrpc: '2.0', id, result: { content: 'this is not a list of content blocks' } });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://peer').pathname !== '/mcp') return void res.writeHead(404).end();
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    for (const message of Array.isArray(body) ? body : body === undefined ? [] : [body]) {
      if (typeof message !== 'object' || message === null || typeof message.method !== 'string') continue;
      if (message.method === 'initialize') initializes++;
      if (message.method === 'notifications/cancelled') cancelNotifications.push(message.params);
      if ('id' in message) received.push({ method: message.method, params: structuredClone(message.params) });
    }
    const single = !Array.isArray(body) && typeof body === 'object' && body !== null ? (body as { id?: unknown; method?: string; params?: { name?: string } }) : undefined;
    if (single?.method === 'tools/call' && (single.params?.name === 'garbage' || single.params?.name === 'misshapen')) {
      return answerBadly(res, single.id, single.params.name);
    }
    if (req.method === 'GET' && String(req.headers.accept).includes('text/event-stream')) {
      streams++;
      res.on('close', () => streams--);
    }
    const sessionId = req.headers['mcp-session-id'];
    let session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (!session) {
      if (sessionId !== undefined || single?.method !== 'initialize') return void res.writeHead(sessionId ? 404 : 400).end();
      const subscriptions = new Set<string>();
      const mcp = createMcpServer(subscriptions);
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => void sessions.set(id, { mcp, transport, subscriptions }),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await mcp.connect(transport);
      return transport.handleRequest(req, res, body);
    }
    await session.transport.handleRequest(req, res, body);
  };

  const { http, port } = await listenLocal(handle);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await closeServer(http);
      closed();
      await Promise.all([...sessions.values()].map((session) => session.mcp.close().catch(() => {})));
    })());

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    label,
    get initializes() {
      return initializes;
    },
    received,
    calls: () =>
      received
        .filter((request) => request.method === 'tools/call')
        .map(({ params }) => ({ name: params?.name, arguments: params?.arguments, _meta: params?._meta })),
    cancelNotifications,
    cancelled,
    waiting: () => waiting,
    subscribed: () => [...new Set([...sessions.values()].flatMap((session) => [...session.subscriptions]))],
    openStreams: () => streams,
    openSessions: () => sessions.size,
    async expireSessions() {
      await Promise.all([...sessions.values()].map((session) => session.mcp.close().catch(() => {})));
    },
    async emitResourceUpdated(uri) {
      const targets = [...sessions.values()].filter((session) => session.subscriptions.has(uri));
      await Promise.all(targets.map((session) => session.mcp.server.sendResourceUpdated({ uri })));
      return targets.length;
    },
    close,
  };
}


/** Rich peers a suite starts as it goes, closed together in its afterAll. */
export const richPeers = () => startedTogether<RichPeerOptions, RichPeer>(startRichPeer, {});
