// The subscribers of one process behind a single listener. yoga's createPubSub
// adds one listener per subscription to an EventTarget, and Node warns
// (MaxListenersExceededWarning) past ten on one target: a leak warning that is
// none, for a number of subscribers that nothing bounds. Here the transport
// (in-process or Redis) has one listener, this Set, whatever the number of
// subscriptions.
//
// Each subscriber has a bounded queue of its own. Delivering is a push onto
// each queue, never a wait: a subscriber that does not keep up never slows the
// writer nor the other subscribers. One whose queue is full is overflowed: its
// queue is dropped, it is taken off the Set, and its next read says so (the
// subscription then ends, telling the client where to resume).

/** What a feed yields: a message, or a sign that messages may have been missed (the transport reconnected). */
export type FeedItem<T> = { kind: 'message'; message: T } | { kind: 'resync' };

/** What a read of a feed gives once nothing more will come. */
export type FeedEnd = { kind: 'overflow' } | { kind: 'closed' };

export class Feed<T> {
  private readonly queue: FeedItem<T>[] = [];
  private state: 'open' | 'overflow' | 'closed' = 'open';
  private wake: (() => void) | undefined;

  constructor(
    /** Most items waiting before it overflows. */
    readonly limit: number,
    private readonly detach: (feed: Feed<T>) => void,
  ) {}

  /** Called by the fanout: O(1), never waits. */
  push(item: FeedItem<T>): void {
    if (this.state !== 'open') return;
    if (this.queue.length >= this.limit) {
      this.state = 'overflow';
      this.queue.length = 0;
      this.detach(this);
    } else {
      this.queue.push(item);
    }
    this.wake?.();
  }

  /** The oldest item, waiting for one; an end once overflowed or closed. */
  async next(): Promise<FeedItem<T> | FeedEnd> {
    for (;;) {
      if (this.state === 'overflow') return { kind: 'overflow' };
      if (this.state === 'closed') return { kind: 'closed' };
      const item = this.queue.shift();
      if (item) return item;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Items waiting to be read. */
  get pending(): number {
    return this.queue.length;
  }

  close(): void {
    if (this.state === 'open') this.state = 'closed';
    this.queue.length = 0;
    this.detach(this);
    this.wake?.();
  }
}

export class Fanout<T> {
  private readonly feeds = new Set<Feed<T>>();

  /** @param limit most items one subscriber may have waiting before it is overflowed. */
  constructor(private readonly limit: number) {}

  /** Subscriptions currently listening. */
  get size(): number {
    return this.feeds.size;
  }

  /** Everything delivered from now on (registered at once, not at the first read) until it is closed or overflows. */
  feed(): Feed<T> {
    const feed = new Feed<T>(this.limit, (f) => this.feeds.delete(f));
    this.feeds.add(feed);
    return feed;
  }

  /** The messages of a feed as an iterator: it throws once the subscriber has overflowed. */
  subscribe(): AsyncIterableIterator<T> {
    const feed = this.feed();
    const iterator: AsyncIterableIterator<T> = {
      async next() {
        for (;;) {
          const item = await feed.next();
          if (item.kind === 'message') return { done: false, value: item.message };
          if (item.kind === 'closed') return { done: true, value: undefined };
          if (item.kind === 'overflow') throw new Error('subscriber fell too far behind');
        }
      },
      async return() {
        feed.close();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  deliver(value: T): void {
    for (const feed of this.feeds) feed.push({ kind: 'message', message: value });
  }

  /** Tells every subscriber that messages may have been missed (the transport was away). */
  resync(): void {
    for (const feed of this.feeds) feed.push({ kind: 'resync' });
  }
}
