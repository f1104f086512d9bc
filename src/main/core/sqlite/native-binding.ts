/**
 * better-sqlite3's native module, one build per runtime, side by side. `npm ci` compiles it for
 * the Node.js that ran the install (node_modules/better-sqlite3/build/Release); Electron's
 * runtime has another ABI, and so does any other Node.js. Builds for those live in their own
 * folders (scripts/native.ts makes them, never over the Node one):
 *
 *   native/better-sqlite3-<version>/<runtime>-v<abi>-<platform>-<arch>/better_sqlite3.node
 *
 * under the app's root (the project, or app.asar.unpacked in the packaged app), or under
 * GLANCE_UPLOADER_NATIVE_DIR. The running process picks the file for its own ABI
 * (process.versions.modules, process.versions.electron) and hands the loaded module to
 * better-sqlite3 (`nativeBinding`), in the queue database and the embedded server alike. A module
 * that cannot load is a coded error carrying the exact command that fixes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EngineError } from '../io/errors';

export interface RuntimeId {
  runtime: 'node' | 'electron';
  /** Node's or Electron's version. */
  version: string;
  /** NODE_MODULE_VERSION: what a native module must have been built for. */
  abi: string;
  platform: string;
  arch: string;
}

export const NATIVE_DIR_ENV = 'GLANCE_UPLOADER_NATIVE_DIR';
export const BINDING_FILE = 'better_sqlite3.node';
const PACKAGE_NAME = 'glance-uploader';

/** The runtime this code runs in. */
export function currentRuntime(versions: NodeJS.ProcessVersions = process.versions): RuntimeId {
  const electron = versions.electron;
  return {
    runtime: electron !== undefined ? 'electron' : 'node',
    version: electron ?? versions.node,
    abi: versions.modules,
    platform: process.platform,
    arch: process.arch,
  };
}

export function runtimeKey(r: RuntimeId): string {
  return `${r.runtime}-v${r.abi}-${r.platform}-${r.arch}`;
}

/** The app's root: the nearest folder up from `from` whose package.json is ours (the project, or app.asar). */
export function findAppRoot(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours: keep looking up
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** A path inside app.asar, as its unpacked twin: a native module cannot be loaded from the archive. */
export function unpackedPath(p: string): string {
  return p.replace(/([\\/])app\.asar([\\/]|$)/, `$1app.asar.unpacked$2`);
}

export function isPackaged(appRoot: string): boolean {
  return /[\\/]app\.asar$/.test(appRoot);
}

export function nativeRoot(appRoot: string, env: Record<string, string | undefined> = process.env): string {
  const override = env[NATIVE_DIR_ENV];
  return override !== undefined && override !== '' ? override : join(unpackedPath(appRoot), 'native');
}

/** The per-runtime file for better-sqlite3 `version` and runtime `key`. */
export function bindingFile(root: string, sqliteVersion: string, key: string): string {
  return join(root, `better-sqlite3-${sqliteVersion}`, key, BINDING_FILE);
}

const requireHere = createRequire(import.meta.url);

/** better-sqlite3's own folder (its JavaScript, and the build `npm ci` made for its Node.js). */
export function sqlitePackageDir(): string {
  return dirname(requireHere.resolve('better-sqlite3/package.json'));
}

export function sqliteVersion(): string {
  return (JSON.parse(readFileSync(join(sqlitePackageDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

export interface BindingChoice {
  runtime: RuntimeId;
  /** The file to load. */
  file: string;
  /** Whether it is a per-runtime build (else the one the install compiled in better-sqlite3's folder). */
  perRuntime: boolean;
  /** The per-runtime file looked for. */
  wanted: string;
  appRoot: string | undefined;
}

/**
 * The per-runtime build when it exists; else, for Node.js, the one `npm ci` compiled (made for
 * the Node.js that ran the install: when that is another ABI, loading it fails with the fix).
 */
export function chooseBinding(
  env: Record<string, string | undefined> = process.env,
  from: string = import.meta.dirname,
  runtime: RuntimeId = currentRuntime(),
): BindingChoice {
  const appRoot = findAppRoot(from);
  const wanted = bindingFile(
    nativeRoot(appRoot ?? dirname(sqlitePackageDir()), env),
    sqliteVersion(),
    runtimeKey(runtime),
  );
  const perRuntime = existsSync(wanted);
  const file = perRuntime ? wanted : join(unpackedPath(sqlitePackageDir()), 'build', 'Release', BINDING_FILE);
  return { runtime, file, perRuntime, wanted, appRoot };
}

/** The exact command that makes the module for this runtime (none when packaged: the installer carries it). */
export function fixCommand(choice: BindingChoice): string | undefined {
  const root = choice.appRoot;
  if (root !== undefined && isPackaged(root)) return undefined;
  // cmd.exe changes drives only with /d; PowerShell 7 and every Unix shell take `&&` as well.
  const cd = root === undefined ? '' : process.platform === 'win32' ? `cd /d "${root}" && ` : `cd "${root}" && `;
  return choice.runtime.runtime === 'electron' ? `${cd}npm run native -- --runtime electron` : `${cd}npm run native`;
}

export function nativeUnavailable(choice: BindingChoice, cause: unknown): EngineError {
  const r = choice.runtime;
  const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  const fix = fixCommand(choice);
  const looked = `Looked for ${choice.wanted}${choice.perRuntime ? '' : `, then ${choice.file}`}.`;
  return new EngineError(
    'setup.native_unavailable',
    `SQLite's native module cannot be loaded in ${r.runtime} ${r.version} (ABI ${r.abi}, ${r.platform}-${r.arch}): ${why}`,
    {
      hint:
        fix === undefined
          ? `${looked} This installation is damaged: reinstall Glance Uploader (its installer carries the module).`
          : `${looked} Build it for this runtime${r.runtime === 'node' ? ` (run the fix with this same Node.js, ${process.version})` : ''}.`,
      ...(fix !== undefined ? { fix } : {}),
    },
  );
}

let loaded: { choice: BindingChoice; addon: object } | undefined;

/**
 * Loads the module for this runtime once (the self-check: it throws `setup.native_unavailable`
 * with the fix), and returns it for better-sqlite3's `nativeBinding` option.
 */
export function loadNativeBinding(env: Record<string, string | undefined> = process.env): object {
  if (loaded !== undefined) return loaded.addon;
  const choice = chooseBinding(env);
  let addon: object;
  try {
    addon = requireHere(choice.file) as object;
  } catch (e) {
    throw nativeUnavailable(choice, e);
  }
  loaded = { choice, addon };
  return addon;
}

/** Which file this process loaded (diagnostics: the doctor, tests), once loaded. */
export function loadedBinding(): BindingChoice | undefined {
  return loaded?.choice;
}
