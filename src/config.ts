// The whole environment of the process, validated in one place. Every default
// lives here; README.md's configuration table is kept in step by a test.
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');
// Digits only: z.coerce.number() would read " " as 0 (PORT=" " listening on a
// random port) and "1e3" or "0x10" as numbers nobody meant to write.
const int = (min: number, max: number) => {
  const expected = `expected a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, expected)
    .transform(Number)
    .pipe(z.number().int().min(min, expected).max(max, expected));
};

export const configSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1').describe('Address to listen on.'),
  PORT: int(0, 65535).default(4000).describe('Port to listen on (0 picks a free one).'),
  DATA_DIR: z.string().min(1).default('./data').describe('Directory for the embedded database and the generated secret key.'),
  DATABASE_URL: z
    .string()
    .regex(/^(memory:|postgres(ql)?:\/\/.+)$/, 'expected "memory:" or a postgres:// URL')
    .optional()
    .describe('Unset: PGlite in DATA_DIR. `memory:`: in-memory PGlite. `postgres://…`: PostgreSQL.'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'expected a redis:// or rediss:// URL')
    .optional()
    .describe('Unset: lifecycle events reach subscribers of this process only. Set: fanned out to every worker through Redis pub/sub.'),
  REDIS_CHANNEL_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'expected 1 to 100 letters, digits or _ . : -')
    .default('mcp-federation')
    .describe('Namespace of the Redis pub/sub channel: deployments sharing one Redis see only their own events.'),
  SUBSCRIPTION_BUFFER: int(1, 1_000_000).default(1_000).describe('Most events one gatewayEvents subscriber may have waiting; one that falls further behind is ended with an error saying to resume with `after`.'),
  EVENT_RETENTION_DAYS: int(0, 36_500).default(30).describe('Events older than this many days are pruned by the leader (0: no age limit). Needs HEALTH_CHECKS on some worker.'),
  EVENT_RETENTION_MAX: int(0, 1_000_000_000).default(1_000_000).describe('The event log keeps at most this many of the newest sequences; older ones are pruned by the leader (0: no count limit).'),
  EVENT_PRUNE_INTERVAL_MS: int(1_000, 86_400_000).default(60_000).describe('How often the leader prunes the event log.'),
  EVENT_PRUNE_BATCH: int(1, 100_000).default(5_000).describe('Most events one pruning transaction deletes; a run deletes batch after batch until nothing is due.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json').describe('`pretty`: one readable line per log entry, for a person at a terminal; `json`: one JSON object per line, for a log pipeline. Secrets are redacted in both.'),
  // The standard OpenTelemetry variable, read here so that a typo stops the start
  // like any other; the exporter itself still reads the other OTEL_EXPORTER_OTLP_*.
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
    .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), 'expected no credentials in the URL (send them with OTEL_EXPORTER_OTLP_HEADERS)')
    .optional()
    .describe('OpenTelemetry collector to send traces to over OTLP/HTTP, such as `http://127.0.0.1:4318` (spans go to its /v1/traces). Unset: no tracing, and the OpenTelemetry SDK is not loaded. The other standard OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression, a traces-only endpoint) apply.'),
  OTEL_SERVICE_NAME: z
    .string()
    .trim()
    .min(1)
    .max(255, 'expected at most 255 characters')
    .default('mcp-federation')
    .describe('`service.name` of the traces (with OTEL_EXPORTER_OTLP_ENDPOINT set).'),
  ADMIN_TOKEN: z
    .string()
    .min(32, 'expected at least 32 characters')
    .optional()
    .describe('A token accepted with every scope. Unset and no token stored: the first start creates one and prints it once.'),
  METRICS_TOKEN: z
    .string()
    .min(32, 'expected at least 32 characters')
    .optional()
    .describe('A bearer token accepted at /metrics only (for a Prometheus scraper). Unset: /metrics takes an API token with the read scope only.'),
  SECRET_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$|^[0-9a-fA-F]{64}$/, 'expected 32 bytes as base64 or hex')
    .optional()
    .describe('Key for peer credentials at rest. Unset: generated into DATA_DIR/secret.key (mode 0600). Every worker on one database needs the same key: a start with another is refused.'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe('`production` turns off GraphiQL and Pothos\' unused-query checks.'),
  GRAPHIQL: bool.optional().describe('Serve GraphiQL at /graphql in a browser. Default: on unless NODE_ENV=production.'),
  CORS_ORIGINS: z
    .string()
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/?#\s]+$/, 'expected origins such as https://dash.example:8443, comma-separated')).min(1))
    .optional()
    .describe('Origins (comma-separated, `https://host[:port]`) whose pages may call the API from a browser. Unset: no cross-origin access.'),
  MAX_QUERY_DEPTH: int(1, 100).default(12).describe('Deepest selection a GraphQL operation may have.'),
  MAX_QUERY_COST: int(1, 1_000_000).default(20_000).describe('Largest cost (graphql-armor cost limit) of one operation.'),
  MAX_QUERY_ALIASES: int(0, 1000).default(30).describe('Most aliases in one operation.'),
  MAX_QUERY_TOKENS: int(10, 1_000_000).default(5_000).describe('Most lexical tokens in one operation.'),
  MAX_QUERY_DIRECTIVES: int(0, 1000).default(50).describe('Most directives in one operation.'),
  MAX_CONCURRENT_QUERIES: int(1, 10_000).default(8).describe('Most query operations one worker executes at once; more wait their turn, in order. Bounds what concurrent queries hold in memory. Queries answered by a peer (readResource, getPrompt) are not counted.'),
  MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024).default(1_048_576).describe('Largest request body accepted on /graphql, and largest WebSocket message (a bigger one closes the socket with 1009).'),
  SEARCH_MAX_CHARS: int(1, 10_000).default(200).describe('Longest text a catalog search (`filter: { search }`) accepts; a longer one is refused.'),
  SEARCH_COUNT_LIMIT: int(1, 10_000_000).default(1_000).describe('The totalCount of a catalog search counts at most this many matches (a count equal to it means at least that many); counts without a search are exact.'),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000).describe('How long shutdown waits for in-flight requests before closing them.'),
  TOOL_NAME_SEPARATOR: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,8}$/, 'expected 1 to 8 of the characters MCP names allow (A-Z a-z 0-9 _ - .)')
    .default('__')
    .describe('Between a gateway slug and an original tool or prompt name: `<slug><separator><name>`.'),
  TOOL_NAME_MAX_LENGTH: int(16, 1024).default(128).describe('Longest namespaced tool or prompt name; longer ones are refused, never cut.'),
  PEER_BLOCK_PRIVATE_NETWORKS: bool.default(false).describe('Refuse peers in private and loopback ranges, at registration and at every connection (link-local, unspecified and metadata addresses are always refused).'),
  PEER_TIMEOUT_MS: int(100, 600_000).default(10_000).describe('Bound on connecting to a peer and on each request to it.'),
  PEER_RETRY_TOTAL_MS: int(0, 3_600_000).default(30_000).describe('Bound on all attempts of one peer operation, retries included.'),
  PEER_RETRIES: int(0, 20).default(3).describe('Retries of a peer operation after failures that can pass (refused, timeouts, 408/429/502/503/504).'),
  PEER_MAX_RESPONSE_BYTES: int(1024, 1024 * 1024 * 1024)
    .default(16_777_216)
    .describe('Largest body of one HTTP response from a peer, counted as it arrives; an event stream counts each event, not the whole stream. Past it the response is cut and the operation fails with PROTOCOL.'),
  PEER_MAX_CATALOG_ENTRIES: int(1, 10_000_000)
    .default(50_000)
    .describe('Most tools (and, each on its own, resources, resource templates, prompts) one peer may list, counted page by page; more fails with PROTOCOL.'),
  TOOL_CALL_TIMEOUT_MS: int(100, 3_600_000).default(60_000).describe('Bound on one call forwarded to a peer through /mcp or callTool (tools/call, resources/read, prompts/get, completion/complete).'),
  MCP_PAGE_SIZE: int(1, 1_000).default(100).describe('Entries per page of the lists /mcp serves (tools/list and the others); clients page on with the cursor.'),
  MCP_MAX_SESSIONS: int(1, 1_000_000).default(1_000).describe('Most MCP client sessions one worker holds; past it, the least recently used is closed.'),
  MCP_SESSION_IDLE_MS: int(1_000, 86_400_000).default(1_800_000).describe('An MCP client session with no request and no open event stream for this long is closed (the client initializes again).'),
  MCP_MAX_SUBSCRIPTIONS: int(1, 100_000).default(100).describe('Most resources one MCP client session may be subscribed to (resources/subscribe) at once.'),
  MCP_PEER_SESSIONS: int(1, 100_000).default(1_000).describe('Most pooled sessions with peers one worker keeps for forwarded calls; past it, the least recently used is closed.'),
  MCP_PEER_SESSION_IDLE_MS: int(1_000, 86_400_000).default(300_000).describe('A pooled peer session unused this long is closed.'),
  MCP_ALLOWED_HOSTS: z
    .string()
    .transform((value) => value.split(',').map((host) => host.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9.:[\]-]+$/, 'expected host names, optionally with a port, comma-separated')).min(1))
    .optional()
    .describe('Host header values /mcp accepts (DNS rebinding protection). Unset: any host, except that a request to a loopback address must name localhost, 127.0.0.1 or [::1].'),
  MCP_MAX_HOPS: int(1, 64).default(8).describe('Most gateways one forwarded call may pass through; a call that arrives having passed through that many already is refused (a guard against loops).'),
  HEALTH_CHECKS: bool.default(true).describe('`false`: this worker never leads and never checks peers; it serves the API only.'),
  HEALTH_CHECK_INTERVAL_MS: int(100, 86_400_000).default(60_000).describe('Time between the starts of two health sweeps over every enabled gateway.'),
  HEALTH_CHECK_CONCURRENCY: int(1, 1000).default(20).describe('Most peers checked at once.'),
  HEALTH_CHECK_TIMEOUT_MS: int(100, 600_000).default(10_000).describe('Bound on one health check as a whole (initialize and ping). Resyncs keep the PEER_* bounds.'),
  HEALTH_CHECK_SPREAD_PERCENT: int(0, 90).default(50).describe('Share of the interval over which a sweep spreads the starts of its checks, with jitter (0: all at once, bounded by the concurrency).'),
  HEALTH_CHECK_MAX_BACKOFF_MS: int(100, 86_400_000).default(600_000).describe('Longest wait between two checks of an unreachable gateway; the wait doubles from one interval up to this.'),
  UNHEALTHY_THRESHOLD: int(1, 1000).default(3).describe('Failed checks in a row after which a gateway is UNREACHABLE and its entries leave the catalog.'),
  CATALOG_REFRESH_INTERVAL_MS: int(1_000, 604_800_000).default(900_000).describe('How often the leader resyncs the catalog of each reachable gateway (a gateway\'s own refreshIntervalMs wins).'),
  LIST_CHANGED_DEBOUNCE_MS: int(0, 600_000).default(1_000).describe('A burst of list_changed notifications from one peer within this time is one resync.'),
  LEADER_ELECTION: z
    .enum(['redis', 'postgres', 'file', 'none'])
    .optional()
    .describe('How workers elect the one that runs the health checker. Unset: `redis` with REDIS_URL, else `postgres` (advisory lock) on PostgreSQL, else `none` (PGlite: this process is alone). `file`: a lock file in DATA_DIR, for workers sharing one disk.'),
  LEADER_LOCK_TTL_MS: int(1_000, 600_000).default(15_000).describe('Life of the leader lock; a dead leader is replaced after at most this plus LEADER_RETRY_MS.'),
  LEADER_LOCK_EXTEND_MS: int(100, 300_000).default(5_000).describe('How often the leader extends its lock; at most half of LEADER_LOCK_TTL_MS.'),
  LEADER_RETRY_MS: int(100, 300_000).default(3_000).describe('How often a worker that does not lead tries to take the lock.'),
});

