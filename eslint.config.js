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

// A file that must stay over a size rule is listed here with its reason: { files, rules, why }.
// None today; the rules hold for every file of src/.
const SIZE_EXCEPTIONS = [];

// The engine's folders, bottom to top: a folder imports only the folders it lists (and itself).
// `local-glance` (the embedded server) sits on io, sqlite and inspect alone, so the server could
// run without the rest of the engine; `distribution` (the local cloud, sync, replicate) is the
// only folder that knows the server and the queue both. No folder cycle can form.
// The app and the CLI, the two tops: every folder below them, never each other.
const TOP_LEVEL_MAY_IMPORT = [
  'io',
  'sqlite',
  'inspect',
  'local-glance',
  'openstack',
  'queue',
  'clouds',
  'planning',
  'transfer',
  'distribution',
  'doctor',
  'catalog',
];
export const CORE_ORDER = {
  io: [],
  sqlite: ['io'],
  inspect: ['io'],
  'local-glance': ['io', 'sqlite', 'inspect'],
  openstack: ['io'],
  queue: ['io', 'sqlite'],
  clouds: ['io', 'sqlite', 'openstack', 'queue'],
  planning: ['io', 'inspect', 'openstack', 'queue', 'clouds'],
  transfer: ['io', 'inspect', 'openstack', 'queue', 'clouds', 'planning'],
  distribution: ['io', 'sqlite', 'inspect', 'local-glance', 'openstack', 'queue', 'clouds', 'planning'],
  doctor: ['io', 'openstack', 'queue', 'clouds', 'planning'],
  catalog: ['io', 'inspect', 'openstack', 'queue', 'clouds', 'planning'],
  app: TOP_LEVEL_MAY_IMPORT,
  cli: TOP_LEVEL_MAY_IMPORT,
};

function folderOrder(folder) {
  const allowed = new Set([folder, ...CORE_ORDER[folder]]);
  const banned = Object.keys(CORE_ORDER).filter((f) => !allowed.has(f));
  if (banned.length === 0) return [];
  return [
    {
      // A relative import that climbs out of this folder into a banned one (`../transfer/x`,
      // `../../queue/x` from app/api): the specifier names the folder right after the `../`s.
      regex: `^(\\.\\./)+(${banned.join('|')})(/|$)`,
      message: `Layer rule: core/${folder} may import only ${CORE_ORDER[folder].length ? CORE_ORDER[folder].map((f) => `core/${f}`).join(', ') : 'nothing else in core'} (and src/shared): see CORE_ORDER in eslint.config.js.`,
    },
  ];
}
const sqliteOnlyHere = {
  name: 'better-sqlite3',
  allowTypeImports: true,
  message:
    'Layer rule: open SQLite through core/sqlite (openSqlite): it loads the native module built for this runtime.',
};
function coreFolderRules() {
  const engineWide = [anyElectronPath, preloadOrRenderer];
  const rule = (patterns, paths) => ({ 'no-restricted-imports': ['error', { patterns, paths }] });
  return [
    // Files of core outside the folders (none today) and the worker thread's entry.
    { files: ['src/main/core/*.ts', 'src/main/runtime-worker.ts'], rules: rule(engineWide, [sqliteOnlyHere]) },
    ...Object.keys(CORE_ORDER).map((folder) => ({
      files: [`src/main/core/${folder}/**`],
      rules: rule([...engineWide, ...folderOrder(folder)], folder === 'sqlite' ? [] : [sqliteOnlyHere]),
    })),
    // Specs beside the code may open an in-memory database directly, and may check their module
    // through the code above it (a migration's fixture reads its rows through the repository that
    // owns them): the order holds the product, not its tests.
    { files: ['src/main/core/**/*.spec.ts'], rules: rule(engineWide, []) },
  ];
}

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

  // ---- size ----------------------------------------------------------------------------------
  // Small modules and functions (STYLE.md habit 11): a file past 400 lines or a function past 80
  // is split along its seams, not waved through. An exception names its file and its reason.
  {
    files: ['src/**/*.ts', 'src/**/*.svelte'],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80 }],
      complexity: ['error', 20],
    },
  },
  ...SIZE_EXCEPTIONS.map(({ files, rules }) => ({ files, rules })),

  // ---- layer rules ---------------------------------------------------------------------------
  // src/shared: contracts only. Runs in every process, the renderer included.
  {
    files: ['src/shared/**'],
    rules: forbid(electronPkg, mainCode, preloadCode, rendererCode, nodeBuiltin('src/shared (used by the renderer)')),
  },
  // src/main/core: the engine. Plain Node: never electron, never the Electron glue or the UI;
  // better-sqlite3 only through core/sqlite; and its folders in one order (CORE_ORDER above).
  ...coreFolderRules(),
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
