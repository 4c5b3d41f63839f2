/**
 * GraphQL Code Generator: typed documents for the tests, from the committed `schema.graphql`.
 * A test's document that names a field the schema does not have fails codegen; one that reads a
 * renamed field fails the type check: a rename breaks the build, not a client.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/**/*.ts', '!test/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'test/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // NodeNext resolution needs `.js` in relative imports; `import type` for verbatimModuleSyntax.
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        // A nullable field is `T | null` in results, not optional: what the server sends.
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
        scalars: { DateTime: 'string', SafeInt: 'number', ID: 'string' },
      },
    },
  },
};

export default config;
