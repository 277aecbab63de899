// npm run lint: eslint with type-aware typescript-eslint rules over src, test, bench and scripts;
// the import layers and cycles are checked by dependency-cruiser (.dependency-cruiser.cjs).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const UNSAFE_ANY = [
  '@typescript-eslint/no-unsafe-argument',
  '@typescript-eslint/no-unsafe-assignment',
  '@typescript-eslint/no-unsafe-call',
  '@typescript-eslint/no-unsafe-member-access',
  '@typescript-eslint/no-unsafe-return',
];
const off = (rules) => Object.fromEntries(rules.map((r) => [r, 'off']));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**', 'scratch/**'] }, // scratch/: untracked experiments
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { project: ['./tsconfig.json', './tsconfig.browser.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // An async function without await is how an interface method here turns a synchronous throw
      // into a rejection (ChunkStore's contract: every call returns a promise, never throws).
      '@typescript-eslint/require-await': 'off',
      // A `let` set once, later, and read by closures made before that (a server's url, a
      // subscription the teardown unsubscribes) cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['src/web/**', 'src/client/**', 'test/web/**', 'test/helpers/browser.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Plain JavaScript (the hash threads' worker code, build scripts) has no types to be unsafe
    // about: every value is `any` there. The promise rules still apply.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: off(UNSAFE_ANY),
  },
  {
    // Tests read JSON bodies, log lines and protocol frames as `any` and check them with expect():
    // a wrong shape fails the assertion, so typing each one first would only add noise.
    files: ['test/**'],
    rules: { ...off(UNSAFE_ANY), '@typescript-eslint/no-explicit-any': 'off' },
  },
);
