// Events between workers over Redis pub/sub: one connection publishes, one
// subscribes (a connection in subscriber mode can do nothing else).
//
// Redis going away must never stop a worker, nor pile up work in it:
// - every error of both connections is handled (an 'error' event without a
//   listener is printed by ioredis on each reconnection attempt, and a rejected
//   publish nobody awaits is an unhandled rejection, which ends the process);
// - an outage is logged once when it begins and once when it ends, not per
//   reconnection attempt;
// - an event published meanwhile is in the event log (the caller committed it)
//   but reaches no subscriber: it is logged with its id, type and gateway, and
//   counted, and the count of the outage is in the line that says Redis is back.
//   It is not re-sent later (other workers would get old events out of order):
//   when Redis is back, onRecovered tells this worker's subscribers, which fill
//   the gap from the event log themselves, and a `resync` message tells the
//   other workers' subscribers the same (see src/events/resumable.ts).
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import type { GatewayEventMessage } from './event-bus.js';

/** A publish, or a readiness PING, that Redis has not answered by then has failed. */
const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 5_000;
/** How long close() waits for QUIT before it drops the connections. */
const QUIT_TIMEOUT_MS = 1_000;

const shared: RedisOptions = {
  connectTimeout: CONNECT_TIMEOUT_MS,
  // Reconnect for ever, at most every 2 s: Redis coming back is noticed within that.
  retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
};

/** Tells every worker that events were recorded but not fanned out: their subscribers fill from the log. */
const RESYNC = { resync: true } as const;

export type EventBusReadiness = { ready: true } | { ready: false; reason: 'event bus unreachable' };

interface Outage {
  since: number;
  /** Events recorded during this outage that reached no subscriber. */
  notFannedOut: number;
}

export class RedisTransport {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private outage: Outage | undefined;
  private lost = 0;
  private closing = false;

  constructor(
    url: string,
    private readonly channel: string,
    private readonly logger: Logger,
    onMessage: (message: GatewayEventMessage) => void,
    /** Called at the end of each outage of this worker's, when both connections are back, and when another worker says its outage lost events. */
    private readonly onRecovered: () => void = () => undefined,
  ) {
    this.publisher = new Redis(url, {
      ...shared,
      // Nothing waits for Redis in this process's memory. While it is away a
      // publish fails at once (no offline queue: it would grow with every event
      // of an outage of any length, and be sent minutes late); a publish in
      // flight when the connection drops fails then (0 retries, no resend on
      // reconnection), and one Redis does not answer fails after the timeout. So
      // the commands held are at most those of COMMAND_TIMEOUT_MS of traffic, and
      // each failure is one event not fanned out, logged and counted here.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    this.subscriber = new Redis(url, {
      ...shared,
      // This connection is only ever sent one SUBSCRIBE (below) and QUIT: the
      // queue holds at most that while Redis is away, and has to, so that a
      // worker started before Redis subscribes once it comes. No retry limit:
      // with one, a SUBSCRIBE queued through a long outage would fail, leaving
      // the worker deaf after Redis returns. ioredis subscribes again by itself
      // after each reconnection (autoResubscribe).
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    for (const [role, client] of [['publish', this.publisher], ['subscribe', this.subscriber]] as const) {
      client.on('error', (error: Error) => this.down(`${role} connection: ${error.message}`));
      client.on('close', () => this.down(`${role} connection closed`));
      client.on('ready', () => this.up());
    }
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) return;
      let message: GatewayEventMessage | typeof RESYNC;
      try {
        message = JSON.parse(text) as GatewayEventMessage | typeof RESYNC;
      } catch {
        this.logger.warn({ channel }, 'event bus: ignored a message that is not JSON');
        return;
      }
      if ('resync' in message) this.onRecovered();
      else onMessage(message);
    });
    this.subscriber.subscribe(this.channel).catch((error: Error) => {
      if (!this.closing) this.logger.error({ err: { message: error.message }, channel }, 'event bus: could not subscribe to the Redis channel');
    });
  }

  /** Sends `message` to every worker, this one included; never throws nor rejects. */
  publish(message: GatewayEventMessage): void {
    this.publisher.publish(this.channel, JSON.stringify(message)).then(
      () => this.up(),
      (error: Error) => this.notFannedOut(message, error),
    );
  }

  /** Ready when both connections are up and Redis answers a PING in time. */
  async readiness(): Promise<EventBusReadiness> {
    if (this.publisher.status !== 'ready' || this.subscriber.status !== 'ready') return { ready: false, reason: 'event bus unreachable' };
    try {
      await this.publisher.ping();
    } catch (error) {
      this.down(`PING: ${(error as Error).message}`);
      return { ready: false, reason: 'event bus unreachable' };
    }
    this.up();
    return { ready: true };
  }

  /** Events recorded since the start that reached no subscriber because Redis was unreachable. */
  get notFannedOutTotal(): number {
    return this.lost;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.publisher, this.subscriber].map(quit));
  }

  private notFannedOut(message: GatewayEventMessage, error: Error): void {
    this.lost++;
    this.down(`PUBLISH: ${error.message}`);
    this.outage!.notFannedOut++;
    this.logger.warn(
      { eventId: message.id, type: message.type, gatewayId: message.gatewayId, err: { message: error.message } },
      'event bus: event not fanned out (Redis unreachable); it is in the event log only',
    );
  }

  /** The start of an outage, logged once however many errors and reconnections it brings. */
  private down(cause: string): void {
    if (this.outage) return;
    this.outage = { since: Date.now(), notFannedOut: 0 };
    if (this.closing) return;
    this.logger.warn({ cause }, 'event bus: Redis is unreachable; events are recorded but not fanned out until it returns');
  }

  /** The end of the outage, once both connections are back. */
  private up(): void {
    const outage = this.outage;
    if (!outage || this.closing) return;
    if (this.publisher.status !== 'ready' || this.subscriber.status !== 'ready') return;
    this.outage = undefined;
    this.logger.info(
      { notFannedOut: outage.notFannedOut, notFannedOutTotal: this.lost, outageMs: Date.now() - outage.since },
      'event bus: Redis is reachable again; events fan out again',
    );
    this.onRecovered();
    // The other workers may have stayed connected and heard nothing amiss:
    // without this, their subscribers would get this outage's events only when
    // a later event skips ahead of them, which may be never.
    if (outage.notFannedOut > 0) {
      this.publisher.publish(this.channel, JSON.stringify(RESYNC)).catch((error: Error) => this.down(`PUBLISH: ${error.message}`));
    }
  }
}

async function quit(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
  }
  // Also stops the reconnection attempts of a client that was not connected.
  client.disconnect();
}
