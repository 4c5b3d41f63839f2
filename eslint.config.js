import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Why src/domain may not reach for the world (docs/contract.md §3, "time"): tests replay it exactly. */
const PURE = 'src/domain is pure: time comes from the injected clock, and nothing in it may schedule work, draw random numbers or read the process (docs/contract.md §3).';
const impure = (...names) => names.map((name) => ({ name, message: PURE }));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/gql/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // CommonJS configuration files (.dependency-cruiser.cjs) run under Node's CommonJS globals.
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  // Beside dependency-cruiser (which forbids importing timers, process or I/O into src/domain), the
  // globals that need no import: the wall clock, timers, randomness, the process. `globalThis` and
  // `global` are forbidden too, so `globalThis.Date` cannot walk around the rule.
  {
    files: ['src/domain/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...impure('Date', 'performance', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask'),
        ...impure('process', 'crypto', 'globalThis', 'global'),
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: PURE }],
    },
  },
);
