// README.md's configuration table is documentation users act on: it must list
// exactly the variables the zod schema reads, with the schema's defaults and
// its descriptions.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { configSchema } from '../../src/config.js';
import { ROOT } from '../helpers/process.js';

interface Row {
  name: string;
  default: string;
  meaning: string;
}

const UNSET = '(unset)';

/** The rows of the first table under "## Configuration". */
function configurationTable(readme: string): Row[] {
  const section = readme.split(/^## Configuration\s*$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error('README.md has no "## Configuration" section');
  const lines = section.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const table: string[] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    table.push(line);
  }
  const [header, rule, ...body] = table.map((line) =>
    line
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((cell) => cell.trim()),
  );
  expect(header).toEqual(['Variable', 'Default', 'Meaning']);
  expect(rule!.every((cell) => /^:?-+:?$/.test(cell))).toBe(true);
  return body.map(([name, value, meaning]) => ({
    name: name!.replace(/^`|`$/g, ''),
    default: value!.replace(/^`|`$/g, ''),
    meaning: meaning!,
  }));
}

const schemaKeys = Object.keys(configSchema.shape);
// Parsing nothing yields exactly the defaults.
const defaults: Record<string, unknown> = configSchema.parse({});

let rows: Row[];
beforeAll(async () => {
  rows = configurationTable(await readFile(join(ROOT, 'README.md'), 'utf8'));
});

it('lists exactly the variables of configSchema, once each, in its order', () => {
  expect(rows.map((row) => row.name)).toEqual(schemaKeys);
});

it('gives each variable the default the schema applies, or (unset)', () => {
  for (const row of rows) {
    const expected = row.name in defaults ? String(defaults[row.name]) : UNSET;
    expect(row.default, row.name).toBe(expected);
  }
});

it('explains each variable with the schema\'s own description', () => {
  for (const row of rows) {
    const description = configSchema.shape[row.name as keyof typeof configSchema.shape].description;
    expect(description, `${row.name} has no .describe() in src/config.ts`).toBeTruthy();
    expect(row.meaning, row.name).toBe(description);
  }
});

it('documents the two quick-start commands', async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const quickStart = readme.split(/^## Quick start\s*$/m)[1]!.split(/^## /m)[0]!;
  const commands = [...quickStart.matchAll(/```sh\n([^`]+)```/g)].map((m) => m[1]!.trim());
  expect(commands).toEqual(['npm ci && npm start', 'npm test']);
  const scripts = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  expect(scripts.start).toBeTruthy();
  expect(scripts.test).toBeTruthy();
});
