// Writes schema.graphql from the code; test/graphql/schema-drift.test.ts fails
// when the committed file and the code disagree.
import { writeFileSync } from 'node:fs';
import { printedSchema, SCHEMA_FILE } from '../src/graphql/print.js';

writeFileSync(SCHEMA_FILE, printedSchema());
console.log(`wrote ${SCHEMA_FILE}`);
