// One MCP session per peer gateway for forwarded requests (tools/call,
// resources/read, ...): opened on first use, shared by concurrent callers,
// closed when idle or crowded out, and replaced when the peer forgets it.
// Forwarding must never run a request twice, so a failed request is only
// run again when the peer certainly did not process it.
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '../federation/http-agent.js';
import type { PeerSession } from '../federation/peer-client.js';
import { classifyError, PeerConnectionError } from '../federation/peer-errors.js';
import type { PeerAccess } from '../federation/peer-probe.js';
import { storedTarget } from '../federation/peer-snapshot.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../security/secret-box.js';

/** What the pool needs of a gateway row (the caller has it already from its catalog lookup). */
export type PooledGateway = Parameters<typeof storedTarget>[0] & { authFingerprint: string | null };

export type PeerNotification = { method: string; params?: unknown };

export interface PeerPoolOptions {
  peers: PeerAccess;
  box: SecretBox;
  logger: Logger;
  /** Bound on connecting (initialize) and on each request. */
  timeoutMs: number;
  /** Most open peer sessions; the least recently used is closed first. */
  maxSessions: number;
  /** A session unused this long is closed. */
  idleMs: number;
  /**
   * Server notifications (notifications/resources/updated, say). Setting it
   * makes every session hold a standing event stream to receive them.
   */
  onNotification?: (gatewayId: string, notification: PeerNotification) => void;
  /**
   * The fetch for sessions (default: the PeerAccess one). With onNotification,
   * pass one without a body timeout: a standing stream is silent most of the time,
   * and one cut by the timeout costs the session.
   */
  fetch?: FetchLike;
}

interface Entry {
  gatewayId: string;
  /** How the session reached the peer; a gateway that no longer matches gets a new one. */
  key: string;
  opening: Promise<PeerSession>;
  /** Works running on it; it is closed only when none are. */
  active: number;
  /** The session reported an error outside a JSON-RPC answer (its stream broke, the peer forgot it): not to be used again. */
  dead: boolean;
  /** Out of the pool; closed once the last work on it ends. */
  retired: boolean;
  idle?: ReturnType<typeof setTimeout>;
  closing?: Promise<void>;
  /** Resolves once the session is closed (or never opened). */
  closed: Promise<void>;
  markClosed: () => void;
}

/** What one run of a work did to the peer, to tell whether running it again is safe. */
interface Attempt {
  /** Exchanges not yet settled: their requests may be processing at the peer. */
  pending: number;
  /** An exchange was answered or failed in a way that may follow processing. */
  processed: boolean;
  /** An exchange found the session gone before its request was processed. */
  gone: boolean;
}

const closedPool = () => new PeerConnectionError('REFUSED', 'peer pool is closed', { retryable: false });

export class PeerPool {
  /** Pooled sessions, least recently used first. */
  private readonly entries = new Map<string, Entry>();
  /** Retired sessions still in use or closing: close() waits for them too. */
  private readonly retiring = new Set<Entry>();
  private closed = false;

