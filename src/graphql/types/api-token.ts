import { NotFoundError, ValidationError } from '../../errors.js';
import { builder } from '../builder.js';
import { withId } from '../global-id.js';
import { ApiScopeEnum } from './enums.js';

const ApiToken = builder.prismaNode('ApiToken', {
  id: { field: 'id' },
  nullable: true,
  // node(id:) must not show tokens to a caller who could not list them.
  authScopes: { admin: true },
  description: 'A credential for this API. Its secret is shown once, at creation.',
  fields: (t) => ({
    name: t.exposeString('name'),
    scopes: t.expose('scopes', { type: [ApiScopeEnum] }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreateApiTokenSuccess = builder.objectRef<{ tokenId: string; secret: string }>('CreateApiTokenSuccess').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The bearer token. Store it now: it cannot be read again.' }),
    token: t.prismaField({
      type: ApiToken,
      resolve: (query, success, _args, ctx) => ctx.prisma.apiToken.findUniqueOrThrow({ ...query, where: { id: success.tokenId } }),
    }),
  }),
});

const RevokeApiTokenSuccess = builder.objectRef<{ tokenId: string }>('RevokeApiTokenSuccess').implement({
  fields: (t) => ({ tokenId: t.globalID({ resolve: (p) => ({ type: 'ApiToken', id: p.tokenId }) }) }),
});

builder.queryField('apiTokens', (t) =>
  t.prismaField({
    type: [ApiToken],
    authScopes: { admin: true },
    description: 'Every API token, newest first; secrets are never shown.',
    resolve: (query, _root, _args, ctx) => ctx.prisma.apiToken.findMany({ ...query, orderBy: { createdAt: 'desc' } }),
  }),
);

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreateApiTokenSuccess,
    authScopes: { admin: true },
    errors: { types: [ValidationError], directResult: true, union: { name: 'CreateApiTokenResult' } },
    args: {
      name: t.arg.string({ required: true }),
      scopes: t.arg({ type: [ApiScopeEnum], required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const issued = await ctx.tokens.create(args.name, args.scopes);
      return { tokenId: issued.id, secret: issued.secret };
    },
  }),
  revokeApiToken: t.field({
    type: RevokeApiTokenSuccess,
    authScopes: { admin: true },
    errors: { types: [NotFoundError], directResult: true, union: { name: 'RevokeApiTokenResult' } },
    args: { id: t.arg.id({ required: true, description: 'The global id of ApiToken.id.' }) },
    resolve: (_root, args, ctx) =>
      withId(args.id, 'ApiToken', 'live API token', async (id) => {
        if (!(await ctx.tokens.revoke(id))) throw new NotFoundError('live API token', id);
        return { tokenId: id };
      }),
  }),
}));
