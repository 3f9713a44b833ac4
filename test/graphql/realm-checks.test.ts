// graphql-js's realm checks (src/graphql/realm-checks.ts): switched off, and
// the mistake they look for (a second copy of graphql in the process) ruled
// out here instead. (@graphql-yoga/graphiql brings a copy of its own, for the
// browser: the server only serves its files and never loads it.)
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLList, GraphQLString, isListType, isNonNullType } from 'graphql';
import { expect, test } from 'vitest';
import { skipGraphQLRealmChecks } from '../../src/graphql/realm-checks.js';
import { startTestApp } from '../helpers/app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('after the switch, a type from another copy of graphql is simply not one of ours: no realm check runs', () => {
  skipGraphQLRealmChecks();
  let tagReads = 0;
  // What a GraphQLList of a second copy of graphql looks like to this one.
  const foreign = {
    get [Symbol.toStringTag]() {
      tagReads++;
      return 'GraphQLList';
    },
  };
  // Outside NODE_ENV=production graphql would read the tag, then throw
  // "Cannot use GraphQLList ... from another module or realm".
  expect(process.env.NODE_ENV).not.toBe('production');
  expect(isListType(foreign)).toBe(false);
  expect(isNonNullType(foreign)).toBe(false);
  expect(tagReads).toBe(0);
  expect(isListType(new GraphQLList(GraphQLString))).toBe(true);
});

test('every module of graphql that the app loads comes from one copy, the one at the top of node_modules', async () => {
  const t = await startTestApp();
  try {
    const answer = await t.gql('{ gateways(first: 1) { totalCount } }');
    expect(answer.errors).toBeUndefined();
    const page = await t.app.yoga.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
  } finally {
    await t.close();
  }
  // Node keeps every CommonJS module it loaded here, imported from ESM or required.
  const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes(`${sep}node_modules${sep}graphql${sep}`));
  const copies = new Set(loaded.map((path) => path.slice(0, path.lastIndexOf(`${sep}node_modules${sep}graphql${sep}`))));
  expect(loaded.length).toBeGreaterThan(10);
  expect([...copies]).toEqual([ROOT.replace(/[\\/]$/, '')]);
});
