// One health check: initialize and ping, with the gateway's stored transport
// and credentials, bounded as a whole. It lists nothing: a check must stay
// cheap for the peer. A port that answers HTTP but not MCP fails here too.
import { classifyError, PeerConnectionError } from '../federation/peer-errors.js';
import type { PeerAccess } from '../federation/peer-probe.js';
import type { PeerTarget } from '../federation/peer-snapshot.js';

export type CheckOutcome = { ok: true; latencyMs: number } | { ok: false; error: PeerConnectionError };

export async function checkPeer(peers: PeerAccess, target: PeerTarget, timeoutMs: number, signal?: AbortSignal): Promise<CheckOutcome> {
  // One controller and one timer per check: AbortSignal.timeout() and .any() cost
  // several times more, and a sweep makes thousands of checks.
  const bound = new AbortController();
  const timer = setTimeout(() => bound.abort(new PeerConnectionError('TIMEOUT', `health check did not finish within ${timeoutMs} ms`)), timeoutMs);
  const stop = () => bound.abort(signal?.reason);
  if (signal?.aborted) stop();
  signal?.addEventListener('abort', stop, { once: true });
  const started = performance.now();
  try {
    const session = await peers.connect(target, { timeoutMs, signal: bound.signal });
    try {
      await session.run((options) => session.client.ping(options));
      return { ok: true, latencyMs: Math.max(0, Math.round(performance.now() - started)) };
    } finally {
      // Not awaited: the answer is in, and a slow goodbye (DELETE) must not delay the result.
      void session.close();
    }
  } catch (error) {
    return { ok: false, error: classifyError(bound.signal.aborted ? bound.signal.reason : error) };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  }
}
