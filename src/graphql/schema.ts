// The schema index: imports every type file, nothing else.
import { GraphQLObjectType, lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import { encodeGlobalId } from './global-id.js';
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

/** The nodes whose global id is their model's `id` column (`id: { field: 'id' }`). */
const MODEL_NODES = ['Gateway', 'Tool', 'Resource', 'ResourceTemplate', 'Prompt', 'ApiToken'];

/**
 * Pothos' relay plugin resolves each node's `id` through an async wrapper: one
 * promise per node, which takes graphql-js off its synchronous path for every
 * object of a page. On a dashboard page of 50 gateways with 20 tools each that
 * was a third of the request's CPU. These ids are the model's own column, so
 * they are encoded synchronously instead, into the same global id.
 */
function withSynchronousNodeIds(schema: GraphQLSchema): GraphQLSchema {
  for (const name of MODEL_NODES) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`${name} is not an object type of the schema`);
    type.getFields().id!.resolve = (parent: { id: string }) => encodeGlobalId(name, parent.id);
  }
  return schema;
}

export const schema = withSynchronousNodeIds(lexicographicSortSchema(builder.toSchema()));
