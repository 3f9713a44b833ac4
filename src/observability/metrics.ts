// Prometheus metrics of one app. Each app has a Registry of its own, never
// prom-client's global one: tests run several apps in one process, and each
// must count only what it did. Counters and histograms are updated where the
// work happens (through callbacks, so that the services know nothing of
// Prometheus); the gauges that describe state (catalog, gateways, leader,
// sessions) are read when /metrics is scraped, never maintained per write.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FederationLoopError } from '../errors.js';
import type { PeerOperation } from '../federation/gateway-service.js';
import { PeerConnectionError, type PeerFailureReason } from '../federation/peer-errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';

export const METRICS_PREFIX = 'mcp_federation_';

/** Most distinct GraphQL operation names given a series of their own; later ones count as `other`. */
export const MAX_OPERATION_NAMES = 100;

const GRAPHQL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// A forwarded call is bounded by TOOL_CALL_TIMEOUT_MS (60 s by default).
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
// A probe by PEER_RETRY_TOTAL_MS (30 s by default), a health check by HEALTH_CHECK_TIMEOUT_MS (10 s).
const PEER_BUCKETS = CALL_BUCKETS;

/** The gateway_id of a peer operation that has no gateway: a registration that stored none. */
export const NO_GATEWAY = 'none';

/**
 * The `reason` of a failed peer operation, from a fixed set: the peer's failure
 * (PeerConnectionError.reason), LOOP (the peer already reaches this deployment),
 * or OTHER (anything else: a database error, a name conflict, a stale term).
 */
export type PeerOperationReason = PeerFailureReason | 'LOOP' | 'OTHER';

export function peerOperationReason(error: unknown): PeerOperationReason {
  if (error instanceof PeerConnectionError) return error.reason;
  if (error instanceof FederationLoopError) return 'LOOP';
  return 'OTHER';
}

/** What the scrape-time gauges read: each is cheap (one SQL statement in all, and in-memory state). */
export interface MetricSources {
  prisma: PrismaClient;
  /** Feeds of the event fan-out of this process. */
  subscribers: () => number;
  /** Open /mcp client sessions of this worker. */
  mcpSessions: () => number;
  /** Query operations holding a permit of MAX_CONCURRENT_QUERIES, and waiting for one. */
  queries: () => { executing: number; waiting: number };
  /** Whether this worker leads, and the current leadership term (null: nobody holds a live lease). */
  leadership: () => Promise<{ leading: boolean; term: bigint | null }>;
}

interface StateRow {
  tools: number;
  resources: number;
  resource_templates: number;
  prompts: number;
  active: number;
  disabled: number;
  unreachable: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly graphqlOperations: Counter<'operation_name' | 'operation_type' | 'outcome'>;
  readonly graphqlDuration: Histogram<'operation_name' | 'operation_type'>;
  readonly forwardedCalls: Counter<'method' | 'gateway_id' | 'outcome'>;
  readonly forwardedDuration: Histogram<'method' | 'gateway_id'>;
  readonly healthChecks: Counter<'outcome'>;
  readonly peerOperations: Counter<'operation' | 'gateway_id' | 'outcome' | 'reason'>;
  readonly peerOperationDuration: Histogram<'operation' | 'gateway_id'>;
  readonly eventsPublished: Counter<'type'>;
  private readonly catalogEntries: Gauge<'kind'>;
  private readonly gateways: Gauge<'status'>;
  private readonly subscribers: Gauge;
  private readonly mcpSessions: Gauge;
  private readonly queriesExecuting: Gauge;
  private readonly queriesWaiting: Gauge;
  private readonly leader: Gauge;
  private readonly leaderTerm: Gauge;
  private readonly operationNames = new Set<string>();
  private sources: MetricSources | undefined;

