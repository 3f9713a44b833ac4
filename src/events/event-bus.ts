// Lifecycle events: recorded in the event log, then fanned out to subscribers.
// With REDIS_URL the fan-out goes through Redis pub/sub, so a subscriber on any
// worker sees events published by every other worker. Either way, the
// subscribers of one process hang off one listener (see fanout.ts).
import type { EventType } from '../generated/prisma/enums.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { EVENT_LOG_LOCK } from '../db/advisory-locks.js';
import type { Logger } from '../logger.js';
import { currentActor, type Actor } from '../security/actor.js';
import { Fanout, type Feed } from './fanout.js';
import { RedisTransport, type EventBusReadiness } from './redis-transport.js';

export type { EventType, EventBusReadiness, Actor };

export interface GatewayEventMessage {
  /** Position in the event log, as a decimal string (BigInt does not survive JSON). */
  id: string;
  type: EventType;
  gatewayId: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
  /** Who caused it: the API token of the operation, or the system (health checker, background syncs).
   *  Absent only from messages of workers older than the event log's actor columns. */
  actor?: Actor;
}

/** A row of the event log as a message (what the history query and subscribers both see). */
export function eventMessage(row: {
  id: bigint;
  type: EventType;
  gatewayId: string | null;
  payload: unknown;
  createdAt: Date;
  actorTokenId: string | null;
  actorName: string;
}): GatewayEventMessage {
  return {
    id: row.id.toString(),
    type: row.type,
    gatewayId: row.gatewayId,
    payload: (row.payload ?? {}) as Record<string, unknown>,
    createdAt: row.createdAt.toISOString(),
    actor: { tokenId: row.actorTokenId, name: row.actorName },
  };
}

const ALL_EVENTS_TOPIC = 'gateway-events';

const READY: EventBusReadiness = { ready: true };

/** Default bound of each subscriber's queue (SUBSCRIPTION_BUFFER). */
export const DEFAULT_SUBSCRIPTION_BUFFER = 1_000;

export class EventBus {
  private readonly broadcastListeners: ((message: GatewayEventMessage) => void)[] = [];

  private constructor(
    private readonly fanout: Fanout<GatewayEventMessage>,
    private readonly redis: RedisTransport | undefined,
  ) {}

  /** @param buffer most events one subscriber may have waiting (SUBSCRIPTION_BUFFER). */
  static inProcess(_logger?: Logger, buffer = DEFAULT_SUBSCRIPTION_BUFFER): EventBus {
    return new EventBus(new Fanout<GatewayEventMessage>(buffer), undefined);
  }

  /**
   * The channel is `<channelPrefix>:gateway-events`: channels are server-wide,
   * and the prefix keeps deployments that share one Redis apart.
   */
  static overRedis(url: string, channelPrefix: string, logger: Logger, buffer = DEFAULT_SUBSCRIPTION_BUFFER): EventBus {
    const fanout = new Fanout<GatewayEventMessage>(buffer);
    // After an outage, every subscriber is told it may have missed events (it fills the gap from the log).
    const redis = new RedisTransport(url, `${channelPrefix}:${ALL_EVENTS_TOPIC}`, logger, (message) => fanout.deliver(message), () => fanout.resync());
    return new EventBus(fanout, redis);
  }

  /** Every event broadcast from now on, by this worker or (over Redis) any other; throws once the subscriber overflows. */
  subscribe(): AsyncIterableIterator<GatewayEventMessage> {
    return this.fanout.subscribe();
  }

  /**
   * Every event broadcast from now on, and a `resync` item each time the
   * transport comes back after an outage (events may have been missed): what
   * gatewayEvents builds on. Listens from this call, not from the first read.
   */
  feed(): Feed<GatewayEventMessage> {
    return this.fanout.feed();
  }

  /**
   * Appends to the event log with `db` (pass the transaction that made the
   * change, so the event exists if and only if the change does) and returns the
   * message; call `broadcast` once that transaction has committed. The actor
   * is whoever runs the current operation (currentActor()): no caller passes it.
   */
  async record(db: Prisma.TransactionClient, type: EventType, gatewayId: string | null, payload: Record<string, unknown> = {}): Promise<GatewayEventMessage> {
    const actor = currentActor();
    // Sequences are taken at insert and would otherwise commit in any order
    // across workers: a reader that sees N+1 could not tell whether N is a
    // rollback or a transaction still open. Under this lock, held until the
    // transaction ends, N is settled (committed or never) before N+1 is taken,
    // so a hole in the log is always final. Callers record last in their
    // transactions, so the lock is held for the insert and the commit only.
    await db.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(${EVENT_LOG_LOCK}::bigint)`;
    const row = await db.gatewayEvent.create({
      data: { type, gatewayId, payload: payload as Prisma.InputJsonObject, actorTokenId: actor.tokenId, actorName: actor.name },
    });
    return { ...eventMessage(row), payload };
  }

  /**
   * Hands a committed event to the subscribers. Never throws: over Redis, an
   * event that cannot be published is logged and counted (notFannedOut), and
   * stays in the event log.
   */
  broadcast(message: GatewayEventMessage): void {
    if (this.redis) this.redis.publish(message);
    else this.fanout.deliver(message);
    for (const listener of this.broadcastListeners) listener(message);
  }

  /** Told of each event this worker broadcasts (metrics); a listener must not throw. */
  onBroadcast(listener: (message: GatewayEventMessage) => void): void {
    this.broadcastListeners.push(listener);
  }

  /** Feeds of this process listening now (gatewayEvents subscriptions and internal followers). */
  get subscribers(): number {
    return this.fanout.size;
  }

  /** An event on its own: recorded in a transaction of its own, then broadcast. */
  async publish(prisma: PrismaClient, type: EventType, gatewayId: string | null, payload: Record<string, unknown> = {}): Promise<GatewayEventMessage> {
    const message = await prisma.$transaction((tx) => this.record(tx, type, gatewayId, payload));
    this.broadcast(message);
    return message;
  }

  /** For /readyz: over Redis, whether events can be published and received now. */
  readiness(): Promise<EventBusReadiness> {
    return this.redis ? this.redis.readiness() : Promise.resolve(READY);
  }

  /** Events recorded since the start that reached no subscriber because Redis was unreachable. */
  get notFannedOut(): number {
    return this.redis?.notFannedOutTotal ?? 0;
  }

  close(): Promise<void> {
    return this.redis ? this.redis.close() : Promise.resolve();
  }
}
