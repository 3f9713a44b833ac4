// Spans of the conversation with peers: opening a session, each JSON-RPC
// request, each HTTP request. Loaded only with tracing on (tracing-sdk.ts).
//
// What a peer span may say about the peer is its origin (scheme, host, port),
// in the standard server.address / server.port / url.scheme and in
// `mcp_federation.peer.origin`. Never the path (a peer URL may carry a secret
// in it), the query (?token=…), headers (Authorization), credentials, request
// parameters (tool arguments, resource URIs) or error messages (a peer may
// repeat our credentials in them): errors are recorded by kind only
// (`error.type`: a PeerConnectionError reason, a JSON-RPC code, an HTTP status
// or a socket error code).
import { SpanKind, SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { PeerSpanTarget, PeerTracer } from './tracing.js';

export const PEER_ORIGIN = 'mcp_federation.peer.origin';
export const PEER_TRANSPORT = 'mcp_federation.peer.transport';

/** The origin of a URL and its parts, nothing else of it. */
export function originAttributes(url: string | URL): Attributes {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return {};
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  const port = parsed.port ? Number(parsed.port) : scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined;
  return {
    // URL.origin is scheme://host[:port]: no user info, path, query or fragment.
    [PEER_ORIGIN]: parsed.origin,
    'server.address': parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(port === undefined ? {} : { 'server.port': port }),
    'url.scheme': scheme,
  };
}

/** What kind of failure this was, in a word that cannot hold a secret. */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { reason?: unknown; code?: unknown; cause?: { code?: unknown }; name?: unknown };
    // PeerConnectionError: REFUSED, TIMEOUT, TLS, HTTP_STATUS, AUTH_REJECTED, PROTOCOL, BLOCKED, DNS.
    if (e.name === 'PeerConnectionError' && typeof e.reason === 'string') return e.reason;
    // McpError: the JSON-RPC error code.
    if (e.name === 'McpError' && typeof e.code === 'number') return String(e.code);
    // undici's "fetch failed" TypeError keeps the socket error in its cause (ECONNREFUSED, …).
    if (typeof e.cause?.code === 'string' && /^[A-Z0-9_]+$/.test(e.cause.code)) return e.cause.code;
    if (typeof e.code === 'string' && /^[A-Z0-9_]+$/.test(e.code)) return e.code;
    if (typeof e.name === 'string' && /^\w+$/.test(e.name)) return e.name;
  }
  return 'Error';
}

function failed(span: Span, type: string): void {
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

function targetAttributes(target: PeerSpanTarget): Attributes {
  return { ...originAttributes(target.url), ...(target.transport ? { [PEER_TRANSPORT]: target.transport } : {}) };
}

export function createPeerTracer(tracer: Tracer): PeerTracer {
  /** Runs `work` as the active span (its children nest under it), ending it with the outcome. */
  const around = <T>(name: string, attributes: Attributes, work: () => Promise<T>, onResult?: (span: Span, result: T) => void): Promise<T> =>
    tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        const result = await work();
        onResult?.(span, result);
        return result;
      } catch (error) {
        failed(span, errorType(error));
        throw error;
      } finally {
        span.end();
      }
    });

  return {
    connect: (target, work) =>
      around('peer connect', targetAttributes(target), work, (span, session) => {
        const connected = session as { transport?: unknown; protocolVersion?: unknown };
        if (typeof connected.transport === 'string') span.setAttribute(PEER_TRANSPORT, connected.transport);
        if (typeof connected.protocolVersion === 'string' && connected.protocolVersion) span.setAttribute('mcp.protocol.version', connected.protocolVersion);
      }),
    // MCP semantic conventions: the span is named by the method; the target
    // (a tool name, a resource URI) is left out, as parameters are.
    request: (target, method, work) => around(method, { 'mcp.method.name': method, 'rpc.system': 'jsonrpc', ...targetAttributes(target) }, work),
    http: (url, method, work) =>
      around(method, { 'http.request.method': method, ...originAttributes(url) }, work, (span, response) => {
        span.setAttribute('http.response.status_code', response.status);
        // For a client, 4xx and 5xx are failures (HTTP semantic conventions).
        if (response.status >= 400) failed(span, String(response.status));
      }),
  };
}
