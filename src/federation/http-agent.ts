// All outbound HTTP to peers goes through one undici Agent, so keep-alive
// sockets are pooled across syncs and health checks, and every request gets
// the same connect/headers/body bounds without each caller remembering them.
// Its connector applies the URL policy to the address each connection is
// actually made to: a stored URL is judged again under today's policy, and a
// name that resolved to something else when it was registered (DNS rebinding)
// is judged by what it resolves to now.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { addressRefusal, hostRefusal, type AddressPolicy } from '../security/url-policy.js';
import { activePeerTracer } from '../observability/tracing.js';
import { PeerConnectionError } from './peer-errors.js';

export type { FetchLike };

/** Resolves a host name for a connection: every address it may use. */
export type ConnectLookup = (hostname: string, options: LookupOptions) => Promise<LookupAddress[]>;

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
  /**
   * PEER_BLOCK_PRIVATE_NETWORKS, applied at every connection. Link-local,
   * unspecified and metadata addresses are refused whatever this says.
   */
  blockPrivateNetworks?: boolean;
  /** Host name resolution for connections (tests inject one); default: dns.lookup. */
  lookup?: ConnectLookup;
}

export interface HttpAgent {
  /** A WHATWG fetch bound to the agent, in the shape the MCP transports take. */
  readonly fetch: FetchLike;
  readonly agent: Agent;
  close(): Promise<void>;
}

const systemLookup: ConnectLookup = (hostname, options) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/** A refusal by the URL policy at connect time: typed, and never worth a retry. */
const blocked = (why: string) => new PeerConnectionError('BLOCKED', `not connecting: ${why}`, { retryable: false });

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A connector that vets the host (an IP literal, which Node connects to without
 * a lookup, or a metadata host name), then connects through a lookup that vets
 * every address the name resolves to, so the socket only ever reaches an
 * address that passed.
 */
function vettingConnector(options: HttpAgentOptions): buildConnector.connector {
  const policy: AddressPolicy = { blockPrivateNetworks: options.blockPrivateNetworks ?? false };
  const resolve = options.lookup ?? systemLookup;
  const lookup = (hostname: string, lookupOptions: LookupOptions, callback: LookupCallback) => {
    resolve(hostname, lookupOptions).then(
      (addresses) => {
        const why = addresses.map((a) => addressRefusal(a.address, policy)).find((refusal) => refusal !== null);
        if (why) return callback(blocked(why), []);
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
        // Node asks for all addresses when it races them (autoSelectFamily), else for one.
        if (lookupOptions.all) return callback(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: Error) => callback(error, []),
    );
  };
  const connect = buildConnector({ timeout: options.connectTimeoutMs, lookup: lookup as never });
  return (target, callback) => {
    const why = hostRefusal(target.hostname, policy);
    if (why) return callback(blocked(why), null);
    connect(target, callback);
  };
}

export function createHttpAgent(options: HttpAgentOptions): HttpAgent {
  const agent = new Agent({
    connect: vettingConnector(options),
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
    ...(options.connectionsPerOrigin ? { connections: options.connectionsPerOrigin } : {}),
  });
  // undici's own fetch, not the global one: Node 20 bundles another major of
  // undici, and handing one version's Agent to the other's fetch is unsupported.
  const send = (url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>;
  // With tracing on, each request is a span that names the peer's origin only (tracing-peers.ts).
  const fetch = ((url: string | URL, init?: RequestInit) => {
    const tracer = activePeerTracer();
    return tracer ? tracer.http(url, init?.method ?? 'GET', () => send(url, init)) : send(url, init);
  }) as FetchLike;
  return { fetch, agent, close: () => agent.close() };
}
