// Workers on one database must share the key that seals peer credentials: a
// start with another key is refused before it serves anything.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { SecretKeyMismatchError, verifySecretKey } from '../../src/security/secret-key-check.js';
import { silentLogger } from '../helpers/app.js';
import { backendAvailable, backends, createPostgresDatabase, keptOpen, testDatabase } from '../helpers/db.js';

const newKey = () => randomBytes(32).toString('base64');

function start(db: Database, secretKey: string): Promise<App> {
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'fatal', ADMIN_TOKEN: randomBytes(24).toString('hex'), SECRET_KEY: secretKey });
  return createApp(config, { database: keptOpen(db), logger: silentLogger(), announce: () => undefined });
}

for (const backend of backends) {
  describe.runIf(backendAvailable(backend))(`the secret key check on ${backend}`, () => {
    let db: Database | undefined;
    afterEach(async () => {
      await db?.close();
      db = undefined;
    });

    test('the first start records a check value (not the key); the same key starts again, another is refused', async () => {
      db = await testDatabase(backend);
      const key = newKey();
      await (await start(db, key)).close();
      const [setting] = await db.prisma.setting.findMany();
      expect(setting?.name).toBe('secret_key_check');
      const raw = Buffer.from(key, 'base64');
      for (const form of [key, raw.toString('hex'), raw.toString('base64url')]) expect(setting?.value).not.toContain(form);

      await (await start(db, key)).close();
      // Given as hex rather than base64, it is the same key.
      await (await start(db, raw.toString('hex'))).close();
      const refused = start(db, newKey());
      await expect(refused).rejects.toBeInstanceOf(SecretKeyMismatchError);
      await expect(refused).rejects.toThrow(/give every worker the same SECRET_KEY/);
      expect(await db.prisma.setting.findMany({ where: { name: setting!.name } })).toEqual([setting]);
    });

    test('a database from before the check: a key that cannot open its stored credentials is refused, the right one recorded', async () => {
      db = await testDatabase(backend);
      const key = SecretBox.fromKey(randomBytes(32));
      await db.prisma.gateway.create({
        data: { name: 'Old', slug: 'old', url: 'http://127.0.0.1:1/mcp', authType: 'BEARER', authSecret: key.seal('{"token":"t"}'), authFingerprint: 'fp' },
      });
      await expect(verifySecretKey(db.prisma, SecretBox.fromKey(randomBytes(32)))).rejects.toThrow(/a stored credential does not open with it/);
      expect(await db.prisma.setting.count()).toBe(0);
      await verifySecretKey(db.prisma, key);
      expect((await db.prisma.setting.findFirstOrThrow()).value).toBe(key.keyCheck());
    });
  });
}

describe.runIf(backendAvailable('postgres'))('two workers starting together with different keys', () => {
  test('exactly one starts; the other is refused', async () => {
    const { url, drop } = await createPostgresDatabase();
    const dbs = [await openDatabase({ kind: 'postgres', url }), await openDatabase({ kind: 'postgres', url })];
    try {
      await dbs[0]!.migrate();
      const boxes = [SecretBox.fromKey(randomBytes(32)), SecretBox.fromKey(randomBytes(32))];
      const results = await Promise.allSettled(dbs.map((db, i) => verifySecretKey(db.prisma, boxes[i]!)));
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toBeInstanceOf(SecretKeyMismatchError);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect((await dbs[0]!.prisma.setting.findFirstOrThrow()).value).toBe(boxes[winner]!.keyCheck());
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await drop();
    }
  });
});
