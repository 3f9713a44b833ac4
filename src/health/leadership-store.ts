// The leadership record in the database: the term counter that fences the
// leader's writes, who holds it until when, and the leader's last sweep, so
// that every worker can say who leads without asking the lock.
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

export const HEALTH_CHECKER_ROLE = 'health-checker';

/** SQLSTATE raised by leader_term_is_current() for a write from an older term. */
export const STALE_TERM_SQLSTATE = 'MF001';

type Db = PrismaClient | Prisma.TransactionClient;

export interface SweepRecord {
  startedAt: string;
  finishedAt: string;
  checked: number;
  failed: number;
  durationMs: number;
}

export interface LeadershipRow {
  term: bigint;
  holder: string | null;
  since: Date | null;
  expiresAt: Date | null;
  lastSweep: SweepRecord | null;
  nextSweepAt: Date | null;
  /** Whether the lease is still running by the database's clock. */
  current: boolean;
}

/** The next term, taken and recorded in one statement: from now on older terms' writes are refused. */
export async function beginTerm(db: Db, role: string, holder: string, ttlMs: number): Promise<bigint> {
  const [row] = await db.$queryRaw<{ term: bigint }[]>`
    INSERT INTO leadership (name, term, holder, since, expires_at)
    VALUES (${role}, 1, ${holder}, now(), now() + make_interval(secs => ${ttlMs / 1000}))
    ON CONFLICT (name) DO UPDATE SET term = leadership.term + 1, holder = EXCLUDED.holder, since = now(), expires_at = EXCLUDED.expires_at
    RETURNING term`;
  return row!.term;
}

/** Renews the lease shown to other workers; false when a newer term has begun. */
export async function renewTerm(db: Db, role: string, term: bigint, ttlMs: number): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE leadership SET expires_at = now() + make_interval(secs => ${ttlMs / 1000}) WHERE name = ${role} AND term = ${term}`;
  return count === 1;
}

/** Ends the lease as shown to other workers (the term number stays: it only grows). */
export async function endTerm(db: Db, role: string, term: bigint): Promise<void> {
  await db.$executeRaw`UPDATE leadership SET expires_at = now() WHERE name = ${role} AND term = ${term}`;
}

/** The leader's last sweep and next one, written only while its term is current. */
export async function recordSweep(db: Db, role: string, term: bigint, sweep: SweepRecord, nextSweepAt: Date): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE leadership SET last_sweep = ${JSON.stringify(sweep)}::jsonb, next_sweep_at = ${nextSweepAt}
    WHERE name = ${role} AND term = ${term}`;
  return count === 1;
}

export async function readLeadership(db: Db, role: string): Promise<LeadershipRow | null> {
  const [row] = await db.$queryRaw<(Omit<LeadershipRow, 'current'> & { current: boolean | null })[]>`
    SELECT term, holder, since, expires_at AS "expiresAt", last_sweep AS "lastSweep", next_sweep_at AS "nextSweepAt",
           expires_at > now() AS current
    FROM leadership WHERE name = ${role}`;
  return row ? { ...row, current: row.current === true } : null;
}

/**
 * The fence, as the first statement of a transaction that writes for a term:
 * it holds a share lock on the leadership row until commit, so no new term can
 * begin between it and the commit, and it raises STALE_TERM_SQLSTATE if one
 * already has.
 */
export async function fenceTerm(tx: Prisma.TransactionClient, role: string, term: bigint): Promise<void> {
  await tx.$queryRaw`SELECT leader_term_is_current(${role}, ${term}::bigint)`;
}

/** Whether an error is the database refusing a write from a stale term (raw from the driver, or wrapped by Prisma). */
export function isStaleTerm(error: unknown): boolean {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null;
  return e?.code === STALE_TERM_SQLSTATE || e?.meta?.driverAdapterError?.cause?.originalCode === STALE_TERM_SQLSTATE;
}
