// graphql-ws on the same HTTP server and path as yoga. Authentication happens
// once, at connection_init (`{ "authorization": "Bearer …" }`); operations then
// run through yoga's envelop, exactly as over HTTP.
import type { Server } from 'node:http';
import { GraphQLError, type DocumentNode } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ApiTokenService } from '../security/api-tokens.js';
import type { OpenSessions } from '../security/open-sessions.js';
import type { Principal } from '../security/scopes.js';
import { GRAPHQL_PATH, type GraphQLServer } from './yoga.js';

export const CLOSE_UNAUTHORIZED = 4401;
/** The token the socket was opened with has been revoked. */
export const CLOSE_REVOKED = 4403;

type Extra = {
  principal?: Principal;
};

export interface GraphQLWebSocketServer {
  /** Closes every socket (with 1001 Going Away) and stops accepting new ones. */
  close(): Promise<void>;
}

export interface WebSocketOptions {
  /** Largest message accepted, connection_init included: ws refuses bigger ones (1009) before buffering them whole. */
  maxPayload: number;
}

export function attachWebSocketServer(
  server: Server,
  yoga: GraphQLServer,
  tokens: ApiTokenService,
  sessions: OpenSessions,
  options: WebSocketOptions,
): GraphQLWebSocketServer {
  // Upgrades are routed here by hand (noServer) rather than by handing ws the
  // HTTP server: ws would re-emit the server's own errors (a port in use) as
  // its own, which graphql-ws reports as an internal error of the socket server.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== GRAPHQL_PATH) return void socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const principal = await tokens.authenticate(typeof header === 'string' ? header : null);
        if (!principal) {
          ctx.extra.socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized');
          return false;
        }
        ctx.extra.principal = principal;
        const socket = ctx.extra.socket;
        const forget = sessions.add(principal.tokenId, () => socket.close(CLOSE_REVOKED, 'API token revoked'));
        socket.once('close', forget);
        return true;
      },
      execute: (args) => (args.rootValue as Envelope).execute(args),
      subscribe: (args) => (args.rootValue as Envelope).subscribe(args),
      onSubscribe: async (ctx, _id, payload) => {
        const envelope = yoga.getEnveloped({ principal: ctx.extra.principal, params: payload, request: undefined });
        // A syntax error, or a limit that graphql-armor enforces by throwing
        // (tokens while parsing, depth/cost/aliases/directives while validating),
        // is the operation's error, as over HTTP: thrown out of onSubscribe it
        // would close the whole socket with 4500 and echo the text as the reason.
        let document: DocumentNode;
        let errors: readonly GraphQLError[];
        try {
          document = envelope.parse(payload.query);
          errors = envelope.validate(envelope.schema, document);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        if (errors.length > 0) return errors;
        return {
          schema: envelope.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await envelope.contextFactory(),
          rootValue: { execute: envelope.execute, subscribe: envelope.subscribe },
        };
      },
    },
    wss,
  );
  return {
    async close() {
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

type Envelope = ReturnType<GraphQLServer['getEnveloped']>;
