// A gatewayEvents subscription that never loses an event: every event of the
// log that matches, once each, in sequence order, from `after` (or from the
// moment it starts) until it ends.
//
// The hand-over from the log to live events:
// 1. The feed listens first (its bounded queue buffers live events meanwhile).
// 2. The settled head: the newest event of the log such that every sequence
//    below it is committed or will never be (a hole with a recent event above
//    it may be a transaction that has not committed yet: sequences are taken at
//    insert and committed in any order across workers, so the log is re-read
//    until the hole fills or GAP_GRACE_MS passes).
// 3. With `after`: the log from `after` up to the head, in keyset pages through
//    the history query's code, filtered in SQL.
// 4. Then the live events, holding a watermark W (every event ≤ W that matches
//    has been delivered): one ≤ W is a duplicate, dropped; one that skips ahead
//    (N > W + 1: its predecessors were committed by another worker and not yet
//    heard, or not fanned out during a Redis outage) first has the gap (W, N)
//    filled from the log, unfiltered pages so holes can be seen, holes waited
//    for as in 2. A `resync` (this worker's Redis connection came back) fills
//    from W to the end of the log the same way.
// 5. A subscriber whose queue overflows (it does not read fast enough) gets a
//    SubscriptionEnd saying to resume with `after: W`, and nothing more.
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayEventMessage } from './event-bus.js';
import type { Feed } from './fanout.js';

/** How long a hole in the log (a sequence taken and not yet committed) is waited for before it counts as rolled back. */
export const GAP_GRACE_MS = 1_000;
/** A hole below an event older than this is settled: its transaction is long gone. */
const RECENT_MS = 10_000;
const PAGE = 100;

/** What the subscription reads the log with: the history query's keyset pages. */
export interface EventLog {
  /** Events with after < sequence < before (before null: to the end), oldest first, at most `size`; `filtered`: only those the subscription's filter matches. */
  page(after: bigint, before: bigint | null, filtered: boolean, size: number): Promise<{ events: GatewayEventMessage[]; more: boolean }>;
  /** The newest `size` events, whatever the filter, oldest first. */
  newest(size: number): Promise<GatewayEventMessage[]>;
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
  graceMs?: number;
}

const seq = (event: GatewayEventMessage) => BigInt(event.id);

/** Whether the chain `from`, events…, `next` has a hole right below an event recent enough for its transaction to be still open. */
function openHole(from: bigint, events: GatewayEventMessage[], next: GatewayEventMessage | null): boolean {
  let previous = from;
  for (const event of next ? [...events, next] : events) {
    const id = seq(event);
    if (id > previous + 1n && Date.now() - Date.parse(event.createdAt) < RECENT_MS) return true;
    previous = id;
  }
  return false;
}

/** Re-reads until `settled` says so or the grace passes (10, 20, 40 … ms apart). */
async function untilSettled<T>(read: () => Promise<T>, settled: (value: T) => boolean, graceMs: number): Promise<T> {
  const deadline = Date.now() + graceMs;
  let value = await read();
  for (let wait = 10; !settled(value) && Date.now() < deadline; wait *= 2) {
    await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
    value = await read();
  }
  return value;
}

export function resumable(
  feed: Feed<GatewayEventMessage>,
  log: EventLog,
  { after, matches, graceMs = GAP_GRACE_MS }: ResumableOptions,
): AsyncIterableIterator<GatewayEventMessage | SubscriptionEnd> {
  async function* run(): AsyncGenerator<GatewayEventMessage | SubscriptionEnd> {
    const newest = await untilSettled(() => log.newest(PAGE), (events) => !events.length || !openHole(seq(events[0]!), events.slice(1), null), graceMs);
    const head = newest.length ? seq(newest[newest.length - 1]!) : 0n;
    let w = after ?? head;
    // The log, filtered, up to the settled head.
    for (let more = after !== null && w < head; more; ) {
      const page = await log.page(w, head + 1n, true, PAGE);
      for (const event of page.events) {
        yield event;
        w = seq(event);
      }
      more = page.more && page.events.length > 0;
    }
    if (w < head) w = head;

    // The log, unfiltered, from W up to `before` (null: the end), holes waited for.
    async function* fill(before: GatewayEventMessage | null): AsyncGenerator<GatewayEventMessage> {
      const end = before ? seq(before) : null;
      for (;;) {
        const from = w;
        const page = await untilSettled(
          () => log.page(from, end, false, PAGE),
          ({ events, more }) => !openHole(from, events, more ? null : before),
          graceMs,
        );
        for (const event of page.events) {
          if (matches(event)) yield event;
          w = seq(event);
        }
        if (!page.more || !page.events.length) return;
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
        yield* fill(null);
        continue;
      }
      const event = item.message;
      const id = seq(event);
      if (id <= w) continue; // already delivered (from the log), or heard twice
      if (id > w + 1n) yield* fill(event);
      if (id <= w) continue; // the fill read it from the log
      if (matches(event)) yield event;
      w = id;
    }
  }

  const generator = run();
  const iterator: AsyncIterableIterator<GatewayEventMessage | SubscriptionEnd> = {
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
