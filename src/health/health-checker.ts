// The health checker. While this worker leads (LeaderElection), it sweeps every
// HEALTH_CHECK_INTERVAL_MS over the enabled gateways that are due, at most
// HEALTH_CHECK_CONCURRENCY at once and spread over part of the interval; it
// resyncs catalogs that are due, and holds list_changed sessions. Every write
// it makes carries its term. Any worker can check one gateway on request.
import { setMaxListeners } from 'node:events';
import { GatewayDisabledError, NotFoundError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { GatewayService, PeerOperation, RefreshOptions } from '../federation/gateway-service.js';
import type { FetchLike } from '../federation/http-agent.js';
import { classifyError } from '../federation/peer-errors.js';
import type { PeerAccess } from '../federation/peer-probe.js';
import { storedTarget, TARGET_COLUMNS } from '../federation/peer-snapshot.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../security/secret-box.js';
import { checkPeer, type CheckOutcome } from './check-peer.js';
import { recordCheck, type Recorded } from './health-store.js';
import type { LeaderElection, Term } from './leader-election.js';
import { fenceTerm, HEALTH_CHECKER_ROLE, isStaleTerm, readLeadership, recordSweep, type SweepRecord } from './leadership-store.js';
import { advertisesListChanged, ListChangedWatchers } from './list-changed.js';
import { sleep } from './sleep.js';

export interface HealthSettings {
  intervalMs: number;
  concurrency: number;
  timeoutMs: number;
  spreadPercent: number;
  maxBackoffMs: number;
  threshold: number;
  refreshIntervalMs: number;
  debounceMs: number;
}

export interface HealthCheckerOptions {
  prisma: PrismaClient;
  events: EventBus;
  gateways: GatewayService;
  peers: PeerAccess;
  /** For list_changed sessions: no body timeout. */
  standingFetch: FetchLike;
  box: SecretBox;
  logger: Logger;
  settings: HealthSettings;
  instanceId: string;
  /** Told of each finished sweep (metrics, benchmarks). */
  onSweep?: (sweep: SweepRecord) => void;
  /**
   * Told of each health check of one gateway whose result is used, of the
   * sweeps and checkNow alike (metrics); must not throw. Resyncs are the
   * gateway service's to report.
   */
  onPeerOperation?: (operation: PeerOperation) => void;
  /**
   * Other background work of the leader (event log pruning), run for the
   * length of each term: `fence` goes first in each of its transactions, and
   * `signal` aborts when the term ends or on shutdown. A task that throws a
   * stale-term error ends the term.
   */
  leaderTasks?: ((fence: (tx: Prisma.TransactionClient) => Promise<void>, signal: AbortSignal) => Promise<void>)[];
}

const GATEWAY_COLUMNS = {
  ...TARGET_COLUMNS,
  name: true,
  reachable: true,
  consecutiveFailures: true,
  catalogSyncedAt: true,
  refreshIntervalMs: true,
} as const;

type Gw = Prisma.GatewayGetPayload<{ select: typeof GATEWAY_COLUMNS }>;

export interface ManualCheck {
  gatewayId: string;
  outcome: CheckOutcome;
  recorded: Recorded;
}

export interface HealthCheckerStatus {
  instanceId: string;
  leading: boolean;
  mode: string | null;
  leader: { instanceId: string; term: bigint; since: Date } | null;
  lastSweep: SweepRecord | null;
  nextSweepAt: Date | null;
  listChangedSessions: number;
}

interface Leading {
  term: Term;
  /** Aborts on stop() too: no new check starts, those running may finish. */
  dispatch: AbortController;
  inFlight: Set<Promise<unknown>>;
  watchers: ListChangedWatchers;
  loop: Promise<void>;
  tasks: Promise<void>[];
}

export class HealthChecker {
  private election: LeaderElection | undefined;
  private leading: Leading | undefined;
  private readonly s: HealthSettings;

  constructor(private readonly o: HealthCheckerOptions) {
    this.s = o.settings;
  }

  /** Checks run only while this election says this worker leads. */
  attach(election: LeaderElection): void {
    this.election = election;
  }

  /** Called by the election when this worker begins a term. */
  lead(term: Term): void {
    const dispatch = new AbortController();
    term.signal.addEventListener('abort', () => dispatch.abort(), { once: true });
    // Each check and each waiting sweep worker listens on these: up to HEALTH_CHECK_CONCURRENCY at once, by design.
    setMaxListeners(this.s.concurrency + 16, term.signal, dispatch.signal);
    const watchers = new ListChangedWatchers({
      peers: this.o.peers,
      gateways: this.o.gateways,
      fetch: this.o.standingFetch,
      timeoutMs: this.s.timeoutMs,
      debounceMs: this.s.debounceMs,
      refresh: () => this.resyncOptions(term),
      onSyncError: (gatewayId, error) => this.resyncFailed(gatewayId, error),
      signal: term.signal,
      logger: this.o.logger,
    });
    const leading: Leading = { term, dispatch, inFlight: new Set(), watchers, loop: Promise.resolve(), tasks: [] };
    this.leading = leading;
    this.followRegistry(leading);
    leading.loop = this.sweepLoop(leading).catch((error: unknown) => {
      this.o.logger.error({ err: error, term: String(term.number) }, 'health sweeps stopped on an unexpected error');
      this.election?.resign('the health sweeps failed');
    });
    const fence = (tx: Prisma.TransactionClient) => fenceTerm(tx, HEALTH_CHECKER_ROLE, term.number);
    leading.tasks = (this.o.leaderTasks ?? []).map((task) =>
      task(fence, dispatch.signal).catch((error: unknown) => {
        if (dispatch.signal.aborted) return;
        if (isStaleTerm(error)) {
          this.election?.resign('a newer term has begun');
          return;
        }
        this.o.logger.error({ err: error, term: String(term.number) }, 'a background task of the leader stopped on an unexpected error');
      }),
    );
  }

  /** Called by the election when a term ends (its signal has aborted): wait for its work to stop. */
  async termEnded(term: Term): Promise<void> {
    const leading = this.leading;
    if (!leading || leading.term !== term) return;
    this.leading = undefined;
    leading.dispatch.abort();
    await leading.loop;
    await Promise.allSettled([...leading.inFlight, ...leading.tasks]);
    await leading.watchers.close();
  }

  /**
   * Graceful stop: no new check starts; those in flight get up to one check
   * timeout to finish (their results are written), then the election ends the
   * term and gives the lock up, so that another worker leads at once.
   */
  async stop(): Promise<void> {
    const leading = this.leading;
    if (leading) {
      leading.dispatch.abort();
      const drained = Promise.allSettled([...leading.inFlight]);
      await Promise.race([drained, sleep(this.s.timeoutMs, leading.term.signal)]);
    }
    await this.election?.stop();
  }

  /** Checks one gateway now, on this worker, with the same rules and events; it resets any back-off. */
  async checkNow(id: string): Promise<ManualCheck> {
    const gateway = await this.o.prisma.gateway.findUnique({ where: { id }, select: { ...GATEWAY_COLUMNS, enabled: true } });
    if (!gateway) throw new NotFoundError('gateway', id);
    if (!gateway.enabled) throw new GatewayDisabledError(id);
    const started = performance.now();
    const outcome = await checkPeer(this.o.peers, storedTarget(gateway, this.o.box), this.s.timeoutMs);
    this.checked(id, outcome, started);
    const recorded = await this.apply(gateway, outcome, null, null);
    // Deleted while we checked: there is no gateway left to show the result on.
    if (!recorded.written && (await this.o.prisma.gateway.count({ where: { id } })) === 0) throw new NotFoundError('gateway', id);
    return { gatewayId: id, outcome, recorded };
  }

  async status(): Promise<HealthCheckerStatus> {
    const row = await readLeadership(this.o.prisma, HEALTH_CHECKER_ROLE);
    const leading = this.leading;
    return {
      instanceId: this.o.instanceId,
      leading: leading !== undefined,
      mode: this.election?.mode ?? null,
      // A lease past its end names nobody: the last holder may be dead, or Redis gone.
      leader: row?.current && row.holder && row.since ? { instanceId: row.holder, term: row.term, since: row.since } : null,
      lastSweep: row?.lastSweep ?? null,
      nextSweepAt: row?.current ? row.nextSweepAt : null,
      listChangedSessions: leading?.watchers.size ?? 0,
    };
  }

  private async sweepLoop(leading: Leading): Promise<void> {
    const { term, dispatch } = leading;
    let nominal = Date.now();
    while (!dispatch.signal.aborted) {
      const sweep = await this.sweep(leading, nominal);
      if (dispatch.signal.aborted) return;
      this.o.onSweep?.(sweep);
      let next = nominal + this.s.intervalMs;
      const now = Date.now();
      if (now > next) {
        this.o.logger.warn(
          { durationMs: sweep.durationMs, intervalMs: this.s.intervalMs, checked: sweep.checked },
          'health sweep took longer than the interval: the next one starts now, late',
        );
        next = now;
      }
      await recordSweep(this.o.prisma, HEALTH_CHECKER_ROLE, term.number, sweep, new Date(next)).catch((error: unknown) =>
        this.o.logger.warn({ err: error }, 'could not record the health sweep'),
      );
      await this.watch(leading);
      nominal = next;
      await sleep(next - Date.now(), dispatch.signal);
    }
  }

  /** One pass over the due gateways; starts spread over part of the interval, with jitter. */
  private async sweep(leading: Leading, nominal: number): Promise<SweepRecord> {
    const startedAt = new Date();
    const due = await this.o.prisma.gateway.findMany({
      where: { enabled: true, OR: [{ nextCheckAt: null }, { nextCheckAt: { lte: new Date(nominal + this.s.intervalMs / 2) } }] },
      select: GATEWAY_COLUMNS,
      orderBy: [{ nextCheckAt: { sort: 'asc', nulls: 'first' } }, { id: 'asc' }],
    });
    const slot = due.length > 0 ? (this.s.intervalMs * this.s.spreadPercent) / 100 / due.length : 0;
    const starts = due.map((_, i) => startedAt.getTime() + slot * (i + Math.random()));
    const counts = { checked: 0, failed: 0 };
    let nextIndex = 0;
    // A fixed pool of workers taking gateways in order: at most `concurrency` checks at once.
    const worker = async () => {
      while (!leading.dispatch.signal.aborted) {
        const i = nextIndex++;
        if (i >= due.length) return;
        if (!(await sleep(starts[i]! - Date.now(), leading.dispatch.signal))) return;
        const run = this.checkDue(due[i]!, leading, nominal, counts);
        leading.inFlight.add(run);
        await run.finally(() => leading.inFlight.delete(run));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.s.concurrency, due.length) }, worker));
    const finishedAt = new Date();
    return {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      ...counts,
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    };
  }

  private async checkDue(gateway: Gw, leading: Leading, nominal: number, counts: { checked: number; failed: number }): Promise<void> {
    const { term } = leading;
    try {
      const started = performance.now();
      const outcome = await checkPeer(this.o.peers, storedTarget(gateway, this.o.box), this.s.timeoutMs, term.signal);
      // The term ended while we waited on the peer: this result is no longer ours to write (nor to count).
      if (term.signal.aborted) return;
      this.checked(gateway.id, outcome, started);
      counts.checked++;
      if (!outcome.ok) counts.failed++;
      this.o.logger.debug({ gatewayId: gateway.id, ok: outcome.ok, term: String(term.number) }, 'health check');
      const recorded = await this.apply(gateway, outcome, term, nominal);
      if (outcome.ok && recorded.status === 'ACTIVE' && gateway.reachable && this.refreshDue(gateway)) {
        await this.o.gateways.refresh(gateway.id, this.resyncOptions(term));
      }
    } catch (error) {
      if (term.signal.aborted) return;
      this.resyncFailed(gateway.id, error);
    }
  }

  /** Reports one health check as it ended. */
  private checked(gatewayId: string, outcome: CheckOutcome, started: number): void {
    const durationMs = performance.now() - started;
    this.o.onPeerOperation?.(
      outcome.ok
        ? { operation: 'health_check', gatewayId, ok: true, durationMs }
        : { operation: 'health_check', gatewayId, ok: false, error: outcome.error, durationMs },
    );
  }

  /**
   * Writes a check's outcome. A success on an unreachable gateway is a resync
   * (which reactivates it); if that fails, the failure is what gets recorded.
   */
  private async apply(gateway: Gw, outcome: CheckOutcome, term: Term | null, nominal: number | null): Promise<Recorded> {
    let result: { ok: true; latencyMs: number } | { ok: false; error: string } = outcome.ok
      ? outcome
      : { ok: false, error: outcome.error.message };
    if (outcome.ok && !gateway.reachable) {
      try {
        await this.o.gateways.refresh(gateway.id, { ...this.resyncOptions(term), latencyMs: outcome.latencyMs });
        return { written: true, status: 'ACTIVE', consecutiveFailures: 0 };
      } catch (error) {
        if (isStaleTerm(error) || error instanceof NotFoundError || error instanceof GatewayDisabledError) throw error;
        result = { ok: false, error: `the peer answered, but its catalog could not be resynced: ${classifyError(error).message}` };
      }
    }
    const recorded = await recordCheck(this.o.prisma, this.o.events, gateway, result, {
      term: term?.number ?? null,
      threshold: this.s.threshold,
      nextCheckAt: (failures) => this.nextCheckAt(failures, nominal),
    });
    if (recorded.written && recorded.status === 'UNREACHABLE' && recorded.consecutiveFailures === this.s.threshold) {
      this.o.logger.warn({ gatewayId: gateway.id, failures: recorded.consecutiveFailures }, 'gateway is unreachable: its entries leave the catalog');
    }
    return recorded;
  }

  /** Null (due at the next sweep) after a manual check: it resets any back-off. */
  private nextCheckAt(failures: number, nominal: number | null): Date | null {
    if (nominal === null) return null;
    if (failures < this.s.threshold) return new Date(nominal + this.s.intervalMs);
    const backoff = Math.min(this.s.intervalMs * 2 ** (failures - this.s.threshold), this.s.maxBackoffMs);
    return new Date(Date.now() + backoff);
  }

  private refreshDue(gateway: Gw): boolean {
    const every = gateway.refreshIntervalMs ?? this.s.refreshIntervalMs;
    return !gateway.catalogSyncedAt || gateway.catalogSyncedAt.getTime() + every <= Date.now();
  }

  private resyncOptions(term: Term | null): RefreshOptions {
    if (!term) return { requireEnabled: true };
    return { requireEnabled: true, signal: term.signal, fence: (tx) => fenceTerm(tx, HEALTH_CHECKER_ROLE, term.number) };
  }

  private resyncFailed(gatewayId: string, error: unknown): void {
    if (isStaleTerm(error)) {
      this.o.logger.warn({ gatewayId, err: { message: (error as Error).message } }, 'write refused by the database: a newer leadership term has begun');
      this.election?.resign('the database refused a write from this term');
      return;
    }
    if (error instanceof NotFoundError || error instanceof GatewayDisabledError) return; // deleted or disabled meanwhile
    this.o.logger.warn({ gatewayId, err: { message: classifyError(error).message } }, 'background resync failed; it is tried again when next due');
  }

  /**
   * A gateway added, moved, enabled or back from unreachable on any worker
   * gets its list_changed session now rather than after the next sweep.
   */
  private followRegistry(leading: Leading): void {
    let queued: ReturnType<typeof setTimeout> | undefined;
    const reconcileSoon = () => {
      if (queued || leading.term.signal.aborted) return;
      queued = setTimeout(() => {
        queued = undefined;
        this.watch(leading).catch((error: unknown) => this.o.logger.warn({ err: error }, 'could not update the list_changed sessions'));
      }, 100);
    };
    void (async () => {
      // Only whether something changed matters here, not each event: a subscription
      // that fell behind (its buffer overflowed) is replaced, and one reconcile covers what it missed.
      while (!leading.term.signal.aborted) {
        const events = this.o.events.subscribe()[Symbol.asyncIterator]();
        const stop = () => void events.return?.();
        leading.term.signal.addEventListener('abort', stop, { once: true });
        try {
          for (;;) {
            const { done, value } = await events.next();
            if (done || leading.term.signal.aborted) return;
            if (value.type !== 'GATEWAY_CATALOG_CHANGED') reconcileSoon();
          }
        } catch (error) {
          this.o.logger.warn({ err: { message: (error as Error).message } }, 'fell behind the registry events; following them again');
          reconcileSoon();
          await sleep(1_000, leading.term.signal); // never a tight loop, whatever the failure
        } finally {
          leading.term.signal.removeEventListener('abort', stop);
        }
      }
    })();
  }

  /** Keeps one list_changed session per reachable, enabled gateway that advertises it. */
  private async watch(leading: Leading): Promise<void> {
    if (leading.term.signal.aborted) return;
    const rows = await this.o.prisma.gateway.findMany({
      where: { enabled: true, reachable: true },
      select: { ...GATEWAY_COLUMNS, capabilities: true },
    });
    leading.watchers.reconcile(
      rows
        .filter((row) => advertisesListChanged(row.capabilities))
        .map((row) => ({ id: row.id, key: `${row.authFingerprint}|${row.transport}|${row.url}`, target: storedTarget(row, this.o.box) })),
    );
  }
}
