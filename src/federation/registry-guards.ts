// The registry's uniqueness rules, checked where the schema alone cannot say
// which rule was broken (or cannot hold the rule at all, as for duplicates).
import { LOCK_SPACE } from '../db/advisory-locks.js';
import { DuplicateGatewayError, NameConflictError } from '../errors.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { namespacedName, type NamingRules } from './naming.js';

type Db = PrismaClient | Prisma.TransactionClient;

/** Another gateway already has this name, or a name with this slug. */
export async function assertNameFree(db: Db, name: string, slug: string, exceptId: string | null): Promise<void> {
  const taken = await db.gateway.findFirst({
    where: { OR: [{ name }, { slug }], ...(exceptId ? { NOT: { id: exceptId } } : {}) },
    select: { name: true },
  });
  if (taken) throw new NameConflictError(taken.name === name ? name : slug);
}

/**
 * Checked once before talking to the peer (fail fast) and again inside the
 * writing transaction under a lock on the fingerprint: two registrations of
 * one peer racing through the probe would otherwise both be stored, since
 * nothing in the schema makes the fingerprint unique.
 */
export async function assertNotDuplicate(db: Db, fingerprint: string, exceptId: string | null, { lock = false } = {}): Promise<void> {
  if (lock) await db.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(${LOCK_SPACE.peerFingerprint}::int, hashtext(${fingerprint}))`;
  const duplicate = await db.gateway.findFirst({
    where: { authFingerprint: fingerprint, ...(exceptId ? { NOT: { id: exceptId } } : {}) },
    select: { id: true },
  });
  if (duplicate) throw new DuplicateGatewayError(duplicate.id);
}

/** A rename is refused (never truncated) when an entry's new name would be too long or another gateway's. */
export async function renameEntries(tx: Prisma.TransactionClient, gatewayId: string, slug: string, naming: NamingRules): Promise<void> {
  const { separator } = naming;
  const where = { gatewayId };
  const select = { originalName: true };
  const entries = [...(await tx.tool.findMany({ where, select })), ...(await tx.prompt.findMany({ where, select }))];
  for (const { originalName } of entries) namespacedName(slug, originalName, naming, 'name');
  for (const table of ['tool', 'prompt']) {
    const t = Prisma.raw(`"${table}"`);
    const taken = await tx.$queryRaw<{ name: string }[]>`
      SELECT other.name FROM ${t} AS mine JOIN ${t} AS other ON other.name = ${slug} || ${separator} || mine.original_name
      WHERE mine.gateway_id = ${gatewayId}::uuid AND other.gateway_id <> ${gatewayId}::uuid ORDER BY other.name LIMIT 1`;
    if (taken[0]) throw new NameConflictError(taken[0].name);
  }
  await tx.$executeRaw`UPDATE tool SET name = ${slug} || ${separator} || original_name, updated_at = now() WHERE gateway_id = ${gatewayId}::uuid`;
  await tx.$executeRaw`UPDATE prompt SET name = ${slug} || ${separator} || original_name, updated_at = now() WHERE gateway_id = ${gatewayId}::uuid`;
}
