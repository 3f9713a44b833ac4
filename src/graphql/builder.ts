// Builder configuration only; types live one per file under ./types.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import { AuthorizationError } from '../security/authorization-error.js';
import { hasScope, type Scope } from '../security/scopes.js';
import type { GraphQLContext } from './context.js';
import { encodeGlobalId } from './global-id.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: Record<Scope, boolean>;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    SafeInt: { Input: number; Output: number | bigint };
  };
}>({
  // Errors first: it must see the AuthorizationError that scope-auth throws.
  plugins: [ErrorsPlugin, ScopeAuthPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      read: hasScope(ctx.principal, 'read'),
      write: hasScope(ctx.principal, 'write'),
      invoke: hasScope(ctx.principal, 'invoke'),
      admin: hasScope(ctx.principal, 'admin'),
    }),
    unauthorizedError: (_parent, _ctx, _info, result) => new AuthorizationError(requiredScopes(result.failure)),
  },
  errors: { defaultTypes: [AuthorizationError] },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    // Catches resolvers that forget to spread `...query` (and so break batching).
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'error',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // Every global id the plugin makes is made the way the schema's own are.
    encodeGlobalID: encodeGlobalId,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    nodeQueryOptions: { authScopes: { read: true } },
    nodesQueryOptions: { authScopes: { read: true } },
  },
});

type Failure = { kind: string; scope?: string; failures?: Failure[] };

function requiredScopes(failure: Failure): Scope[] {
  if (failure.kind === 'AuthScope' && failure.scope) return [failure.scope as Scope];
  return [...new Set((failure.failures ?? []).flatMap(requiredScopes))];
}
