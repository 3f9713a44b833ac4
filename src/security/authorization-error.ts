import { GraphQLError } from 'graphql';
import type { Scope } from './scopes.js';

/**
 * A caller lacks a scope. A GraphQLError so that, outside result unions, it
 * reaches the client with its message instead of being masked.
 */
export class AuthorizationError extends GraphQLError {
  constructor(readonly requiredScopes: Scope[]) {
    super(`this operation needs the ${requiredScopes.join(' or ')} scope`, {
      extensions: { code: 'FORBIDDEN', requiredScopes },
    });
    this.name = 'AuthorizationError';
  }
}
