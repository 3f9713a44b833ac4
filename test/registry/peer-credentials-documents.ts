// GraphQL documents shared by the peer credentials suites.
export const AUTH_FIELDS = 'auth { type username headerNames tokenUrl clientId scopes audience }';
const PEER_FAILURES = `__typename
  ... on Error { message }
  ... on PeerConnectionError { reason httpStatus }`;
// refreshGateway cannot meet a duplicate: its union has no DuplicateGatewayError.
const FAILURES = `${PEER_FAILURES}
  ... on DuplicateGatewayError { existingGatewayId }`;

export const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterGatewayInput!) {
    registerGateway(input: $input) {
      ${FAILURES}
      ... on RegisterGatewaySuccess { gateway { id name ${AUTH_FIELDS} tools(first: 10) { totalCount } } }
    }
  }
`;

export const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateGatewayInput!) {
    updateGateway(id: $id, input: $input) {
      ${FAILURES}
      ... on UpdateGatewaySuccess { gateway { id name ${AUTH_FIELDS} } }
    }
  }
`;

export const REFRESH = /* GraphQL */ `
  mutation Refresh($id: ID!) {
    refreshGateway(id: $id) {
      ${PEER_FAILURES}
      ... on RefreshGatewaySuccess { gateway { id reachable } tools { added updated removed } }
    }
  }
`;

export const GATEWAY = /* GraphQL */ `
  query Gateway($id: ID!) { gateway(id: $id) { id ${AUTH_FIELDS} } }
`;
