// The schema index: imports every type file, nothing else.
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './types/scalars.js';
import './types/enums.js';
import './types/errors.js';
import './types/gateway.js';
import './types/catalog-filter.js';
import './types/catalog-entry.js';
import './types/tool.js';
import './types/resource.js';
import './types/resource-template.js';
import './types/prompt.js';
import './types/api-token.js';
import './types/events.js';
import './types/viewer.js';
import './types/peer-auth.js';
import './types/gateway-mutations.js';
import './types/federation.js';
import './types/health.js';
import './types/calls.js';

builder.queryType({ authScopes: { read: true } });
builder.mutationType({});
builder.subscriptionType({});

export const schema = lexicographicSortSchema(builder.toSchema());
