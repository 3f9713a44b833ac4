// Peer credentials in and out of the API. In: a @oneOf input. Out: only the
// type and the parts that are not secret.
import type { PeerAuthType } from '../../generated/prisma/enums.js';
import type { PeerAuth } from '../../federation/peer-auth.js';
import { builder } from '../builder.js';

const BasicAuthInput = builder.inputType('BasicAuthInput', {
  fields: (t) => ({ username: t.string({ required: true }), password: t.string({ required: false, description: 'Required at registration; left out on update, the stored one is kept.' }) }),
});
const BearerAuthInput = builder.inputType('BearerAuthInput', {
  fields: (t) => ({ token: t.string({ required: false, description: 'Required at registration; left out on update, the stored one is kept.' }) }),
});
const HeaderInput = builder.inputType('HeaderInput', {
  fields: (t) => ({ name: t.string({ required: true }), value: t.string({ required: true }) }),
});
const OAuth2ClientCredentialsInput = builder.inputType('OAuth2ClientCredentialsInput', {
  fields: (t) => ({
    tokenUrl: t.string({ required: true }),
    clientId: t.string({ required: true }),
    clientSecret: t.string({ required: false, description: 'Required at registration; left out on update, the stored one is kept.' }),
    scopes: t.stringList({ required: false }),
    audience: t.string({ required: false }),
  }),
});

export const PeerAuthInput = builder.inputType('PeerAuthInput', {
  isOneOf: true,
  description: 'How this gateway authenticates to the peer: exactly one of these.',
  fields: (t) => ({
    none: t.boolean({ required: false }),
    basic: t.field({ type: BasicAuthInput, required: false }),
    bearer: t.field({ type: BearerAuthInput, required: false }),
    headers: t.field({ type: [HeaderInput], required: false }),
    oauth2ClientCredentials: t.field({ type: OAuth2ClientCredentialsInput, required: false }),
  }),
});

/** The oneOf input as a (possibly partial, on update) PeerAuth. */
export function peerAuthFromInput(input: typeof PeerAuthInput.$inferInput | null | undefined): (Partial<PeerAuth> & { type: PeerAuth['type'] }) | null {
  if (!input) return null;
  if (input.basic) return { type: 'basic', username: input.basic.username, password: input.basic.password ?? undefined } as PeerAuth;
  if (input.bearer) return { type: 'bearer', token: input.bearer.token ?? undefined } as PeerAuth;
  if (input.headers) return { type: 'headers', headers: input.headers };
  if (input.oauth2ClientCredentials) {
    const o = input.oauth2ClientCredentials;
    return {
      type: 'oauth2ClientCredentials',
      tokenUrl: o.tokenUrl,
      clientId: o.clientId,
      clientSecret: o.clientSecret ?? undefined,
      scopes: o.scopes ?? undefined,
      audience: o.audience ?? undefined,
    } as PeerAuth;
  }
  return { type: 'none' };
}

const PeerAuthTypeEnum = builder.enumType('PeerAuthType', {
  values: ['NONE', 'BASIC', 'BEARER', 'HEADERS', 'OAUTH2_CLIENT_CREDENTIALS'] as const,
});

interface PeerAuthInfo {
  type: PeerAuthType;
  visible: Record<string, unknown>;
}

export const PeerAuthInfoRef = builder.objectRef<PeerAuthInfo>('PeerAuthInfo').implement({
  description: 'The non-secret parts of the credentials; secrets are never shown.',
  fields: (t) => ({
    type: t.field({ type: PeerAuthTypeEnum, resolve: (a) => a.type }),
    username: t.string({ nullable: true, resolve: (a) => (a.visible.username as string) ?? null }),
    headerNames: t.stringList({ nullable: true, resolve: (a) => (a.visible.headerNames as string[]) ?? null }),
    tokenUrl: t.string({ nullable: true, resolve: (a) => (a.visible.tokenUrl as string) ?? null }),
    clientId: t.string({ nullable: true, resolve: (a) => (a.visible.clientId as string) ?? null }),
    scopes: t.stringList({ nullable: true, resolve: (a) => (a.visible.scopes as string[]) ?? null }),
    audience: t.string({ nullable: true, resolve: (a) => (a.visible.audience as string) ?? null }),
  }),
});

export function peerAuthInfo(gateway: { authType: PeerAuthType; authPublic: unknown }): PeerAuthInfo {
  return { type: gateway.authType, visible: (gateway.authPublic ?? {}) as Record<string, unknown> };
}
