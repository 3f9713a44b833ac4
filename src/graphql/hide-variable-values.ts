// graphql-js repeats the offending value when a variable does not coerce
// ('Variable "$input" got invalid value { basic: { password: "..." } } ...').
// Variables carry peer credentials, and nothing may echo a secret, so those
// errors keep the variable, the path and the reason, never the value. A plugin
// on the result rather than a maskError: yoga logs the original of every error
// its maskError changes, which would put the value in the logs instead.
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const INVALID_VARIABLE = /^(Variable "\$[^"]+" got invalid value) /;
/** graphql's scalar coercion messages end with ": <the value>". */
const SCALAR_VALUE = /^((?:\w+ cannot represent|Expected type "[^"]+"\.)[^:]*): .*$/s;

export function useHiddenVariableValues(): Plugin {
  const rewrite = (result: unknown, setResult: (result: ExecutionResult) => void) => {
    const errors = (result as ExecutionResult | undefined)?.errors;
    if (!errors?.some((e) => INVALID_VARIABLE.test(e.message))) return;
    setResult({ ...(result as ExecutionResult), errors: errors.map(hideValue) });
  };
  return {
    onExecute: () => ({ onExecuteDone: ({ result, setResult }) => rewrite(result, setResult) }),
    onSubscribe: () => ({ onSubscribeResult: ({ result, setResult }) => rewrite(result, setResult) }),
  };
}

function hideValue(error: GraphQLError): GraphQLError {
  const head = INVALID_VARIABLE.exec(error.message)?.[1];
  if (!head) return error;
  const reason = error.originalError?.message;
  // The message is `${head} ${value}[ at "${path}"]; ${reason}`, and a path holds no quotes.
  const known = reason !== undefined && error.message.endsWith(`; ${reason}`);
  const at = known ? (/ at "[^"]*"$/.exec(error.message.slice(0, -reason.length - 2))?.[0] ?? '') : '';
  return new GraphQLError(`${head}${at}${known ? `; ${reason.replace(SCALAR_VALUE, '$1')}` : ''}`, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: error.extensions,
  });
}
