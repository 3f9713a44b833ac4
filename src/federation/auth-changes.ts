// How an update's auth patch meets the stored credentials: left-out secrets
// keep their stored values, but never follow the gateway to another origin.
import { ValidationError } from '../errors.js';
import type { Gateway } from '../generated/prisma/client.js';
import type { PeerAuthType } from '../generated/prisma/enums.js';
import type { SecretBox } from '../security/secret-box.js';
import { authTypeName, openAuth } from './auth-storage.js';
import type { PeerAuth } from './peer-auth.js';

/** An auth patch: secret fields left out keep their stored values when the type is unchanged. */
export type AuthPatch = Partial<PeerAuth> & { type: PeerAuth['type'] };

const SECRET_FIELD: Partial<Record<PeerAuthType, string>> = {
  BASIC: 'password',
  BEARER: 'token',
  HEADERS: 'headers',
  OAUTH2_CLIENT_CREDENTIALS: 'clientSecret',
};

/**
 * Stored secrets only ever go where they were given for: a move of the peer
 * (or of the OAuth token endpoint) to another origin must bring its secrets
 * again, or anyone with `write` could point a gateway at their own server
 * and collect the stored password.
 */
export function requireSecretsOnMove(current: Gateway, url: string, patch: AuthPatch | undefined): void {
  const secretField = SECRET_FIELD[current.authType];
  if (!secretField) return;
  if (patch && patch.type !== authTypeName(current.authType)) return; // a new type brings its own secrets
  const origin = (value: string) => new URL(value).origin;
  const storedTokenUrl = (current.authPublic as { tokenUrl?: string } | null)?.tokenUrl;
  const patchTokenUrl = (patch as { tokenUrl?: string } | undefined)?.tokenUrl;
  const moved =
    origin(url) !== origin(current.url) || (!!storedTokenUrl && !!patchTokenUrl && origin(patchTokenUrl) !== origin(storedTokenUrl));
  const given = (patch as Record<string, unknown> | undefined)?.[secretField];
  if (moved && (given === undefined || given === null)) {
    throw new ValidationError('auth', 'the credentials would be sent to another origin: give them again (stored secrets only go where they were given for)');
  }
}

/** The stored credentials with the patch's given fields on top; a new type replaces them whole. */
export function mergeAuth(current: Gateway, patch: AuthPatch, box: SecretBox): PeerAuth {
  const stored = openAuth(current, box);
  if (stored.type !== patch.type) return patch as PeerAuth;
  const merged: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(patch)) if (value !== undefined && value !== null) merged[key] = value;
  return merged as PeerAuth;
}
