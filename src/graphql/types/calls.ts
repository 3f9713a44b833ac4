// Trying the federated catalog from GraphQL: callTool, readResource and
// getPrompt (scope `invoke`), forwarded exactly as /mcp forwards them
// (mcp/forwarder.ts), with each way it can fail as a typed union member.
import { ValidationError } from '../../errors.js';
import { ForwardError } from '../../mcp/forward-errors.js';
import type { CallContext } from '../../mcp/forwarder.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { GatewayStatusEnum } from './enums.js';
import { ErrorInterface } from './errors.js';
import { PeerFailureReason } from './peer-failure.js';

class CatalogEntryNotFoundError extends Error {
  override name = 'CatalogEntryNotFoundError';
}
class CatalogEntryDisabledError extends Error {
  override name = 'CatalogEntryDisabledError';
}
class GatewayUnavailableError extends Error {
  override name = 'GatewayUnavailableError';
  constructor(
    message: string,
    readonly status: 'DISABLED' | 'UNREACHABLE',
  ) {
    super(message);
  }
}
class PeerCallError extends Error {
  override name = 'PeerCallError';
  constructor(
    message: string,
    readonly reason: ForwardError['reason'] | null,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}
class PeerRefusedError extends Error {
  override name = 'PeerRefusedError';
  constructor(
    message: string,
    readonly code: number,
    readonly data: unknown,
  ) {
    super(message);
  }
}

builder.objectType(CatalogEntryNotFoundError, {
  name: 'CatalogEntryNotFoundError',
  description: 'No tool, prompt or resource the federation serves has this name or URI.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});
builder.objectType(CatalogEntryDisabledError, {
  name: 'CatalogEntryDisabledError',
  description: 'The entry exists but an operator disabled it.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});
builder.objectType(GatewayUnavailableError, {
  name: 'GatewayUnavailableError',
  description: 'The gateway that owns the entry is disabled, or unreachable (its health checks fail).',
  interfaces: [ErrorInterface],
  fields: (t) => ({ status: t.field({ type: GatewayStatusEnum, resolve: (e) => e.status }) }),
});
builder.objectType(PeerCallError, {
  name: 'PeerCallError',
  description: 'The peer gave no answer: it timed out (TOOL_CALL_TIMEOUT_MS), failed, or the call passed through too many gateways (MCP_MAX_HOPS).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    timedOut: t.exposeBoolean('timedOut'),
    reason: t.field({ type: PeerFailureReason, nullable: true, resolve: (e) => e.reason ?? null }),
  }),
});
builder.objectType(PeerRefusedError, {
  name: 'PeerRefusedError',
  description: "The peer answered with a JSON-RPC error: its code and message, as it sent them.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.exposeInt('code'),
    data: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.data ?? null }),
  }),
});

const CALL_ERRORS = [ValidationError, CatalogEntryNotFoundError, CatalogEntryDisabledError, GatewayUnavailableError, PeerCallError, PeerRefusedError];

/** The GraphQL error for a forwarding failure; anything else passes (and is masked). */
function typed(error: unknown): unknown {
  if (!(error instanceof ForwardError)) return error;
  switch (error.kind) {
    case 'UNKNOWN_ENTRY':
      return new CatalogEntryNotFoundError(error.message);
    case 'ENTRY_DISABLED':
      return new CatalogEntryDisabledError(error.message);
    case 'GATEWAY_DISABLED':
      return new GatewayUnavailableError(error.message, 'DISABLED');
    case 'GATEWAY_UNREACHABLE':
      return new GatewayUnavailableError(error.message, 'UNREACHABLE');
    case 'PEER_ERROR':
      return new PeerRefusedError(error.message, error.peerCode ?? 0, error.peerData);
    default:
      return new PeerCallError(error.message, error.reason ?? null, error.kind === 'PEER_TIMEOUT');
  }
}

