// OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
//
// This module is on every start path (app.ts, the peer client and the HTTP
// agent import it), so it imports nothing of OpenTelemetry at run time, not
// even @opentelemetry/api: only types, which the compiler erases. The SDK, the
// OTLP exporter and the Prisma instrumentation are loaded by a dynamic import
// in startTracing() when tracing is on (tracing-sdk.ts); with it off, start
// time and idle memory do not pay for them, and the instrumented code sees
// `activePeerTracer() === undefined` and takes its plain path.
//
// What becomes a span (tracing-sdk.ts, tracing-graphql.ts, tracing-peers.ts):
// each GraphQL operation; each MCP request to a peer (initialize, every list
// page, ping, forwarded calls) and the connection that opens a session; each
// HTTP request through the undici agent; each Prisma operation and SQL
// statement (@prisma/instrumentation). Peer spans carry the peer's origin
// (scheme, host, port) and never its path, query, headers or credentials.
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

export interface Tracing {
  /**
   * Adds a span processor beside the OTLP one (tests put an in-memory exporter
   * here). The SDK's provider takes its processors at construction only, so
   * ours is a fan-out that can grow.
   */
  addSpanProcessor(processor: SpanProcessor): void;
  /**
   * A yoga plugin (createGraphQLServer's `plugins`) that makes each GraphQL
   * operation of that server, over HTTP and graphql-ws, a span, parent of what
   * it causes. One per server.
   */
  graphQLPlugin(): Plugin;
  /** Flushes pending spans to the collector and uninstalls the provider, the context manager and the Prisma hook. Idempotent. */
  shutdown(): Promise<void>;
}

/** The connection a peer span describes: never more of the URL than its origin is recorded. */
export interface PeerSpanTarget {
  url: URL;
  /** The transport asked for (AUTO, STREAMABLE_HTTP, SSE) or in use. */
  transport?: string;
}

/**
 * What the peer client and the HTTP agent call to make their spans. Present
 * only while tracing is on; the callers check, so the off path is one
 * function call and a comparison, with no OpenTelemetry code behind it.
 */
export interface PeerTracer {
  /** Opening a session (initialize, with the fallback to SSE), as the parent of its requests. */
  connect<T>(target: PeerSpanTarget, work: () => Promise<T>): Promise<T>;
  /** One JSON-RPC request to a peer (`method`: initialize, tools/list, ping, tools/call, …). */
  request<T>(target: PeerSpanTarget, method: string, work: () => Promise<T>): Promise<T>;
  /** One HTTP request through the undici agent (ended when the response headers arrive). */
  http(url: string | URL, method: string, work: () => Promise<Response>): Promise<Response>;
}

let peerTracer: PeerTracer | undefined;

/** The peer tracer while tracing is on, else undefined. */
export function activePeerTracer(): PeerTracer | undefined {
  return peerTracer;
}

/** Set by tracing-sdk.ts when it starts, cleared when it shuts down. */
export function setPeerTracer(tracer: PeerTracer | undefined): void {
  peerTracer = tracer;
}

/**
 * Starts tracing if OTEL_EXPORTER_OTLP_ENDPOINT is set, else does nothing and
 * loads nothing. OpenTelemetry's provider, context manager and Prisma's hook are
 * process-wide: one app per process traces (a second one started while the
 * first traces shares its provider; see tracing-sdk.ts).
 */
export async function startTracing(config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>, logger: Logger): Promise<Tracing | undefined> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return undefined;
  const { startTracingSdk } = await import('./tracing-sdk.js');
  return startTracingSdk({ endpoint, serviceName: config.OTEL_SERVICE_NAME, logger });
}
