// Registry operations through the GraphQL API, and what the database holds
// afterwards, for the suites under test/registry.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { expect } from 'vitest';
import type { GqlResponse, TestApp } from './app.js';

/**
 * Peer bounds for apps whose peers are meant to answer: wide enough that a
 * loaded machine (PGlite shares the event loop with the peers) never turns a
 * healthy peer into a TIMEOUT, narrow enough that a broken test ends well
 * inside vitest's 30 s. No retries, so a refused peer fails at once.
 */
export const PEER_ENV = { PEER_TIMEOUT_MS: '5000', PEER_RETRY_TOTAL_MS: '10000', PEER_RETRIES: '0' } as const;

const ERROR_FIELDS = {
  ValidationError: 'field',
  NameConflictError: 'name',
  DuplicateGatewayError: 'existingGatewayId',
  PeerConnectionError: 'reason httpStatus',
  NotFoundError: 'id',
  GatewayDisabledError: 'gatewayId',
} as const;

/** The errors of a result union: each mutation's union lists only those it can return. */
const errors = (...types: (keyof typeof ERROR_FIELDS)[]) => /* GraphQL */ `
  __typename
  ... on Error { message }
  ${types.map((type) => `... on ${type} { ${ERROR_FIELDS[type]} }`).join('\n  ')}
  ... on AuthorizationError { requiredScopes }
`;
const PEER_ERRORS = ['ValidationError', 'NameConflictError', 'PeerConnectionError'] as const;

export const GATEWAY_FIELDS = /* GraphQL */ `
  id name slug url transport status enabled reachable description tags
  protocolVersion serverInfo instructions capabilities
`;

const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterGatewayInput!) {
    registerGateway(input: $input) { ${errors(...PEER_ERRORS, 'DuplicateGatewayError')} ... on RegisterGatewaySuccess { gateway { ${GATEWAY_FIELDS} } } }
  }
`;
const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateGatewayInput!) {
    updateGateway(id: $id, input: $input) { ${errors(...PEER_ERRORS, 'DuplicateGatewayError', 'NotFoundError')} ... on UpdateGatewaySuccess { gateway { ${GATEWAY_FIELDS} } } }
  }
`;
const DELETE = /* GraphQL */ `
  mutation Delete($id: ID!) { deleteGateway(id: $id) { ${errors('NotFoundError')} ... on DeleteGatewaySuccess { deletedGatewayId } } }
`;
const SET_ENABLED = /* GraphQL */ `
  mutation SetEnabled($id: ID!, $enabled: Boolean!) {
    setGatewayEnabled(id: $id, enabled: $enabled) { ${errors(...PEER_ERRORS, 'NotFoundError')} ... on SetGatewayEnabledSuccess { gateway { ${GATEWAY_FIELDS} } } }
  }
`;
const REFRESH = /* GraphQL */ `
  mutation Refresh($id: ID!) {
    refreshGateway(id: $id) {
      ${errors(...PEER_ERRORS, 'NotFoundError', 'GatewayDisabledError')}
      ... on RefreshGatewaySuccess {
        gateway { id }
        tools { added updated removed }
        resources { added updated removed }
        resourceTemplates { added updated removed }
        prompts { added updated removed }
      }
    }
  }
`;
const SET_TOOL_ENABLED = /* GraphQL */ `
  mutation SetToolEnabled($id: ID!, $enabled: Boolean!) {
    setToolEnabled(id: $id, enabled: $enabled) { ${errors('NotFoundError')} ... on SetToolEnabledSuccess { tool { id name enabled } } }
  }
`;

/** The field of the mutation's result; fails the test on GraphQL-level errors. */
async function mutate(t: TestApp, query: string, variables: Record<string, unknown>, token?: string | null): Promise<any> {
  const response = await t.gql(query, variables, token);
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return Object.values(response.data as object)[0];
}

export interface RegisterInput {
  name: string;
  url: string;
  transport?: 'AUTO' | 'STREAMABLE_HTTP' | 'SSE';
  description?: string;
  tags?: string[];
  auth?: Record<string, unknown>;
  refreshIntervalMs?: number | null;
}

// Each takes the token to call with (default: the admin token).
type Token = string | null | undefined;
export const registerGateway = (t: TestApp, input: RegisterInput, token?: Token) => mutate(t, REGISTER, { input }, token);
export const updateGateway = (t: TestApp, id: string, input: Partial<RegisterInput>, token?: Token) => mutate(t, UPDATE, { id, input }, token);
export const deleteGateway = (t: TestApp, id: string, token?: Token) => mutate(t, DELETE, { id }, token);
export const setGatewayEnabled = (t: TestApp, id: string, enabled: boolean, token?: Token) => mutate(t, SET_ENABLED, { id, enabled }, token);
export const refreshGateway = (t: TestApp, id: string, token?: Token) => mutate(t, REFRESH, { id }, token);
export const setToolEnabled = (t: TestApp, id: string, enabled: boolean, token?: Token) => mutate(t, SET_TOOL_ENABLED, { id, enabled }, token);

/** Registers and expects success; returns the gateway as the API shows it. */
export async function registered(t: TestApp, input: RegisterInput, token?: Token): Promise<any> {
  const result = await registerGateway(t, input, token);
  expect(result.__typename, JSON.stringify(result)).toBe('RegisterGatewaySuccess');
  return result.gateway;
}

/** The database id behind a global id. */
export const uuidOf = (globalId: string) => decodeGlobalID(globalId).id;

/** Rows in every registry table: what a failed operation must leave untouched. */
export async function rowCounts(t: TestApp) {
  const p = t.app.db.prisma;
  const [gateways, tools, resources, resourceTemplates, prompts, events] = await Promise.all([
    p.gateway.count(),
    p.tool.count(),
    p.resource.count(),
    p.resourceTemplate.count(),
    p.prompt.count(),
    p.gatewayEvent.count(),
  ]);
  return { gateways, tools, resources, resourceTemplates, prompts, events };
}

/** Event types recorded for a gateway, oldest first. */
export async function eventTypes(t: TestApp, gatewayGlobalId: string): Promise<string[]> {
  const rows = await t.app.db.prisma.gatewayEvent.findMany({ where: { gatewayId: uuidOf(gatewayGlobalId) }, orderBy: { id: 'asc' } });
  return rows.map((r) => r.type);
}

const CATALOG = /* GraphQL */ `
  query Catalog($id: ID!, $after: String) {
    gateway(id: $id) {
      tools(first: 100, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id name originalName description annotations inputSchema outputSchema enabled } }
      }
      prompts(first: 100) { totalCount edges { node { id name originalName } } }
    }
  }
`;

/** Every tool of a gateway through the API (following pages), and its prompts. */
export async function catalogOf(t: TestApp, id: string): Promise<{ tools: any[]; prompts: any[]; totalTools: number }> {
  const tools: any[] = [];
  let after: string | null = null;
  let prompts: any[] = [];
  let totalTools = 0;
  for (;;) {
    const { data, errors }: GqlResponse<any> = await t.gql(CATALOG, { id, after });
    expect(errors).toBeUndefined();
    const page: any = data.gateway.tools;
    tools.push(...page.edges.map((e: any) => e.node));
    prompts = data.gateway.prompts.edges.map((e: any) => e.node);
    totalTools = page.totalCount;
    if (!page.pageInfo.hasNextPage) return { tools, prompts, totalTools };
    after = page.pageInfo.endCursor;
  }
}

/** Tool nodes keyed by original name. */
export const byOriginalName = (tools: any[]) => Object.fromEntries(tools.map((tool) => [tool.originalName, tool]));