  constructor(private readonly o: PeerPoolOptions) {
    if (!(o.maxSessions >= 1)) throw new RangeError('maxSessions must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs work with the gateway's pooled session, connecting on demand. Work
   * must send its requests through session.run: that is how the pool knows
   * whether the peer processed them. When the session turns out gone before
   * any request of the work was processed (Streamable HTTP 404 for the session
   * id, or the session broke before the request was sent), a new session is
   * opened and work runs once more; no other failure is retried.
   */
  async use<T>(gateway: PooledGateway, work: (session: PeerSession) => Promise<T>): Promise<T> {
    const first = await this.attempt(gateway, work);
    if (first.ok) return first.value;
    if (!first.retry || this.closed) throw first.error;
    this.o.logger.debug({ gatewayId: gateway.id, err: first.error }, 'peer session gone before the request was processed; reopening');
    const second = await this.attempt(gateway, work);
    if (second.ok) return second.value;
    throw second.error;
  }

  /** Closes and forgets the gateway's session; works still running on it finish first. */
  async evict(gatewayId: string): Promise<void> {
    const entry = this.entries.get(gatewayId);
    if (entry) await this.retire(entry);
  }

  /** Closes every session now, cutting works still running; later use() rejects. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values(), ...this.retiring];
    this.entries.clear();
    await Promise.all(all.map((entry) => this.shut(entry)));
  }

  private async attempt<T>(
    gateway: PooledGateway,
    work: (session: PeerSession) => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; retry: boolean; error: unknown }> {
    const entry = this.acquire(gateway);
    try {
      let session: PeerSession;
      try {
        session = await entry.opening;
      } catch (error) {
        return { ok: false, retry: false, error: classifyError(error) };
      }
      const attempt: Attempt = { pending: 0, processed: false, gone: false };
      try {
        return { ok: true, value: await work(this.tracked(entry, session, attempt)) };
      } catch (error) {
        if (attempt.gone) void this.retire(entry);
        // Safe to run again only if nothing of this run may have reached processing.
        const retry = attempt.gone && !attempt.processed && attempt.pending === 0;
        return { ok: false, retry, error: classifyError(error, session.redact) };
      }
    } finally {
      this.release(entry);
    }
  }

  /** The gateway's entry, counted as in use: the pooled one if it still fits the gateway, else a new one. */
  private acquire(gateway: PooledGateway): Entry {
    if (this.closed) throw closedPool();
    const key = `${gateway.authFingerprint}|${gateway.transport}|${gateway.url}`;
    let entry = this.entries.get(gateway.id);
    if (entry && (entry.key !== key || entry.dead)) {
      this.o.logger.debug({ gatewayId: gateway.id, dead: entry.dead }, 'replacing peer session');
      void this.retire(entry);
      entry = undefined;
    }
    if (entry) {
      this.entries.delete(gateway.id); // re-inserted last: most recently used
    } else {
      entry = this.open(gateway, key);
    }
    this.entries.set(gateway.id, entry);
    entry.active++;
    clearTimeout(entry.idle);
    for (const [, oldest] of this.entries) {
      if (this.entries.size <= this.o.maxSessions) break;
      void this.retire(oldest);
    }
    return entry;
  }

  private open(gateway: PooledGateway, key: string): Entry {
    const { onNotification, logger } = this.o;
    const target = storedTarget(gateway, this.o.box);
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const entry: Entry = { gatewayId: gateway.id, key, opening: undefined!, active: 0, dead: false, retired: false, closed, markClosed };
    entry.opening = this.o.peers.connect(target, {
      timeoutMs: this.o.timeoutMs,
      fetch: this.o.fetch,
      // Every error the SDK reports outside an answer is about the transport
      // (a POST refused, a stream broken, a message unreadable). A session that
      // had one may be wedged or forgotten; a new one costs an initialize.
      onError: (error) => {
        if (!entry.dead) logger.debug({ gatewayId: gateway.id, err: error }, 'peer session reported an error; it will be replaced');
        entry.dead = true;
      },
      onNotification:
        onNotification &&
        ((notification) => {
          try {
            onNotification(gateway.id, notification);
          } catch (error) {
            logger.warn({ gatewayId: gateway.id, err: error }, 'peer notification handler failed');
          }
        }),
    });
    // A failed connect leaves nothing pooled; its callers get the error from `opening`.
    entry.opening.catch(() => {
      if (this.entries.get(gateway.id) === entry) this.entries.delete(gateway.id);
      entry.retired = true;
    });
    return entry;
  }

  /** The session as work sees it: each exchange is tracked, and none starts on a session known to be gone. */
  private tracked(entry: Entry, session: PeerSession, attempt: Attempt): PeerSession {
    const run: PeerSession['run'] = async (exchange, ...call) => {
      // Checked right before sending: peer-client marks a broken session in the
      // same onerror call that tells us, so a session not dead here sends.
      if (entry.dead || !session.client.transport) {
        attempt.gone = true;
        throw new PeerConnectionError('REFUSED', 'peer session ended', { retryable: false });
      }
      attempt.pending++;
      try {
        const result = await session.run(exchange, ...call);
        attempt.processed = true;
        return result;
      } catch (error) {
        if (sessionExpired(error, session)) {
          entry.dead = true;
          attempt.gone = true;
        } else {
          attempt.processed = true;
        }
        throw error;
      } finally {
        attempt.pending--;
      }
    };
    // Others may be using the session: a work that closes it only has it replaced.
    const close = async () => void (entry.dead = true);
    return { ...session, run, close };
  }

  private release(entry: Entry): void {
    entry.active--;
    if (entry.active > 0) return;
    if (entry.retired) return void this.shut(entry);
    clearTimeout(entry.idle);
    entry.idle = setTimeout(() => {
      this.o.logger.debug({ gatewayId: entry.gatewayId }, 'closing idle peer session');
      void this.retire(entry);
    }, this.o.idleMs);
    // An idle session must not keep the process alive.
    entry.idle.unref();
  }

  /** Takes the entry out of the pool; it is closed now if unused, else when its last work ends. */
  private retire(entry: Entry): Promise<void> {
    if (this.entries.get(entry.gatewayId) === entry) this.entries.delete(entry.gatewayId);
    clearTimeout(entry.idle);
    if (!entry.retired) {
      entry.retired = true;
      this.retiring.add(entry);
    }
    if (entry.active === 0) void this.shut(entry);
    return entry.closed;
  }

  private shut(entry: Entry): Promise<void> {
    clearTimeout(entry.idle);
    entry.closing ??= entry.opening
      .then(
        (session) => session.close(),
        () => {},
      )
      .finally(() => {
        this.retiring.delete(entry);
        entry.markClosed();
      });
    return entry.closed;
  }
}

/**
 * The Streamable HTTP spec: a server that ended a session answers requests
 * carrying its id with 404, and the client must initialize anew; the request
 * was not processed. The SDK client does not do this itself: the POST's
 * rejection is a StreamableHTTPError with code 404, which session.run
 * classifies as HTTP_STATUS 404. Only a 404 to a request that carried a session
 * id means this (without one, the endpoint itself is missing); the legacy SSE
 * transport gives a 404 no such meaning.
 */
function sessionExpired(error: unknown, session: PeerSession): boolean {
  if (!(error instanceof PeerConnectionError) || error.reason !== 'HTTP_STATUS' || error.status !== 404) return false;
  const transport = session.client.transport;
  return transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined;
}
