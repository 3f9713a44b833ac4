// LEADER_ELECTION=file: a lock file for workers that share one host's disk.
// proper-lockfile refreshes the lock's mtime while we hold it; a holder that
// dies stops refreshing, and the lock goes stale after the TTL.
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { ensureDirectory } from '../data-dir.js';
import { leaseControl, type LeaderLock } from './leader-lock.js';

export interface FileLockOptions {
  dir: string;
  ttlMs: number;
  extendMs: number;
}

export function fileLock({ dir, ttlMs, extendMs }: FileLockOptions): LeaderLock {
  const lockfilePath = join(dir, 'health-leader.lock');
  return {
    mode: 'file',
    async tryAcquire() {
      await ensureDirectory(dir);
      let lease: ReturnType<typeof leaseControl> | undefined;
      try {
        const unlock = await lockfile.lock(dir, {
          lockfilePath,
          realpath: false,
          retries: 0,
          stale: ttlMs,
          update: extendMs,
          // Another process found our lock stale and may have taken it: we are no longer alone.
          onCompromised: (error) => lease?.lose(error),
        });
        lease = leaseControl(() => unlock().catch(() => undefined));
        return { lost: lease.lost, release: lease.release };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return null;
        throw error;
      }
    },
    close: async () => undefined,
  };
}
