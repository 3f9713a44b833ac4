import type { CatalogReader } from '../catalog/catalog-reader.js';
import type { EventBus } from '../events/event-bus.js';
import type { GatewayService } from '../federation/gateway-service.js';
import type { HealthChecker } from '../health/health-checker.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Forwarder } from '../mcp/forwarder.js';
import type { ApiTokenService } from '../security/api-tokens.js';
import type { Principal } from '../security/scopes.js';

/** What resolvers may use: the services, never business logic of their own. */
export interface Services {
  prisma: PrismaClient;
  /** Catalog listings, searches and counts. */
  catalog: CatalogReader;
  tokens: ApiTokenService;
  events: EventBus;
  gateways: GatewayService;
  health: HealthChecker;
  /** Calls forwarded to the owning peer (shared with /mcp). */
  forwarder: Forwarder;
}

export interface GraphQLContext extends Services {
  principal: Principal;
  /** Aborts when the HTTP client goes away (forwarded calls are cancelled at the peer); none over WebSocket. */
  signal?: AbortSignal;
}
