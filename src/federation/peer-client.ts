// An MCP client session with a peer gateway, and the catalog it serves. Every
// failure leaves here as a PeerConnectionError; every wait is bounded.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import {
  ErrorCode,
  ListPromptsResultSchema,
  PromptArgumentSchema,
  PromptSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  McpError,
  type ClientRequest,
  type Implementation,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { oversizedField, PROMPTS, RESOURCE_TEMPLATES, RESOURCES, TOOLS, type CatalogKind } from './catalog-kinds.js';
import type { FetchLike } from './http-agent.js';
import { authenticatedFetch, type AuthHeaders } from './peer-auth.js';
import { classifyError, httpStatusError, parseRetryAfter, PeerConnectionError, secretScrubber } from './peer-errors.js';
import { untilAborted, withRetry, type RetryOptions } from './retry.js';
import { activePeerTracer } from '../observability/tracing.js';

export type PeerTransport = 'AUTO' | 'STREAMABLE_HTTP' | 'SSE';
export type ConnectedTransport = Exclude<PeerTransport, 'AUTO'>;

/** Bounds on what a peer may send (PEER_MAX_RESPONSE_BYTES, PEER_MAX_CATALOG_ENTRIES). */
export interface PeerLimits {
  /**
   * Largest HTTP response body, counted as it streams in. An event stream
   * (text/event-stream) is counted per event instead: each event may be this
   * big, the stream as a whole is unbounded, as a standing notification stream
   * lives for hours and the SSE parser holds one event at a time.
   */
  maxResponseBytes: number;
  /** Most entries of one kind (tools, resources, resource templates, prompts), checked page by page. */
  maxCatalogEntries: number;
}

/** config.ts's defaults, for callers that do not pass the configuration's. */
export const DEFAULT_PEER_LIMITS: PeerLimits = { maxResponseBytes: 16 * 1024 * 1024, maxCatalogEntries: 50_000 };

export interface ConnectOptions {
  url: string | URL;
  transport?: PeerTransport;
  auth?: AuthHeaders;
  /** The shared undici fetch (http-agent.ts). */
  fetch: FetchLike;
  /** Bound on connecting, and on each request after it. */
  timeoutMs: number;
  clientInfo?: Implementation;
  signal?: AbortSignal;
  /** Server notifications (list_changed and the like); without it they are dropped. */
  onNotification?: (notification: { method: string; params?: unknown }) => void;
  /** Every error the session reports outside an exchange (a broken event stream, say). */
  onError?: (error: unknown) => void;
  /** Default: DEFAULT_PEER_LIMITS. */
  limits?: PeerLimits;
}

export interface PeerSession {
  readonly client: Client;
  readonly transport: ConnectedTransport;
  readonly protocolVersion: string;
  readonly serverInfo: Implementation;
  readonly instructions?: string;
  readonly capabilities: ServerCapabilities;
  readonly limits: PeerLimits;
  /** The text with every form of the credentials this session sent replaced (for messages that repeat peer text). */
  redact(text: string): string;
  /**
   * Runs one exchange bounded by the session's timeout (or `call.timeoutMs`),
   * and cancelled when `call.signal` aborts; failures come out classified.
   */
  run<T>(exchange: (options: RequestOptions) => Promise<T>, call?: ExchangeOptions): Promise<T>;
  /** Ends the session (DELETE when the peer is healthy) and always releases the transport. */
  close(): Promise<void>;
}

/** One exchange's own bounds (a forwarded tool call waits longer than a listing, and its client may cancel it). */
export interface ExchangeOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface PeerCatalog {
  transport: ConnectedTransport;
  protocolVersion: string;
  serverInfo: Implementation;
  instructions?: string;
  capabilities: ServerCapabilities;
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
}

const CLIENT_INFO: Implementation = { name: 'mcp-federation-gateway', version: '0.1.0' };
const NO_AUTH: AuthHeaders = { headers: async () => ({}), onUnauthorized: async () => false };
/** What a server that only speaks the 2024-11-05 HTTP+SSE transport answers to a POST of initialize. */
const LEGACY_STATUSES = new Set([400, 404, 405]);
/**
 * The SDK's PromptArgument schema predates argument titles (MCP 2025-06-18) and
 * strips them; the catalog shows them, so keep them (and any later fields).
 */
