// LEADER_ELECTION=none: this process is the only worker (PGlite holds its data
// directory for one process), so it leads as soon as it asks.
import { leaseControl, type LeaderLock } from './leader-lock.js';

export function soloLock(): LeaderLock {
  return {
    mode: 'none',
    tryAcquire: async () => {
      const lease = leaseControl(async () => undefined);
      return { lost: lease.lost, release: lease.release };
    },
    close: async () => undefined,
  };
}
