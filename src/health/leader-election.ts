// Runs one role (the health checker) on exactly one worker at a time. A worker
// that does not lead tries the lock every LEADER_RETRY_MS; one that gets it
// begins a new term in the database and leads until its lease is lost, a newer
// term shows up, or it stops. Each term gets a signal that aborts when it ends.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { ElectionMode, LeaderLock, Lease } from './leader-lock.js';
import { LockLostError } from './leader-lock.js';
import { beginTerm, endTerm, renewTerm } from './leadership-store.js';

export interface Term {
  readonly number: bigint;
  readonly since: Date;
  /** Aborts when this term ends, for whatever reason. */
  readonly signal: AbortSignal;
}

export interface LeaderElectionOptions {
  prisma: PrismaClient;
  lock: LeaderLock;
  role: string;
  instanceId: string;
  ttlMs: number;
  extendMs: number;
  retryMs: number;
  logger: Logger;
  /** Called when this worker begins a term; the work ends when term.signal aborts. */
  onElected(term: Term): void;
  /** Awaited when a term ends, before the lock is given up: lets in-flight work finish (bounded). */
  onTermEnding?(term: Term): Promise<void>;
}

interface Held {
  term: Term;
  lease: Lease;
  end: AbortController;
}

export class LeaderElection {
  private held: Held | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private attempt: Promise<void> | undefined;
  private ending: Promise<void> | undefined;

  constructor(private readonly o: LeaderElectionOptions) {}

  get mode(): ElectionMode {
    return this.o.lock.mode;
  }

  /** The term this worker leads in, if it leads. */
  get term(): Term | undefined {
    return this.held?.term;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Ends a term early: the database refused a write because a newer one began. */
  resign(reason: string): void {
    if (this.held) void this.endTerm(reason, { retryAfter: this.o.retryMs });
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.attempt;
    if (this.held) await this.endTerm('shutting down', { retryAfter: null });
    await this.ending;
    await this.o.lock.close();
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.attempt = this.tryToLead().finally(() => (this.attempt = undefined));
    }, ms);
  }

  private async tryToLead(): Promise<void> {
    if (!this.running || this.held) return;
    const lease = await this.o.lock.tryAcquire().catch((error: unknown) => {
      this.o.logger.warn({ err: error }, 'leader election: the lock could not be asked');
      return null;
    });
    if (!lease) return this.schedule(this.o.retryMs);
    if (!this.running) {
      await lease.release();
      return;
    }
    let number: bigint;
    try {
      number = await beginTerm(this.o.prisma, this.o.role, this.o.instanceId, this.o.ttlMs);
    } catch (error) {
      this.o.logger.warn({ err: error }, 'leader election: took the lock but could not begin a term in the database; giving it up');
      await lease.release();
      return this.schedule(this.o.retryMs);
    }
    const end = new AbortController();
    const term: Term = { number, since: new Date(), signal: end.signal };
    const held: Held = { term, lease, end };
    this.held = held;
    const onLost = () => void this.endTerm(reasonOf(lease.lost.reason), { retryAfter: this.o.retryMs, of: held });
    // Lost while the term was being begun: abort fires once, and it has fired already.
    if (lease.lost.aborted) return void onLost();
    lease.lost.addEventListener('abort', onLost, { once: true });
    // The lease shown to other workers follows the lock's; a newer term in the database deposes us.
    const renew = setInterval(() => {
      renewTerm(this.o.prisma, this.o.role, number, this.o.ttlMs).then(
        (current) => {
          if (!current) void this.endTerm('a newer leadership term has begun', { retryAfter: this.o.retryMs, of: held });
        },
        (error: unknown) => this.o.logger.warn({ err: error, term: String(number) }, 'leader election: could not renew the term in the database'),
      );
    }, this.o.extendMs);
    end.signal.addEventListener('abort', () => clearInterval(renew), { once: true });
    this.o.logger.info({ term: String(number), mode: this.mode }, 'leading the health checker');
    this.o.onElected(term);
  }

  /** Ends the current term once: stop the work, let it finish, give the lock and the lease up. */
  private endTerm(reason: string, { retryAfter, of }: { retryAfter: number | null; of?: Held }): Promise<void> {
    const held = this.held;
    if (!held || (of && of !== held)) return this.ending ?? Promise.resolve();
    this.held = undefined;
    this.o.logger.warn({ term: String(held.term.number), reason }, 'no longer leading the health checker');
    held.end.abort(new LockLostError(reason));
    this.ending = (async () => {
      await this.o.onTermEnding?.(held.term).catch(() => undefined);
      await held.lease.release();
      await endTerm(this.o.prisma, this.o.role, held.term.number).catch(() => undefined);
    })();
    void this.ending.then(() => {
      if (retryAfter !== null) this.schedule(retryAfter);
    });
    return this.ending;
  }
}

function reasonOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
