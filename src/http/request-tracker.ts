// Knows which requests are in flight, so that shutdown can wait for them and
// end the long-lived ones (SSE subscriptions) instead of waiting on them.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class RequestTracker {
  private readonly active = new Set<ServerResponse>();
  private readonly streams = new WeakSet<ServerResponse>();
  private drained: (() => void) | undefined;
  private closeIdle: (() => void) | undefined;

  track(res: ServerResponse): void {
    // Arrived on a kept-alive connection after shutdown began: the last one on it.
    if (this.closeIdle) res.setHeader('connection', 'close');
    this.active.add(res);
    res.once('close', () => {
      this.active.delete(res);
      this.closeIdle?.();
      if (this.active.size === 0) this.drained?.();
    });
  }

  /**
   * For shutdown: server.close() only closes the connections idle at that
   * moment, and a keep-alive connection whose response finishes later (an
   * ended SSE stream, a drained request) would carry new requests until the
   * drain gives up. From now on responses say `Connection: close`, and each one
   * that finishes has `closeIdle` (server.closeIdleConnections) drop its socket.
   */
  stopKeepAlive(closeIdle: () => void): void {
    this.closeIdle = closeIdle;
    for (const res of this.active) {
      if (!res.headersSent) res.setHeader('connection', 'close');
    }
  }

  get size(): number {
    return this.active.size;
  }

  /** Marks a response that never finishes by itself (a subscription over SSE). */
  markStream(res: ServerResponse): void {
    this.streams.add(res);
  }

  /**
   * Ends the marked streams. (Not found by their Content-Type: the node adapter
   * passes headers to writeHead() directly, so getHeader() never sees them.)
   */
  endStreams(): void {
    for (const res of this.active) {
      if (this.streams.has(res)) res.end();
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
