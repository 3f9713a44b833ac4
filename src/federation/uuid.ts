import { randomFillSync } from 'node:crypto';

// A sync writes thousands of ids at once; one call to the CSPRNG per id cost
// more than everything else in building the rows, so draw randomness in bulk.
const POOL_IDS = 1024;
const pool = Buffer.alloc(16 * POOL_IDS);
let next = POOL_IDS;

/** A UUIDv7 (RFC 9562): time-ordered like the ids Prisma makes with uuid(7). */
export function uuidv7(now = Date.now()): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const bytes = pool.subarray(16 * next, 16 * ++next);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
