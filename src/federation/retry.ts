// Retries of peer exchanges: only failures that can pass are retried, the
// peer's Retry-After is respected, and the whole exchange, attempts and waits
// together, ends by a deadline (an in-flight attempt is aborted, not awaited).
import pRetry from 'p-retry';
import { PeerConnectionError } from './peer-errors.js';

export interface RetryOptions {
  /** Bound on everything: attempts, backoff and Retry-After waits. */
  totalTimeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  factor?: number;
  signal?: AbortSignal;
  /** Called after each failed attempt (for logs; `willRetry` says what comes next). */
  onFailedAttempt?: (info: { error: unknown; attempt: number; willRetry: boolean }) => void;
}

export type Attempt<T> = (attempt: number, signal: AbortSignal) => Promise<T>;

export async function withRetry<T>(fn: Attempt<T>, options: RetryOptions): Promise<T> {
  const { totalTimeoutMs, retries, minTimeoutMs = 200, maxTimeoutMs = 5_000, factor = 2 } = options;
  const startedAt = performance.now();
  const remaining = () => totalTimeoutMs - (performance.now() - startedAt);
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new PeerConnectionError('TIMEOUT', `peer did not answer within ${totalTimeoutMs} ms`, { retryable: false })),
    totalTimeoutMs,
  );
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  let lastError: unknown;

  try {
    return await pRetry(
      async (attempt) => {
        try {
          return await untilAborted(fn(attempt, signal), signal);
        } catch (error) {
          if (error !== deadline.signal.reason) lastError = error;
          throw error;
        }
      },
      {
        retries,
        factor,
        minTimeout: minTimeoutMs,
        maxTimeout: maxTimeoutMs,
        randomize: true,
        maxRetryTime: totalTimeoutMs,
        signal,
        // p-retry waits its own backoff after this resolves; its backoff is never below
        // `floor`, so sleeping the rest here makes the total wait at least Retry-After.
        shouldRetry: async ({ error, retriesConsumed }) => {
          if (!(error instanceof PeerConnectionError) || !error.retryable) return false;
          const floor = Math.min(minTimeoutMs * factor ** retriesConsumed, maxTimeoutMs);
          const wait = error.retryAfterMs ?? 0;
          // A peer that wants us back after the deadline: give up now rather than sleep in vain.
          if (wait >= remaining()) return false;
          if (wait > floor) await sleep(wait - floor, signal);
          return true;
        },
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
          options.onFailedAttempt?.({
            error,
            attempt: attemptNumber,
            willRetry: retriesLeft > 0 && error instanceof PeerConnectionError && error.retryable && remaining() > 0,
          }),
      },
    );
  } catch (error) {
    // When the deadline strikes after a real failure (refused, 503, ...), that failure
    // says more about the peer than our own bookkeeping of time does.
    if (error === deadline.signal.reason && lastError !== undefined) throw lastError;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Settles with the promise, or rejects with the abort reason as soon as the signal fires. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
