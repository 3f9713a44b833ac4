// Typed documents for the tests (and any TypeScript client) from the committed
// schema.graphql. `npm run codegen` writes test/gql/; the generated files are
// committed and test/graphql/codegen-drift.test.ts fails when they are stale.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: './schema.graphql',
  documents: ['test/**/*.ts', '!test/gql/**'],
  ignoreNoDocuments: true,
  // Only graphql(`…`) calls become typed documents. Suites that keep plain
  // `/* GraphQL */` strings stay out (their operation names need not be unique
  // across files), hence a magic comment nobody writes.
  pluckConfig: { globalGqlIdentifierName: 'graphql', gqlMagicComment: 'typed-graphql-document' },
  generates: {
    'test/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string', JSON: 'unknown', SafeInt: 'number' },
        // Our tsconfig is NodeNext with verbatimModuleSyntax: explicit .js, type-only imports.
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
      },
    },
  },
};

export default config;
