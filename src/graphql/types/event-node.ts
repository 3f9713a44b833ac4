// An event of the log as a Relay node: its place in the log, type, gateway,
// actor and typed details.
import { eventMessage, type GatewayEventMessage } from '../../events/event-bus.js';
import { builder } from '../builder.js';
import { EventTypeEnum } from './enums.js';
import { EventActor, eventDetails, GatewayEventDetails } from './event-details.js';
import './gateway.js';

export const SEQUENCE = /^[0-9]{1,19}$/;
const SYSTEM = { tokenId: null, name: 'system' };

// ---- The event.

export const GatewayEvent = builder.objectRef<GatewayEventMessage>('GatewayEvent');

builder.node(GatewayEvent, {
  description: 'A lifecycle event of a gateway, as recorded in the event log.',
  id: { resolve: (event) => event.id },
  loadMany: async (ids, ctx) => {
    const valid = ids.filter((id) => SEQUENCE.test(id)).map((id) => BigInt(id));
    const rows = valid.length ? await ctx.prisma.gatewayEvent.findMany({ where: { id: { in: valid } } }) : [];
    const byId = new Map(rows.map((row) => [row.id.toString(), eventMessage(row)]));
    return ids.map((id) => byId.get(SEQUENCE.test(id) ? BigInt(id).toString() : '') ?? null);
  },
  fields: (t) => ({
    sequence: t.exposeString('id', { description: 'Position in the event log (a decimal integer as a string); increases over time.' }),
    type: t.expose('type', { type: EventTypeEnum }),
    gatewayId: t.globalID({
      nullable: true,
      description: 'Global id of the gateway concerned (it may no longer exist).',
      resolve: (event) => (event.gatewayId ? { type: 'Gateway', id: event.gatewayId } : null),
    }),
    gateway: t.prismaField({
      type: 'Gateway',
      nullable: true,
      description: 'The gateway concerned; null once it is deleted.',
      // findUnique calls of one tick are batched by Prisma: one statement for a page.
      resolve: (query, event, _args, ctx) =>
        event.gatewayId ? ctx.prisma.gateway.findUnique({ ...query, where: { id: event.gatewayId } }) : null,
    }),
    actor: t.field({ type: EventActor, resolve: (event) => event.actor ?? SYSTEM }),
    details: t.field({
      type: GatewayEventDetails,
      description: 'The typed payload.',
      resolve: (event) => eventDetails(event),
    }),
    payload: t.expose('payload', { type: 'JSON', description: 'The payload as recorded, untyped (prefer details).' }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.createdAt) }),
    createdAt: t.field({ type: 'DateTime', deprecationReason: 'Use occurredAt.', resolve: (event) => new Date(event.createdAt) }),
  }),
});

