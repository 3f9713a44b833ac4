// Forwarded calls: the entry a client names is looked up in the catalog (one
// statement), checked (exists, enabled, its gateway enabled and reachable),
// and the request goes to the owning peer with the entry's original name or
// URI, over the gateway's pooled session, bounded by TOOL_CALL_TIMEOUT_MS and
// cancelled with the client's request. What the peer answers comes back
// unchanged; a JSON-RPC error of the peer comes back as that error. Shared by
// /mcp and the GraphQL callTool / readResource / getPrompt.
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolResultSchema,
  CompleteResultSchema,
  EmptyResultSchema,
  ErrorCode,
  GetPromptResultSchema,
  McpError,
  ReadResourceResultSchema,
  type CallToolResult,
  type CompleteResult,
  type GetPromptResult,
  type Progress,
  type ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { currentActor } from '../security/actor.js';
import { ForwardError } from './forward-errors.js';
import { HOPS_META } from './federation-identity.js';
import type { PeerSession } from '../federation/peer-client.js';
import type { PeerPool, PooledGateway } from './peer-pool.js';
import { peerUri } from './resource-uris.js';

/** What a forwarded request carries from its client. */
export interface CallContext {
  /** Aborts when the client cancels (notifications/cancelled) or goes away. */
  signal?: AbortSignal;
  /** Called with each progress notification of the peer (the caller relays it with the client's token). */
  onProgress?: (progress: Progress) => void;
  /** Gateways the request has passed through before this one (its _meta). */
  hops?: number;
}

/** One forwarded call as it ended: what 'forwarded a call' logs, minus the entry and the caller. */
export interface ForwardedCall {
  method: string;
  gatewayId: string;
  /** `ok`, `peer error`, `tool error`, `cancelled` or `failed`. */
  outcome: string;
  durationMs: number;
}

export interface ForwarderOptions {
  prisma: PrismaClient;
  pool: PeerPool;
  logger: Logger;
  timeoutMs: number;
  maxHops: number;
  /** Told of each call forwarded to a peer (metrics); must not throw. */
  onCall?: (call: ForwardedCall) => void;
}

/** The owning gateway's columns (Owner) in the raw lookups, from `g`. */
const OWNER_COLUMNS = Prisma.sql`g.id::text AS id, g.name, g.slug, g.url, g.transport::text AS transport, g.auth_type::text AS "authType",
  g.auth_public AS "authPublic", g.auth_secret AS "authSecret", g.auth_fingerprint AS "authFingerprint", g.enabled, g.reachable`;

/** The peer's own message, without the "MCP error <code>: " the SDK's McpError puts before it. */
const peerMessage = (error: McpError) => error.message.replace(/^MCP error -?\d+: /, '');

/** The peer's result, or the JSON-RPC error it answered with. */
type Answer<T> = { result: T; refused?: undefined } | { refused: { code: number; message: string; data: unknown } };

type Owner = PooledGateway & { name: string; enabled: boolean; reachable: boolean };

/** A subscription at a peer: whose it is, the peer's own URI, and the pooled session it keeps in use until released. */
export interface PeerSubscription {
  gatewayId: string;
  uri: string;
  release: () => void;
}

export class Forwarder {
  constructor(private readonly o: ForwarderOptions) {}

  async callTool(name: string, args: Record<string, unknown> | undefined, ctx: CallContext = {}): Promise<CallToolResult> {
    const tool = await this.entry('tool', name);
    if (!tool) throw new ForwardError('UNKNOWN_ENTRY', `unknown tool: ${name}`);
    if (!tool.enabled) throw new ForwardError('ENTRY_DISABLED', `tool ${name} is disabled on this gateway`);
    return this.forward('tools/call', name, tool.gateway, { name: tool.originalName, arguments: args }, CallToolResultSchema, ctx);
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, ctx: CallContext = {}): Promise<GetPromptResult> {
    const prompt = await this.entry('prompt', name);
    if (!prompt) throw new ForwardError('UNKNOWN_ENTRY', `unknown prompt: ${name}`);
    if (!prompt.enabled) throw new ForwardError('ENTRY_DISABLED', `prompt ${name} is disabled on this gateway`);
    return this.forward('prompts/get', name, prompt.gateway, { name: prompt.originalName, arguments: args }, GetPromptResultSchema, ctx);
  }