const ListPromptsKeepingArguments = ListPromptsResultSchema.extend({
  prompts: z.array(PromptSchema.extend({ arguments: z.array(z.looseObject({ ...PromptArgumentSchema.shape, title: z.string().optional() })).optional() })),
});
/**
 * Each Client would build its own Ajv (about 0.4 ms, a seventh of a health
 * check's CPU); one instance serves them all, compiled schemas included.
 */
let validator: AjvJsonSchemaValidator | undefined;
const sharedValidator = () => (validator ??= new AjvJsonSchemaValidator());

const NO_RECONNECT = { maxRetries: 0, initialReconnectionDelay: 1_000, maxReconnectionDelay: 1_000, reconnectionDelayGrowFactor: 1 };
/** A pagination that has not ended after this many pages is a peer bug, not a catalog. */
const MAX_PAGES = 10_000;

export async function connectPeer(options: ConnectOptions): Promise<PeerSession> {
  // With tracing on, a span around the whole opening (both transports, when AUTO falls back).
  const tracer = activePeerTracer();
  if (!tracer) return connectWithFallback(options);
  return tracer.connect({ url: new URL(options.url), transport: options.transport ?? 'AUTO' }, () => connectWithFallback(options));
}

async function connectWithFallback(options: ConnectOptions): Promise<PeerSession> {
  const mode = options.transport ?? 'AUTO';
  if (mode === 'SSE') return open('SSE', options);
  try {
    return await open('STREAMABLE_HTTP', options);
  } catch (error) {
    // MCP spec, "Backwards compatibility": on 400/404/405 to the POST, try GET for the SSE endpoint event.
    const legacy = error instanceof PeerConnectionError && error.reason === 'HTTP_STATUS' && LEGACY_STATUSES.has(error.status ?? 0);
    if (mode === 'AUTO' && legacy) return open('SSE', options);
    throw error;
  }
}

/** What went over the wire, to explain failures the SDK reports with less detail. */
interface Seen {
  lastError?: unknown;
  lastResponse?: { status: number; retryAfter: string | null };
  /** A response over PEER_MAX_RESPONSE_BYTES: whatever the SDK makes of the cut stream, this is the failure. */
  overflow?: PeerConnectionError;
  /** Secrets the auth provider holds and header values it sent: never to be repeated in an error. */
  secrets: Set<string>;
  /** Replaces every form of those secrets in a text; rebuilt when a new one is sent. */
  scrub: (text: string) => string;
}

