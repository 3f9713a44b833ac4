// GET /metrics: the app's Prometheus text, never open. It takes an API token
// with the read scope (the admin token too), or METRICS_TOKEN, a secret
// accepted here and nowhere else, for a scraper that should be able to do
// nothing but scrape.
import type { ServerResponse } from 'node:http';
import type { Handler } from '../http/request-tracker.js';
import type { Logger } from '../logger.js';
import { equalInConstantTime, type ApiTokenService } from '../security/api-tokens.js';
import { hasScope } from '../security/scopes.js';
import type { Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

function refuse(res: ServerResponse, status: 401 | 403 | 405, challenge: string, message: string): void {
  const body = JSON.stringify({ error: message });
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };
  if (status === 405) headers.allow = 'GET, HEAD';
  else headers['www-authenticate'] = challenge;
  res.writeHead(status, headers);
  res.end(body);
}

export function metricsHandler(metrics: Metrics, tokens: Pick<ApiTokenService, 'authenticate'>, metricsToken: string | undefined, logger?: Logger): Handler {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, '', 'use GET');
    const header = req.headers.authorization;
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (!token) return refuse(res, 401, 'Bearer', 'missing bearer token');
    if (!(metricsToken && equalInConstantTime(token, metricsToken))) {
      const principal = await tokens.authenticate(header);
      if (!principal) return refuse(res, 401, 'Bearer error="invalid_token"', 'invalid bearer token');
      if (!hasScope(principal, 'read')) return refuse(res, 403, 'Bearer error="insufficient_scope", scope="read"', 'the token needs the read scope');
    }
    let text: string;
    try {
      text = await metrics.scrape();
    } catch (error) {
      logger?.error({ err: error }, 'metrics: scrape failed');
      res.writeHead(500);
      return void res.end();
    }
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}
