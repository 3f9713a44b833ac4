// How the control plane reaches a peer: the GatewayService's probe (connect,
// list everything, disconnect) and plain sessions for health checks and
// standing list_changed sessions. Auth providers that hold state (OAuth
// tokens) are kept per set of credentials and shared by all three, so the
// token fetched while registering a gateway is the one its later checks and
// syncs use, until it expires, is rejected, or the credentials change.
import type { FetchLike } from './http-agent.js';
import type { PeerProbe, PeerSnapshot, PeerTarget } from './peer-snapshot.js';
import { canonicalAuth, createAuthHeaders, type AuthHeaders } from './peer-auth.js';
import { connectPeer, probePeer, type ConnectOptions, type PeerLimits, type PeerSession } from './peer-client.js';
import type { RetryOptions } from './retry.js';

export interface PeerProbeOptions {
  fetch: FetchLike;
  /** Bound on connecting and on each request. */
  timeoutMs: number;
  retry: Omit<RetryOptions, 'signal'>;
  /** What a peer may send (PEER_MAX_RESPONSE_BYTES, PEER_MAX_CATALOG_ENTRIES); default: DEFAULT_PEER_LIMITS. */
  limits?: PeerLimits;
  /** Credentials whose providers are kept; the least recently used go first. */
  maxProviders?: number;
}

export interface SessionOptions {
  /** Bound on connecting and on each request; default: the probe's. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Another fetch for this session (standing sessions idle longer than a body timeout allows). */
  fetch?: FetchLike;
  /** Called with each server notification (list_changed and the like). */
  onNotification?: ConnectOptions['onNotification'];
  /** Errors the session reports outside an exchange (its event stream broke, say). */
  onError?: ConnectOptions['onError'];
}

export interface PeerAccess {
  probe: PeerProbe;
  /** An initialized session with the peer, with its stored credentials; the caller closes it. */
  connect(target: PeerTarget, options?: SessionOptions): Promise<PeerSession>;
}

export function createPeerAccess(options: PeerProbeOptions): PeerAccess {
  const providers = new ProviderCache(options.maxProviders ?? 1_000, (auth) =>
    createAuthHeaders(auth, { fetch: options.fetch, timeoutMs: options.timeoutMs }),
  );

  const connect = (target: PeerTarget, session: SessionOptions = {}): Promise<PeerSession> =>
    connectPeer({
      url: target.url,
      transport: target.transport,
      auth: providers.get(target.auth),
      fetch: session.fetch ?? options.fetch,
      timeoutMs: session.timeoutMs ?? options.timeoutMs,
      signal: session.signal,
      onNotification: session.onNotification,
      onError: session.onError,
      limits: options.limits,
    });

  const probe = async (target: PeerTarget, signal?: AbortSignal): Promise<PeerSnapshot> => {
    const result = await probePeer({
      signal,
      url: target.url,
      transport: target.transport,
      auth: providers.get(target.auth),
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      limits: options.limits,
    });
    return {
      transport: result.transport,
      protocolVersion: result.protocolVersion,
      serverInfo: result.serverInfo as Record<string, unknown>,
      instructions: result.instructions ?? null,
      capabilities: result.capabilities as Record<string, unknown>,
      catalog: { tools: result.tools, resources: result.resources, resourceTemplates: result.resourceTemplates, prompts: result.prompts },
    };
  };
  return { probe, connect };
}

/**
 * Keyed by the credentials themselves, not by gateway: a registration has no
 * gateway id yet, and a failed update must not drop the provider the stored
 * credentials still use. Gateways with identical OAuth clients share a token,
 * which is what each of them would have been issued anyway.
 */
class ProviderCache {
  private readonly entries = new Map<string, AuthHeaders>();

  constructor(
    private readonly max: number,
    private readonly make: (auth: PeerTarget['auth']) => AuthHeaders,
  ) {}

  get(auth: PeerTarget['auth']): AuthHeaders {
    // Fixed headers cost nothing to rebuild and must not outlive their gateway in memory.
    if (auth.type !== 'oauth2ClientCredentials') return this.make(auth);
    const key = canonicalAuth(auth);
    let provider = this.entries.get(key);
    if (provider) this.entries.delete(key);
    else provider = this.make(auth);
    this.entries.set(key, provider); // most recently used last
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return provider;
  }
}
