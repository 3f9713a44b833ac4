// Builds /mcp: the pooled peer sessions, the forwarder (shared with GraphQL's
// callTool and the like), the catalog pages and the endpoint, from the
// configuration. Pooled sessions whose gateway changes or goes are evicted on
// the event that says so, on every worker.
import type { Config } from '../config.js';
import type { EventBus } from '../events/event-bus.js';
import { createHttpAgent } from '../federation/http-agent.js';
import type { PeerAccess } from '../federation/peer-probe.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { ApiTokenService } from '../security/api-tokens.js';
import type { OpenSessions } from '../security/open-sessions.js';
import type { SecretBox } from '../security/secret-box.js';
import { CatalogPages } from './catalog-pages.js';
import { McpEndpoint, type McpEndpointOptions } from './endpoint.js';
import type { FederationIdentity } from './federation-identity.js';
import { Forwarder, type ForwarderOptions } from './forwarder.js';
import { PeerPool } from './peer-pool.js';
import { ResourceSubscriptions } from './resource-subscriptions.js';

export interface McpDeps {
  prisma: PrismaClient;
  events: EventBus;
  peers: PeerAccess;
  box: SecretBox;
  tokens: ApiTokenService;
  openSessions: OpenSessions;
  identity: FederationIdentity;
  logger: Logger;
  onStream?: McpEndpointOptions['onStream'];
  /** Told of each call forwarded to a peer (metrics). */
  onForwardedCall?: ForwarderOptions['onCall'];
}

/** Events after which a pooled session may speak to the wrong peer, or to one no longer in use. */
const EVICTS = new Set(['GATEWAY_UPDATED', 'GATEWAY_DELETED', 'GATEWAY_DEACTIVATED']);

export function createMcp(config: Config, deps: McpDeps) {
  const logger = deps.logger.child({ component: 'mcp' });
  // Pooled sessions hold a standing stream for the peer's notifications: no body
  // timeout; each forwarded request is bounded by TOOL_CALL_TIMEOUT_MS instead.
  const http = createHttpAgent({
    connectTimeoutMs: config.PEER_TIMEOUT_MS,
    headersTimeoutMs: config.TOOL_CALL_TIMEOUT_MS,
    bodyTimeoutMs: 0,
    blockPrivateNetworks: config.PEER_BLOCK_PRIVATE_NETWORKS,
  });
  let subscriptions: ResourceSubscriptions | undefined;
  const pool = new PeerPool({
    peers: deps.peers,
    box: deps.box,
    logger,
    timeoutMs: config.PEER_TIMEOUT_MS,
    maxSessions: config.MCP_PEER_SESSIONS,
    idleMs: config.MCP_PEER_SESSION_IDLE_MS,
    fetch: http.fetch,
    onNotification: (gatewayId, notification) => subscriptions?.fromPeer(gatewayId, notification),
  });
  const forwarder = new Forwarder({
    prisma: deps.prisma,
    pool,
    logger,
    timeoutMs: config.TOOL_CALL_TIMEOUT_MS,
    maxHops: config.MCP_MAX_HOPS,
    onCall: deps.onForwardedCall,
  });
  const endpoint = new McpEndpoint({
    tokens: deps.tokens,
    openSessions: deps.openSessions,
    events: deps.events,
    pages: new CatalogPages(deps.prisma, config.MCP_PAGE_SIZE),
    forwarder,
    subscriptions: () => subscriptions!,
    identity: deps.identity,
    logger,
    maxSessions: config.MCP_MAX_SESSIONS,
    idleMs: config.MCP_SESSION_IDLE_MS,
    separator: config.TOOL_NAME_SEPARATOR,
    allowedHosts: config.MCP_ALLOWED_HOSTS,
    allowedOrigins: config.CORS_ORIGINS,
    onStream: deps.onStream,
  });
  subscriptions = new ResourceSubscriptions(forwarder, (sessionId, uri) => endpoint.notifyResourceUpdated(sessionId, uri), config.MCP_MAX_SUBSCRIPTIONS);

  // Not awaited: evict() waits for the calls running on the session, and the
  // next events must not wait for them (the session is out of the pool at once).
  // Hygiene only: a session whose gateway changed is replaced on its next use
  // anyway (the pool compares URL, transport and credentials), and the
  // forwarder refuses disabled and deleted gateways before using one.
  let evictions = deps.events.feed();
  void (async () => {
    for (;;) {
      const item = await evictions.next();
      if (item.kind === 'closed') return;
      if (item.kind === 'overflow') evictions = deps.events.feed();
      else if (item.kind === 'message' && item.message.gatewayId && EVICTS.has(item.message.type)) void pool.evict(item.message.gatewayId);
    }
  })();

  return {
    forwarder,
    endpoint,
    async close() {
      evictions.close();
      await endpoint.close();
      await pool.close();
      await http.close();
    },
  };
}
