// /mcp: the federated catalog as an MCP server over Streamable HTTP, on the
// API's HTTP server. Each request is checked before the SDK sees it:
// - Host and Origin (the transport's DNS rebinding rules): a page of another
//   origin, or a name that resolves to this machine's loopback, gets 403; a
//   page of a CORS_ORIGINS origin gets CORS headers (and its preflight an answer);
// - an API token with the `invoke` scope: none (or an unknown or revoked one)
//   is 401 with WWW-Authenticate: Bearer, a token without the scope 403;
// - a session belongs to the token that opened it: another token's request on
//   it is answered as if the session did not exist (404).
// Sessions are bounded (MCP_MAX_SESSIONS, least recently used closed first),
// closed when idle (MCP_SESSION_IDLE_MS) and when their token is revoked, and
// told list_changed whenever the visible catalog may have changed, whichever
// worker changed it (the event bus).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { EventBus, GatewayEventMessage } from '../events/event-bus.js';
import type { Feed } from '../events/fanout.js';
import type { Logger } from '../logger.js';
import type { ApiTokenService } from '../security/api-tokens.js';
import type { OpenSessions } from '../security/open-sessions.js';
import { hasScope, type Principal } from '../security/scopes.js';
import type { CatalogPages } from './catalog-pages.js';
import type { FederationIdentity } from './federation-identity.js';
import type { Forwarder } from './forwarder.js';
import { createSessionServer } from './mcp-server.js';
import type { ResourceSubscriptions } from './resource-subscriptions.js';

export const MCP_PATH = '/mcp';

export interface McpEndpointOptions {
  tokens: ApiTokenService;
  openSessions: OpenSessions;
  events: EventBus;
  pages: CatalogPages;
  forwarder: Forwarder;
  subscriptions: () => ResourceSubscriptions;
  identity: FederationIdentity;
  logger: Logger;
  maxSessions: number;
  idleMs: number;
  /** TOOL_NAME_SEPARATOR, named in the instructions clients get. */
  separator: string;
  /** MCP_ALLOWED_HOSTS; unset: see hostAllowed. */
  allowedHosts?: string[];
  /** CORS_ORIGINS: pages of these origins may call /mcp too. */
  allowedOrigins?: string[];
  /** Told of each response that may stay open (an SSE stream), so that shutdown ends it. */
  onStream?: (res: ServerResponse) => void;
}

interface ClientSession {
  id: string;
  transport: StreamableHTTPServerTransport;
  server: Server;
  principal: Principal;
  lastUsed: number;
  /** Event streams (GET) open now: a client listening for notifications is not idle. */
  listening: number;
  forget: () => void;
}

/** Events after which what a client can list may differ. */
const CHANGES_LISTS = new Set<GatewayEventMessage['type']>([
  'GATEWAY_ADDED',
  'GATEWAY_UPDATED',
  'GATEWAY_DELETED',
  'GATEWAY_ACTIVATED',
  'GATEWAY_DEACTIVATED',
  'GATEWAY_HEALTH_CHANGED',
  'GATEWAY_CATALOG_CHANGED',
  'TOOL_TOGGLED',
]);

/** What a browser page may send (bearer tokens, never cookies: no credentials) and read (the session id, the challenge). */
const CORS_ALLOWED_HEADERS = 'authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id';
const CORS_EXPOSED_HEADERS = 'mcp-session-id, mcp-protocol-version, www-authenticate';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1).toLowerCase();
  return host.split(':', 1)[0]!.toLowerCase();
}

const isLoopbackAddress = (address: string | undefined) =>
  !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));