async function open(kind: ConnectedTransport, options: ConnectOptions): Promise<PeerSession> {
  const auth = options.auth ?? NO_AUTH;
  const limits = options.limits ?? DEFAULT_PEER_LIMITS;
  const seen: Seen = { secrets: new Set(auth.secrets?.() ?? []), scrub: (text) => text };
  seen.scrub = secretScrubber(seen.secrets);
  const signed = authenticatedFetch(options.fetch, auth, (values) => {
    const known = seen.secrets.size;
    for (const value of values) seen.secrets.add(value);
    if (seen.secrets.size > known) seen.scrub = secretScrubber(seen.secrets);
  });
  // Some failures only reach onerror (a broken SSE stream, an unparsable message), or
  // no handler at all (a cut response body); the request waiting for that answer
  // would otherwise sit until its timeout.
  const broken = new AbortController();
  const overflowed = (error: PeerConnectionError) => {
    seen.overflow ??= error;
    if (!broken.signal.aborted) broken.abort(error);
  };
  // The SDK opens a standing GET event stream after every initialize. Only a
  // session that listens for notifications needs one; for the others (probes,
  // health checks) it would cost the peer a request and a held connection.
  const listens = options.onNotification !== undefined;
  const fetch: FetchLike = async (url, init) => {
    if (kind === 'STREAMABLE_HTTP' && !listens && (init?.method ?? 'GET') === 'GET') return new Response(null, { status: 405 });
    try {
      const response = await signed(url, init);
      if (!response.ok) seen.lastResponse = { status: response.status, retryAfter: response.headers.get('retry-after') };
      return boundedBody(response, limits.maxResponseBytes, overflowed);
    } catch (error) {
      seen.lastError = error;
      throw error;
    }
  };
  const url = new URL(options.url);
  // The SDK would reopen a dropped Streamable HTTP event stream on its own, out
  // of our sight; the one who holds a standing session decides that instead.
  const transport =
    kind === 'SSE'
      ? new SSEClientTransport(url, { fetch })
      : new StreamableHTTPClientTransport(url, { fetch, reconnectionOptions: NO_RECONNECT });
  // The Client keeps the negotiated version to itself; the transport is told it.
  let protocolVersion = '';
  const setVersion = transport.setProtocolVersion.bind(transport);
  transport.setProtocolVersion = (version: string) => {
    protocolVersion = version;
    setVersion(version);
  };

  // Messages on their way out. The SDK sends notifications/cancelled for a
  // request given up on as it rejects it; closing the transport then would abort
  // that POST, and the peer would never learn to stop. close() lets them go first.
  const sending = new Set<Promise<void>>();
  const send = transport.send.bind(transport) as (...args: unknown[]) => Promise<void>;
  transport.send = (...args: Parameters<typeof transport.send>) => {
    const sent = send(...args);
    sending.add(sent);
    void sent.then(
      () => sending.delete(sent),
      () => sending.delete(sent),
    );
    return sent;
  };

  const client = new Client(options.clientInfo ?? CLIENT_INFO, { capabilities: {}, jsonSchemaValidator: sharedValidator() });
  // Every JSON-RPC request of the session goes through client.request (initialize,
  // list pages, ping, forwarded calls): with tracing on, each is a span, whoever sends it.
  const tracer = activePeerTracer();
  if (tracer) {
    const request = client.request.bind(client);
    const target = { url, transport: kind };
    client.request = ((message: ClientRequest, ...rest: unknown[]) =>
      tracer.request(target, message.method, () => (request as (...args: unknown[]) => Promise<unknown>)(message, ...rest))) as typeof client.request;
  }
  const explain = (error: unknown) => explainFailure(error, seen);
  let unhealthy = false;
  client.onerror = (error) => {
    if (!broken.signal.aborted && breaksSession(error)) broken.abort(explain(error));
    options.onError?.(error);
  };
  if (options.onNotification) {
    const notify = options.onNotification;
    client.fallbackNotificationHandler = async (notification) => notify(notification);
  }

  const run = async <T>(exchange: (o: RequestOptions) => Promise<T>, call: ExchangeOptions = {}): Promise<T> => {
    const timeoutMs = call.timeoutMs ?? options.timeoutMs;
    // A controller per exchange, aborted only on failure: the SDK never removes its
    // abort listener, so a shared or later-firing signal would cancel finished requests.
    const controller = new AbortController();
    const stop = (reason: unknown) => controller.abort(reason);
    const timer = setTimeout(() => stop(new PeerConnectionError('TIMEOUT', `peer did not answer within ${timeoutMs} ms`)), timeoutMs);
    const unlink = [broken.signal, options.signal, call.signal].map((signal) => follow(signal, stop));
    try {
      return await untilAborted(exchange({ timeout: timeoutMs, signal: controller.signal }), controller.signal);
    } catch (error) {
      const failure = explain(controller.signal.aborted ? controller.signal.reason : error);
      // A peer that timed out or dropped us is not worth a polite DELETE on close.
      unhealthy ||= failure.reason === 'TIMEOUT' || failure.reason === 'REFUSED';
      throw failure;
    } finally {
      clearTimeout(timer);
      for (const undo of unlink) undo();
    }
  };

  try {
    await run((o) => client.connect(transport, o));
  } catch (error) {
    await transport.close().catch(() => {});
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await within(Promise.allSettled([...sending]), Math.min(options.timeoutMs, 2_000));
      // Tell a healthy Streamable HTTP peer to drop our session; never wait long for it.
      if (transport instanceof StreamableHTTPClientTransport && !unhealthy && !broken.signal.aborted) {
        await within(transport.terminateSession(), Math.min(options.timeoutMs, 2_000)).catch(() => {});
      }
      await client.close().catch(() => {});
    })());

  return {
    client,
    transport: kind,
    protocolVersion,
    serverInfo: client.getServerVersion()!,
    instructions: client.getInstructions(),
    capabilities: client.getServerCapabilities() ?? {},
    limits,
    redact: (text) => seen.scrub(text),
    run: async (exchange, call) => {
      if (closing) throw new PeerConnectionError('REFUSED', 'peer session is closed', { retryable: false });
      return run(exchange, call);
    },
    close,
  };
}

