// Query admission at the door: a GraphQL request over HTTP whose operation
// needs a permit (src/graphql/query-admission.ts) waits for it here, before
// yoga has built anything for it, and holds it until its response is done.
//
// Why here: a request that waits about a second for its permit outlives
// several of V8's young-generation collections, so whatever it holds by then is
// promoted; once answered, those promoted objects are garbage that only a full
// collection frees, and until then they keep alive the young objects they point
// to. Waiting inside yoga, at 50 connections on PGlite, a page spent 1.7 times
// as long in the collector (bench/README.md, "Admission at the door"). Waiting
// here, a request is node's parsed headers and the bytes of its body.
//
// To know the operation the body is read here (the router has checked its
// size) and handed to yoga as `req.body`, which yoga's node adapter reads
// instead of the stream. What this cannot read as one operation (another
// content type, a body that is not JSON, a syntax error) goes on to yoga as it
// came: yoga answers the error, and its plugin admits whatever it executes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse, type DocumentNode } from 'graphql';
import { markSeenAtTheDoor, needsPermit, type Admission } from '../graphql/query-admission.js';

interface OperationText {
  query: string;
  operationName?: string | null;
}

/**
 * Reads the request's operation and, if it needs a permit, waits for one.
 * Resolves true when yoga should handle the request now, false when the client
 * left first (nothing is left to answer).
 */
export async function admitAtTheDoor(req: IncomingMessage, res: ServerResponse, admission: Admission, maxTokens: number): Promise<boolean> {
  const text = req.method === 'GET' ? fromQueryString(req.url ?? '') : isJsonPost(req) ? await fromJsonBody(req) : undefined;
  if (text === null) return false;
  const document = text && parseQuietly(text.query, maxTokens);
  if (!document) return true;
  markSeenAtTheDoor(req);
  if (!needsPermit(document, text.operationName)) return true;
  if (!admission.tryAcquire()) {
    // Waits until a permit passes to it, or until the client goes away.
    const left = new AbortController();
    const leave = () => left.abort();
    res.once('close', leave);
    try {
      await admission.acquire(left.signal);
    } catch {
      return false;
    } finally {
      res.off('close', leave);
    }
  }
  // A client that left in the same turn as its permit came: its 'close' has
  // passed, and would never return the permit.
  if (res.closed) {
    admission.release();
    return false;
  }
  // 'close' follows the end of every response, finished or cut off.
  res.once('close', () => admission.release());
  return true;
}

/** The content types yoga reads as a JSON body (its post-json parser). */
function isJsonPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const type = req.headers['content-type']?.split(',', 1)[0];
  return type !== undefined && /^application\/(graphql\+)?json(;|$)/.test(type);
}

function fromQueryString(url: string): OperationText | undefined {
  const at = url.indexOf('?');
  if (at < 0) return undefined;
  const params = new URLSearchParams(url.slice(at + 1));
  const query = params.get('query');
  return query === null ? undefined : { query, operationName: params.get('operationName') };
}

/** The body's operation, undefined if it holds none that this can read, null if the client left mid-body. */
async function fromJsonBody(req: IncomingMessage): Promise<OperationText | null | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return null;
  }
  if (!req.complete) return null;
  const body = Buffer.concat(chunks);
  (req as IncomingMessage & { body?: Buffer }).body = body;
  let params: unknown;
  try {
    params = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof params !== 'object' || params === null) return undefined;
  const { query, operationName } = params as { query?: unknown; operationName?: unknown };
  if (typeof query !== 'string') return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  return { query, operationName };
}

/** Parsed with the token limit that yoga's own parse enforces (MAX_QUERY_TOKENS); undefined if it fails. */
function parseQuietly(query: string, maxTokens: number): DocumentNode | undefined {
  try {
    return parse(query, { noLocation: true, maxTokens });
  } catch {
    return undefined;
  }
}
