// Wires the whole control plane together. main.ts listens and handles signals;
// tests call createApp directly, with a database of their own if they like.
import { createServer, type Server } from 'node:http';
import { CatalogReader } from './catalog/catalog-reader.js';
import type { Config } from './config.js';
import { databaseTarget, openDatabase, type Database } from './db/database.js';
import { EventBus } from './events/event-bus.js';
import { createGatewayService } from './federation/create-gateway-service.js';
import type { PeerOperation } from './federation/gateway-service.js';
import { refreshFingerprints } from './federation/refingerprint.js';
import { createHealthChecker } from './health/create-health-checker.js';
import type { Services } from './graphql/context.js';
import { attachWebSocketServer } from './graphql/websocket.js';
import { Admission } from './graphql/query-admission.js';
import { createGraphQLServer, type GraphQLServer } from './graphql/yoga.js';
import { RequestTracker } from './http/request-tracker.js';
import { listen } from './http/listen.js';
import { createRouter } from './http/router.js';
import { createMcp } from './mcp/create-mcp.js';
import type { McpEndpoint } from './mcp/endpoint.js';
import { FederationIdentity } from './mcp/federation-identity.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './observability/metrics.js';
import { metricsHandler } from './observability/metrics-endpoint.js';
import { startTracing, type Tracing } from './observability/tracing.js';
import { ApiTokenService } from './security/api-tokens.js';
import { OpenSessions } from './security/open-sessions.js';
import { SecretBox } from './security/secret-box.js';
import { verifySecretKey } from './security/secret-key-check.js';

export interface AppOptions {
  logger?: Logger;
  /** Use this database instead of opening the configured one (tests); the app closes it. */
  database?: Database;
  /** Where the bootstrap admin token is announced (default: stdout). */
  announce?: (message: string) => void;
}