/** Rules between variables, each reported on the variable to change. */
const checkedConfigSchema = configSchema.superRefine((config, ctx) => {
  if (config.LEADER_LOCK_TTL_MS < 2 * config.LEADER_LOCK_EXTEND_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['LEADER_LOCK_TTL_MS'],
      message: `expected at least twice LEADER_LOCK_EXTEND_MS (${config.LEADER_LOCK_EXTEND_MS}), so that one failed extension does not lose the lock`,
    });
  }
  if (config.HEALTH_CHECK_MAX_BACKOFF_MS < config.HEALTH_CHECK_INTERVAL_MS) {
    ctx.addIssue({ code: 'custom', path: ['HEALTH_CHECK_MAX_BACKOFF_MS'], message: 'expected at least HEALTH_CHECK_INTERVAL_MS' });
  }
  if (config.LEADER_ELECTION === 'redis' && !config.REDIS_URL) {
    ctx.addIssue({ code: 'custom', path: ['LEADER_ELECTION'], message: 'expected REDIS_URL to be set for `redis`' });
  }
  if (config.LEADER_ELECTION === 'postgres' && !config.DATABASE_URL?.startsWith('postgres')) {
    ctx.addIssue({ code: 'custom', path: ['LEADER_ELECTION'], message: 'expected a postgres:// DATABASE_URL for `postgres`' });
  }
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; a bad value becomes one readable line per variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(configSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = checkedConfigSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '?');
    return `${variable}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration\n  ${lines.join('\n  ')}`);
}

export function graphiqlEnabled(config: Config): boolean {
  return config.GRAPHIQL ?? config.NODE_ENV !== 'production';
}
