// How this gateway proves itself to a peer. A provider lives as long as the
// gateway's configuration does, so an OAuth token is shared by every sync and
// health check instead of being fetched per connection.
import { z } from 'zod';
import type { FetchLike } from './http-agent.js';
import { classifyError, httpStatusError, parseRetryAfter, PeerConnectionError } from './peer-errors.js';

export type PeerAuth =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | { type: 'headers'; headers: { name: string; value: string }[] }
  | {
      type: 'oauth2ClientCredentials';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scopes?: string[];
      audience?: string;
    };

/**
 * One spelling of a set of credentials: two inputs that authenticate the same
 * way give the same string (header names are case-insensitive and unordered,
 * scopes are a set, an absent audience or scope list is an empty one). It holds
 * the secrets: keep it in memory or digest it with a key, never store or log it.
 */
export function canonicalAuth(auth: PeerAuth): string {
  const byText = (a: string[], b: string[]) => (a.join('\n') < b.join('\n') ? -1 : a.join('\n') > b.join('\n') ? 1 : 0);
  switch (auth.type) {
    case 'none':
      return JSON.stringify(['none']);
    case 'basic':
      return JSON.stringify(['basic', auth.username, auth.password]);
    case 'bearer':
      return JSON.stringify(['bearer', auth.token]);
    case 'headers':
      return JSON.stringify(['headers', ...auth.headers.map((h) => [h.name.toLowerCase(), h.value]).sort(byText)]);
    case 'oauth2ClientCredentials':
      return JSON.stringify([
        'oauth2ClientCredentials',
        auth.tokenUrl,
        auth.clientId,
        auth.clientSecret,
        [...new Set(auth.scopes ?? [])].sort(),
        auth.audience || null,
      ]);
  }
}

export interface AuthHeaders {
  /** Headers to add to every request to the peer. */
  headers(): Promise<Record<string, string>>;
  /**
   * The peer answered 401 to a request sent with `rejected`: true when other
   * credentials are now available and the request is worth one more try.
   */
  onUnauthorized(rejected?: Record<string, string>): Promise<boolean>;
  /**
   * The secret values these credentials hold (password, token, header values,
   * client secret), whether or not a request has carried them yet: a peer that
   * echoes one back must not get it into a message. Header values actually sent
   * are reported by authenticatedFetch as well.
   */
  secrets?(): string[];
}

export interface AuthOptions {
  /** The shared undici fetch (token endpoint calls go through the same agent). */
  fetch: FetchLike;
  /** Bound on one token endpoint call. */
  timeoutMs?: number;
  /** Clock, for tests of expiry. */
  now?: () => number;
}

/** `also`: secrets the headers carry encoded (a Basic password) or behind a scheme. */
const fixed = (headers: Record<string, string>, also: string[] = []): AuthHeaders => ({
  headers: async () => headers,
  onUnauthorized: async () => false,
  secrets: () => [...Object.values(headers), ...also],
});

