// The HTTP side of the API: yoga with masked errors, operation limits and
// bearer-token authentication. WebSocket subscriptions reuse this same instance
// (src/graphql/websocket.ts), so both share one context and one set of plugins.
import type { ServerResponse } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { createYoga, type CORSOptions, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { graphiqlEnabled, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { useOperationMetrics } from '../observability/graphql-metrics.js';
import { runAs } from '../security/actor.js';
import type { Principal } from '../security/scopes.js';
import type { GraphQLContext, Services } from './context.js';
import { renderLocalGraphiQL } from './graphiql.js';
import { Admission, useQueryAdmission } from './query-admission.js';
import { skipGraphQLRealmChecks } from './realm-checks.js';
import { isSchemaOnly, SCHEMA_READER } from './introspection.js';
import { useHiddenRequestBody } from './hide-request-body.js';
import { useHiddenVariableValues } from './hide-variable-values.js';
import { useJsonBytes } from './json-bytes.js';
import { schema } from './schema.js';

export const GRAPHQL_PATH = '/graphql';

/** Set by the WebSocket server, which authenticates at connection_init. */
export interface ServerContext {
  principal?: Principal;
}

export type GraphQLServer = YogaServerInstance<ServerContext, GraphQLContext>;

export function unauthenticated(): GraphQLError {
  return new GraphQLError('missing or invalid bearer token', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } },
  });
}

export interface GraphQLServerOptions {
  /**
   * Called with the HTTP response of each subscription served over HTTP (SSE or
   * multipart): such a response never ends by itself, so shutdown must end it.
   */
  onHttpSubscription?: (res: ServerResponse, principal: Principal) => void;
  /** Counts and times operations (GET /metrics). */
  metrics?: Metrics;
  /** The permits of query operations (MAX_CONCURRENT_QUERIES); app.ts shares it with /metrics. */
  admission?: Admission;
  /**
   * More plugins, after this module's own (app.ts gives the tracing one when
   * tracing is on). They serve graphql-ws too, which runs its operations
   * through this instance's getEnveloped.
   */
  plugins?: Plugin[];
}

export function createGraphQLServer(
  config: Config,
  logger: Logger,
  services: Services,
  options: GraphQLServerOptions = {},
): GraphQLServer {
  const explorer = graphiqlEnabled(config);
  skipGraphQLRealmChecks();
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    // Never the development mode's `originalError`: a JSON parse error repeats the
    // body it failed on, variable values (peer credentials) included.
    maskedErrors: { isDev: false },
    cors: corsPolicy(config.CORS_ORIGINS),
    batching: false,
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error({ err: args.find((a) => a instanceof Error) }, args.map(String).join(' ')),
    },
    graphiql: explorer
      ? {
          title: 'MCP federation control plane',
          // GraphiQL sends what the header editor holds: paste a token there.
          headers: JSON.stringify({ Authorization: 'Bearer <paste an API token>' }, null, 2),
          shouldPersistHeaders: false,
        }
      : false,
    renderGraphiQL: renderLocalGraphiQL,
    context: async ({ request, principal, params }) => {
      const caller = principal ?? (await services.tokens.authenticate(request.headers.get('authorization')));
      if (caller) return { ...services, principal: caller, signal: request?.signal };
      if (explorer && isSchemaOnly(params?.query, params?.operationName)) return { ...services, principal: SCHEMA_READER };
      throw unauthenticated();
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: config.MAX_QUERY_DEPTH, onReject: [limitError('MAX_QUERY_DEPTH')] },
        // `first`/`last` already multiply a connection's cost by its page size;
        // armor's default 1.5x per level on top of that priced the issue's own
        // "50 gateways with 20 tools each" page at ~49k. With a factor of 1 the
        // cost is about the most values a response can hold.
        costLimit: { maxCost: config.MAX_QUERY_COST, depthCostFactor: 1, onReject: [limitError('MAX_QUERY_COST')] },
        maxAliases: { n: config.MAX_QUERY_ALIASES, onReject: [limitError('MAX_QUERY_ALIASES')] },
        maxTokens: { n: config.MAX_QUERY_TOKENS, onReject: [limitError('MAX_QUERY_TOKENS')] },
        maxDirectives: { n: config.MAX_QUERY_DIRECTIVES, onReject: [limitError('MAX_QUERY_DIRECTIVES')] },
        blockFieldSuggestion: { enabled: true },
      }),
      markHttpSubscriptions(options.onHttpSubscription),
      useHiddenVariableValues(),
      useHiddenRequestBody(),
      useActor(),
      useJsonBytes(),
      useQueryAdmission(options.admission ?? new Admission(config.MAX_CONCURRENT_QUERIES)),
      ...(options.metrics ? [useOperationMetrics(options.metrics)] : []),
      ...(options.plugins ?? []),
    ],
  });
}

type LimitSetting = 'MAX_QUERY_DEPTH' | 'MAX_QUERY_COST' | 'MAX_QUERY_ALIASES' | 'MAX_QUERY_TOKENS' | 'MAX_QUERY_DIRECTIVES';

/**
 * graphql-armor reports every limit as a "Syntax Error" without a code. Its
 * onReject handlers run before it throws: throwing there replaces its error with
 * one that names the setting, in the message and as extensions.code.
 */
function limitError(setting: LimitSetting) {
  return (_context: unknown, error: GraphQLError): never => {
    const detail = error.message.replace(/^Syntax Error: /, '');
    throw new GraphQLError(`${detail} (${setting})`, { extensions: { code: setting } });
  };
}

/**
 * No CORS headers unless the origin is one of CORS_ORIGINS: the API is called
 * with bearer tokens, and a browser page of any other site has no business
 * reading its answers.
 */
function corsPolicy(origins: string[] | undefined): (request: Request) => CORSOptions {
  const allowed = new Set(origins ?? []);
  return (request) => {
    const origin = request.headers.get('origin');
    if (!origin || !allowed.has(origin)) return false;
    return { origin, credentials: false, methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type', 'accept'], maxAge: 600 };
  };
}

/** Runs each operation as its caller, so that what the services log names who caused it (security/actor.ts). */
function useActor(): Plugin<GraphQLContext> {
  return {
    onExecute: ({ args, executeFn, setExecuteFn }) => {
      const principal = (args.contextValue as Partial<GraphQLContext>).principal;
      if (principal) setExecuteFn((execution) => runAs(principal, () => executeFn(execution)));
    },
  };
}

function markHttpSubscriptions(mark: GraphQLServerOptions['onHttpSubscription']): Plugin {
  return {
    // Over HTTP the node adapter puts { req, res } in the server context, which
    // yoga's context extends; over graphql-ws there is no `res`.
    onSubscribe: ({ args }) => {
      const { res, principal } = args.contextValue as { res?: ServerResponse; principal?: Principal };
      if (res && principal) mark?.(res, principal);
    },
  };
}
