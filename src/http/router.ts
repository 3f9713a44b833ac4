// The few plain HTTP routes around the GraphQL endpoint.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { EventBus } from '../events/event-bus.js';
import { GRAPHIQL_ASSET_PREFIX, graphiqlAsset } from '../graphql/graphiql.js';
import type { Admission } from '../graphql/query-admission.js';
import { GRAPHQL_PATH, type GraphQLServer } from '../graphql/yoga.js';
import { MCP_PATH } from '../mcp/endpoint.js';
import { METRICS_PATH } from '../observability/metrics-endpoint.js';
import { admitAtTheDoor } from './query-door.js';
import type { Handler } from './request-tracker.js';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Rejects a body larger than the limit before yoga reads a byte of it. */
function bodyTooLarge(req: IncomingMessage, res: ServerResponse, maxBytes: number): boolean {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return false;
  const length = req.headers['content-length'];
  // Neither header: the request has no body (HTTP/1.1), as fetch sends a DELETE.
  if (length === undefined && req.headers['transfer-encoding'] === undefined) return false;
  if (length === undefined) {
    sendJson(res, 411, { errors: [{ message: 'a request body needs a Content-Length header' }] });
    return true;
  }
  if (Number(length) > maxBytes) {
    sendJson(res, 413, { errors: [{ message: `request body exceeds ${maxBytes} bytes (MAX_BODY_BYTES)` }] });
    req.resume();
    return true;
  }
  return false;
}

export interface RouterOptions {
  /** The event bus whose readiness /readyz also reports (over Redis, a worker that cannot publish is serving, but not ready). */
  events?: Pick<EventBus, 'readiness'>;
  /** The /mcp endpoint. */
  mcp?: Handler;
  /** GET /metrics (it authenticates by itself). */
  metrics?: Handler;
  /** Query permits (the yoga server's own): a query over HTTP waits for one before yoga reads it (query-door.ts). */
  admission?: Admission;
}

export function createRouter(config: Config, db: Database, yoga: GraphQLServer, { events, mcp, metrics, admission }: RouterOptions = {}): Handler {
  return async (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      // Both at once; when both fail, the database's reason is the one given.
      const checks = await Promise.all([db.readiness(), events ? events.readiness() : ({ ready: true } as const)]);
      const failed = checks.find((check) => !check.ready);
      if (!failed) return sendJson(res, 200, { status: 'ready' });
      return sendJson(res, 503, { status: 'not ready', reason: failed.reason });
    }
    if (path === GRAPHQL_PATH) {
      if (bodyTooLarge(req, res, config.MAX_BODY_BYTES)) return;
      if (admission && !(await admitAtTheDoor(req, res, admission, config.MAX_QUERY_TOKENS))) return;
      return yoga(req, res);
    }
    if (path === MCP_PATH && mcp) {
      if (bodyTooLarge(req, res, config.MAX_BODY_BYTES)) return;
      return mcp(req, res);
    }
    if (path === METRICS_PATH && metrics) return metrics(req, res);
    if (path.startsWith(GRAPHIQL_ASSET_PREFIX)) {
      const asset = await graphiqlAsset(path);
      if (asset) {
        res.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'public, max-age=86400' });
        return void res.end(asset.body);
      }
    }
    sendJson(res, 404, { error: 'not found' });
  };
}
