// GraphiQL asks for the schema as soon as its page opens, before anyone has
// pasted a token into its headers, and would not ask again by itself. Where
// GraphiQL is served, an operation that reads nothing but the schema
// (__schema, __type, __typename) is therefore answered without a token: the
// schema is public (schema.graphql is committed), the data behind it is not.
import { Kind, parse, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Principal } from '../security/scopes.js';

/** Who asks for the schema without a token: no scope, so any other field is refused. */
export const SCHEMA_READER: Principal = { tokenId: null, name: 'anonymous schema reader', scopes: new Set() };

const META_FIELDS = new Set(['__schema', '__type', '__typename']);

export function isSchemaOnly(query: unknown, operationName?: string | null): boolean {
  if (typeof query !== 'string') return false;
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true, maxTokens: 2_000 });
  } catch {
    return false;
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation || operation.operation !== 'query') return false;
  return onlyMeta(operation.selectionSet, document);
}

/** Top-level selections, through fragments, are all meta fields. */
function onlyMeta(selectionSet: SelectionSetNode, document: DocumentNode, depth = 0): boolean {
  if (depth > 10) return false;
  return selectionSet.selections.every((selection) => {
    if (selection.kind === Kind.FIELD) return META_FIELDS.has(selection.name.value);
    if (selection.kind === Kind.INLINE_FRAGMENT) return onlyMeta(selection.selectionSet, document, depth + 1);
    const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
    return fragment?.kind === Kind.FRAGMENT_DEFINITION && onlyMeta(fragment.selectionSet, document, depth + 1);
  });
}
