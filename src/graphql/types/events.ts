import { filter, pipe } from 'graphql-yoga';
import type { GatewayEventMessage } from '../../events/event-bus.js';
import { builder } from '../builder.js';
import { EventTypeEnum } from './enums.js';
import { Gateway } from './gateway.js';

const GatewayEvent = builder.objectRef<GatewayEventMessage>('GatewayEvent').implement({
  description: 'A lifecycle event of a gateway, as recorded in the event log.',
  fields: (t) => ({
    sequence: t.exposeString('id', { description: 'Position in the event log; increases over time.' }),
    type: t.expose('type', { type: EventTypeEnum }),
    gatewayId: t.globalID({
      nullable: true,
      description: 'Global id of the gateway concerned (it may no longer exist).',
      resolve: (event) => (event.gatewayId ? { type: 'Gateway', id: event.gatewayId } : null),
    }),
    payload: t.expose('payload', { type: 'JSON' }),
    createdAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.createdAt) }),
  }),
});

builder.subscriptionField('gatewayEvents', (t) =>
  t.field({
    type: GatewayEvent,
    description: 'Lifecycle events as they happen, from every worker.',
    authScopes: { read: true },
    args: {
      gatewayId: t.arg.globalID({ required: false, for: Gateway }),
      types: t.arg({ type: [EventTypeEnum], required: false }),
    },
    subscribe: (_root, args, ctx) =>
      pipe(
        ctx.events.subscribe(),
        filter(
          (event: GatewayEventMessage) =>
            (!args.gatewayId || event.gatewayId === args.gatewayId.id) && (!args.types?.length || args.types.includes(event.type)),
        ),
      ),
    resolve: (event) => event,
  }),
);
