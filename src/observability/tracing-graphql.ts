// One span per GraphQL operation, the parent of everything the operation
// causes: the token lookup of its context, the SQL of its resolvers, its calls
// to peers. Loaded only with tracing on (tracing-sdk.ts).
//
// Recorded: graphql.operation.type and .name (the standard attributes; the span
// is named "<type> <name>"), and graphql.operation.outcome, `ok` or `error` as
// in the operation metrics (a result with errors is an error), with error.type
// the first error's extensions.code (UNAUTHENTICATED, MAX_QUERY_DEPTH, …).
// Never the document or the variables: either can hold peer credentials.
//
// How it is attached: useOperationTracing is a yoga plugin, given to
// createGraphQLServer (src/graphql/yoga.ts) by app.ts only when tracing is on.
// It works at envelop's level, which both transports go through: yoga calls
// getEnveloped for each HTTP operation, and graphql-ws (src/graphql/websocket.ts)
// calls the same yoga's getEnveloped for each of its operations. So:
// - the span starts when getEnveloped is called (instrumentation `init`), under
//   whatever span is active then (an HTTP server span, if an instrumentation
//   was preloaded);
// - each phase (parse, validate, context, execute, subscribe) runs with the span
//   active, through envelop's `instrumentation` wrappers. Hooks alone cannot do
//   this: a hook runs before its phase and cannot make the rest of the phase (the
//   context's token lookup, the resolvers) run inside a context of its own;
// - hooks read what the wrappers cannot see: the parsed document (the name), a
//   validation's errors, a context's error, an execution's result (the outcome).
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { getOperationAST, type DocumentNode, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export const OUTCOME = 'graphql.operation.outcome';

const isPromise = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';

/** The code of the first error (UNAUTHENTICATED, MAX_QUERY_DEPTH, …), if it has one. */
function firstCode(errors: readonly unknown[] | undefined): string | undefined {
  const code = (errors?.[0] as GraphQLError | undefined)?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The span of one operation, from its start to its result. */
class OperationSpan {
  readonly active: Context;
  private readonly span: Span;
  private ended = false;

  constructor(tracer: Tracer) {
    const parent = context.active();
    // Under an HTTP server span (a preloaded HTTP instrumentation) this is an inner
    // span; otherwise it is where the request's work enters the service.
    const kind = trace.getSpan(parent) ? SpanKind.INTERNAL : SpanKind.SERVER;
    this.span = tracer.startSpan('GraphQL Operation', { kind }, parent);
    this.active = trace.setSpan(parent, this.span);
  }

  /** Names the span after the operation the document selects. */
  describe(document: DocumentNode, operationName: string | null | undefined): void {
    const operation = getOperationAST(document, operationName ?? undefined);
    if (!operation) return;
    const type = operation.operation;
    // A GraphQL Name ([_A-Za-z][_0-9A-Za-z]*), bounded: client-chosen text in a span name.
    const name = operation.name?.value.slice(0, 100);
    this.span.setAttribute('graphql.operation.type', type);
    if (name) this.span.setAttribute('graphql.operation.name', name);
    this.span.updateName(name ? `${type} ${name}` : type);
  }

  end(outcome: 'ok' | 'error', type?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute(OUTCOME, outcome);
    if (outcome === 'error') {
      this.span.setStatus({ code: SpanStatusCode.ERROR });
      this.span.setAttribute('error.type', type ?? 'GRAPHQL_ERROR');
    }
    this.span.end();
  }

  /** Ends with an execution result: a subscription or an incremental result once it has started. */
  settle(result: unknown): void {
    if (result && typeof result === 'object' && Symbol.asyncIterator in result) this.end('ok');
    else {
      const errors = (result as { errors?: readonly unknown[] } | undefined)?.errors;
      if (errors && errors.length > 0) this.end('error', firstCode(errors));
      else this.end('ok');
    }
  }

  /** Runs `work` with this span active; a throw or a rejection ends the span as an error. */
  run<T>(work: () => T, failure: string): T {
    const fail = (error: unknown) => {
      this.end('error', firstCode([error]) ?? failure);
      throw error;
    };
    try {
      const result = context.with(this.active, work);
      return isPromise(result) ? (Promise.resolve(result).catch(fail) as T) : result;
    } catch (error) {
      return fail(error);
    }
  }
}

/** What yoga (HTTP) and websocket.ts (graphql-ws) give getEnveloped: the operation's params among the rest. */
type InitialContext = { params?: { operationName?: string | null } };

/** Makes each operation of the yoga server it is given to a span (see the top of this file). */
export function useOperationTracing(tracer: Tracer): Plugin {
  // By the context object getEnveloped was called with. Envelop hands that same
  // object to every phase's wrapper and hook, and builds the operation's context
  // value by extending it, so it is also the `contextValue` that execute and
  // subscribe are given. Weak: an operation's span goes with its context.
  const operations = new WeakMap<object, OperationSpan>();
  const within =
    (failure: string) =>
    <T>({ context: initial }: { context: object }, wrapped: () => T): T => {
      const operation = operations.get(initial);
      return operation ? operation.run(wrapped, failure) : wrapped();
    };

  return {
    instrumentation: {
      init: ({ context: initial }, wrapped) => {
        const operation = new OperationSpan(tracer);
        operations.set(initial, operation);
        operation.run(wrapped, 'GRAPHQL_EXECUTION_FAILED');
      },
      parse: within('GRAPHQL_PARSE_FAILED'),
      // Validation rules that throw (graphql-armor's limits) end up here; errors returned end it in onValidate.
      validate: within('GRAPHQL_VALIDATION_FAILED'),
      // The context is built asynchronously: its rejection is reported to the context error handler below.
      context: within('CONTEXT_FAILED'),
      execute: within('GRAPHQL_EXECUTION_FAILED'),
      subscribe: within('GRAPHQL_EXECUTION_FAILED'),
    },
    onPluginInit: ({ registerContextErrorHandler }) => {
      // UNAUTHENTICATED: no token, or one that does not authenticate.
      registerContextErrorHandler(({ context: initial, error }) => operations.get(initial)?.end('error', firstCode([error]) ?? 'CONTEXT_FAILED'));
    },
    // The document is named here, before the context: an operation refused for
    // its token still has its name. A parse failure is ended by the parse wrapper.
    onParse:
      ({ context: initial }) =>
      ({ result }) => {
        if (result && !(result instanceof Error)) operations.get(initial)?.describe(result, (initial as InitialContext).params?.operationName);
      },
    // Answered without a context or an execution: the operation ends here.
    onValidate:
      ({ context: initial }) =>
      ({ valid, result }) => {
        if (!valid) operations.get(initial)?.end('error', firstCode(result) ?? 'GRAPHQL_VALIDATION_FAILED');
      },
    onExecute: ({ args }) => ({
      onExecuteDone: ({ result }) => operations.get(args.contextValue as object)?.settle(result),
    }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: ({ result }) => operations.get(args.contextValue as object)?.settle(result),
    }),
  };
}
