// Builds the gateway service with its outbound HTTP and peer access, all
// bounded by the configuration, around the credentials box the app loaded.
// The health checker reaches peers through the same access (and OAuth tokens).
import type { Config } from '../config.js';
import type { EventBus } from '../events/event-bus.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { FederationIdentity } from '../mcp/federation-identity.js';
import type { SecretBox } from '../security/secret-box.js';
import { GatewayService, type GatewayServiceOptions } from './gateway-service.js';
import { createHttpAgent } from './http-agent.js';
import { createPeerAccess } from './peer-probe.js';

/**
 * `identity`: a peer that already reaches this deployment is refused at every probe (FederationLoopError).
 * `onPeerOperation`: told of each probe and catalog sync (metrics).
 */
export function createGatewayService(
  config: Config,
  prisma: PrismaClient,
  events: EventBus,
  box: SecretBox,
  logger: Logger,
  identity?: FederationIdentity,
  onPeerOperation?: GatewayServiceOptions['onPeerOperation'],
) {
  const http = createHttpAgent({
    connectTimeoutMs: config.PEER_TIMEOUT_MS,
    headersTimeoutMs: config.PEER_TIMEOUT_MS,
    // SSE streams idle between events; cut them only well after a request would have timed out.
    bodyTimeoutMs: config.PEER_TIMEOUT_MS * 3,
    // Every connection (stored gateways, token endpoints) is vetted again under today's policy.
    blockPrivateNetworks: config.PEER_BLOCK_PRIVATE_NETWORKS,
  });
  const peers = createPeerAccess({
    fetch: http.fetch,
    timeoutMs: config.PEER_TIMEOUT_MS,
    retry: { totalTimeoutMs: config.PEER_RETRY_TOTAL_MS, retries: config.PEER_RETRIES },
    limits: { maxResponseBytes: config.PEER_MAX_RESPONSE_BYTES, maxCatalogEntries: config.PEER_MAX_CATALOG_ENTRIES },
  });
  const gateways = new GatewayService({
    prisma,
    events,
    box,
    probe: async (target, signal) => {
      const snapshot = await peers.probe(target, signal);
      identity?.assertNoLoop(snapshot.capabilities);
      return snapshot;
    },
    naming: { separator: config.TOOL_NAME_SEPARATOR, maxLength: config.TOOL_NAME_MAX_LENGTH },
    urlPolicy: { blockPrivateNetworks: config.PEER_BLOCK_PRIVATE_NETWORKS },
    logger,
    onPeerOperation,
  });
  return { gateways, peers, http, close: () => http.close() };
}
