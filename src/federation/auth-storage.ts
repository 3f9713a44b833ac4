// A peer's credentials are stored in two parts: what may be shown (type, user
// name, header names, token URL, client id, scopes) in the clear, and the
// secrets sealed with the SecretBox. Only the federation service joins them.
import type { PeerAuthType } from '../generated/prisma/enums.js';
import type { SecretBox } from '../security/secret-box.js';
import { normalizePeerUrl } from '../security/url-policy.js';
import { canonicalAuth, type PeerAuth } from './peer-auth.js';

export interface StoredAuth {
  authType: PeerAuthType;
  authPublic: Record<string, unknown> | null;
  authSecret: string | null;
}

const TYPE_OF: Record<PeerAuth['type'], PeerAuthType> = {
  none: 'NONE',
  basic: 'BASIC',
  bearer: 'BEARER',
  headers: 'HEADERS',
  oauth2ClientCredentials: 'OAUTH2_CLIENT_CREDENTIALS',
};

/** The input type name of a stored auth type (`BASIC` is `basic`). */
export function authTypeName(type: PeerAuthType): PeerAuth['type'] {
  return (Object.keys(TYPE_OF) as PeerAuth['type'][]).find((name) => TYPE_OF[name] === type)!;
}

function split(auth: PeerAuth): { visible: Record<string, unknown> | null; secret: Record<string, unknown> | null } {
  switch (auth.type) {
    case 'none':
      // {} rather than null: written over whatever the previous type showed (Prisma leaves an undefined Json alone).
      return { visible: {}, secret: null };
    case 'basic':
      return { visible: { username: auth.username }, secret: { password: auth.password } };
    case 'bearer':
      return { visible: {}, secret: { token: auth.token } };
    case 'headers':
      return { visible: { headerNames: auth.headers.map((h) => h.name) }, secret: { values: auth.headers.map((h) => h.value) } };
    case 'oauth2ClientCredentials':
      return {
        visible: { tokenUrl: auth.tokenUrl, clientId: auth.clientId, scopes: auth.scopes ?? [], audience: auth.audience ?? null },
        secret: { clientSecret: auth.clientSecret },
      };
  }
}

export function sealAuth(auth: PeerAuth, box: SecretBox): StoredAuth {
  const { visible, secret } = split(auth);
  return { authType: TYPE_OF[auth.type], authPublic: visible, authSecret: secret ? box.seal(JSON.stringify(secret)) : null };
}

export function openAuth(stored: { authType: PeerAuthType; authPublic: unknown; authSecret: string | null }, box: SecretBox): PeerAuth {
  const visible = (stored.authPublic ?? {}) as Record<string, any>;
  const secret = (stored.authSecret ? JSON.parse(box.open(stored.authSecret)) : {}) as Record<string, any>;
  switch (stored.authType) {
    case 'NONE':
      return { type: 'none' };
    case 'BASIC':
      return { type: 'basic', username: visible.username, password: secret.password };
    case 'BEARER':
      return { type: 'bearer', token: secret.token };
    case 'HEADERS':
      return {
        type: 'headers',
        headers: (visible.headerNames as string[]).map((name, i) => ({ name, value: (secret.values as string[])[i]! })),
      };
    case 'OAUTH2_CLIENT_CREDENTIALS':
      return {
        type: 'oauth2ClientCredentials',
        tokenUrl: visible.tokenUrl,
        clientId: visible.clientId,
        clientSecret: secret.clientSecret,
        scopes: visible.scopes,
        ...(visible.audience ? { audience: visible.audience } : {}),
      };
  }
}

/** A URL in its one spelling (normalizePeerUrl); one that does not parse stays as it is. */
function spelling(url: string): string {
  try {
    return normalizePeerUrl(url);
  } catch {
    return url;
  }
}

/**
 * Same URL and same credentials give the same fingerprint, however they were
 * spelt or read back (keyed, so not reversible): the peer URL and the token URL
 * are normalised here whatever the caller did.
 */
export function authFingerprint(url: string, auth: PeerAuth, box: SecretBox): string {
  const credentials = auth.type === 'oauth2ClientCredentials' ? { ...auth, tokenUrl: spelling(auth.tokenUrl) } : auth;
  return box.fingerprint(JSON.stringify([spelling(url), canonicalAuth(credentials)]));
}