  constructor(private readonly logger?: Logger) {
    const registers = [this.registry];
    const p = METRICS_PREFIX;
    this.graphqlOperations = new Counter({
      name: `${p}graphql_operations_total`,
      help: 'GraphQL operations executed, by operation name (or "anonymous"), type and outcome (ok, or error when the result has errors).',
      labelNames: ['operation_name', 'operation_type', 'outcome'],
      registers,
    });
    this.graphqlDuration = new Histogram({
      name: `${p}graphql_operation_duration_seconds`,
      help: 'Execution time of GraphQL queries and mutations.',
      labelNames: ['operation_name', 'operation_type'],
      buckets: GRAPHQL_BUCKETS,
      registers,
    });
    this.forwardedCalls = new Counter({
      name: `${p}forwarded_calls_total`,
      help: 'Calls forwarded to a peer through /mcp or GraphQL, by method, gateway and outcome (ok, tool error, peer error, cancelled, failed).',
      labelNames: ['method', 'gateway_id', 'outcome'],
      registers,
    });
    this.forwardedDuration = new Histogram({
      name: `${p}forwarded_call_duration_seconds`,
      help: 'Time from sending a forwarded call to the peer to its end, by method and gateway.',
      labelNames: ['method', 'gateway_id'],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.healthChecks = new Counter({
      name: `${p}health_checks_total`,
      help: 'Health checks of peers made by the sweeps of this worker, by outcome (ok, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.peerOperations = new Counter({
      name: `${p}peer_operations_total`,
      help: 'Operations with peers, by operation (probe, sync, health_check), gateway ("none": a registration that stored none) and outcome (ok, failed; a failure with its reason).',
      labelNames: ['operation', 'gateway_id', 'outcome', 'reason'],
      registers,
    });
    this.peerOperationDuration = new Histogram({
      name: `${p}peer_operation_duration_seconds`,
      help: 'Time an operation with a peer took, failed or not, by operation and gateway.',
      labelNames: ['operation', 'gateway_id'],
      buckets: PEER_BUCKETS,
      registers,
    });
    this.eventsPublished = new Counter({
      name: `${p}events_published_total`,
      help: 'Lifecycle events this worker broadcast after their commit, by type.',
      labelNames: ['type'],
      registers,
    });
    this.catalogEntries = new Gauge({
      name: `${p}catalog_entries`,
      help: 'Catalog entries clients can see (enabled entries of ACTIVE gateways), by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.gateways = new Gauge({ name: `${p}gateways`, help: 'Registered gateways, by status.', labelNames: ['status'], registers });
    this.subscribers = new Gauge({ name: `${p}event_subscribers`, help: 'Open feeds of the event fan-out of this process.', registers });
    this.mcpSessions = new Gauge({ name: `${p}mcp_sessions`, help: 'Open /mcp client sessions of this worker.', registers });
    this.queriesExecuting = new Gauge({ name: `${p}graphql_queries_executing`, help: 'Query operations executing now, at most MAX_CONCURRENT_QUERIES (peer-answered ones not counted).', registers });
    this.queriesWaiting = new Gauge({ name: `${p}graphql_queries_waiting`, help: 'Query operations waiting for their turn to execute.', registers });
    this.leader = new Gauge({ name: `${p}leader`, help: '1 while this worker leads (runs the health checker), else 0.', registers });
    this.leaderTerm = new Gauge({ name: `${p}leader_term`, help: 'The current leadership term (0 when nobody holds a live lease).', registers });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the scrape-time gauges are read from (set once the app is wired). */
  observe(sources: MetricSources): void {
    this.sources = sources;
  }

  /** Counts and times one peer operation. No URL, name or message becomes a label: a failure's reason is one of a fixed set. */
  peerOperation({ operation, gatewayId, ok, error, durationMs }: PeerOperation): void {
    const gateway_id = gatewayId ?? NO_GATEWAY;
    this.peerOperations.inc(ok ? { operation, gateway_id, outcome: 'ok' } : { operation, gateway_id, outcome: 'failed', reason: peerOperationReason(error) });
    this.peerOperationDuration.observe({ operation, gateway_id }, durationMs / 1000);
  }

  /** A GraphQL operation name as a label: bounded in number, whatever clients send. */
  operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(name);
    return name;
  }

  /** The Prometheus text of everything, the state gauges read now. */
  async scrape(): Promise<string> {
    await this.readState();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async readState(): Promise<void> {
    const sources = this.sources;
    if (!sources) return;
    this.subscribers.set(sources.subscribers());
    this.mcpSessions.set(sources.mcpSessions());
    const queries = sources.queries();
    this.queriesExecuting.set(queries.executing);
    this.queriesWaiting.set(queries.waiting);
    const [state, leadership] = await Promise.allSettled([readCatalogState(sources.prisma), sources.leadership()]);
    if (state.status === 'fulfilled') {
      const row = state.value;
      this.catalogEntries.set({ kind: 'tools' }, row.tools);
      this.catalogEntries.set({ kind: 'resources' }, row.resources);
      this.catalogEntries.set({ kind: 'resource_templates' }, row.resource_templates);
      this.catalogEntries.set({ kind: 'prompts' }, row.prompts);
      this.gateways.set({ status: 'ACTIVE' }, row.active);
      this.gateways.set({ status: 'DISABLED' }, row.disabled);
      this.gateways.set({ status: 'UNREACHABLE' }, row.unreachable);
    } else {
      // No value is better than a stale one presented as current.
      this.catalogEntries.reset();
      this.gateways.reset();
      this.logger?.warn({ err: state.reason }, 'metrics: could not read the catalog and gateway counts');
    }
    if (leadership.status === 'fulfilled') {
      this.leader.set(leadership.value.leading ? 1 : 0);
      this.leaderTerm.set(Number(leadership.value.term ?? 0n));
    } else {
      this.leader.reset();
      this.leaderTerm.reset();
      this.logger?.warn({ err: leadership.reason }, 'metrics: could not read the leadership');
    }
  }
}

/**
 * Catalog sizes per kind (from the maintained catalog_count, never counted row by
 * row) and gateways per status, in one statement (the rules of federationView).
 */
async function readCatalogState(prisma: PrismaClient): Promise<StateRow> {
  const [row] = await prisma.$queryRaw<StateRow[]>`
    SELECT
      (SELECT coalesce(sum(c.enabled), 0) FROM catalog_count c JOIN gateway g ON g.id = c.gateway_id WHERE c.kind = 'tool' AND g.enabled AND g.reachable)::int AS tools,
      (SELECT coalesce(sum(c.enabled), 0) FROM catalog_count c JOIN gateway g ON g.id = c.gateway_id WHERE c.kind = 'resource' AND g.enabled AND g.reachable)::int AS resources,
      (SELECT coalesce(sum(c.enabled), 0) FROM catalog_count c JOIN gateway g ON g.id = c.gateway_id WHERE c.kind = 'resource_template' AND g.enabled AND g.reachable)::int AS resource_templates,
      (SELECT coalesce(sum(c.enabled), 0) FROM catalog_count c JOIN gateway g ON g.id = c.gateway_id WHERE c.kind = 'prompt' AND g.enabled AND g.reachable)::int AS prompts,
      (SELECT count(*) FROM gateway WHERE enabled AND reachable)::int AS active,
      (SELECT count(*) FROM gateway WHERE NOT enabled)::int AS disabled,
      (SELECT count(*) FROM gateway WHERE enabled AND NOT reachable)::int AS unreachable`;
  return row!;
}
