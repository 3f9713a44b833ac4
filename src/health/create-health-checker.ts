// Builds the health checker and, unless HEALTH_CHECKS=false, the election
// that decides whether this worker runs it (and the leader's other background
// work: event log pruning).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { EventBus } from '../events/event-bus.js';
import { retentionLoop } from '../events/event-retention.js';
import type { GatewayService } from '../federation/gateway-service.js';
import { createHttpAgent } from '../federation/http-agent.js';
import type { PeerAccess } from '../federation/peer-probe.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../security/secret-box.js';
import { fileLock } from './file-lock.js';
import { HealthChecker, type HealthCheckerOptions } from './health-checker.js';
import type { ElectionMode, LeaderLock } from './leader-lock.js';
import { LeaderElection } from './leader-election.js';
import { HEALTH_CHECKER_ROLE, isStaleTerm } from './leadership-store.js';
import { postgresLock } from './postgres-lock.js';
import { redisLock } from './redis-lock.js';
import { soloLock } from './solo-lock.js';

export interface HealthDeps {
  db: Database;
  events: EventBus;
  gateways: GatewayService;
  peers: PeerAccess;
  box: SecretBox;
  logger: Logger;
  /** Told of each finished sweep of this worker (metrics). */
  onSweep?: HealthCheckerOptions['onSweep'];
  /** Told of each health check of one gateway, of the sweeps and checkGatewayHealth alike (metrics). */
  onPeerOperation?: HealthCheckerOptions['onPeerOperation'];
}

/** Unset LEADER_ELECTION follows what the deployment has: Redis, else PostgreSQL, else PGlite alone. */
export function electionMode(config: Config): ElectionMode {
  if (config.LEADER_ELECTION) return config.LEADER_ELECTION;
  if (config.REDIS_URL) return 'redis';
  if (config.DATABASE_URL?.startsWith('postgres')) return 'postgres';
  return 'none';
}

function leaderLock(config: Config, logger: Logger): LeaderLock {
  const ttlMs = config.LEADER_LOCK_TTL_MS;
  const extendMs = config.LEADER_LOCK_EXTEND_MS;
  switch (electionMode(config)) {
    case 'redis':
      return redisLock({ url: config.REDIS_URL!, key: `${config.REDIS_CHANNEL_PREFIX}:leader:${HEALTH_CHECKER_ROLE}`, ttlMs, extendMs, logger });
    case 'postgres':
      return postgresLock({ url: config.DATABASE_URL!, extendMs });
    case 'file':
      return fileLock({ dir: config.DATA_DIR, ttlMs, extendMs });
    case 'none':
      return soloLock();
  }
}

export function createHealthChecker(config: Config, deps: HealthDeps): { checker: HealthChecker; start(): void; close(): Promise<void> } {
  const instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  // Standing list_changed streams stay silent for long stretches: no body timeout.
  // Their liveness is the health checks' business; a dead peer's session is closed
  // when the peer is marked unreachable.
  const standing = createHttpAgent({
    connectTimeoutMs: config.PEER_TIMEOUT_MS,
    headersTimeoutMs: config.PEER_TIMEOUT_MS,
    bodyTimeoutMs: 0,
    blockPrivateNetworks: config.PEER_BLOCK_PRIVATE_NETWORKS,
  });
  const checker = new HealthChecker({
    prisma: deps.db.prisma,
    events: deps.events,
    gateways: deps.gateways,
    peers: deps.peers,
    standingFetch: standing.fetch,
    box: deps.box,
    logger: deps.logger.child({ component: 'health', instanceId }),
    instanceId,
    onSweep: deps.onSweep,
    onPeerOperation: deps.onPeerOperation,
    settings: {
      intervalMs: config.HEALTH_CHECK_INTERVAL_MS,
      concurrency: config.HEALTH_CHECK_CONCURRENCY,
      timeoutMs: config.HEALTH_CHECK_TIMEOUT_MS,
      spreadPercent: config.HEALTH_CHECK_SPREAD_PERCENT,
      maxBackoffMs: config.HEALTH_CHECK_MAX_BACKOFF_MS,
      threshold: config.UNHEALTHY_THRESHOLD,
      refreshIntervalMs: config.CATALOG_REFRESH_INTERVAL_MS,
      debounceMs: config.LIST_CHANGED_DEBOUNCE_MS,
    },
    leaderTasks: [
      (fence, signal) =>
        retentionLoop(
          {
            prisma: deps.db.prisma,
            settings: { days: config.EVENT_RETENTION_DAYS, max: config.EVENT_RETENTION_MAX, batch: config.EVENT_PRUNE_BATCH },
            intervalMs: config.EVENT_PRUNE_INTERVAL_MS,
            fence,
            signal,
            logger: deps.logger.child({ component: 'retention', instanceId }),
          },
          isStaleTerm,
        ),
    ],
  });
  const election = config.HEALTH_CHECKS
    ? new LeaderElection({
        prisma: deps.db.prisma,
        lock: leaderLock(config, deps.logger),
        role: HEALTH_CHECKER_ROLE,
        instanceId,
        ttlMs: config.LEADER_LOCK_TTL_MS,
        extendMs: config.LEADER_LOCK_EXTEND_MS,
        retryMs: config.LEADER_RETRY_MS,
        logger: deps.logger.child({ component: 'election', instanceId }),
        onElected: (term) => checker.lead(term),
        onTermEnding: (term) => checker.termEnded(term),
      })
    : undefined;
  if (election) checker.attach(election);
  return {
    checker,
    start: () => election?.start(),
    close: async () => {
      await checker.stop();
      await standing.close();
    },
  };
}