export interface App {
  config: Config;
  logger: Logger;
  db: Database;
  services: Services;
  /** The /mcp endpoint (its open sessions). */
  mcp: McpEndpoint;
  yoga: GraphQLServer;
  /** This app's Prometheus registry, served at /metrics. */
  metrics: Metrics;
  /** OpenTelemetry tracing, while OTEL_EXPORTER_OTLP_ENDPOINT is set; shut down (flushed) by close(). */
  tracing: Tracing | undefined;
  server: Server;
  /** Listens on HOST:PORT and resolves with the base URL; then creates and announces the bootstrap token if one is due. */
  listen(): Promise<string>;
  /** Graceful shutdown; idempotent. */
  close(): Promise<void>;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT);
  const db =
    options.database ??
    (await openDatabase(databaseTarget(config), {
      onLockLost: (error) => logger.fatal({ err: error }, 'lost the lock on the data directory'),
      onPoolError: (error) => logger.warn({ err: error }, 'PostgreSQL closed an idle connection'),
    }));
  let tracing: Tracing | undefined;
  try {
    // First, so that the start's own SQL is traced too; loads nothing when off.
    tracing = await startTracing(config, logger);
    const report = await db.migrate();
    if (report.applied.length > 0) logger.info({ applied: report.applied }, 'applied database migrations');

    // Before anything else starts: a worker with the wrong key must not run at all.
    const box = await SecretBox.load(config.SECRET_KEY, config.DATA_DIR);
    await verifySecretKey(db.prisma, box);
    await refreshFingerprints(db.prisma, box, logger);

    const tokens = new ApiTokenService(db.prisma, config.ADMIN_TOKEN, logger);
    const metrics = new Metrics(logger);
    const events = config.REDIS_URL
      ? EventBus.overRedis(config.REDIS_URL, config.REDIS_CHANNEL_PREFIX, logger, config.SUBSCRIPTION_BUFFER)
      : EventBus.inProcess(logger, config.SUBSCRIPTION_BUFFER);
    events.onBroadcast((message) => metrics.eventsPublished.inc({ type: message.type }));
    const identity = await FederationIdentity.load(db.prisma);
    const onPeerOperation = (operation: PeerOperation) => metrics.peerOperation(operation);
    const federation = createGatewayService(config, db.prisma, events, box, logger, identity, onPeerOperation);
    const health = createHealthChecker(config, {
      db,
      events,
      gateways: federation.gateways,
      peers: federation.peers,
      box,
      logger,
      onSweep: (sweep) => {
        metrics.healthChecks.inc({ outcome: 'ok' }, sweep.checked - sweep.failed);
        metrics.healthChecks.inc({ outcome: 'failed' }, sweep.failed);
      },
      onPeerOperation,
    });
    const tracker = new RequestTracker();
    const sessions = new OpenSessions(db.prisma, logger);
    tokens.onRevoked((tokenId) => sessions.revoked(tokenId));
    const mcp = createMcp(config, {
      prisma: db.prisma,
      events,
      peers: federation.peers,
      box,
      tokens,
      openSessions: sessions,
      identity,
      logger,
      onStream: (res) => tracker.markStream(res),
      onForwardedCall: ({ method, gatewayId, outcome, durationMs }) => {
        metrics.forwardedCalls.inc({ method, gateway_id: gatewayId, outcome });
        metrics.forwardedDuration.observe({ method, gateway_id: gatewayId }, durationMs / 1000);
      },
    });
    const catalog = new CatalogReader(db.prisma, { maxChars: config.SEARCH_MAX_CHARS, countLimit: config.SEARCH_COUNT_LIMIT });
    const services: Services = { prisma: db.prisma, catalog, tokens, events, gateways: federation.gateways, health: health.checker, forwarder: mcp.forwarder };
    const admission = new Admission(config.MAX_CONCURRENT_QUERIES);
    const yoga = createGraphQLServer(config, logger, services, {
      onHttpSubscription: (res, principal) => {
        tracker.markStream(res);
        res.once('close', sessions.add(principal.tokenId, () => res.end()));
      },
      metrics,
      admission,
      // With tracing on, each operation is a span (HTTP and graphql-ws alike).
      plugins: tracing ? [tracing.graphQLPlugin()] : [],
    });
    metrics.observe({
      prisma: db.prisma,
      subscribers: () => events.subscribers,
      mcpSessions: () => mcp.endpoint.size,
      queries: () => ({ executing: admission.executing, waiting: admission.waiting }),
      leadership: async () => {
        const status = await health.checker.status();
        return { leading: status.leading, term: status.leader?.term ?? null };
      },
    });
    const route = createRouter(config, db, yoga, {
      events,
      mcp: (req, res) => mcp.endpoint.handle(req, res),
      metrics: metricsHandler(metrics, tokens, config.METRICS_TOKEN, logger),
      admission,
    });
    const server = createServer((req, res) => {
      tracker.track(res);
      Promise.resolve(route(req, res)).catch((error: unknown) => {
        logger.error({ err: error, url: req.url }, 'request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    const websockets = attachWebSocketServer(server, yoga, tokens, sessions, { maxPayload: config.MAX_BODY_BYTES });

    let closing: Promise<void> | undefined;
    const shutdown = async () => {
      // First, so that another worker takes over the checks while this one drains.
      await health.close();
      server.close();
      tracker.stopKeepAlive(() => server.closeIdleConnections());
      server.closeIdleConnections();
      await websockets.close();
      await mcp.close();
      sessions.close();
      tracker.endStreams();
      if (!(await tracker.drain(config.SHUTDOWN_TIMEOUT_MS))) {
        logger.warn({ inFlight: tracker.size }, 'shutdown timeout: closing the remaining connections');
      }
      server.closeAllConnections();
      await federation.close();
      await events.close();
      await db.close();
      // Last, so that the spans of the shutdown itself reach the collector.
      await tracing?.shutdown();
      logger.info('stopped');
    };

    health.start();
    return {
      config,
      logger,
      db,
      services,
      mcp: mcp.endpoint,
      yoga,
      metrics,
      tracing,
      server,
      async listen() {
        const url = await listen(server, config.HOST, config.PORT);
        // Only now: a token printed by a start that then failed to listen would be
        // stored, shown once to nobody who could use it, and never shown again.
        await tokens.bootstrap(logger, options.announce ?? ((message) => console.log(message)));
        return url;
      },
      close: () => (closing ??= shutdown()),
    };
  } catch (error) {
    await db.close();
    await tracing?.shutdown();
    throw error;
  }
}
