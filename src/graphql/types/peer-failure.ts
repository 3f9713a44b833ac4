import { builder } from '../builder.js';

export const PeerFailureReason = builder.enumType('PeerFailureReason', {
  values: {
    DNS: {},
    REFUSED: {},
    TIMEOUT: {},
    TLS: {},
    HTTP_STATUS: {},
    AUTH_REJECTED: {},
    PROTOCOL: {},
    BLOCKED: {
      description:
        'The address the peer (or its token endpoint) resolves to is refused by the URL policy: link-local, unspecified or cloud metadata, or private or loopback with PEER_BLOCK_PRIVATE_NETWORKS=true. Nothing was sent; not retried.',
    },
  } as const,
});
