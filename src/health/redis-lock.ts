// LEADER_ELECTION=redis: Redlock over one Redis. The leader extends its lock
// every LEADER_LOCK_EXTEND_MS; a failed extension, or a lock that reaches its
// expiry without one (Redis hanging, the process paused), loses the lease at
// once. Nothing here waits on Redis without a bound: commands time out, and
// none queues while Redis is away.
import { Redis } from 'ioredis';
import Redlock, { type Lock } from 'redlock';
import type { Logger } from '../logger.js';
import { leaseControl, type LeaderLock } from './leader-lock.js';

export interface RedisLockOptions {
  url: string;
  key: string;
  ttlMs: number;
  extendMs: number;
  logger: Logger;
}

export function redisLock({ url, key, ttlMs, extendMs, logger }: RedisLockOptions): LeaderLock {
  const redis = new Redis(url, {
    // A command sent while Redis is away fails at once instead of waiting in a queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: Math.min(extendMs, 2_000),
    connectTimeout: Math.min(ttlMs, 5_000),
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // One line per outage, not one per reconnection attempt.
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: { message: error.message } }, 'leader election: Redis is unreachable; no worker can lead until it returns');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('leader election: Redis is reachable again');
  });
  const redlock = new Redlock([redis], { retryCount: 0, driftFactor: 0.01 });
  // Redlock emits every failed vote, "already locked" included; the outcome is what counts.
  redlock.on('error', () => undefined);

  return {
    mode: 'redis',
    async tryAcquire() {
      if (redis.status !== 'ready') return null;
      let lock: Lock;
      try {
        lock = await redlock.acquire([key], ttlMs);
      } catch {
        return null; // held by another worker, or Redis failed: either way, not ours
      }
      const lease = leaseControl(async () => {
        await lock.release().catch(() => undefined); // it expires on its own anyway
      });
      // Past its expiry the lock may be another's, whether or not we heard from Redis.
      let cancelExpiry = lease.after(lock.expiration - Date.now(), () => lease.lose('the leader lock expired before it was extended'));
      let extending = false;
      lease.every(extendMs, () => {
        if (extending || lease.lost.aborted) return;
        extending = true;
        lock
          .extend(ttlMs)
          .then((extended) => {
            if (lease.lost.aborted) return;
            lock = extended;
            cancelExpiry();
            cancelExpiry = lease.after(lock.expiration - Date.now(), () => lease.lose('the leader lock expired before it was extended'));
          })
          .catch((error: Error) => lease.lose(`the leader lock could not be extended: ${error.message}`))
          .finally(() => (extending = false));
      });
      return { lost: lease.lost, release: lease.release };
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
