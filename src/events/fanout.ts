// The subscribers of one process behind a single listener. yoga's createPubSub
// adds one listener per subscription to an EventTarget, and Node warns
// (MaxListenersExceededWarning) past ten on one target: a leak warning that is
// none, for a number of subscribers that nothing bounds. Here the transport
// (in-process or Redis) has one listener, this Set, whatever the number of
// subscriptions.
import { Repeater } from 'graphql-yoga';

export class Fanout<T> {
  private readonly subscribers = new Set<(value: T) => void>();

  /**
   * @param onOverflow called when a subscriber falls so far behind that its
   *   Repeater refuses more pending values (1024): it misses events until it
   *   catches up, instead of the throw breaking delivery to every other one.
   *   Called once each time it falls behind, not once per missed event.
   */
  constructor(private readonly onOverflow: (error: unknown) => void = () => undefined) {}

  /** Subscriptions currently listening. */
  get size(): number {
    return this.subscribers.size;
  }

  /** Everything delivered from the moment the iterator is first pulled until it is returned. */
  subscribe(): AsyncIterableIterator<T> {
    const subscribers = this.subscribers;
    const onOverflow = this.onOverflow;
    return new Repeater<T>(async (push, stop) => {
      let overflowed = false;
      const deliver = (value: T) => {
        try {
          void push(value);
          overflowed = false;
        } catch (error) {
          if (!overflowed) onOverflow(error);
          overflowed = true;
        }
      };
      subscribers.add(deliver);
      await stop;
      subscribers.delete(deliver);
    });
  }

  deliver(value: T): void {
    for (const deliver of this.subscribers) deliver(value);
  }
}
