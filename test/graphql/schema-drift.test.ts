// schema.graphql is what clients and codegen read: it must be what the code serves.
import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../../src/graphql/print.js';

test('the committed schema.graphql is the schema the code builds (npm run schema:print)', async () => {
  expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
});
