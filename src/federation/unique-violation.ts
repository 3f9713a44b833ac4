// Prisma reports a unique violation as P2002 from its own queries and as a
// failed raw query (P2010, PostgreSQL code 23505) from ours.
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; meta?: { code?: string; driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } }; message?: string };
  if (e?.code === 'P2002') return true;
  if (e?.meta?.code === '23505') return true;
  const cause = e?.meta?.driverAdapterError?.cause;
  if (cause?.kind === 'UniqueConstraintViolation' || cause?.originalCode === '23505') return true;
  return typeof e?.message === 'string' && /\b23505\b|unique constraint/i.test(e.message);
}
