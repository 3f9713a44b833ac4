// The typed documents under test/gql are generated and committed; they must be
// what `npm run codegen` would write now, from schema.graphql and the tests.
import { generate } from '@graphql-codegen/cli';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import config from '../../codegen.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT = join(ROOT, 'test/gql');

test('test/gql holds exactly what codegen generates (npm run codegen)', async () => {
  const outputs: { filename: string; content: string }[] = await generate({ ...config, cwd: ROOT, silent: true }, false);
  const generated = Object.fromEntries(outputs.map((o) => [relative(OUTPUT, join(ROOT, o.filename)), o.content]));
  const committed: Record<string, string> = {};
  for (const name of await readdir(OUTPUT)) committed[name] = await readFile(join(OUTPUT, name), 'utf8');
  expect(Object.keys(generated).sort()).toEqual(['gql.ts', 'graphql.ts', 'index.ts']);
  expect(committed).toEqual(generated);
});
