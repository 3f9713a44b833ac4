// All outbound HTTP to peers goes through one undici Agent, so keep-alive
// sockets are pooled across syncs and health checks, and every request gets
// the same connect/headers/body bounds without each caller remembering them.
import { Agent, fetch as undiciFetch } from 'undici';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

export type { FetchLike };

export interface HttpAgentOptions {
  /** TCP + TLS handshake bound. */
  connectTimeoutMs: number;
  /** Time from sending a request to receiving the response headers. */
  headersTimeoutMs: number;
  /**
   * Longest silence between two body chunks. SSE streams are bodies too: an
   * idle stream longer than this is cut, so keep it above the request timeout.
   */
  bodyTimeoutMs: number;
  /** How long an idle pooled socket is kept. */
  keepAliveTimeoutMs?: number;
  /** Sockets per origin; unset means unlimited. */
  connectionsPerOrigin?: number;
}

export interface HttpAgent {
  /** A WHATWG fetch bound to the agent, in the shape the MCP transports take. */
  readonly fetch: FetchLike;
  readonly agent: Agent;
  close(): Promise<void>;
}

export function createHttpAgent(options: HttpAgentOptions): HttpAgent {
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
    ...(options.connectionsPerOrigin ? { connections: options.connectionsPerOrigin } : {}),
  });
  // undici's own fetch, not the global one: Node 20 bundles another major of
  // undici, and handing one version's Agent to the other's fetch is unsupported.
  const fetch = ((url: string | URL, init?: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as FetchLike;
  return { fetch, agent, close: () => agent.close() };
}
