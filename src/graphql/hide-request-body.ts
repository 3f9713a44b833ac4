// yoga answers a body it cannot parse with "POST body sent invalid JSON." and,
// in `extensions.originalError`, the parser's message, which quotes the body:
// variable values, peer credentials among them. The message is replaced by a
// fixed one. The entry itself stays: yoga answers 400 rather than 200 because
// it holds a non-GraphQL error.
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const HIDDEN = 'not shown: it would repeat the request body';

export function useHiddenRequestBody(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      const errors = (result as ExecutionResult).errors;
      if (!errors?.some(quotesBody)) return;
      setResult({ ...(result as ExecutionResult), errors: errors.map(hideBody) } as typeof result);
    },
  };
}

function quotesBody(error: GraphQLError): boolean {
  const original = error.extensions?.['originalError'] as { message?: unknown } | undefined;
  return typeof original?.message === 'string' && original.message !== HIDDEN;
}

function hideBody(error: GraphQLError): GraphQLError {
  if (!quotesBody(error)) return error;
  const original = error.extensions['originalError'] as { name?: string };
  return new GraphQLError(error.message, { extensions: { ...error.extensions, originalError: { name: original.name, message: HIDDEN } } });
}
