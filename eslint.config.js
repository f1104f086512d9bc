// ESLint flat config. The layer rules at the bottom are the architecture, enforced:
// a wrong import across layers is a failing check (test/lint/layer-rules.test.ts proves it).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

const forbid = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const electronPkg = {
  regex: '^electron(/.*)?$',
  message: 'Layer rule: only src/main/electron, src/main/index.ts and src/preload may import electron.',
};
const anyElectronPath = {
  regex: '(^|/)electron(/|$)',
  message:
    'Layer rule: the engine (src/main/core) never imports electron or src/main/electron: it must run in plain Node.',
};
const preloadOrRenderer = {
  regex: '(^|/)(preload|renderer)(/|$)',
  message: 'Layer rule: main code never imports the preload or the renderer.',
};
const mainCode = { regex: '(^|/)main(/|$)', message: 'Layer rule: this layer may not import from src/main.' };
const rendererCode = { regex: '(^|/)renderer(/|$)', message: 'Layer rule: this layer may not import the renderer.' };
const preloadCode = { regex: '(^|/)preload(/|$)', message: 'Layer rule: this layer may not import the preload.' };
const builtinNames = builtinModules.filter((m) => !m.startsWith('_') && !m.includes('/'));
const nodeBuiltin = (layer) => ({
  regex: `^(node:)?(${builtinNames.join('|')})(/.*)?$`,
  message: `Layer rule: ${layer} runs without Node: no Node built-ins.`,
});

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      'test-results/**',
      'bench-results/**',
      'test/lint/fixtures/**',
      'resources/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname, extraFileExtensions: ['.svelte'] },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/explicit-function-return-type': [
        'error',
        { allowExpressions: true, allowTypedFunctionExpressions: true },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser }, globals: { ...globals.browser } },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },

  // ---- layer rules ---------------------------------------------------------------------------
  // src/shared: contracts only. Runs in every process, the renderer included.
  {
    files: ['src/shared/**'],
    rules: forbid(electronPkg, mainCode, preloadCode, rendererCode, nodeBuiltin('src/shared (used by the renderer)')),
  },
  // src/main/core: the engine. Plain Node: never electron, never the Electron glue or the UI.
  // The engine's worker thread entry is engine too: a worker thread has no Electron API.
  { files: ['src/main/core/**', 'src/main/runtime-worker.ts'], rules: forbid(anyElectronPath, preloadOrRenderer) },
  // better-sqlite3's value import only in core/sqlite: a database opened anywhere else would load
  // the install's native build instead of the one for its runtime (Electron's ABI differs).
  {
    files: ['src/main/core/**', 'src/main/runtime-worker.ts'],
    ignores: ['src/main/core/sqlite/**', 'src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [anyElectronPath, preloadOrRenderer],
          paths: [
            {
              name: 'better-sqlite3',
              allowTypeImports: true,
              message:
                'Layer rule: open SQLite through core/sqlite (openSqlite): it loads the native module built for this runtime.',
            },
          ],
        },
      ],
    },
  },
  // src/main/electron and the composition root: may use core and electron, never the UI.
  { files: ['src/main/electron/**', 'src/main/index.ts'], rules: forbid(preloadOrRenderer) },
  // src/preload: shared + electron's renderer-side modules only.
  { files: ['src/preload/**'], rules: forbid(mainCode, rendererCode, nodeBuiltin('the sandboxed preload')) },
  // src/renderer: shared + the DOM. No Node, no electron, no main.
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: forbid(electronPkg, mainCode, preloadCode, nodeBuiltin('the renderer')),
  },
);
