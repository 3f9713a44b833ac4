import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { builder } from '../builder.js';

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO-8601 string in UTC.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
});

/** GraphQL's Int stops at 2^31 - 1; byte counts do not. */
builder.scalarType('SafeInt', {
  description: 'A whole number JSON and JavaScript carry exactly: from -(2^53 - 1) to 2^53 - 1.',
  serialize: (value) => {
    const number = Number(value);
    if (!Number.isSafeInteger(number)) throw new GraphQLError('SafeInt cannot represent this value');
    return number;
  },
  parseValue: (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new GraphQLError('SafeInt must be a whole number within ±(2^53 - 1)');
    return value;
  },
});

function literal(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literal(f.value)]));
    case Kind.LIST:
      return node.values.map(literal);
    case Kind.NULL:
      return null;
    default:
      throw new GraphQLError('JSON literals cannot contain variables');
  }
}

builder.scalarType('JSON', {
  description: 'Any JSON value, as the peer sent it.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literal,
});