/** Runs a forwarded call, cancelled if the client goes away. */
async function forwarded<T>(ctx: GraphQLContext, call: (context: CallContext) => Promise<T>): Promise<T> {
  try {
    return await call({ signal: ctx.signal });
  } catch (error) {
    throw typed(error);
  }
}

const errors = (name: string) => ({ types: CALL_ERRORS, directResult: true as const, union: { name } });

interface ToolAnswer {
  content: unknown[];
  structuredContent?: unknown;
  isError?: boolean;
  _meta?: unknown;
}

const CallToolSuccess = builder.objectRef<ToolAnswer>('CallToolSuccess').implement({
  description: "The tool's result as the peer sent it (isError: the tool ran and failed).",
  fields: (t) => ({
    content: t.field({ type: 'JSON', resolve: (r) => r.content }),
    structuredContent: t.field({ type: 'JSON', nullable: true, resolve: (r) => r.structuredContent ?? null }),
    isError: t.boolean({ resolve: (r) => r.isError === true }),
    meta: t.field({ type: 'JSON', nullable: true, resolve: (r) => r._meta ?? null }),
  }),
});

const ReadResourceSuccess = builder.objectRef<{ contents: unknown[]; _meta?: unknown }>('ReadResourceSuccess').implement({
  fields: (t) => ({
    contents: t.field({ type: 'JSON', resolve: (r) => r.contents }),
    meta: t.field({ type: 'JSON', nullable: true, resolve: (r) => r._meta ?? null }),
  }),
});

const GetPromptSuccess = builder.objectRef<{ description?: string; messages: unknown[]; _meta?: unknown }>('GetPromptSuccess').implement({
  fields: (t) => ({
    description: t.string({ nullable: true, resolve: (r) => r.description ?? null }),
    messages: t.field({ type: 'JSON', resolve: (r) => r.messages }),
    meta: t.field({ type: 'JSON', nullable: true, resolve: (r) => r._meta ?? null }),
  }),
});

/** JSON arguments must be an object (MCP's arguments are named). */
function argumentsObject<T>(value: unknown): Record<string, T> | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('arguments', 'arguments must be a JSON object (named arguments)');
  return value as Record<string, T>;
}

builder.mutationField('callTool', (t) =>
  t.field({
    type: CallToolSuccess,
    description: 'Calls a federated tool by its namespaced name, as an MCP client of /mcp would (TOOL_CALL_TIMEOUT_MS bounds it).',
    authScopes: { invoke: true },
    errors: errors('CallToolResult'),
    args: { name: t.arg.string({ required: true }), arguments: t.arg({ type: 'JSON', required: false }) },
    resolve: (_root, args, ctx) => forwarded(ctx, (context) => ctx.forwarder.callTool(args.name, argumentsObject(args.arguments), context)),
  }),
);

/** The queries a peer answers: they wait on the network, so query admission (query-admission.ts) lets them by. */
export const PEER_QUERY_FIELDS: ReadonlySet<string> = new Set(['readResource', 'getPrompt']);

builder.queryFields((t) => ({
  readResource: t.field({
    type: ReadResourceSuccess,
    description: 'Reads a federated resource by the URI /mcp lists it under (mcp-federation://<gateway>/<peer URI>).',
    authScopes: { invoke: true },
    skipTypeScopes: true,
    errors: errors('ReadResourceResult'),
    args: { uri: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => forwarded(ctx, (context) => ctx.forwarder.readResource(args.uri, context)),
  }),
  getPrompt: t.field({
    type: GetPromptSuccess,
    description: 'Gets a federated prompt by its namespaced name, with its arguments (strings).',
    authScopes: { invoke: true },
    skipTypeScopes: true,
    errors: errors('GetPromptResult'),
    args: { name: t.arg.string({ required: true }), arguments: t.arg({ type: 'JSON', required: false }) },
    resolve: (_root, args, ctx) => forwarded(ctx, (context) => ctx.forwarder.getPrompt(args.name, argumentsObject<string>(args.arguments), context)),
  }),
}));
