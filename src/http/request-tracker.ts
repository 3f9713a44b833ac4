// Knows which requests are in flight, so that shutdown can wait for them and
// end the long-lived ones (SSE subscriptions) instead of waiting on them.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class RequestTracker {
  private readonly active = new Set<ServerResponse>();
  private drained: (() => void) | undefined;

  track(res: ServerResponse): void {
    this.active.add(res);
    res.once('close', () => {
      this.active.delete(res);
      if (this.active.size === 0) this.drained?.();
    });
  }

  get size(): number {
    return this.active.size;
  }

  /** Ends event streams: they never finish by themselves. */
  endStreams(): void {
    for (const res of this.active) {
      if (String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) res.end();
    }
  }

  /** Resolves when nothing is in flight, or after `timeoutMs` (returns false then). */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.active.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<boolean>((resolve) => {
      this.drained = () => resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await done;
    clearTimeout(timer);
    return result;
  }
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
