// Gateways stored before URLs were normalised keep the spelling they were
// registered with, and a fingerprint of it: the same peer under its normal
// spelling would not be found a duplicate. At start, each such row gets the
// normal URL and the fingerprint of today's rules. Idempotent, so workers
// starting together may both run it: they write the same values.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../security/secret-box.js';
import { normalizePeerUrl } from '../security/url-policy.js';
import { authFingerprint, openAuth } from './auth-storage.js';

export async function refreshFingerprints(prisma: PrismaClient, box: SecretBox, logger: Logger): Promise<number> {
  const rows = await prisma.gateway.findMany({
    select: { id: true, url: true, authType: true, authPublic: true, authSecret: true, authFingerprint: true },
  });
  let changed = 0;
  for (const row of rows) {
    let url: string;
    try {
      url = normalizePeerUrl(row.url);
    } catch {
      continue; // cannot happen for a stored URL; leave it for an operator rather than fail the start
    }
    const fingerprint = authFingerprint(url, openAuth(row, box), box);
    if (url === row.url && fingerprint === row.authFingerprint) continue;
    await prisma.gateway.updateMany({ where: { id: row.id, url: row.url }, data: { url, authFingerprint: fingerprint } });
    changed++;
  }
  if (changed > 0) logger.info({ gateways: changed }, 'normalised the URLs and fingerprints of gateways stored by an older version');
  return changed;
}