function explainFailure(error: unknown, seen: Seen): PeerConnectionError {
  // A cut body surfaces as whatever the SDK makes of it (a broken stream, a failed parse, a timeout).
  if (seen.overflow) return seen.overflow;
  // The SSE client's EventSource flattens fetch failures to text; what fetch threw is on record.
  const source = error instanceof SseError && error.code === undefined && seen.lastError !== undefined ? seen.lastError : error;
  const failure = classifyError(source, seen.scrub);
  // The SDK's HTTP errors carry the status but not the headers; Retry-After is on record.
  const last = seen.lastResponse;
  if (failure.reason === 'HTTP_STATUS' && failure.retryable && last && last.status === failure.status) {
    return httpStatusError(last.status, parseRetryAfter(last.retryAfter));
  }
  return failure;
}

/** Statuses whose responses cannot have a body (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * The response with its body counted as it streams in and cut, with a
 * PROTOCOL error, past `maxBytes`: the body of an event stream per event (the
 * bytes since the last blank line), any other body as a whole. The source is
 * cancelled on the cut, which closes the connection, so the peer cannot go on.
 */
export function boundedBody(response: Response, maxBytes: number, onOverflow: (error: PeerConnectionError) => void = () => {}): Response {
  if (!response.body || NULL_BODY_STATUSES.has(response.status)) return response;
  const perEvent = mediaType(response.headers.get('content-type')) === 'text/event-stream';
  const what = perEvent ? 'an event' : 'a response body';
  const count = perEvent ? eventCounter() : (chunk: Uint8Array, total: number) => total + chunk.byteLength;
  let total = 0;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total = count(chunk, total, maxBytes);
        if (total <= maxBytes) return controller.enqueue(chunk);
        const error = new PeerConnectionError('PROTOCOL', `peer sent ${what} over ${maxBytes} bytes (PEER_MAX_RESPONSE_BYTES)`, { retryable: false });
        onOverflow(error);
        controller.error(error);
      },
    }),
  );
  const bounded = new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  // What the SDK reads to describe redirects.
  Object.defineProperties(bounded, { url: { value: response.url }, redirected: { value: response.redirected } });
  return bounded;
}

const mediaType = (contentType: string | null) => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

const LF = 0x0a;
const CR = 0x0d;

/**
 * Counts the bytes of the current SSE event: an event ends at a blank line,
 * and lines end in CRLF, LF or CR (WHATWG HTML, "Parsing an event stream").
 * Returns the count after the chunk, or more than `max` as soon as one event
 * in it goes past `max`.
 */
function eventCounter() {
  let lineStart = true; // nothing but the line terminator seen on this line yet
  let afterCR = false; // the last byte was a CR: an LF now belongs to it
  return (chunk: Uint8Array, count: number, max: number): number => {
    let cr = -1;
    let lf = -1;
    for (let i = 0; i < chunk.length; ) {
      // The next terminator, found with indexOf (the runs between terminators are the bulk).
      if (cr < i) cr = indexOrEnd(chunk, CR, i);
      if (lf < i) lf = indexOrEnd(chunk, LF, i);
      const next = Math.min(lf, cr);
      if (next > i) {
        count += next - i;
        if (count > max) return count;
        lineStart = afterCR = false;
        i = next;
        continue;
      }
      const byte = chunk[i++]!;
      if (byte === LF && afterCR) {
        afterCR = false;
        continue;
      }
      afterCR = byte === CR;
      if (lineStart) count = 0; // a blank line: the event is complete
      else count += 1;
      lineStart = true;
    }
    return count;
  };
}

const indexOrEnd = (chunk: Uint8Array, byte: number, from: number) => {
  const at = chunk.indexOf(byte, from);
  return at < 0 ? chunk.length : at;
};

const breaksSession = (error: unknown) =>
  error instanceof SseError || error instanceof SyntaxError || /ZodError$/.test((error as Error | undefined)?.name ?? '');

