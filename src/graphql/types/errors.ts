// The Error interface and the expected failures that results can carry.
import { NotFoundError, ValidationError } from '../../errors.js';
import { AuthorizationError } from '../../security/authorization-error.js';
import { builder } from '../builder.js';
import { ApiScopeEnum } from './enums.js';

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'An expected failure. Every error type of a result union implements it.',
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.objectType(AuthorizationError, {
  name: 'AuthorizationError',
  description: 'The token lacks a scope this operation needs.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    requiredScopes: t.field({ type: [ApiScopeEnum], resolve: (e) => e.requiredScopes }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'An input value is not acceptable.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The input field at fault, as a dotted path.' }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ id: t.exposeString('id') }),
});
