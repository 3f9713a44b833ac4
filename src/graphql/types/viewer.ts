import type { Principal } from '../../security/scopes.js';
import { builder } from '../builder.js';
import { ApiScopeEnum } from './enums.js';

const Viewer = builder.objectRef<Principal>('Viewer').implement({
  description: 'The caller, as this API authenticated it.',
  fields: (t) => ({
    name: t.exposeString('name'),
    scopes: t.field({ type: [ApiScopeEnum], resolve: (principal) => [...principal.scopes] }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    resolve: (_root, _args, ctx) => ctx.principal,
  }),
);
