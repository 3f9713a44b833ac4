// One error type for everything that can go wrong talking to a peer, so the
// registry can answer with a typed `PeerConnectionError { reason }` and the
// retry loop can tell a failure that may pass from one that will not.
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

/** BLOCKED: the address is one the URL policy refuses (never retried; the peer was not contacted). */
export type PeerFailureReason = 'DNS' | 'REFUSED' | 'TIMEOUT' | 'TLS' | 'HTTP_STATUS' | 'AUTH_REJECTED' | 'PROTOCOL' | 'BLOCKED';

export interface PeerErrorDetails {
  status?: number;
  retryable?: boolean;
  /** The peer asked us to wait this long (Retry-After) before trying again. */
  retryAfterMs?: number;
}

export class PeerConnectionError extends Error {
  override name = 'PeerConnectionError';
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(
    readonly reason: PeerFailureReason,
    message: string,
    details: PeerErrorDetails = {},
  ) {
    // Userinfo is the one secret a URL can carry; undici and the SDK put URLs in their texts.
    super(message.replace(/\/\/[^/\s@]*@/g, '//'));
    this.status = details.status;
    this.retryable = details.retryable ?? (reason === 'REFUSED' || reason === 'TIMEOUT');
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** Statuses that say "not now" rather than "not this request". */
const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504]);

