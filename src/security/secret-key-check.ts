// Every worker on one database must seal and open peer credentials with the
// same key: a worker started with another SECRET_KEY (or, without one, with
// its own generated key file) would store secrets the others cannot open, and
// fail on theirs only when it next talks to a peer. The first start records a
// check value of the key (never the key); every start compares with it.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { SecretBox } from './secret-box.js';

const SETTING = 'secret_key_check';

export class SecretKeyMismatchError extends Error {
  constructor(detail: string) {
    super(
      `the secret key differs from the one this database's peer credentials are sealed with (${detail}); ` +
        'give every worker the same SECRET_KEY, or the DATA_DIR/secret.key the database was first used with',
    );
    this.name = 'SecretKeyMismatchError';
  }
}

export async function verifySecretKey(prisma: PrismaClient, box: SecretBox): Promise<void> {
  const check = box.keyCheck();
  const stored = await prisma.setting.findUnique({ where: { name: SETTING } });
  if (stored) {
    if (stored.value !== check) throw new SecretKeyMismatchError('its recorded check value does not match');
    return;
  }
  // First start with this check (or a database from before it): credentials
  // already stored must open with the key before it is recorded as the key.
  const sealed = await prisma.gateway.findFirst({ where: { authSecret: { not: null } }, select: { authSecret: true } });
  if (sealed?.authSecret) {
    try {
      box.open(sealed.authSecret);
    } catch {
      throw new SecretKeyMismatchError('a stored credential does not open with it');
    }
  }
  // Two workers starting together: one insert wins, and both compare with it.
  await prisma.setting.createMany({ data: [{ name: SETTING, value: check }], skipDuplicates: true });
  const recorded = await prisma.setting.findUniqueOrThrow({ where: { name: SETTING } });
  if (recorded.value !== check) throw new SecretKeyMismatchError('another worker recorded a different key');
}
