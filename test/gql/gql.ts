/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation CreateToken($name: String!, $scopes: [ApiScope!]!) {\n    createApiToken(name: $name, scopes: $scopes) {\n      __typename\n      ... on CreateApiTokenSuccess { secret token { id name scopes createdAt lastUsedAt revokedAt } }\n      ... on ValidationError { field message }\n    }\n  }\n": typeof types.CreateTokenDocument,
    "\n  mutation Revoke($id: ID!) {\n    revokeApiToken(id: $id) {\n      __typename\n      ... on RevokeApiTokenSuccess { tokenId }\n      ... on NotFoundError { id message }\n    }\n  }\n": typeof types.RevokeDocument,
    "\n  query Tokens {\n    apiTokens { id name scopes revokedAt }\n    tokenType: __type(name: \"ApiToken\") { fields { name } }\n  }\n": typeof types.TokensDocument,
    "\n  query Me {\n    viewer { name scopes }\n  }\n": typeof types.MeDocument,
    "\n  query Viewer {\n    viewer { name scopes }\n  }\n": typeof types.ViewerDocument,
    "\n  query GatewayCount {\n    gateways { totalCount }\n  }\n": typeof types.GatewayCountDocument,
    "\n  mutation IssueToken($name: String!, $scopes: [ApiScope!]!) {\n    createApiToken(name: $name, scopes: $scopes) {\n      __typename\n      ... on CreateApiTokenSuccess { secret token { id } }\n      ... on AuthorizationError { message requiredScopes }\n    }\n  }\n": typeof types.IssueTokenDocument,
    "\n  mutation RevokeToken($id: ID!) {\n    revokeApiToken(id: $id) { __typename }\n  }\n": typeof types.RevokeTokenDocument,
    "\n  query PageGateways($first: Int, $after: String, $last: Int, $before: String) {\n    connection: gateways(first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n": typeof types.PageGatewaysDocument,
    "\n  query PageTools($first: Int, $after: String, $last: Int, $before: String) {\n    connection: tools(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n": typeof types.PageToolsDocument,
    "\n  query PageResources($first: Int, $after: String, $last: Int, $before: String) {\n    connection: resources(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uri } }\n    }\n  }\n": typeof types.PageResourcesDocument,
    "\n  query PageResourceTemplates($first: Int, $after: String, $last: Int, $before: String) {\n    connection: resourceTemplates(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uriTemplate } }\n    }\n  }\n": typeof types.PageResourceTemplatesDocument,
    "\n  query PagePrompts($first: Int, $after: String, $last: Int, $before: String) {\n    connection: prompts(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n": typeof types.PagePromptsDocument,
    "\n  query PageGatewayTools($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n    gateway(id: $id) {\n      connection: tools(first: $first, after: $after, last: $last, before: $before) {\n        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n      }\n    }\n  }\n": typeof types.PageGatewayToolsDocument,
    "\n  query GatewaysWithTools {\n    gateways(first: 50) {\n      totalCount\n      edges {\n        node {\n          name\n          status\n          tools(first: 20) {\n            totalCount\n            edges { node { name } }\n          }\n        }\n      }\n    }\n  }\n": typeof types.GatewaysWithToolsDocument,
    "\n  query GatewayById($id: ID!) {\n    gateway(id: $id) {\n      id name slug url transport description tags enabled reachable status capabilities protocolVersion\n      serverInfo instructions lastSeenAt lastCheckedAt consecutiveFailures lastError createdAt updatedAt\n      tools(first: 2) { totalCount edges { node { name } } }\n      resources { totalCount edges { node { uri } } }\n      resourceTemplates { totalCount edges { node { uriTemplate } } }\n      prompts { totalCount edges { node { name } } }\n    }\n  }\n": typeof types.GatewayByIdDocument,
    "\n  query Gateways($filter: GatewayFilter) {\n    gateways(filter: $filter) { totalCount edges { node { id name status } } }\n  }\n": typeof types.GatewaysDocument,
    "\n  query Catalog($filter: CatalogFilter) {\n    tools(filter: $filter) { totalCount edges { node { name } } }\n    resources(filter: $filter) { totalCount edges { node { uri } } }\n    resourceTemplates(filter: $filter) { totalCount edges { node { uriTemplate } } }\n    prompts(filter: $filter) { totalCount edges { node { name } } }\n  }\n": typeof types.CatalogDocument,
    "\n  query Node($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on Gateway { name }\n      ... on Tool { name gateway { name } }\n      ... on Resource { uri gateway { name } }\n      ... on ResourceTemplate { uriTemplate gateway { name } }\n      ... on Prompt { name gateway { name } }\n    }\n  }\n": typeof types.NodeDocument,
    "\n  query CatalogIds($gatewayId: ID!) {\n    tools(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    resources(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    resourceTemplates(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    prompts(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n  }\n": typeof types.CatalogIdsDocument,
};
const documents: Documents = {
    "\n  mutation CreateToken($name: String!, $scopes: [ApiScope!]!) {\n    createApiToken(name: $name, scopes: $scopes) {\n      __typename\n      ... on CreateApiTokenSuccess { secret token { id name scopes createdAt lastUsedAt revokedAt } }\n      ... on ValidationError { field message }\n    }\n  }\n": types.CreateTokenDocument,
    "\n  mutation Revoke($id: ID!) {\n    revokeApiToken(id: $id) {\n      __typename\n      ... on RevokeApiTokenSuccess { tokenId }\n      ... on NotFoundError { id message }\n    }\n  }\n": types.RevokeDocument,
    "\n  query Tokens {\n    apiTokens { id name scopes revokedAt }\n    tokenType: __type(name: \"ApiToken\") { fields { name } }\n  }\n": types.TokensDocument,
    "\n  query Me {\n    viewer { name scopes }\n  }\n": types.MeDocument,
    "\n  query Viewer {\n    viewer { name scopes }\n  }\n": types.ViewerDocument,
    "\n  query GatewayCount {\n    gateways { totalCount }\n  }\n": types.GatewayCountDocument,
    "\n  mutation IssueToken($name: String!, $scopes: [ApiScope!]!) {\n    createApiToken(name: $name, scopes: $scopes) {\n      __typename\n      ... on CreateApiTokenSuccess { secret token { id } }\n      ... on AuthorizationError { message requiredScopes }\n    }\n  }\n": types.IssueTokenDocument,
    "\n  mutation RevokeToken($id: ID!) {\n    revokeApiToken(id: $id) { __typename }\n  }\n": types.RevokeTokenDocument,
    "\n  query PageGateways($first: Int, $after: String, $last: Int, $before: String) {\n    connection: gateways(first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n": types.PageGatewaysDocument,
    "\n  query PageTools($first: Int, $after: String, $last: Int, $before: String) {\n    connection: tools(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n": types.PageToolsDocument,
    "\n  query PageResources($first: Int, $after: String, $last: Int, $before: String) {\n    connection: resources(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uri } }\n    }\n  }\n": types.PageResourcesDocument,
    "\n  query PageResourceTemplates($first: Int, $after: String, $last: Int, $before: String) {\n    connection: resourceTemplates(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uriTemplate } }\n    }\n  }\n": types.PageResourceTemplatesDocument,
    "\n  query PagePrompts($first: Int, $after: String, $last: Int, $before: String) {\n    connection: prompts(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n": types.PagePromptsDocument,
    "\n  query PageGatewayTools($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n    gateway(id: $id) {\n      connection: tools(first: $first, after: $after, last: $last, before: $before) {\n        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n      }\n    }\n  }\n": types.PageGatewayToolsDocument,
    "\n  query GatewaysWithTools {\n    gateways(first: 50) {\n      totalCount\n      edges {\n        node {\n          name\n          status\n          tools(first: 20) {\n            totalCount\n            edges { node { name } }\n          }\n        }\n      }\n    }\n  }\n": types.GatewaysWithToolsDocument,
    "\n  query GatewayById($id: ID!) {\n    gateway(id: $id) {\n      id name slug url transport description tags enabled reachable status capabilities protocolVersion\n      serverInfo instructions lastSeenAt lastCheckedAt consecutiveFailures lastError createdAt updatedAt\n      tools(first: 2) { totalCount edges { node { name } } }\n      resources { totalCount edges { node { uri } } }\n      resourceTemplates { totalCount edges { node { uriTemplate } } }\n      prompts { totalCount edges { node { name } } }\n    }\n  }\n": types.GatewayByIdDocument,
    "\n  query Gateways($filter: GatewayFilter) {\n    gateways(filter: $filter) { totalCount edges { node { id name status } } }\n  }\n": types.GatewaysDocument,
    "\n  query Catalog($filter: CatalogFilter) {\n    tools(filter: $filter) { totalCount edges { node { name } } }\n    resources(filter: $filter) { totalCount edges { node { uri } } }\n    resourceTemplates(filter: $filter) { totalCount edges { node { uriTemplate } } }\n    prompts(filter: $filter) { totalCount edges { node { name } } }\n  }\n": types.CatalogDocument,
    "\n  query Node($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on Gateway { name }\n      ... on Tool { name gateway { name } }\n      ... on Resource { uri gateway { name } }\n      ... on ResourceTemplate { uriTemplate gateway { name } }\n      ... on Prompt { name gateway { name } }\n    }\n  }\n": types.NodeDocument,
    "\n  query CatalogIds($gatewayId: ID!) {\n    tools(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    resources(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    resourceTemplates(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    prompts(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n  }\n": types.CatalogIdsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateToken($name: String!, $scopes: [ApiScope!]!) {\n    createApiToken(name: $name, scopes: $scopes) {\n      __typename\n      ... on CreateApiTokenSuccess { secret token { id name scopes createdAt lastUsedAt revokedAt } }\n      ... on ValidationError { field message }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateToken($name: String!, $scopes: [ApiScope!]!) {\n    createApiToken(name: $name, scopes: $scopes) {\n      __typename\n      ... on CreateApiTokenSuccess { secret token { id name scopes createdAt lastUsedAt revokedAt } }\n      ... on ValidationError { field message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Revoke($id: ID!) {\n    revokeApiToken(id: $id) {\n      __typename\n      ... on RevokeApiTokenSuccess { tokenId }\n      ... on NotFoundError { id message }\n    }\n  }\n"): (typeof documents)["\n  mutation Revoke($id: ID!) {\n    revokeApiToken(id: $id) {\n      __typename\n      ... on RevokeApiTokenSuccess { tokenId }\n      ... on NotFoundError { id message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Tokens {\n    apiTokens { id name scopes revokedAt }\n    tokenType: __type(name: \"ApiToken\") { fields { name } }\n  }\n"): (typeof documents)["\n  query Tokens {\n    apiTokens { id name scopes revokedAt }\n    tokenType: __type(name: \"ApiToken\") { fields { name } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    viewer { name scopes }\n  }\n"): (typeof documents)["\n  query Me {\n    viewer { name scopes }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer { name scopes }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer { name scopes }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GatewayCount {\n    gateways { totalCount }\n  }\n"): (typeof documents)["\n  query GatewayCount {\n    gateways { totalCount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation IssueToken($name: String!, $scopes: [ApiScope!]!) {\n    createApiToken(name: $name, scopes: $scopes) {\n      __typename\n      ... on CreateApiTokenSuccess { secret token { id } }\n      ... on AuthorizationError { message requiredScopes }\n    }\n  }\n"): (typeof documents)["\n  mutation IssueToken($name: String!, $scopes: [ApiScope!]!) {\n    createApiToken(name: $name, scopes: $scopes) {\n      __typename\n      ... on CreateApiTokenSuccess { secret token { id } }\n      ... on AuthorizationError { message requiredScopes }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeToken($id: ID!) {\n    revokeApiToken(id: $id) { __typename }\n  }\n"): (typeof documents)["\n  mutation RevokeToken($id: ID!) {\n    revokeApiToken(id: $id) { __typename }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PageGateways($first: Int, $after: String, $last: Int, $before: String) {\n    connection: gateways(first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n"): (typeof documents)["\n  query PageGateways($first: Int, $after: String, $last: Int, $before: String) {\n    connection: gateways(first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PageTools($first: Int, $after: String, $last: Int, $before: String) {\n    connection: tools(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n"): (typeof documents)["\n  query PageTools($first: Int, $after: String, $last: Int, $before: String) {\n    connection: tools(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PageResources($first: Int, $after: String, $last: Int, $before: String) {\n    connection: resources(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uri } }\n    }\n  }\n"): (typeof documents)["\n  query PageResources($first: Int, $after: String, $last: Int, $before: String) {\n    connection: resources(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uri } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PageResourceTemplates($first: Int, $after: String, $last: Int, $before: String) {\n    connection: resourceTemplates(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uriTemplate } }\n    }\n  }\n"): (typeof documents)["\n  query PageResourceTemplates($first: Int, $after: String, $last: Int, $before: String) {\n    connection: resourceTemplates(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: uriTemplate } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PagePrompts($first: Int, $after: String, $last: Int, $before: String) {\n    connection: prompts(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n"): (typeof documents)["\n  query PagePrompts($first: Int, $after: String, $last: Int, $before: String) {\n    connection: prompts(filter: { includeUnavailable: true }, first: $first, after: $after, last: $last, before: $before) {\n      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PageGatewayTools($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n    gateway(id: $id) {\n      connection: tools(first: $first, after: $after, last: $last, before: $before) {\n        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query PageGatewayTools($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n    gateway(id: $id) {\n      connection: tools(first: $first, after: $after, last: $last, before: $before) {\n        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { key: name } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GatewaysWithTools {\n    gateways(first: 50) {\n      totalCount\n      edges {\n        node {\n          name\n          status\n          tools(first: 20) {\n            totalCount\n            edges { node { name } }\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query GatewaysWithTools {\n    gateways(first: 50) {\n      totalCount\n      edges {\n        node {\n          name\n          status\n          tools(first: 20) {\n            totalCount\n            edges { node { name } }\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GatewayById($id: ID!) {\n    gateway(id: $id) {\n      id name slug url transport description tags enabled reachable status capabilities protocolVersion\n      serverInfo instructions lastSeenAt lastCheckedAt consecutiveFailures lastError createdAt updatedAt\n      tools(first: 2) { totalCount edges { node { name } } }\n      resources { totalCount edges { node { uri } } }\n      resourceTemplates { totalCount edges { node { uriTemplate } } }\n      prompts { totalCount edges { node { name } } }\n    }\n  }\n"): (typeof documents)["\n  query GatewayById($id: ID!) {\n    gateway(id: $id) {\n      id name slug url transport description tags enabled reachable status capabilities protocolVersion\n      serverInfo instructions lastSeenAt lastCheckedAt consecutiveFailures lastError createdAt updatedAt\n      tools(first: 2) { totalCount edges { node { name } } }\n      resources { totalCount edges { node { uri } } }\n      resourceTemplates { totalCount edges { node { uriTemplate } } }\n      prompts { totalCount edges { node { name } } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Gateways($filter: GatewayFilter) {\n    gateways(filter: $filter) { totalCount edges { node { id name status } } }\n  }\n"): (typeof documents)["\n  query Gateways($filter: GatewayFilter) {\n    gateways(filter: $filter) { totalCount edges { node { id name status } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Catalog($filter: CatalogFilter) {\n    tools(filter: $filter) { totalCount edges { node { name } } }\n    resources(filter: $filter) { totalCount edges { node { uri } } }\n    resourceTemplates(filter: $filter) { totalCount edges { node { uriTemplate } } }\n    prompts(filter: $filter) { totalCount edges { node { name } } }\n  }\n"): (typeof documents)["\n  query Catalog($filter: CatalogFilter) {\n    tools(filter: $filter) { totalCount edges { node { name } } }\n    resources(filter: $filter) { totalCount edges { node { uri } } }\n    resourceTemplates(filter: $filter) { totalCount edges { node { uriTemplate } } }\n    prompts(filter: $filter) { totalCount edges { node { name } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Node($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on Gateway { name }\n      ... on Tool { name gateway { name } }\n      ... on Resource { uri gateway { name } }\n      ... on ResourceTemplate { uriTemplate gateway { name } }\n      ... on Prompt { name gateway { name } }\n    }\n  }\n"): (typeof documents)["\n  query Node($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on Gateway { name }\n      ... on Tool { name gateway { name } }\n      ... on Resource { uri gateway { name } }\n      ... on ResourceTemplate { uriTemplate gateway { name } }\n      ... on Prompt { name gateway { name } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CatalogIds($gatewayId: ID!) {\n    tools(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    resources(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    resourceTemplates(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    prompts(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n  }\n"): (typeof documents)["\n  query CatalogIds($gatewayId: ID!) {\n    tools(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    resources(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    resourceTemplates(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n    prompts(filter: { gatewayId: $gatewayId }, first: 1) { edges { node { id } } }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;