export function httpStatusError(status: number, retryAfterMs?: number, what = 'peer'): PeerConnectionError {
  if (status === 401 || status === 403) {
    return new PeerConnectionError('AUTH_REJECTED', `${what} rejected the credentials (HTTP ${status})`, { status });
  }
  // A 2xx that still failed, or the SDK's -1, means the body was not what MCP promises.
  if (status < 300) return new PeerConnectionError('PROTOCOL', `${what} answered HTTP ${status} with an unexpected body`, { status });
  const retryable = RETRYABLE_STATUS.has(status);
  return new PeerConnectionError('HTTP_STATUS', `${what} answered HTTP ${status}`, {
    status,
    retryable,
    ...(retryable && retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Forms shorter than this are not redacted: they would garble messages (a
 * three-letter password matches ordinary words) and hide next to nothing.
 */
const MIN_SECRET_LENGTH = 4;
const REDACTED = '[redacted]';

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const formEncode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');
const formDecode = (text: string) => {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
};

/** `user:pass` if the text is the base64 of one (a Basic credential, with or without its scheme). */
function decodedBasic(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  // Printable text with a colon; anything else was not a credential.
  return decoded.includes(':') && !/[\u0000-\u001f\u007f\ufffd]/.test(decoded) ? decoded : undefined;
}

/**
 * Every spelling in which a secret we hold or sent could come back in a peer's
 * text: the value as sent (`Bearer x`, `Basic dTpw`), its credentials without
 * the scheme, a Basic credential decoded (`user:pass`) and its password alone
 * (form-decoded too, as OAuth client authentication encodes it), and each of
 * those base64 (standard and URL-safe), URL- and form-encoded and JSON-escaped.
 * The user name alone is not a secret (Gateway.auth shows it).
 */
export function secretForms(values: Iterable<string>): string[] {
  const plain = new Set<string>();
  for (const value of values) {
    plain.add(value);
    const credentials = /^[A-Za-z][\w.+-]*\s+(\S.*)$/.exec(value.trim())?.[1];
    if (credentials) plain.add(credentials);
    for (const candidate of [value.trim(), credentials]) {
      const decoded = candidate === undefined ? undefined : decodedBasic(candidate);
      if (!decoded) continue;
      const password = decoded.slice(decoded.indexOf(':') + 1);
      for (const form of [decoded, password, formDecode(decoded), formDecode(password)]) plain.add(form);
    }
  }
  const forms = new Set<string>();
  for (const text of plain) {
    for (const form of [text, base64(text), base64url(text), encodeURIComponent(text), formEncode(text), JSON.stringify(text).slice(1, -1)]) {
      if (form.length >= MIN_SECRET_LENGTH) forms.add(form);
    }
  }
  return [...forms];
}

/**
 * A function that replaces every form of the given secret values (secretForms)
 * in a text, ignoring case (a peer may echo a header in another case). Longest
 * forms first, so a whole header goes before its parts.
 */
export function secretScrubber(secrets: Iterable<string>): (text: string) => string {
  const forms = secretForms(secrets).sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (text) => text;
  const pattern = new RegExp(forms.map((form) => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');
  return (text) => text.replace(pattern, REDACTED);
}

/** Secret values, or a scrubber already made of them (secretScrubber). */
export type Secrets = Iterable<string> | ((text: string) => string);
const scrubberOf = (secrets: Secrets) => (typeof secrets === 'function' ? secrets : secretScrubber(secrets));

/** The error with every form of the given secret values replaced in its message (a peer may echo our headers). */
export function withoutSecrets(error: PeerConnectionError, secrets: Secrets): PeerConnectionError {
  const scrub = scrubberOf(secrets);
  const message = scrub(error.message);
  if (message === error.message) return error;
  return new PeerConnectionError(error.reason, message, error);
}

/** Peer text cut for a message: secrets go first, so the cut cannot leave part of one. */
const clip = (text: string, scrub: (text: string) => string, length = 200) => scrub(text).slice(0, length);

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|EPROTO$)/;

function fromCode(code: string): PeerConnectionError | undefined {
  // EAI_AGAIN is the resolver's own "temporary failure, try again".
  if (DNS_CODES.has(code)) return new PeerConnectionError('DNS', `peer host name did not resolve (${code})`, { retryable: code === 'EAI_AGAIN' });
  if (REFUSED_CODES.has(code)) return new PeerConnectionError('REFUSED', `connection to the peer failed (${code})`);
  if (TIMEOUT_CODES.has(code)) return new PeerConnectionError('TIMEOUT', `peer did not answer in time (${code})`);
  if (TLS_CODE.test(code)) return new PeerConnectionError('TLS', `TLS with the peer failed (${code})`);
  return undefined;
}

/** The error, its causes and the members of aggregate errors, outermost first. */
function* chain(error: unknown, depth = 0): Generator<unknown> {
  if (error === undefined || error === null || depth > 8) return;
  yield error;
  if (typeof error !== 'object') return;
  const { errors, cause } = error as { errors?: unknown; cause?: unknown };
  if (Array.isArray(errors)) for (const member of errors) yield* chain(member, depth + 1);
  yield* chain(cause, depth + 1);
}

const isZodError = (e: object) => /ZodError$/.test((e as Error).name) && Array.isArray((e as { issues?: unknown }).issues);

function fromLink(link: unknown, scrub: (text: string) => string): PeerConnectionError | undefined {
  if (link instanceof PeerConnectionError) return link;
  if (typeof link !== 'object' || link === null) return undefined;
  if ((link instanceof StreamableHTTPError || link instanceof SseError) && typeof link.code === 'number') {
    return httpStatusError(link.code);
  }
  // No status: the event stream itself failed or ended.
  if (link instanceof SseError) return fromText(link.message) ?? new PeerConnectionError('REFUSED', 'event stream from the peer broke');
  if (link instanceof UnauthorizedError) return new PeerConnectionError('AUTH_REJECTED', 'peer demands authorization');
  if (link instanceof McpError) {
    if (link.code === ErrorCode.RequestTimeout) return new PeerConnectionError('TIMEOUT', 'peer did not answer in time');
    if (link.code === ErrorCode.ConnectionClosed) return new PeerConnectionError('REFUSED', 'connection to the peer closed');
    return new PeerConnectionError('PROTOCOL', `peer answered with an error: ${clip(link.message, scrub)}`);
  }
  const code = (link as { code?: unknown }).code;
  const byCode = typeof code === 'string' ? fromCode(code) : undefined;
  if (byCode) return byCode;
  const name = (link as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') return new PeerConnectionError('TIMEOUT', 'peer did not answer in time');
  if (isZodError(link)) {
    const issue = (link as { issues: { path?: unknown[]; message?: string }[] }).issues[0];
    const where = issue?.path?.length ? issue.path.join('.') : 'answer';
    return new PeerConnectionError('PROTOCOL', `peer answer does not match the MCP schema at ${where}: ${issue?.message ?? 'invalid'}`);
  }
  if (link instanceof SyntaxError) return new PeerConnectionError('PROTOCOL', 'peer answered with invalid JSON');
  // The SSE transport reports a failed POST as a plain Error with the status in its text.
  const status = /POSTing to endpoint \(HTTP (\d{3})\)/.exec((link as Error).message ?? '');
  if (status) return httpStatusError(Number(status[1]));
  return undefined;
}

/** Last resort for errors flattened to text (the SSE client's EventSource does that to fetch failures). */
function fromText(text: string): PeerConnectionError | undefined {
  for (const [token] of text.matchAll(/\b[A-Z][A-Z0-9_]{3,}\b/g)) {
    const found = fromCode(token);
    if (found) return found;
  }
  if (/(Connect|Headers|Body) Timeout Error/.test(text)) return new PeerConnectionError('TIMEOUT', 'peer did not answer in time');
  if (/other side closed|socket hang up|terminated/i.test(text)) return new PeerConnectionError('REFUSED', 'connection to the peer closed');
  return undefined;
}

/**
 * Maps any failure of a peer exchange (undici, Node, MCP SDK, zod) to a
 * PeerConnectionError. Texts that come from the peer are repeated only with
 * every form of `secrets` (the credentials it was sent) redacted.
 */
export function classifyError(error: unknown, secrets: Secrets = []): PeerConnectionError {
  const scrub = scrubberOf(secrets);
  const links = [...chain(error)];
  for (const link of links) {
    const found = fromLink(link, scrub);
    if (found) return withoutSecrets(found, scrub);
  }
  for (const link of links) {
    const found = fromText(link instanceof Error ? link.message : String(link));
    if (found) return withoutSecrets(found, scrub);
  }
  // What is left (unsupported protocol version, foreign endpoint origin, ...) is the peer not speaking MCP as we do.
  const text = error instanceof Error ? error.message : String(error);
  return withoutSecrets(new PeerConnectionError('PROTOCOL', `peer exchange failed: ${clip(text, scrub)}`), scrub);
}
