import { printSchema } from 'graphql';
import { fileURLToPath } from 'node:url';
import { schema } from './schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

/** The schema as SDL, sorted, as committed in schema.graphql. */
export function printedSchema(): string {
  return `${printSchema(schema)}\n`;
}
