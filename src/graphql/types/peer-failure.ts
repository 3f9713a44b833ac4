import { builder } from '../builder.js';

export const PeerFailureReason = builder.enumType('PeerFailureReason', {
  values: ['DNS', 'REFUSED', 'TIMEOUT', 'TLS', 'HTTP_STATUS', 'AUTH_REJECTED', 'PROTOCOL'] as const,
});