/** Fetches the whole catalog, following every page; lists the peer does not advertise are skipped. */
export async function fetchCatalog(session: PeerSession): Promise<PeerCatalog> {
  const { capabilities: caps } = session;
  const [tools, resources, resourceTemplates, prompts] = await Promise.all([
    // tools/list is asked even when not advertised: some peers forget the capability.
    listAll(session, 'tools/list', ListToolsResultSchema, (r) => r.tools as Tool[], TOOLS, !caps.tools),
    caps.resources ? listAll(session, 'resources/list', ListResourcesResultSchema, (r) => r.resources, RESOURCES) : [],
    // Servers with only static resources may not implement templates/list at all.
    caps.resources
      ? listAll(session, 'resources/templates/list', ListResourceTemplatesResultSchema, (r) => r.resourceTemplates, RESOURCE_TEMPLATES, true)
      : [],
    caps.prompts ? listAll(session, 'prompts/list', ListPromptsKeepingArguments, (r) => r.prompts as Prompt[], PROMPTS) : [],
  ]);
  const { transport, protocolVersion, serverInfo, instructions, capabilities } = session;
  return { transport, protocolVersion, serverInfo, instructions, capabilities, tools, resources, resourceTemplates, prompts };
}

async function listAll<S extends AnySchema, T>(
  session: PeerSession,
  method: ClientRequest['method'],
  schema: S,
  pick: (page: SchemaOutput<S>) => T[],
  kind: CatalogKind<T>,
  optional = false,
): Promise<T[]> {
  const items: T[] = [];
  const cursors = new Set<string>();
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    const request = { method, params: cursor === undefined ? undefined : { cursor } } as ClientRequest;
    // Through request(), not listTools(): that one compiles an output validator per tool.
    // The page is checked inside the exchange, so its failures are explained (and redacted) like the others.
    const entries = await session.run(async (o) => {
      const result = await session.client.request(request, schema, o).catch((error: unknown) => {
        if (optional && error instanceof McpError && error.code === ErrorCode.MethodNotFound) return undefined;
        throw error;
      });
      if (result === undefined) return undefined;
      cursor = (result as { nextCursor?: string }).nextCursor;
      return checkedPage(session, kind, method, pick(result), items.length);
    });
    if (entries === undefined) return items;
    // One by one: a spread push passes the page as arguments, and a page of 130,000 overflows the stack.
    for (const entry of entries) items.push(entry);
    if (cursor === undefined) return items;
    if (cursors.has(cursor) || page >= MAX_PAGES) {
      throw new PeerConnectionError('PROTOCOL', `peer's ${method} pagination does not end (cursor repeated or over ${MAX_PAGES} pages)`);
    }
    cursors.add(cursor);
  }
}

/** The page, if it keeps the kind within PEER_MAX_CATALOG_ENTRIES and each entry within FIELD_LIMITS. */
function checkedPage<T>(session: PeerSession, kind: CatalogKind<T>, method: string, entries: T[], before: number): T[] {
  const max = session.limits.maxCatalogEntries;
  if (before + entries.length > max) {
    throw new PeerConnectionError('PROTOCOL', `peer's ${method} lists more than ${max} ${kind.kind} (PEER_MAX_CATALOG_ENTRIES)`);
  }
  entries.forEach((entry, i) => {
    const over = oversizedField(kind, entry);
    if (!over) return;
    const key = kind.keyOf(entry);
    // The key as sent, unless it is what is too long; credentials a peer put in it never show.
    const name = typeof key === 'string' && key.length <= 80 ? ` ${JSON.stringify(session.redact(key))}` : '';
    const size = over.json ? 'characters as JSON' : 'characters';
    throw new PeerConnectionError(
      'PROTOCOL',
      `peer's ${kind.kind}[${before + i}]${name}: its ${over.field} is ${over.length} ${size}, over the limit of ${over.limit}`,
    );
  });
  return entries;
}

export interface ProbeOptions extends ConnectOptions {
  retry: Omit<RetryOptions, 'signal'>;
}

/** Connect, fetch the catalog, close; retried as a whole while the failure can pass. */
/** One attempt: connect, fetch the catalog, close. */
export async function listCatalog(options: ConnectOptions): Promise<PeerCatalog> {
  const session = await connectPeer(options);
  try {
    return await fetchCatalog(session);
  } finally {
    await session.close();
  }
}

export async function probePeer(options: ProbeOptions): Promise<PeerCatalog> {
  try {
    return await withRetry((_attempt, signal) => listCatalog({ ...options, signal }), { ...options.retry, signal: options.signal });
  } catch (error) {
    throw classifyError(error);
  }
}

/** Calls `onAbort` when the signal fires; returns the undo. */
function follow(signal: AbortSignal | undefined, onAbort: (reason: unknown) => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    onAbort(signal.reason);
    return () => {};
  }
  const listener = () => onAbort(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
