// One MCP server per client session: lists from the catalog (CatalogPages),
// calls forwarded to the owning peer (Forwarder). Every handler runs as the
// session's API token (actor.ts), so logs name the caller.
//
// What a peer sends besides its answer: progress notifications are relayed to
// the client with the client's own progress token; logging notifications are
// dropped (they describe the peer's session, shared by every client); the
// pooled sessions declare no sampling, elicitation or roots capability, so a
// peer may not ask for them, and one that does is answered "method not found"
// by the SDK.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type Progress,
  type RequestMeta,
} from '@modelcontextprotocol/sdk/types.js';
import { runAs } from '../security/actor.js';
import type { Principal } from '../security/scopes.js';
import type { CatalogPages } from './catalog-pages.js';
import { FEDERATION_CAPABILITY, HOPS_META } from './federation-identity.js';
import { ForwardError } from './forward-errors.js';
import type { CallContext, Forwarder } from './forwarder.js';
import { FEDERATED_SCHEME } from './resource-uris.js';

export const SERVER_INFO = { name: 'mcp-federation', title: 'MCP federation gateway', version: '0.1.0' };

const instructions = (separator: string) =>
  'This server federates the tools, resources and prompts of other MCP servers (its peer gateways). ' +
  `Tool and prompt names are <gateway>${separator}<original name>. Resource URIs are ` +
  `${FEDERATED_SCHEME}://<gateway>/<the peer's own URI>. ` +
  'Calls are forwarded to the peer that owns the entry; lists change as peers come and go (listen for list_changed).';

export interface SessionServerOptions {
  pages: CatalogPages;
  forwarder: Forwarder;
  principal: Principal;
  /** TOOL_NAME_SEPARATOR, for the instructions. */
  separator: string;
  /** This deployment's federation id and every id it reaches (federation-identity.ts). */
  reaches: string[];
  /** resources/subscribe and unsubscribe of this session (exposed URIs). */
  subscribe(uri: string): Promise<void>;
  unsubscribe(uri: string): Promise<void>;
}

interface Extra {
  signal: AbortSignal;
  requestId: string | number;
  _meta?: RequestMeta;
  sendNotification: (notification: { method: 'notifications/progress'; params: Progress & { progressToken: string | number } }) => Promise<void>;
}

/** What a forwarded request takes from the client's: its cancellation, its progress token, its hop count. */
function callContext(extra: Extra): CallContext {
  const token = extra._meta?.progressToken;
  const hops = (extra._meta as Record<string, unknown> | undefined)?.[HOPS_META];
  return {
    signal: extra.signal,
    hops: typeof hops === 'number' && Number.isInteger(hops) && hops >= 0 ? hops : 0,
    ...(token !== undefined
      ? { onProgress: (progress: Progress) => void extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken: token } }).catch(() => {}) }
      : {}),
  };
}

export function createSessionServer(o: SessionServerOptions): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: {
      tools: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      prompts: { listChanged: true },
      completions: {},
      experimental: { [FEDERATION_CAPABILITY]: { reaches: o.reaches } },
    },
    instructions: instructions(o.separator),
  });
  const as = <T>(work: () => Promise<T>) => runAs(o.principal, work);
  /**
   * A forwarded request's context, and its response stream ended if the client
   * cancels it. The SDK rightly sends no answer to a cancelled request, and so
   * the Streamable HTTP transport, which ends a POST's SSE stream once every
   * request in it is answered, would hold that stream (and its connection)
   * open until the session closes. Clients send one request per POST (JSON-RPC
   * batches are gone from MCP since 2025-06-18); in an old client's batch, the
   * requests still running would lose their stream with the cancelled one.
   */
  const context = (extra: unknown): CallContext => {
    const e = extra as Extra;
    e.signal.addEventListener(
      'abort',
      () => {
        const transport = server.transport;
        if (transport instanceof StreamableHTTPServerTransport) transport.closeSSEStream(e.requestId);
      },
      { once: true },
    );
    return callContext(e);
  };
  const method = <T>(name: string, work: () => Promise<T>) =>
    as(async () => {
      try {
        return await work();
      } catch (error) {
        throw error instanceof ForwardError ? error.toRpcError(name) : error;
      }
    });

  server.setRequestHandler(ListToolsRequestSchema, (request) =>
    as(async () => {
      const page = await o.pages.tools(request.params?.cursor);
      return { tools: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    }),
  );
  server.setRequestHandler(ListPromptsRequestSchema, (request) =>
    as(async () => {
      const page = await o.pages.prompts(request.params?.cursor);
      return { prompts: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    }),
  );
  server.setRequestHandler(ListResourcesRequestSchema, (request) =>
    as(async () => {
      const page = await o.pages.resources(request.params?.cursor);
      return { resources: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    }),
  );
  server.setRequestHandler(ListResourceTemplatesRequestSchema, (request) =>
    as(async () => {
      const page = await o.pages.resourceTemplates(request.params?.cursor);
      return { resourceTemplates: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    }),
  );

  // A tool that could not run (gateway down, peer timeout) is a tool result with isError, so the model sees why;
  // an unknown or disabled tool, or the peer's own JSON-RPC error, is a protocol error.
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    as(async () => {
      try {
        return await o.forwarder.callTool(request.params.name, request.params.arguments, context(extra));
      } catch (error) {
        if (!(error instanceof ForwardError)) throw error;
        if (error.kind === 'UNKNOWN_ENTRY' || error.kind === 'ENTRY_DISABLED' || error.kind === 'PEER_ERROR') throw error.toRpcError('tools/call');
        return error.toToolResult();
      }
    }),
  );
  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
    method('resources/read', () => o.forwarder.readResource(request.params.uri, context(extra))),
  );
  server.setRequestHandler(GetPromptRequestSchema, (request, extra) =>
    method('prompts/get', () => o.forwarder.getPrompt(request.params.name, request.params.arguments, context(extra))),
  );
  server.setRequestHandler(CompleteRequestSchema, (request, extra) =>
    method('completion/complete', () =>
      o.forwarder.complete(request.params.ref, request.params.argument, request.params.context, context(extra)),
    ),
  );
  server.setRequestHandler(SubscribeRequestSchema, (request) =>
    method('resources/subscribe', async () => {
      await o.subscribe(request.params.uri);
      return {};
    }),
  );
  server.setRequestHandler(UnsubscribeRequestSchema, (request) =>
    method('resources/unsubscribe', async () => {
      await o.unsubscribe(request.params.uri);
      return {};
    }),
  );
  return server;
}
