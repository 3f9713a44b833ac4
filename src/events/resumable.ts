// A gatewayEvents subscription that never loses an event: every event of the
// log that matches, once each, in sequence order, from `after` (or from the
// moment it starts) until it ends.
//
// The hand-over from the log to live events:
// 1. The feed listens first (its bounded queue buffers live events meanwhile).
// 2. The head: the newest event of the log. Every sequence below it is settled,
//    committed or never to be (events commit in sequence order, see
//    EventBus.record), so a hole in the log is a rollback, never a wait.
// 3. With `after`: the log from `after` up to the head, in keyset pages through
//    the history query's code, filtered in SQL.
// 4. Then the live events, holding a watermark W (every event ≤ W that matches
//    has been delivered): one ≤ W is a duplicate, dropped; one that skips ahead
//    (N > W + 1: its predecessors were committed by another worker and not yet
//    heard, or not fanned out during a Redis outage, or rolled back) first has
//    the gap (W, N) filled from the log. A `resync` (this worker's Redis
//    connection came back) fills from W to the end of the log the same way.
// 5. Reading the log from W when retention has pruned past W would skip what
//    was pruned: the subscription ends with EventsPruned instead.
// 6. A subscriber whose queue overflows (it does not read fast enough) gets a
//    SubscriptionEnd saying to resume with `after: W`, and nothing more.
import type { GatewayEventMessage } from './event-bus.js';
import type { Feed } from './fanout.js';

const PAGE = 100;

/** What the subscription reads the log with: the history query's keyset pages. */
export interface EventLog {
  /** Events with after < sequence < before (before null: to the end), oldest first, at most `size`; `filtered`: only those the subscription's filter matches. */
  page(after: bigint, before: bigint | null, filtered: boolean, size: number): Promise<{ events: GatewayEventMessage[]; more: boolean }>;
  /** The sequence of the newest event of the log, 0 when it is empty. */
  head(): Promise<bigint>;
  /** Every sequence up to this one has been pruned (event-retention.ts). */
  prunedThrough(): Promise<bigint>;
}

/** The end of a subscription whose next events were pruned from the log: every one up to `prunedThrough` is gone. */
export class EventsPruned {
  constructor(
    readonly after: string,
    readonly prunedThrough: string,
  ) {}
}

/** The end of a subscription that fell too far behind; `after` is where the client resumes. */
export class SubscriptionEnd {
  constructor(
    readonly after: string,
    readonly limit: number,
  ) {}
}

export interface ResumableOptions {
  /** Replay the log after this sequence first; null: live events from now. */
  after: bigint | null;
  matches: (event: GatewayEventMessage) => boolean;
}

const seq = (event: GatewayEventMessage) => BigInt(event.id);

export function resumable(
  feed: Feed<GatewayEventMessage>,
  log: EventLog,
  { after, matches }: ResumableOptions,
): AsyncIterableIterator<GatewayEventMessage | SubscriptionEnd | EventsPruned> {
  /** EventsPruned if retention has deleted events right after W, else null. */
  const prunedAfter = async (w: bigint) => {
    const horizon = await log.prunedThrough();
    return horizon > w ? new EventsPruned(w.toString(), horizon.toString()) : null;
  };

  async function* run(): AsyncGenerator<GatewayEventMessage | SubscriptionEnd | EventsPruned> {
    const head = await log.head();
    let w = after ?? head;
    // The log, filtered, up to the head.
    for (let more = after !== null && w < head; more; ) {
      // Filtered pages skip sequences anyway: whether the next ones were pruned takes asking, page by page.
      const pruned = await prunedAfter(w);
      if (pruned) return yield pruned;
      const page = await log.page(w, head + 1n, true, PAGE);
      for (const event of page.events) {
        yield event;
        w = seq(event);
      }
      more = page.more && page.events.length > 0;
    }
    if (w < head) w = head;

    // The log, unfiltered, from W up to `before` (null: the end).
    // Returns false if the subscription ended (EventsPruned).
    async function* fill(before: GatewayEventMessage | null): AsyncGenerator<GatewayEventMessage | EventsPruned, boolean> {
      const end = before ? seq(before) : null;
      for (;;) {
        const page = await log.page(w, end, false, PAGE);
        // Unfiltered, a page that does not go on from W has a hole there: a rollback, or pruning (asked only then).
        if (!page.events.length || seq(page.events[0]!) > w + 1n) {
          const pruned = await prunedAfter(w);
          if (pruned) {
            yield pruned;
            return false;
          }
        }
        for (const event of page.events) {
          if (matches(event)) yield event;
          w = seq(event);
        }
        if (!page.more || !page.events.length) return true;
      }
    }

    for (;;) {
      const item = await feed.next();
      if (item.kind === 'closed') return;
      if (item.kind === 'overflow') {
        yield new SubscriptionEnd(w.toString(), feed.limit);
        return;
      }
      if (item.kind === 'resync') {
        if (!(yield* fill(null))) return;
        continue;
      }
      const event = item.message;
      const id = seq(event);
      if (id <= w) continue; // already delivered (from the log), or heard twice
      if (id > w + 1n && !(yield* fill(event))) return;
      if (id <= w) continue; // the fill read it from the log
      if (matches(event)) yield event;
      w = id;
    }
  }

  const generator = run();
  const iterator: AsyncIterableIterator<GatewayEventMessage | SubscriptionEnd | EventsPruned> = {
    next: () => generator.next(),
    // Closing the feed first wakes a generator that waits for the next event, so that return() does not wait for one.
    return: async () => {
      feed.close();
      await generator.return(undefined);
      return { done: true, value: undefined };
    },
    throw: async (error: unknown) => {
      feed.close();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
