// A gateway stored by a version that did not normalise URLs is brought to
// today's spelling and fingerprint at start, so the same peer registered
// again under its normal spelling is a duplicate.
import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { canonicalAuth } from '../../src/federation/peer-auth.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { startTestApp } from '../helpers/app.js';
import { testDatabase } from '../helpers/db.js';
import { startPeer } from '../helpers/peers.js';
import { PEER_ENV, registerGateway } from '../helpers/registry.js';
import { seedGateway } from '../helpers/seed.js';

test('an old spelling and its old fingerprint are replaced at start; the peer under its normal spelling is then a duplicate', async () => {
  const peer = await startPeer({ tools: 1 });
  const key = randomBytes(32).toString('base64');
  const box = await SecretBox.load(key, './data');
  const oldUrl = `${peer.url.replace('/mcp', '/%6Dcp')}?`;
  const db = await testDatabase('pglite');
  // What an older version stored: the URL as typed, and a fingerprint of exactly that spelling.
  const row = await seedGateway(db.prisma, {
    name: 'Legacy',
    url: oldUrl,
    authFingerprint: box.fingerprint(JSON.stringify([oldUrl, canonicalAuth({ type: 'none' })])),
  });
  const t = await startTestApp({ database: db, env: { ...PEER_ENV, SECRET_KEY: key } });
  try {
    const stored = await t.app.db.prisma.gateway.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored.url).toBe(peer.url);
    expect(stored.authFingerprint).not.toBe(row.authFingerprint);
    expect(t.logs.some((line) => line.includes('normalised the URLs and fingerprints'))).toBe(true);
    const again = await registerGateway(t, { name: 'Again', url: peer.url });
    expect(again).toMatchObject({ __typename: 'DuplicateGatewayError' });
  } finally {
    await t.close();
    await peer.close();
  }
});