export function createAuthHeaders(auth: PeerAuth, options: AuthOptions): AuthHeaders {
  switch (auth.type) {
    case 'none':
      return fixed({});
    case 'basic':
      return fixed({ authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` }, [auth.password]);
    case 'bearer':
      return fixed({ authorization: `Bearer ${auth.token}` }, [auth.token]);
    case 'headers':
      return fixed(Object.fromEntries(auth.headers.map((h) => [h.name, h.value])));
    case 'oauth2ClientCredentials':
      return new ClientCredentials(auth, options);
  }
}

const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive().optional(),
});

type OAuthConfig = Extract<PeerAuth, { type: 'oauth2ClientCredentials' }>;

/** RFC 6749 §4.4, client authenticated with HTTP Basic (§2.3.1). */
class ClientCredentials implements AuthHeaders {
  private token?: { value: string; refreshAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly config: OAuthConfig,
    private readonly options: AuthOptions,
  ) {}

  async headers(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.accessToken()}` };
  }

  secrets(): string[] {
    // The client secret goes to the token endpoint only, but a peer may be (or see) that endpoint.
    const { clientId, clientSecret } = this.config;
    const held = [clientSecret, `Basic ${clientBasic(clientId, clientSecret)}`];
    return this.token ? [...held, `Bearer ${this.token.value}`] : held;
  }

  async onUnauthorized(rejected?: Record<string, string>): Promise<boolean> {
    // Another request already replaced the rejected token: just use the new one.
    if (rejected && this.token && rejected.authorization !== `Bearer ${this.token.value}`) return true;
    // The peer may have revoked the token before its expiry: one fresh fetch, no more.
    this.token = undefined;
    await this.accessToken();
    return true;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private accessToken(): Promise<string> {
    if (this.token && this.now() < this.token.refreshAt) return Promise.resolve(this.token.value);
    // Concurrent requests share one token request.
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const { tokenUrl, clientId, clientSecret, scopes, audience } = this.config;
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scopes?.length) body.set('scope', scopes.join(' '));
    if (audience) body.set('audience', audience);
    const basic = clientBasic(clientId, clientSecret);
    const requestedAt = this.now();
    let response: Response;
    try {
      response = await this.options.fetch(tokenUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: body.toString(),
        // Client credentials go to the configured endpoint only, never where it redirects.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw relabel(classifyError(error));
    }
    const { status } = response;
    if (!response.ok) {
      // A 4xx other than "slow down" (400 invalid_client, invalid_scope, 401, ...) means these credentials will not do.
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        const code = await oauthErrorCode(response);
        throw new PeerConnectionError('AUTH_REJECTED', `token endpoint rejected the client credentials (HTTP ${status}${code ? ` ${code}` : ''})`, {
          status,
        });
      }
      await response.body?.cancel();
      throw httpStatusError(status, parseRetryAfter(response.headers.get('retry-after')), 'token endpoint');
    }
    const parsed = TokenResponse.safeParse(await jsonWithin(response, TOKEN_RESPONSE_MAX_BYTES));
    if (!parsed.success) throw new PeerConnectionError('PROTOCOL', 'token endpoint answered without a usable access_token');
    const { access_token, expires_in } = parsed.data;
    // Refresh before expiry: 30 s early, or 10% early for short-lived tokens.
    const lifetimeMs = expires_in === undefined ? Number.POSITIVE_INFINITY : expires_in * 1000;
    this.token = { value: access_token, refreshAt: requestedAt + lifetimeMs - Math.min(30_000, lifetimeMs / 10) };
    return access_token;
  }
}

/** The RFC 6749 §5.2 `error` code, if it looks like one (free text from the server is not repeated). */
async function oauthErrorCode(response: Response): Promise<string | undefined> {
  const body = (await jsonWithin(response, TOKEN_RESPONSE_MAX_BYTES).catch(() => undefined)) as { error?: unknown } | undefined;
  return typeof body?.error === 'string' && /^[\w.-]{1,64}$/.test(body.error) ? body.error : undefined;
}

const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

/** A token answer is a few hundred bytes; one that goes on is not read into memory. */
const TOKEN_RESPONSE_MAX_BYTES = 64 * 1024;

/** The body as JSON (undefined when it is not JSON), read no further than `maxBytes`. */
async function jsonWithin(response: Response, maxBytes: number): Promise<unknown> {
  if (!response.body) return undefined;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new PeerConnectionError('PROTOCOL', `token endpoint answered with more than ${maxBytes} bytes`, { retryable: false });
    }
    chunks.push(value);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
/** §2.3.1: each part is form-urlencoded before the Basic encoding. */
const clientBasic = (clientId: string, clientSecret: string) => Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64');

const relabel = (error: PeerConnectionError) =>
  new PeerConnectionError(error.reason, error.message.replace(/\bpeer\b/, 'token endpoint'), error);

// Set by the MCP transports; a configured header must not break the protocol.
const TRANSPORT_HEADERS = new Set(['accept', 'content-type', 'content-length', 'host', 'last-event-id', 'mcp-session-id', 'mcp-protocol-version']);

/**
 * Wraps fetch so every request carries the auth headers, and a 401 gets one
 * more try when the provider could renew its credentials. The SDK always sends
 * string bodies, so the request can be replayed as is.
 */
export function authenticatedFetch(fetch: FetchLike, auth: AuthHeaders, onSent?: (values: string[]) => void): FetchLike {
  const send = async (url: string | URL, init: RequestInit | undefined, extra: Record<string, string>) => {
    onSent?.(Object.values(extra));
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extra)) {
      if (!TRANSPORT_HEADERS.has(name.toLowerCase())) headers.set(name, value);
    }
    return fetch(url, { ...init, headers: Object.fromEntries(headers) });
  };
  return async (url, init) => {
    const used = await auth.headers();
    const response = await send(url, init, used);
    if (response.status !== 401 || !(await auth.onUnauthorized(used))) return response;
    await response.body?.cancel();
    return send(url, init, await auth.headers());
  };
}
