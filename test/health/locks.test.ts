// Each leader lock: one holder at a time, given up at once on release, and a
// lease that reports its loss (the key gone, the connection killed, the lock
// file taken) instead of going on as if it still held it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { fileLock } from '../../src/health/file-lock.js';
import type { LeaderLock, Lease } from '../../src/health/leader-lock.js';
import { postgresLock } from '../../src/health/postgres-lock.js';
import { redisLock } from '../../src/health/redis-lock.js';
import { soloLock } from '../../src/health/solo-lock.js';
import { silentLogger } from '../helpers/app.js';
import { createPostgresDatabase } from '../helpers/db.js';
import { requireServices, TEST_REDIS_URL } from '../helpers/services.js';

const lost = (lease: Lease) =>
  new Promise<unknown>((resolve) => {
    if (lease.lost.aborted) resolve(lease.lost.reason);
    lease.lost.addEventListener('abort', () => resolve(lease.lost.reason), { once: true });
  });

/** Two workers' locks on one key: exclusive, released at once. */
async function exclusive(a: LeaderLock, b: LeaderLock): Promise<void> {
  const first = await a.tryAcquire();
  expect(first).not.toBeNull();
  expect(await b.tryAcquire()).toBeNull();
  await first!.release();
  expect(first!.lost.aborted).toBe(true);
  const second = await b.tryAcquire();
  expect(second).not.toBeNull();
  expect(await a.tryAcquire()).toBeNull();
  await second!.release();
}

test('none: this process leads at once, and only a release ends it', async () => {
  const lease = await soloLock().tryAcquire();
  expect(lease?.lost.aborted).toBe(false);
  await lease!.release();
  expect(lease!.lost.aborted).toBe(true);
});

describe('file', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  test('one holder per directory; released at once; held while extended past the TTL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leader-'));
    dirs.push(dir);
    const options = { dir, ttlMs: 2_000, extendMs: 1_000 };
    await exclusive(fileLock(options), fileLock(options));
    // Past the TTL the holder's refreshes keep the lock from going stale.
    const held = await fileLock(options).tryAcquire();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await fileLock(options).tryAcquire()).toBeNull();
    expect(held!.lost.aborted).toBe(false);
    await held!.release();
  });
});

describe.runIf(requireServices('postgres'))('postgres', () => {
  test('one holder per database; a killed connection loses the lease and frees the lock', async () => {
    const { url, drop } = await createPostgresDatabase();
    const admin = new pg.Client({ connectionString: url });
    try {
      const options = { url, extendMs: 200 };
      await exclusive(postgresLock(options), postgresLock(options));
      const lease = (await postgresLock(options).tryAcquire())!;
      await admin.connect();
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mcp-federation health leader'`);
      expect(String(await lost(lease))).toMatch(/connection/);
      expect(await postgresLock(options).tryAcquire().then((l) => (l?.release(), l !== null))).toBe(true);
    } finally {
      await admin.end();
      await drop();
    }
  });
});

describe.runIf(requireServices('redis'))('redis', () => {
  const key = `test-${randomBytes(6).toString('hex')}:leader`;
  const locks: LeaderLock[] = [];
  const lock = () => {
    const made = redisLock({ url: TEST_REDIS_URL, key, ttlMs: 1_000, extendMs: 200, logger: silentLogger() });
    locks.push(made);
    return made;
  };
  const ready = async (l: LeaderLock) => {
    // The client connects in the background; tryAcquire declines until it is ready.
    for (let i = 0; i < 100; i++) {
      const lease = await l.tryAcquire();
      if (lease) return lease;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the Redis lock never became available');
  };
  afterAll(() => Promise.all(locks.map((l) => l.close())));

  test('one holder per key; released at once; extended past its TTL', async () => {
    const a = lock();
    const b = lock();
    await (await ready(a)).release();
    await ready(b).then((lease) => lease.release());
    await exclusive(a, b);
    const lease = await a.tryAcquire();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(lease!.lost.aborted).toBe(false);
    expect(await b.tryAcquire()).toBeNull();
    await lease!.release();
  });

  test('a lock taken from under the holder (key deleted and taken by another) loses the lease at the next extension', async () => {
    const a = lock();
    const lease = await ready(a);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      await redis.set(key, 'someone-else', 'PX', 5_000);
      expect(String(await lost(lease))).toMatch(/could not be extended|expired/);
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });
});