function rpcError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export class McpEndpoint {
  private readonly sessions = new Map<string, ClientSession>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private listening: Feed<GatewayEventMessage>;
  private flush: ReturnType<typeof setTimeout> | undefined;
  /** What the next flush announces: every list, or the tools only. */
  private pendingAll = false;
  private pendingTools = false;
  private closed = false;

  constructor(private readonly o: McpEndpointOptions) {
    this.sweeper = setInterval(() => this.closeIdle(), Math.min(o.idleMs / 2, 60_000));
    this.sweeper.unref();
    this.listening = o.events.feed();
    void this.followEvents();
  }

  get size(): number {
    return this.sessions.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = this.refusedOrigin(req);
    if (refusal) return rpcError(res, 403, refusal);
    // A page of a listed origin (CORS_ORIGINS) is let in above; without these
    // headers its browser would still refuse it every answer, and every
    // preflight would meet the token check below (a preflight never carries
    // the Authorization header) and fail with 401.
    const corsOrigin = this.listedCrossOrigin(req);
    if (corsOrigin) {
      res.setHeader('access-control-allow-origin', corsOrigin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', CORS_EXPOSED_HEADERS);
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, DELETE',
          'access-control-allow-headers': CORS_ALLOWED_HEADERS,
          'access-control-max-age': '600',
        });
        return void res.end();
      }
    }
    const principal = await this.o.tokens.authenticate(req.headers.authorization);
    if (!principal) {
      // RFC 6750 §3.1: a request without credentials gets no error code (it is not a bad token, only a missing one).
      const challenge = req.headers.authorization === undefined ? 'Bearer realm="mcp"' : 'Bearer realm="mcp", error="invalid_token"';
      return rpcError(res, 401, 'an API token is required: Authorization: Bearer <token> with the invoke scope', { 'www-authenticate': challenge });
    }
    if (!hasScope(principal, 'invoke')) {
      return rpcError(res, 403, 'this API token lacks the invoke scope', { 'www-authenticate': 'Bearer realm="mcp", error="insufficient_scope", scope="invoke"' });
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.sessions.get(sessionId);
      // Another token's session is no more this token's to use than one that does not exist.
      if (!session || session.principal.tokenId !== principal.tokenId || session.principal.name !== principal.name) {
        return rpcError(res, 404, 'no such MCP session: initialize a new one');
      }
      session.lastUsed = Date.now();
      // Most recently used last: the first is the one to close when there are too many.
      this.sessions.delete(sessionId);
      this.sessions.set(sessionId, session);
      if (req.method === 'GET') {
        this.o.onStream?.(res);
        session.listening++;
        res.once('close', () => {
          session.listening--;
          session.lastUsed = Date.now();
        });
      }
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return rpcError(res, 400, 'no Mcp-Session-Id: initialize first with a POST');
    return this.open(req, res, principal);
  }

  /** Ends every session and stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    clearTimeout(this.flush);
    this.listening.close();
    await Promise.all([...this.sessions.values()].map((session) => this.end(session)));
  }

  private async open(req: IncomingMessage, res: ServerResponse, principal: Principal): Promise<void> {
    if (this.closed) return rpcError(res, 503, 'shutting down');
    let session: ClientSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session = { id, transport, server, principal, lastUsed: Date.now(), listening: 0, forget: () => undefined };
        const current = session;
        current.forget = this.o.openSessions.add(principal.tokenId, () => void this.end(current));
        this.sessions.set(id, current);
        while (this.sessions.size > this.o.maxSessions) void this.end(this.sessions.values().next().value!);
      },
    });
    const server = createSessionServer({
      pages: this.o.pages,
      forwarder: this.o.forwarder,
      principal,
      separator: this.o.separator,
      reaches: await this.o.identity.reaches(),
      subscribe: (uri) => this.o.subscriptions().subscribe(session!.id, uri),
      unsubscribe: (uri) => this.o.subscriptions().unsubscribe(session!.id, uri),
    });
    transport.onclose = () => {
      if (session) this.forget(session);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res);
    // Not an initialize, or a refused one: nothing to keep.
    if (!session) await server.close().catch(() => {});
  }

  private forget(session: ClientSession): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    session.forget();
    this.o.subscriptions().dropSession(session.id);
  }

  private async end(session: ClientSession): Promise<void> {
    this.forget(session);
    await session.server.close().catch(() => {});
  }

  private closeIdle(): void {
    const before = Date.now() - this.o.idleMs;
    for (const session of this.sessions.values()) if (session.listening === 0 && session.lastUsed < before) void this.end(session);
  }

  /** Tells one session a subscribed resource changed. */
  notifyResourceUpdated(sessionId: string, uri: string): void {
    void this.sessions.get(sessionId)?.server.sendResourceUpdated({ uri }).catch(() => {});
  }

  /**
   * DNS rebinding: a browser page of another origin, or a request that reached a
   * loopback address under another name, is refused. With MCP_ALLOWED_HOSTS set,
   * only those Host values are accepted.
   */
  private refusedOrigin(req: IncomingMessage): string | null {
    const host = (req.headers.host ?? '').toLowerCase();
    if (this.o.allowedHosts) {
      if (!this.o.allowedHosts.includes(host) && !this.o.allowedHosts.includes(hostname(host))) return `host ${JSON.stringify(host)} is not allowed (MCP_ALLOWED_HOSTS)`;
    } else if (isLoopbackAddress(req.socket.localAddress) && !LOOPBACK_NAMES.has(hostname(host)) && isIP(hostname(host)) === 0) {
      return `host ${JSON.stringify(host)} is not allowed on a loopback address: use localhost or 127.0.0.1`;
    }
    const origin = req.headers.origin;
    if (origin === undefined) return null;
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return 'malformed Origin header';
    }
    if (originHost === host || this.o.allowedOrigins?.includes(origin)) return null;
    return `origin ${JSON.stringify(origin)} is not allowed (CORS_ORIGINS)`;
  }

  /** The Origin of a cross-origin request from a CORS_ORIGINS page (refusedOrigin has let it in); else null. */
  private listedCrossOrigin(req: IncomingMessage): string | null {
    const origin = req.headers.origin;
    if (origin === undefined || !this.o.allowedOrigins?.includes(origin)) return null;
    return origin;
  }

  /**
   * Every visibility-changing event, from any worker, becomes list_changed for
   * every session here (bursts coalesced). A feed, not subscribe(): subscribe()
   * drops the `resync` items, and those are the only sign that events were
   * missed while Redis was away (from this worker, or from another that could
   * not publish). Nothing replays such events to this endpoint, so without
   * reacting to resync a client would keep a stale list until some later
   * change, which may never come.
   */
  private async followEvents(): Promise<void> {
    for (;;) {
      const item = await this.listening.next();
      if (item.kind === 'closed') return;
      if (item.kind === 'message') {
        if (CHANGES_LISTS.has(item.message.type)) this.scheduleListChanged(item.message.type === 'TOOL_TOGGLED');
      } else if (item.kind === 'resync') {
        this.o.logger.info('mcp: the event bus may have missed catalog events; telling every session its lists changed');
        this.scheduleListChanged(false);
      } else {
        // Overflowed (this worker could not keep up): say everything changed, and listen again.
        if (this.closed) return;
        this.o.logger.warn('mcp: missed catalog events; telling every session its lists changed');
        this.scheduleListChanged(false);
        this.listening = this.o.events.feed();
      }
    }
  }

  private scheduleListChanged(toolsOnly: boolean): void {
    if (toolsOnly) this.pendingTools = true;
    else this.pendingAll = true;
    this.flush ??= setTimeout(() => {
      this.flush = undefined;
      const all = this.pendingAll;
      this.pendingAll = this.pendingTools = false;
      for (const session of this.sessions.values()) {
        const server = session.server;
        void server.sendToolListChanged().catch(() => {});
        if (all) {
          void server.sendResourceListChanged().catch(() => {});
          void server.sendPromptListChanged().catch(() => {});
        }
      }
    }, 20);
  }
}
