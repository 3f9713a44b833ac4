// The OpenTelemetry SDK side of tracing, loaded by tracing.ts only when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (a dynamic import), so that a process
// without tracing never loads any of this.
//
// Packages, and why these: the SDK 2.x line (`@opentelemetry/sdk-trace`,
// `-resources`, `-context-async-hooks`, `exporter-trace-otlp-http` 0.2xx), as
// SDK 3.x needs Node 22 and this service runs on Node 20; SDK 2.x wants
// @opentelemetry/api below 1.10, hence api ~1.9. No `sdk-node`: it drags in
// every exporter and auto-detector; what it would do for us is the few lines
// below. No `@envelop/opentelemetry`: a plugin of a few lines with the API
// (tracing-graphql.ts) does what is needed without recording the document,
// which can hold peer credentials as literals.
import { context, diag, DiagLogLevel, trace, type Context, type DiagLogger, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { PrismaInstrumentation } from '@prisma/instrumentation';
import type { Logger } from '../logger.js';
import { useOperationTracing } from './tracing-graphql.js';
import { createPeerTracer } from './tracing-peers.js';
import { setPeerTracer, type Tracing } from './tracing.js';

export const TRACER_NAME = 'mcp-federation-gateway';

export interface TracingSdkOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; traces go to <endpoint>/v1/traces. */
  endpoint: string;
  serviceName: string;
  logger: Logger;
}

/** A span processor that more processors can join after the provider is built (the SDK's own takes them at construction only). */
class FanOutSpanProcessor implements SpanProcessor {
  private readonly processors: SpanProcessor[];

  constructor(initial: SpanProcessor[]) {
    this.processors = [...initial];
  }

  add(processor: SpanProcessor): void {
    this.processors.push(processor);
  }

  onStart(span: Span, parentContext: Context): void {
    for (const processor of this.processors) processor.onStart(span, parentContext);
  }

  onEnding(span: Span): void {
    for (const processor of this.processors) processor.onEnding?.(span);
  }

  onEnd(span: ReadableSpan): void {
    for (const processor of this.processors) processor.onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((processor) => processor.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((processor) => processor.shutdown()));
  }
}

/** The OTLP/HTTP signal URL of OTEL_EXPORTER_OTLP_ENDPOINT, as the specification builds it. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.endsWith('/') ? endpoint : `${endpoint}/`}v1/traces`;
}

/** OpenTelemetry's own complaints (an unreachable collector, a dropped batch) as warnings in our log, never silent. */
function diagLogger(logger: Logger): DiagLogger {
  const warn = (message: string, ...args: unknown[]) => {
    const err = args.find((arg) => arg instanceof Error);
    logger.warn(err ? { err } : {}, `opentelemetry: ${message}`);
  };
  const ignore = () => undefined;
  return { error: warn, warn, info: ignore, debug: ignore, verbose: ignore };
}

/** The one SDK installation of this process, shared by every app started while it runs. */
interface Installation {
  provider: TracerProvider;
  processors: FanOutSpanProcessor;
  tracer: Tracer;
  users: number;
  uninstall(): Promise<void>;
}

let installation: Installation | undefined;

function install(options: TracingSdkOptions): Installation {
  const { logger } = options;
  const diagInstalled = diag.setLogger(diagLogger(logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  // The exporter reads the other standard variables itself (OTEL_EXPORTER_OTLP_HEADERS,
  // _TIMEOUT, _COMPRESSION, certificates). A URL given here would win over a
  // traces-only OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, which the specification
  // says must win over the general one: with that set, the exporter chooses.
  const exporter = new OTLPTraceExporter(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? {} : { url: tracesUrl(options.endpoint) });
  const processors = new FanOutSpanProcessor([new BatchSpanProcessor({ exporter })]);
  // OTEL_RESOURCE_ATTRIBUTES is honoured; OTEL_SERVICE_NAME (from the configuration) wins over it, as specified.
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': options.serviceName }));
  const provider = new TracerProvider({ resource, spanProcessors: [processors] });

  // Parentage across awaits (a resolver's SQL and peer calls under the operation's
  // span) needs a context manager; AsyncLocalStorage is Node's.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const contextInstalled = context.setGlobalContextManager(contextManager);
  if (!contextInstalled) contextManager.disable(); // another one is installed (a preloaded SDK): use it
  // Global too, so that any library using the API joins our traces. If a
  // preloaded SDK holds the global slot, our own spans still go through our
  // provider, which the code below uses directly.
  const traceInstalled = trace.setGlobalTracerProvider(provider);
  if (!traceInstalled) logger.warn('opentelemetry: a tracer provider was already installed; this service exports its own spans through OTEL_EXPORTER_OTLP_ENDPOINT all the same');

  // Prisma 7 looks its tracing helper up on globalThis at every operation, so
  // enabling it works for clients created before; with driver adapters the
  // query interpreter runs in-process and reports each SQL statement as
  // `prisma:client:db_query` (db.query.text holds the statement with $n
  // placeholders, never the values).
  const prisma = new PrismaInstrumentation({ enabled: false });
  prisma.setTracerProvider(provider);
  prisma.enable();

  const tracer = provider.getTracer(TRACER_NAME, '0.1.0');
  setPeerTracer(createPeerTracer(tracer));

  const uninstall = async () => {
    // First nothing new: no peer spans, no Prisma spans.
    setPeerTracer(undefined);
    prisma.disable();
    try {
      // Ends the batch processor, which exports what it still holds.
      await provider.shutdown();
    } catch (error) {
      logger.warn({ err: error }, 'opentelemetry: flushing the last spans failed');
    }
    if (traceInstalled) trace.disable();
    if (contextInstalled) context.disable();
    if (diagInstalled) diag.disable();
  };
  logger.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? undefined : tracesUrl(options.endpoint), serviceName: options.serviceName }, 'tracing on: exporting spans over OTLP/HTTP');
  return { provider, processors, tracer, users: 0, uninstall };
}

export function startTracingSdk(options: TracingSdkOptions): Tracing {
  // One provider per process: the API's globals, the context manager and Prisma's
  // helper are process-wide. A second app (tests run several) shares it; the
  // last one to shut down uninstalls it.
  const shared = (installation ??= install(options));
  shared.users++;
  let closing: Promise<void> | undefined;
  return {
    addSpanProcessor: (processor) => shared.processors.add(processor),
    graphQLPlugin: () => useOperationTracing(shared.tracer),
    shutdown: () =>
      (closing ??= (async () => {
        shared.users--;
        if (shared.users > 0) {
          await shared.provider.forceFlush().catch((error: unknown) => options.logger.warn({ err: error }, 'opentelemetry: flushing spans failed'));
          return;
        }
        if (installation === shared) installation = undefined;
        await shared.uninstall();
      })()),
  };
}
