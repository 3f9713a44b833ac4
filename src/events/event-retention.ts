// Event log retention: events older than EVENT_RETENTION_DAYS, and those past
// the newest EVENT_RETENTION_MAX sequences, are deleted by the leader (see
// HealthChecker), in batches of a bounded size, each one transaction fenced by
// the leader's term. Pruning always removes a prefix of the log (every event up
// to some sequence), so "what is gone" is one number, the horizon, kept in the
// `setting` table: a subscription asked to resume below it is told so
// (EventsPruned) instead of silently skipping what was deleted.
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { sleep } from '../health/sleep.js';
import type { Logger } from '../logger.js';

type Db = PrismaClient | Prisma.TransactionClient;

const HORIZON = 'event_log.pruned_through';

export interface RetentionSettings {
  /** Events older than this many days go; 0: no age limit. */
  days: number;
  /** At most this many of the newest sequences are kept; 0: no count limit. */
  max: number;
  /** Most events one transaction deletes. */
  batch: number;
}

export interface PruneOptions extends RetentionSettings {
  /** The leader's fence, first in every batch's transaction: throws if its term is over. */
  fence: (tx: Prisma.TransactionClient) => Promise<void>;
  /** Stops between batches (the term ended, or shutdown). */
  signal?: AbortSignal;
}

export interface PruneReport {
  deleted: number;
  batches: number;
  /** Every sequence up to this one has been pruned (0: none ever). */
  prunedThrough: bigint;
}

/** Every sequence up to the returned one has been pruned; 0 if none ever was. */
export async function prunedThrough(db: Db): Promise<bigint> {
  const row = await db.setting.findUnique({ where: { name: HORIZON }, select: { value: true } });
  return row ? BigInt(row.value) : 0n;
}

/** Deletes what retention no longer keeps, batch by batch; stops early when `signal` aborts, and throws what the fence throws. */
export async function pruneEvents(prisma: PrismaClient, o: PruneOptions): Promise<PruneReport> {
  const report: PruneReport = { deleted: 0, batches: 0, prunedThrough: await prunedThrough(prisma) };
  if (o.days === 0 && o.max === 0) return report;
  while (!o.signal?.aborted) {
    const batch = await prisma.$transaction(async (tx) => {
      await o.fence(tx);
      // The oldest events (one batch, in sequence order) and the sequence below which the count limit removes everything.
      const oldest = await tx.$queryRaw<{ id: bigint; old: boolean }[]>`
        SELECT id, ${o.days > 0}::boolean AND created_at < now() - make_interval(days => ${o.days}) AS old
        FROM gateway_event ORDER BY id LIMIT ${o.batch}`;
      const [newest] = await tx.$queryRaw<{ id: bigint }[]>`SELECT id FROM gateway_event ORDER BY id DESC LIMIT 1`;
      const overCount = o.max > 0 && newest ? newest.id - BigInt(o.max) : 0n;
      // The longest prefix of the batch that retention no longer keeps.
      let through: bigint | null = null;
      for (const row of oldest) {
        if (!row.old && row.id > overCount) break;
        through = row.id;
      }
      if (through === null) return { deleted: 0, through: null };
      const deleted = await tx.$executeRaw`DELETE FROM gateway_event WHERE id <= ${through}`;
      await tx.$executeRaw`
        INSERT INTO setting (name, value) VALUES (${HORIZON}, ${through.toString()})
        ON CONFLICT (name) DO UPDATE SET value = GREATEST(setting.value::bigint, EXCLUDED.value::bigint)::text`;
      return { deleted, through };
    });
    if (batch.through === null) break;
    report.deleted += batch.deleted;
    report.batches++;
    if (batch.through > report.prunedThrough) report.prunedThrough = batch.through;
    if (batch.deleted < o.batch) break;
  }
  return report;
}

export interface RetentionLoopOptions {
  prisma: PrismaClient;
  settings: RetentionSettings;
  intervalMs: number;
  fence: PruneOptions['fence'];
  /** Aborts when the term ends or on shutdown: the loop returns between batches. */
  signal: AbortSignal;
  logger: Logger;
}

/** Prunes now, then every intervalMs, until `signal` aborts. Errors of one run are logged and the next run tries again; a fence error is thrown. */
export async function retentionLoop(o: RetentionLoopOptions, isFenceError: (error: unknown) => boolean): Promise<void> {
  while (!o.signal.aborted) {
    try {
      const report = await pruneEvents(o.prisma, { ...o.settings, fence: o.fence, signal: o.signal });
      if (report.deleted > 0) o.logger.info({ deleted: report.deleted, batches: report.batches, prunedThrough: report.prunedThrough.toString() }, 'pruned the event log');
    } catch (error) {
      if (isFenceError(error)) throw error;
      if (!o.signal.aborted) o.logger.warn({ err: { message: (error as Error).message } }, 'could not prune the event log; trying again at the next interval');
    }
    await sleep(o.intervalMs, o.signal);
  }
}
