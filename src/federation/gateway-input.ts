// Validation of what an operator asks for, before anything touches a peer.
import { quoted, ValidationError } from '../errors.js';
import type { Transport } from '../generated/prisma/enums.js';
import { checkPeerUrl, type UrlPolicyOptions } from '../security/url-policy.js';
import { slugify } from './naming.js';
import type { PeerAuth } from './peer-auth.js';

export interface GatewayInput {
  name: string;
  url: string;
  transport?: Transport | null;
  description?: string | null;
  tags?: string[] | null;
  auth?: PeerAuth | null;
  /** Its own catalog refresh interval; null: the deployment's. */
  refreshIntervalMs?: number | null;
}

export interface ValidGatewayInput {
  name: string;
  slug: string;
  url: string;
  transport: Transport;
  description: string | null;
  tags: string[];
  auth: PeerAuth;
  refreshIntervalMs: number | null;
}

const MAX_NAME = 100;
const MAX_DESCRIPTION = 2000;
const MAX_TAGS = 20;
const MAX_TAG = 50;
/** A peer resynced more often than every 10 s costs more than it tells; once a week is the least. */
const MIN_REFRESH_MS = 10_000;
const MAX_REFRESH_MS = 7 * 86_400_000;

export function validName(raw: string): { name: string; slug: string } {
  const name = raw.trim();
  if (name.length === 0 || name.length > MAX_NAME) throw new ValidationError('name', `must be 1 to ${MAX_NAME} characters`);
  const slug = slugify(name);
  if (!slug) throw new ValidationError('name', 'must contain at least one letter or digit');
  return { name, slug };
}

export function validTags(tags: string[] | null | undefined): string[] {
  const clean = [...new Set((tags ?? []).map((t) => t.trim()))];
  if (clean.length > MAX_TAGS) throw new ValidationError('tags', `at most ${MAX_TAGS} tags`);
  const bad = clean.findIndex((t) => t.length === 0 || t.length > MAX_TAG);
  if (bad >= 0) throw new ValidationError(`tags[${bad}]`, `a tag must be 1 to ${MAX_TAG} characters`);
  return clean;
}

export function validDescription(description: string | null | undefined): string | null {
  const text = description?.trim() || null;
  if (text && text.length > MAX_DESCRIPTION) throw new ValidationError('description', `at most ${MAX_DESCRIPTION} characters`);
  return text;
}

export function validRefreshInterval(ms: number | null | undefined): number | null {
  if (ms === null || ms === undefined) return null;
  if (!Number.isInteger(ms) || ms < MIN_REFRESH_MS || ms > MAX_REFRESH_MS) {
    throw new ValidationError('refreshIntervalMs', `must be a whole number of milliseconds from ${MIN_REFRESH_MS} to ${MAX_REFRESH_MS}, or null for the default`);
  }
  return ms;
}

export function validAuth(auth: PeerAuth | null | undefined): PeerAuth {
  if (!auth) return { type: 'none' };
  const required = (field: string, value: string | undefined) => {
    if (!value || !value.trim()) throw new ValidationError(`auth.${field}`, 'is required');
  };
  switch (auth.type) {
    case 'basic':
      required('basic.username', auth.username);
      if (auth.username.includes(':')) throw new ValidationError('auth.basic.username', 'must not contain ":"');
      required('basic.password', auth.password);
      break;
    case 'bearer':
      required('bearer.token', auth.token);
      break;
    case 'headers':
      if (auth.headers.length === 0) throw new ValidationError('auth.headers', 'give at least one header');
      auth.headers.forEach((h, i) => {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h.name)) throw new ValidationError(`auth.headers[${i}].name`, 'is not a valid header name');
        if (/[\r\n]/.test(h.value)) throw new ValidationError(`auth.headers[${i}].value`, 'must not contain line breaks');
        // Header names are case-insensitive: a second spelling would silently win.
        if (auth.headers.findIndex((o) => o.name.toLowerCase() === h.name.toLowerCase()) !== i) {
          throw new ValidationError(`auth.headers[${i}].name`, `header ${quoted(h.name)} is given twice`);
        }
      });
      break;
    case 'oauth2ClientCredentials':
      required('oauth2ClientCredentials.clientId', auth.clientId);
      required('oauth2ClientCredentials.clientSecret', auth.clientSecret);
      break;
  }
  return auth;
}

/** The token endpoint is called from here too, so it passes the same URL policy. */
export async function vetAuthUrls(auth: PeerAuth, policy: UrlPolicyOptions): Promise<PeerAuth> {
  if (auth.type !== 'oauth2ClientCredentials') return auth;
  return { ...auth, tokenUrl: await checkPeerUrl(auth.tokenUrl, policy, 'auth.oauth2ClientCredentials.tokenUrl') };
}

export async function validGatewayInput(input: GatewayInput, policy: UrlPolicyOptions): Promise<ValidGatewayInput> {
  return {
    ...validName(input.name),
    url: await checkPeerUrl(input.url, policy),
    transport: input.transport ?? 'AUTO',
    description: validDescription(input.description),
    tags: validTags(input.tags),
    auth: await vetAuthUrls(validAuth(input.auth), policy),
    refreshIntervalMs: validRefreshInterval(input.refreshIntervalMs),
  };
}
