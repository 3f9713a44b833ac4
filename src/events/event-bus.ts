// Lifecycle events: recorded in the event log, then fanned out to subscribers.
// With REDIS_URL the fan-out goes through Redis pub/sub, so a subscriber on any
// worker sees events published by every other worker.
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { EventType } from '../generated/prisma/enums.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

export type { EventType };

export interface GatewayEventMessage {
  /** Position in the event log, as a decimal string (BigInt does not survive JSON). */
  id: string;
  type: EventType;
  gatewayId: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}

const ALL_EVENTS_TOPIC = 'gateway-events';

/** One topic; over Redis its name is the channel's, prefixed per deployment. */
type Topics = Record<string, [GatewayEventMessage]>;

type Db = PrismaClient | Prisma.TransactionClient;

export class EventBus {
  private constructor(
    private readonly pubsub: PubSub<Topics>,
    private readonly topic: string,
    private readonly closeTransport: () => Promise<void>,
  ) {}

  static inProcess(): EventBus {
    return new EventBus(createPubSub<Topics>(), ALL_EVENTS_TOPIC, async () => undefined);
  }

  /** `channelPrefix` keeps deployments that share one Redis apart: channels are server-wide. */
  static overRedis(url: string, channelPrefix: string): EventBus {
    const publishClient = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    const subscribeClient = new Redis(url, { lazyConnect: false });
    const eventTarget = createRedisEventTarget<never>({ publishClient, subscribeClient });
    return new EventBus(createPubSub<Topics>({ eventTarget }), `${channelPrefix}:${ALL_EVENTS_TOPIC}`, async () => {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    });
  }

  /** Every event broadcast from now on, by this worker or (over Redis) any other. */
  subscribe(): AsyncIterable<GatewayEventMessage> {
    return this.pubsub.subscribe(this.topic);
  }

  /**
   * Appends to the event log with `db` (pass the transaction that made the
   * change, so the event exists if and only if the change does) and returns the
   * message; call `broadcast` once that transaction has committed.
   */
  async record(db: Db, type: EventType, gatewayId: string | null, payload: Record<string, unknown> = {}): Promise<GatewayEventMessage> {
    const row = await db.gatewayEvent.create({ data: { type, gatewayId, payload: payload as Prisma.InputJsonObject } });
    return {
      id: row.id.toString(),
      type: row.type,
      gatewayId: row.gatewayId,
      payload,
      createdAt: row.createdAt.toISOString(),
    };
  }

  broadcast(message: GatewayEventMessage): void {
    this.pubsub.publish(this.topic, message);
  }

  async publish(db: Db, type: EventType, gatewayId: string | null, payload: Record<string, unknown> = {}): Promise<GatewayEventMessage> {
    const message = await this.record(db, type, gatewayId, payload);
    this.broadcast(message);
    return message;
  }

  close(): Promise<void> {
    return this.closeTransport();
  }
}
