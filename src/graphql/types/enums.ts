import { ApiScope, EventType, Transport } from '../../generated/prisma/enums.js';
import { builder } from '../builder.js';

export const ApiScopeEnum = builder.enumType(ApiScope, {
  name: 'ApiScope',
  description: 'read: queries and subscriptions; write: registry changes; invoke: federated calls; admin: everything, tokens included.',
});

export const TransportEnum = builder.enumType(Transport, {
  name: 'Transport',
  description: 'AUTO tries Streamable HTTP and falls back to HTTP+SSE.',
});

export const EventTypeEnum = builder.enumType(EventType, { name: 'EventType' });

export const GatewayStatusEnum = builder.enumType('GatewayStatus', {
  values: ['ACTIVE', 'DISABLED', 'UNREACHABLE'] as const,
  description: 'DISABLED by an operator; UNREACHABLE after failed health checks; else ACTIVE.',
});
