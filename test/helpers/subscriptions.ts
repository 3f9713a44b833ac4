// Subscribers for tests: the real graphql-ws client over `ws`, and SSE read off
// a fetch response. Both collect what arrives in an Inbox that a test awaits
// with a bound, never with a sleep.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import WebSocket from 'ws';

/** What a subscriber receives: data and/or errors, as JSON. */
export type Result = FormattedExecutionResult<any, any>;

export class Inbox<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  get size(): number {
    return this.items.length;
  }

  /** The oldest item not taken yet, waiting up to `timeoutMs`; undefined if none came. */
  async poll(timeoutMs: number): Promise<T | undefined> {
    if (this.items.length === 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
    return this.items.shift();
  }

  /** Like poll(), but nothing arriving in `timeoutMs` fails the test. */
  async next(timeoutMs = 10_000): Promise<T> {
    const item = await this.poll(timeoutMs);
    if (item === undefined) throw new Error(`nothing arrived within ${timeoutMs} ms`);
    return item;
  }
}

export const wsUrl = (baseUrl: string) => `${baseUrl.replace(/^http/, 'ws')}/graphql`;

/** A graphql-ws client that never retries: a test wants to see each close. */
export function wsClient(baseUrl: string, token: string | null, options: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: wsUrl(baseUrl),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token === null ? undefined : { authorization: `Bearer ${token}` },
    ...options,
  });
}

export interface Subscription {
  results: Inbox<Result>;
  /** Resolves when the server completes it; rejects with what the client reported as an error. */
  ended: Promise<void>;
  unsubscribe(): void;
}

export function subscribeWs(client: Client, query: string, variables?: Record<string, unknown>): Subscription {
  const results = new Inbox<Result>();
  let unsubscribe = () => undefined as void;
  const ended = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe(
      { query, variables },
      { next: (result) => results.push(result), error: reject, complete: resolve },
    );
  });
  ended.catch(() => undefined); // tests that only read results need not await it
  return { results, ended, unsubscribe };
}

export interface SseSubscription extends Subscription {
  response: Response;
}

/** POSTs `query` to /graphql asking for text/event-stream and parses the `next` events. */
export async function subscribeSse(
  baseUrl: string,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Promise<SseSubscription> {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    signal: abort.signal,
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  const results = new Inbox<Result>();
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]).join('\n');
        if (event === 'next') results.push(JSON.parse(data) as Result);
      }
    }
  })();
  ended.catch(() => undefined);
  return { response, results, ended, unsubscribe: () => abort.abort() };
}

export const gatewayGlobalId = (uuid: string) => encodeGlobalID('Gateway', uuid);

/**
 * A subscription says nothing when it goes live, so publish probes (each one
 * must pass the subscription's filters) until one arrives. From then on the
 * subscriber is known to be listening; later probes may still be on their way,
 * so read on with nextNonProbe().
 */
export async function untilLive(
  results: Inbox<Result>,
  publishProbe: (attempt: number) => Promise<unknown>,
  { attempts = 60, waitMs = 250 } = {},
): Promise<Result> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    await publishProbe(attempt);
    const first = await results.poll(waitMs);
    if (first) return first;
  }
  throw new Error(`the subscription delivered none of ${attempts} probes`);
}

/** The next gatewayEvents result that is not a probe (payload.probe unset). */
export async function nextNonProbe(results: Inbox<Result>, timeoutMs = 10_000): Promise<Result> {
  for (;;) {
    const result = await results.next(timeoutMs);
    if (result.data?.gatewayEvents?.payload?.probe === undefined) return result;
  }
}
