// The locks workers elect a health-checker leader with. Each says only who
// holds it now; the term that fences the leader's writes comes from the
// database (leadership-store.ts), whatever the lock.

export type ElectionMode = 'redis' | 'postgres' | 'file' | 'none';

/** A held lock. `lost` aborts when it can no longer be trusted to be ours. */
export interface Lease {
  readonly lost: AbortSignal;
  /** Gives the lock up at once, so another worker need not wait for it to expire. */
  release(): Promise<void>;
}

export interface LeaderLock {
  readonly mode: ElectionMode;
  /** One attempt: the lease, or null when another worker holds the lock or the lock service is unreachable. */
  tryAcquire(): Promise<Lease | null>;
  /** Closes connections; a held lease should be released first. */
  close(): Promise<void>;
}

export class LockLostError extends Error {
  override name = 'LockLostError';
}

/** The lease bookkeeping every lock shares: one abort, one release, timers cleared. */
export function leaseControl(onRelease: () => Promise<void>) {
  const controller = new AbortController();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let released: Promise<void> | undefined;
  const stopTimers = () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  };
  return {
    lost: controller.signal,
    /** Marks the lease lost (once); its holder stops acting on it. */
    lose(reason: string | Error) {
      if (controller.signal.aborted) return;
      stopTimers();
      controller.abort(typeof reason === 'string' ? new LockLostError(reason) : reason);
    },
    every(ms: number, tick: () => void) {
      const timer = setInterval(tick, ms);
      timers.add(timer);
    },
    after(ms: number, fire: () => void): () => void {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fire();
      }, ms);
      timers.add(timer);
      return () => {
        clearTimeout(timer);
        timers.delete(timer);
      };
    },
    release(): Promise<void> {
      return (released ??= (async () => {
        stopTimers();
        if (!controller.signal.aborted) controller.abort(new LockLostError('released'));
        await onRelease();
      })());
    },
  };
}
