// Writes a health check's result: failures counted in the database (so a new
// leader goes on from them), and a status change together with its event. A
// result is written only if the gateway is still there, enabled, and reached
// the same way as when the check began; the checker's writes also carry their
// leadership term, which the database checks in the statement that writes.
import { gatewayStatus, type GatewayStatus } from '../catalog/filters.js';
import type { EventBus, GatewayEventMessage } from '../events/event-bus.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import type { Transport } from '../generated/prisma/enums.js';
import { HEALTH_CHECKER_ROLE } from './leadership-store.js';

export interface CheckedGateway {
  id: string;
  authFingerprint: string | null;
  transport: Transport;
  /** As read when the check began: lets the common case skip the row lock (see recordCheck). */
  reachable?: boolean;
  consecutiveFailures?: number;
}

export type CheckResult = { ok: true; latencyMs: number } | { ok: false; error: string };

export interface RecordOptions {
  /** The checker's term; null for a manual check, which no leader owns. */
  term: bigint | null;
  threshold: number;
  /** When to check next, given the failures in a row after this result. */
  nextCheckAt(failures: number): Date | null;
}

export interface Recorded {
  written: boolean;
  status?: GatewayStatus;
  consecutiveFailures?: number;
}

interface LockedRow {
  name: string;
  enabled: boolean;
  reachable: boolean;
  failures: number;
  fingerprint: string | null;
  transport: string;
}

/** In the statement that writes: the database refuses it if a newer term has begun. */
function fence(term: bigint | null): Prisma.Sql {
  return term === null ? Prisma.sql`true` : Prisma.sql`leader_term_is_current(${HEALTH_CHECKER_ROLE}, ${term}::bigint)`;
}

/** The columns a result sets, given the failures in a row it leaves. */
function resultColumns(result: CheckResult, failures: number, reachable: boolean, next: Date | null): Prisma.Sql {
  return result.ok
    ? Prisma.sql`consecutive_failures = 0, last_error = NULL, last_checked_at = now(), last_seen_at = now(),
        last_latency_ms = ${result.latencyMs}, next_check_at = ${next}`
    : Prisma.sql`consecutive_failures = ${failures}, last_error = ${result.error}, last_checked_at = now(),
        reachable = ${reachable}, next_check_at = ${next}`;
}

export async function recordCheck(
  prisma: PrismaClient,
  events: EventBus,
  gateway: CheckedGateway,
  result: CheckResult,
  options: RecordOptions,
): Promise<Recorded> {
  return (await recordUnchangedStatus(prisma, gateway, result, options)) ?? recordInTransaction(prisma, events, gateway, result, options);
}

/**
 * Most checks change no status: one statement, no transaction, no event. It
 * writes only if the row is still as read when the check began (enabled,
 * same peer, same failure count), so that anything else falls through to the
 * locking path; undefined when it did not write.
 */
async function recordUnchangedStatus(prisma: PrismaClient, gateway: CheckedGateway, result: CheckResult, options: RecordOptions): Promise<Recorded | undefined> {
  const { reachable, consecutiveFailures } = gateway;
  if (reachable === undefined || consecutiveFailures === undefined) return undefined;
  // A success on an unreachable gateway is a resync's business, never this path's.
  if (result.ok && !reachable) return undefined;
  const failures = result.ok ? 0 : consecutiveFailures + 1;
  const stillReachable = reachable && (result.ok || failures < options.threshold);
  if (stillReachable !== reachable) return undefined;
  const count = await prisma.$executeRaw`
    UPDATE gateway SET ${resultColumns(result, failures, reachable, options.nextCheckAt(failures))}
    WHERE id = ${gateway.id}::uuid AND enabled AND reachable = ${reachable} AND consecutive_failures = ${consecutiveFailures}
      AND auth_fingerprint IS NOT DISTINCT FROM ${gateway.authFingerprint} AND transport = ${gateway.transport}::"Transport"
      AND ${fence(options.term)}`;
  return count === 1 ? { written: true, status: gatewayStatus({ enabled: true, reachable }), consecutiveFailures: failures } : undefined;
}

/** The general path: lock the row, decide from what it holds now, write the status change and its event together. */
async function recordInTransaction(
  prisma: PrismaClient,
  events: EventBus,
  gateway: CheckedGateway,
  result: CheckResult,
  options: RecordOptions,
): Promise<Recorded> {
  const { recorded, event } = await prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<LockedRow[]>`
      SELECT name, enabled, reachable, consecutive_failures AS failures, auth_fingerprint AS fingerprint, transport::text AS transport
      FROM gateway WHERE id = ${gateway.id}::uuid FOR UPDATE`;
    // Deleted, disabled or moved while we checked: this result speaks of nothing that still exists.
    if (!row || !row.enabled || row.fingerprint !== gateway.authFingerprint || row.transport !== gateway.transport) {
      return { recorded: { written: false }, event: undefined };
    }
    const failures = result.ok ? 0 : row.failures + 1;
    // Success never turns an unreachable gateway back on here: that takes a resync (GatewayService.refresh).
    const reachable = result.ok ? row.reachable : row.reachable && failures < options.threshold;
    const count = await tx.$executeRaw`
      UPDATE gateway SET ${resultColumns(result, failures, reachable, options.nextCheckAt(failures))}
      WHERE id = ${gateway.id}::uuid AND ${fence(options.term)}`;
    if (count !== 1) return { recorded: { written: false }, event: undefined };
    const oldStatus = gatewayStatus(row);
    const newStatus = gatewayStatus({ enabled: true, reachable });
    const recorded: Recorded = { written: true, status: newStatus, consecutiveFailures: failures };
    if (oldStatus === newStatus) return { recorded, event: undefined };
    const reason = result.ok ? 'health check succeeded' : 'health check failed';
    const change = { name: row.name, oldStatus, newStatus, reason, lastError: result.ok ? null : result.error, consecutiveFailures: failures };
    return { recorded, event: await events.record(tx, 'GATEWAY_HEALTH_CHANGED', gateway.id, change) };
  });
  if (event) events.broadcast(event as GatewayEventMessage);
  return recorded;
}
