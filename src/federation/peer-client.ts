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
import type { FetchLike } from './http-agent.js';
import { authenticatedFetch, type AuthHeaders } from './peer-auth.js';
import { classifyError, httpStatusError, parseRetryAfter, PeerConnectionError, withoutSecrets } from './peer-errors.js';
import { untilAborted, withRetry, type RetryOptions } from './retry.js';

export type PeerTransport = 'AUTO' | 'STREAMABLE_HTTP' | 'SSE';
export type ConnectedTransport = Exclude<PeerTransport, 'AUTO'>;

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
}

export interface PeerSession {
  readonly client: Client;
  readonly transport: ConnectedTransport;
  readonly protocolVersion: string;
  readonly serverInfo: Implementation;
  readonly instructions?: string;
  readonly capabilities: ServerCapabilities;
  /** Runs one exchange bounded by the timeout; failures come out classified. */
  run<T>(exchange: (options: RequestOptions) => Promise<T>): Promise<T>;
  /** Ends the session (DELETE when the peer is healthy) and always releases the transport. */
  close(): Promise<void>;
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
  /** Header values the auth provider sent: never to be repeated in an error. */
  secrets: Set<string>;
}

async function open(kind: ConnectedTransport, options: ConnectOptions): Promise<PeerSession> {
  const seen: Seen = { secrets: new Set() };
  const signed = authenticatedFetch(options.fetch, options.auth ?? NO_AUTH, (values) => values.forEach((v) => seen.secrets.add(v)));
  // The SDK opens a standing GET event stream after every initialize. Only a
  // session that listens for notifications needs one; for the others (probes,
  // health checks) it would cost the peer a request and a held connection.
  const listens = options.onNotification !== undefined;
  const fetch: FetchLike = async (url, init) => {
    if (kind === 'STREAMABLE_HTTP' && !listens && (init?.method ?? 'GET') === 'GET') return new Response(null, { status: 405 });
    try {
      const response = await signed(url, init);
      if (!response.ok) seen.lastResponse = { status: response.status, retryAfter: response.headers.get('retry-after') };
      return response;
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

  const client = new Client(options.clientInfo ?? CLIENT_INFO, { capabilities: {}, jsonSchemaValidator: sharedValidator() });
  const explain = (error: unknown) => explainFailure(error, seen);
  // Some failures only reach onerror (a broken SSE stream, an unparsable message); the
  // request waiting for that answer would otherwise sit until its timeout.
  const broken = new AbortController();
  let unhealthy = false;
  client.onerror = (error) => {
    if (!broken.signal.aborted && breaksSession(error)) broken.abort(explain(error));
    options.onError?.(error);
  };
  if (options.onNotification) {
    const notify = options.onNotification;
    client.fallbackNotificationHandler = async (notification) => notify(notification);
  }

  const run = async <T>(exchange: (o: RequestOptions) => Promise<T>): Promise<T> => {
    // A controller per exchange, aborted only on failure: the SDK never removes its
    // abort listener, so a shared or later-firing signal would cancel finished requests.
    const controller = new AbortController();
    const stop = (reason: unknown) => controller.abort(reason);
    const timer = setTimeout(() => stop(new PeerConnectionError('TIMEOUT', `peer did not answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    const unlink = [broken.signal, options.signal].map((signal) => follow(signal, stop));
    try {
      return await untilAborted(exchange({ timeout: options.timeoutMs, signal: controller.signal }), controller.signal);
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
    run: async (exchange) => {
      if (closing) throw new PeerConnectionError('REFUSED', 'peer session is closed', { retryable: false });
      return run(exchange);
    },
    close,
  };
}

function explainFailure(error: unknown, seen: Seen): PeerConnectionError {
  // The SSE client's EventSource flattens fetch failures to text; what fetch threw is on record.
  const source = error instanceof SseError && error.code === undefined && seen.lastError !== undefined ? seen.lastError : error;
  let failure = classifyError(source);
  // The SDK's HTTP errors carry the status but not the headers; Retry-After is on record.
  const last = seen.lastResponse;
  if (failure.reason === 'HTTP_STATUS' && failure.retryable && last && last.status === failure.status) {
    failure = httpStatusError(last.status, parseRetryAfter(last.retryAfter));
  }
  return withoutSecrets(failure, seen.secrets);
}

const breaksSession = (error: unknown) =>
  error instanceof SseError || error instanceof SyntaxError || /ZodError$/.test((error as Error | undefined)?.name ?? '');

/** Fetches the whole catalog, following every page; lists the peer does not advertise are skipped. */
export async function fetchCatalog(session: PeerSession): Promise<PeerCatalog> {
  const { capabilities: caps } = session;
  const [tools, resources, resourceTemplates, prompts] = await Promise.all([
    // tools/list is asked even when not advertised: some peers forget the capability.
    listAll(session, 'tools/list', ListToolsResultSchema, (r) => r.tools, !caps.tools),
    caps.resources ? listAll(session, 'resources/list', ListResourcesResultSchema, (r) => r.resources) : [],
    // Servers with only static resources may not implement templates/list at all.
    caps.resources ? listAll(session, 'resources/templates/list', ListResourceTemplatesResultSchema, (r) => r.resourceTemplates, true) : [],
    caps.prompts ? listAll(session, 'prompts/list', ListPromptsKeepingArguments, (r) => r.prompts) : [],
  ]);
  const { transport, protocolVersion, serverInfo, instructions, capabilities } = session;
  return { transport, protocolVersion, serverInfo, instructions, capabilities, tools, resources, resourceTemplates, prompts };
}

async function listAll<S extends AnySchema, T>(
  session: PeerSession,
  method: ClientRequest['method'],
  schema: S,
  pick: (page: SchemaOutput<S>) => T[],
  optional = false,
): Promise<T[]> {
  const items: T[] = [];
  const cursors = new Set<string>();
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    const request = { method, params: cursor === undefined ? undefined : { cursor } } as ClientRequest;
    // Through request(), not listTools(): that one compiles an output validator per tool.
    const result = await session.run((o) =>
      session.client.request(request, schema, o).catch((error: unknown) => {
        if (optional && error instanceof McpError && error.code === ErrorCode.MethodNotFound) return undefined;
        throw error;
      }),
    );
    if (result === undefined) return items;
    items.push(...pick(result));
    cursor = (result as { nextCursor?: string }).nextCursor;
    if (cursor === undefined) return items;
    if (cursors.has(cursor) || page >= MAX_PAGES) {
      throw new PeerConnectionError('PROTOCOL', `peer's ${method} pagination does not end (cursor repeated or over ${MAX_PAGES} pages)`);
    }
    cursors.add(cursor);
  }
}

export interface ProbeOptions extends ConnectOptions {
  retry: Omit<RetryOptions, 'signal'>;
}

/** Connect, fetch the catalog, close; retried as a whole while the failure can pass. */
export async function probePeer(options: ProbeOptions): Promise<PeerCatalog> {
  try {
    return await withRetry(
      async (_attempt, signal) => {
        const session = await connectPeer({ ...options, signal });
        try {
          return await fetchCatalog(session);
        } finally {
          await session.close();
        }
      },
      { ...options.retry, signal: options.signal },
    );
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
