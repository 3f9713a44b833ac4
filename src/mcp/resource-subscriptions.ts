// resources/subscribe through the federation: one subscription at the peer per
// resource, however many client sessions asked for it (the peer session is
// shared), and each notifications/resources/updated of the peer passed to the
// sessions that subscribed, under the URI they know.
//
// A subscription lives in one pooled peer session, which it keeps in use (see
// Forwarder.subscribe) so that the pool does not close it as idle. A session
// that breaks (the peer restarted) loses its subscriptions at the peer; the
// clients subscribe again after the next list_changed, as after any
// reconnection, and so every subscribe is sent to the peer, even for a
// resource already subscribed: the new subscription replaces the old one.
import type { Forwarder, PeerSubscription } from './forwarder.js';
import type { PeerNotification } from './peer-pool.js';

interface Subscribed {
  /** The subscription at the peer (its gateway, the peer's URI, the session it holds). */
  peer: PeerSubscription;
  sessions: Set<string>;
}

/** A JSON-RPC error the SDK sends as is (InvalidRequest). */
export class TooManySubscriptionsError extends Error {
  readonly code = -32600;
  constructor(max: number) {
    super(`this session is already subscribed to ${max} resources (MCP_MAX_SUBSCRIPTIONS): unsubscribe from one first`);
  }
}

export class ResourceSubscriptions {
  /** By exposed URI. */
  private readonly byUri = new Map<string, Subscribed>();
  /** The exposed URIs each client session is subscribed to: its count is checked on every subscribe, and all go when it ends. */
  private readonly bySession = new Map<string, Set<string>>();
  /**
   * Subscribes and unsubscribes of one URI, one after the other: an unsubscribe
   * must not overtake a subscribe still on its way to the peer (the peer would
   * keep a subscription nobody holds, or drop one a client was told it has).
   */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly forwarder: Forwarder,
    /** Sends notifications/resources/updated for `uri` to one client session. */
    private readonly notify: (sessionId: string, uri: string) => void,
    /** MCP_MAX_SUBSCRIPTIONS: most resources one client session may be subscribed to (templates make URIs endless). */
    private readonly maxPerSession: number,
  ) {}

  subscribe(sessionId: string, uri: string): Promise<void> {
    return this.serial(uri, async () => {
      const held = this.bySession.get(sessionId) ?? new Set<string>();
      const already = held.has(uri);
      if (!already && held.size >= this.maxPerSession) throw new TooManySubscriptionsError(this.maxPerSession);
      // The slot is taken before the peer is asked, so that concurrent subscribes cannot pass the bound together.
      held.add(uri);
      this.bySession.set(sessionId, held);
      let peer: PeerSubscription;
      try {
        peer = await this.forwarder.subscribe(uri);
      } catch (error) {
        if (!already) held.delete(uri);
        if (held.size === 0 && this.bySession.get(sessionId) === held) this.bySession.delete(sessionId);
        throw error;
      }
      const known = this.byUri.get(uri);
      if (!known) return void this.byUri.set(uri, { peer, sessions: new Set([sessionId]) });
      known.sessions.add(sessionId);
      // Often the same pooled session; when not, the old one's subscription may be lost with it.
      const previous = known.peer;
      known.peer = peer;
      previous.release();
    });
  }

  unsubscribe(sessionId: string, uri: string): Promise<void> {
    return this.serial(uri, async () => {
      const held = this.bySession.get(sessionId);
      held?.delete(uri);
      if (held?.size === 0) this.bySession.delete(sessionId);
      const known = this.byUri.get(uri);
      if (!known?.sessions.delete(sessionId) || known.sessions.size > 0) return;
      this.byUri.delete(uri);
      try {
        await this.forwarder.unsubscribe(uri);
      } catch {
        // The gateway is gone or disabled, or the peer failed: releasing its session ends the subscription anyway.
      } finally {
        known.peer.release();
      }
    });
  }

  /** A session that ended: its subscriptions go, and the peer's when it was the last. */
  dropSession(sessionId: string): void {
    for (const uri of [...(this.bySession.get(sessionId) ?? [])]) void this.unsubscribe(sessionId, uri);
  }

  /** A notification from a pooled peer session. */
  fromPeer(gatewayId: string, notification: PeerNotification): void {
    if (notification.method !== 'notifications/resources/updated') return;
    const peerUri = (notification.params as { uri?: unknown } | undefined)?.uri;
    for (const [uri, known] of this.byUri) {
      if (known.peer.gatewayId !== gatewayId || known.peer.uri !== peerUri) continue;
      for (const sessionId of known.sessions) this.notify(sessionId, uri);
    }
  }

  private serial(uri: string, work: () => Promise<void>): Promise<void> {
    const run = (this.queues.get(uri) ?? Promise.resolve()).then(work);
    const settled = run.catch(() => {});
    this.queues.set(uri, settled);
    void settled.then(() => {
      if (this.queues.get(uri) === settled) this.queues.delete(uri);
    });
    return run;
  }
}
