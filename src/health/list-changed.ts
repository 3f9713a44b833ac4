// Standing MCP sessions with the reachable peers that advertise listChanged,
// held by the leader only. A notifications/*/list_changed from a peer resyncs
// it, debounced so that a burst is one sync; a session that drops is reopened
// with back-off, and resynced then, since notifications may have been missed.
import type { GatewayService, RefreshOptions } from '../federation/gateway-service.js';
import type { PeerSession } from '../federation/peer-client.js';
import type { PeerAccess } from '../federation/peer-probe.js';
import type { FetchLike } from '../federation/http-agent.js';
import type { PeerTarget } from '../federation/peer-snapshot.js';
import type { Logger } from '../logger.js';
import { sleep } from './sleep.js';

const LIST_CHANGED = new Set(['notifications/tools/list_changed', 'notifications/resources/list_changed', 'notifications/prompts/list_changed']);
const REOPEN_MIN_MS = 500;
const REOPEN_MAX_MS = 60_000;

export interface WatchedGateway {
  id: string;
  /** Changes whenever the way to reach the peer changes (URL, transport, credentials). */
  key: string;
  target: PeerTarget;
}

export interface ListChangedOptions {
  peers: PeerAccess;
  gateways: GatewayService;
  /** A fetch without a body timeout: a standing event stream is silent most of the time. */
  fetch: FetchLike;
  timeoutMs: number;
  debounceMs: number;
  /** Resync options for this term (the fence, the term's signal). */
  refresh: () => RefreshOptions;
  /** A resync failed; the checker decides what that means (a stale term ends the term). */
  onSyncError(gatewayId: string, error: unknown): void;
  signal: AbortSignal;
  logger: Logger;
}

/** Whether a gateway's capabilities promise list_changed notifications. */
export function advertisesListChanged(capabilities: unknown): boolean {
  const caps = (capabilities ?? {}) as Record<string, { listChanged?: unknown } | undefined>;
  return ['tools', 'resources', 'prompts'].some((kind) => caps[kind]?.listChanged === true);
}

export class ListChangedWatchers {
  private readonly watchers = new Map<string, Watcher>();

  constructor(private readonly o: ListChangedOptions) {}

  get size(): number {
    return this.watchers.size;
  }

  /** Watches exactly these gateways: opens what is new or moved, closes what is gone. */
  reconcile(gateways: WatchedGateway[]): void {
    if (this.o.signal.aborted) return;
    const wanted = new Map(gateways.map((g) => [g.id, g]));
    for (const [id, watcher] of this.watchers) {
      if (wanted.get(id)?.key !== watcher.gateway.key) {
        watcher.close();
        this.watchers.delete(id);
      }
    }
    for (const gateway of gateways) {
      if (this.watchers.has(gateway.id)) continue;
      const watcher = new Watcher(gateway, this.o);
      this.watchers.set(gateway.id, watcher);
      watcher.start();
    }
  }

  async close(): Promise<void> {
    const all = [...this.watchers.values()];
    this.watchers.clear();
    await Promise.all(all.map((w) => w.close()));
  }
}

class Watcher {
  private session: PeerSession | undefined;
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;
  private pending: ReturnType<typeof setTimeout> | undefined;
  private syncing: Promise<void> | undefined;
  private again = false;
  private dropped: (() => void) | undefined;

  constructor(
    readonly gateway: WatchedGateway,
    private readonly o: ListChangedOptions,
  ) {
    this.signal = AbortSignal.any([o.signal, this.stop.signal]);
  }

  start(): void {
    void this.run();
  }

  async close(): Promise<void> {
    this.stop.abort();
    clearTimeout(this.pending);
    this.dropped?.();
    await this.session?.close();
    await this.syncing;
  }

  /**
   * Holds a session; when it reports any error (its event stream broke or
   * ended, the peer forgot it) it is dropped and, after a wait that grows
   * while sessions keep dying young, another is opened and the peer resynced.
   */
  private async run(): Promise<void> {
    let failures = 0;
    let reopened = false;
    while (!this.signal.aborted) {
      const openedAt = performance.now();
      try {
        const lost = new Promise<void>((resolve) => (this.dropped = resolve));
        this.session = await this.o.peers.connect(this.gateway.target, {
          fetch: this.o.fetch,
          timeoutMs: this.o.timeoutMs,
          signal: this.signal,
          onNotification: (n) => LIST_CHANGED.has(n.method) && this.changed(),
          onError: () => this.dropped?.(),
        });
        if (reopened) this.changed();
        reopened = true;
        await lost;
      } catch (error) {
        if (!this.signal.aborted) this.o.logger.debug({ gatewayId: this.gateway.id, err: error }, 'list_changed session could not be opened');
      }
      const session = this.session;
      this.session = undefined;
      await session?.close();
      if (this.signal.aborted) break;
      failures = performance.now() - openedAt > REOPEN_MAX_MS ? 0 : failures + 1;
      this.o.logger.debug({ gatewayId: this.gateway.id, failures }, 'list_changed session dropped; reopening');
      await sleep(Math.min(REOPEN_MIN_MS * 2 ** failures, REOPEN_MAX_MS) * (0.5 + Math.random() / 2), this.signal);
    }
  }

  /** Debounced: the first notification starts the wait, later ones within it ride along. */
  private changed(): void {
    if (this.signal.aborted) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.syncing = this.sync().finally(() => {
        this.syncing = undefined;
        if (this.again) {
          this.again = false;
          this.changed();
        }
      });
    }, this.o.debounceMs);
  }

  private async sync(): Promise<void> {
    try {
      const { report } = await this.o.gateways.refresh(this.gateway.id, { ...this.o.refresh(), signal: this.signal });
      this.o.logger.info({ gatewayId: this.gateway.id, report }, 'resynced after list_changed');
    } catch (error) {
      if (!this.signal.aborted) this.o.onSyncError(this.gateway.id, error);
    }
  }
}