  /** Any URI under a visible gateway's prefix is forwarded (templates expand to URIs the catalog does not list); a listed but disabled resource is refused. */
  async readResource(uri: string, ctx: CallContext = {}): Promise<ReadResourceResult> {
    const { gateway, uri: original } = await this.resourceOwner(uri);
    return this.forward('resources/read', uri, gateway, { uri: original }, ReadResourceResultSchema, ctx);
  }

  async complete(
    ref: { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string },
    argument: { name: string; value: string },
    context: { arguments?: Record<string, string> } | undefined,
    ctx: CallContext = {},
  ): Promise<CompleteResult> {
    if (ref.type === 'ref/prompt') {
      const prompt = await this.entry('prompt', ref.name);
      if (!prompt || !prompt.enabled) throw new ForwardError('UNKNOWN_ENTRY', `unknown prompt: ${ref.name}`);
      const params = { ref: { type: 'ref/prompt', name: prompt.originalName }, argument, ...(context ? { context } : {}) };
      return this.forward('completion/complete', ref.name, prompt.gateway, params, CompleteResultSchema, ctx);
    }
    const { gateway, uri } = await this.resourceOwner(ref.uri);
    const params = { ref: { type: 'ref/resource', uri }, argument, ...(context ? { context } : {}) };
    return this.forward('completion/complete', ref.uri, gateway, params, CompleteResultSchema, ctx);
  }

  /**
   * resources/subscribe at the owning peer. A subscription lives in the peer's
   * session, so the pooled session that carried it is kept in use until
   * `release`: unused, the pool would close it after MCP_PEER_SESSION_IDLE_MS
   * (or crowd it out), and the peer would forget the subscription while we
   * went on believing in it. Returns the gateway and the peer's URI its updates will name.
   */
  async subscribe(uri: string, ctx: CallContext = {}): Promise<PeerSubscription> {
    const { gateway, uri: original } = await this.resourceOwner(uri);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await this.forward('resources/subscribe', uri, gateway, { uri: original }, EmptyResultSchema, ctx, released);
    return { gatewayId: gateway.id, uri: original, release };
  }

  /** resources/unsubscribe at the owning peer (the caller then releases the session its subscription held). */
  async unsubscribe(uri: string, ctx: CallContext = {}): Promise<void> {
    const { gateway, uri: original } = await this.resourceOwner(uri);
    await this.forward('resources/unsubscribe', uri, gateway, { uri: original }, EmptyResultSchema, ctx);
  }

  /**
   * A tool or prompt by its namespaced name, with its gateway: one statement.
   * Raw SQL, as every forwarded call pays for it: Prisma's relation select
   * costs about half as much again (bench/README.md, /mcp).
   */
  private async entry(table: 'tool' | 'prompt', name: string): Promise<{ originalName: string; enabled: boolean; gateway: Owner } | null> {
    const [row] = await this.o.prisma.$queryRaw<(Owner & { originalName: string; entryEnabled: boolean })[]>`
      SELECT e.original_name AS "originalName", e.enabled AS "entryEnabled", ${OWNER_COLUMNS}
      FROM ${Prisma.raw(`"${table}"`)} e JOIN gateway g ON g.id = e.gateway_id
      WHERE e.name = ${name}`;
    if (!row) return null;
    const { originalName, entryEnabled, ...gateway } = row;
    return { originalName, enabled: entryEnabled, gateway };
  }

  /** The gateway and the peer's own URI behind an exposed URI (resource-uris.ts). */
  async resourceOwner(uri: string): Promise<{ gateway: Owner; uri: string }> {
    const parsed = peerUri(uri);
    // The gateway by its slug, and whether the catalog lists this URI (null: it does not), in one statement.
    const [row] = parsed
      ? await this.o.prisma.$queryRaw<(Owner & { listedEnabled: boolean | null })[]>`
          SELECT r.enabled AS "listedEnabled", ${OWNER_COLUMNS}
          FROM gateway g LEFT JOIN resource r ON r.gateway_id = g.id AND r.uri = ${parsed.uri}
          WHERE g.slug = ${parsed.slug}`
      : [];
    if (!parsed || !row) throw new ForwardError('UNKNOWN_ENTRY', `unknown resource: ${uri}`);
    const { listedEnabled, ...gateway } = row;
    if (listedEnabled === false) throw new ForwardError('ENTRY_DISABLED', `resource ${uri} is disabled on this gateway`);
    return { gateway, uri: parsed.uri };
  }

  private async forward<S extends z.ZodType>(
    method: string,
    entry: string,
    gateway: Owner,
    params: Record<string, unknown>,
    schema: S,
    ctx: CallContext,
    /** Keeps the session in use after a successful answer, until this settles (see subscribe). */
    hold?: Promise<void>,
  ): Promise<z.infer<S>> {
    if (!gateway.enabled) throw new ForwardError('GATEWAY_DISABLED', `gateway ${gateway.name} is disabled`);
    if (!gateway.reachable) throw new ForwardError('GATEWAY_UNREACHABLE', `gateway ${gateway.name} is unreachable (its health checks fail)`);
    const hops = (ctx.hops ?? 0) + 1;
    if (hops > this.o.maxHops) {
      throw new ForwardError('TOO_MANY_HOPS', `the request has passed through ${hops - 1} gateways already (MCP_MAX_HOPS is ${this.o.maxHops}): is there a loop?`);
    }
    const started = performance.now();
    let outcome = 'ok';
    try {
      const exchange = (session: PeerSession) =>
        session.run(
          async (o: RequestOptions): Promise<Answer<z.infer<S>>> => {
            try {
              const request = { method, params: { ...params, _meta: { [HOPS_META]: hops } } };
              const options = ctx.onProgress ? { ...o, onprogress: ctx.onProgress } : o;
              return { result: (await session.client.request(request as never, schema, options)) as z.infer<S> };
            } catch (error) {
              // The peer's own JSON-RPC error (not a timeout or a closed connection): the client's to see, as it was.
              if (error instanceof McpError && error.code !== ErrorCode.RequestTimeout && error.code !== ErrorCode.ConnectionClosed) {
                return { refused: { code: error.code, message: session.redact(peerMessage(error)), data: error.data } };
              }
              throw error;
            }
          },
          { timeoutMs: this.o.timeoutMs, signal: ctx.signal },
        );
      const answer = hold ? await this.holding(gateway, exchange, hold) : await this.o.pool.use(gateway, exchange);
      if (answer.refused) {
        outcome = 'peer error';
        throw new ForwardError('PEER_ERROR', answer.refused.message, { peerCode: answer.refused.code, peerData: answer.refused.data });
      }
      if (method === 'tools/call' && (answer.result as CallToolResult).isError) outcome = 'tool error';
      return answer.result;
    } catch (error) {
      if (error instanceof ForwardError) throw error;
      outcome = ctx.signal?.aborted ? 'cancelled' : 'failed';
      const failure = ForwardError.fromPeer(error, gateway.name, this.o.timeoutMs);
      // A request given up on (cancelled, or timed out: the SDK then sends
      // notifications/cancelled) gets no answer, and a peer may never end the
      // response stream that waited for it: the pooled session would hold one
      // connection per such request. Retiring the session closes them all (once
      // the calls still running on it end); the next call opens a new one.
      if (ctx.signal?.aborted || failure.kind === 'PEER_TIMEOUT') void this.o.pool.evict(gateway.id);
      throw failure;
    } finally {
      const durationMs = performance.now() - started;
      this.o.logger.info(
        { method, entry, gatewayId: gateway.id, durationMs: Math.round(durationMs), outcome, caller: currentActor().name },
        'forwarded a call',
      );
      this.o.onCall?.({ method, gatewayId: gateway.id, outcome, durationMs });
    }
  }

  /**
   * pool.use for an exchange whose session must stay in use afterwards: answers
   * as soon as the peer has, then keeps the work (and so the session) running
   * until `hold` settles. A refused or failed exchange holds nothing.
   */
  private holding<T>(gateway: Owner, exchange: (session: PeerSession) => Promise<Answer<T>>, hold: Promise<void>): Promise<Answer<T>> {
    return new Promise<Answer<T>>((resolve, reject) => {
      this.o.pool
        .use(gateway, async (session) => {
          const answer = await exchange(session);
          resolve(answer);
          if (!answer.refused) await hold;
        })
        // After the answer nothing can fail (hold never rejects); before it, this is the exchange's failure.
        .catch(reject);
    });
  }
}
